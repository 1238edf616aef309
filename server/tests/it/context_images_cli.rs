//! `kubefile-ls images` as users run it: exit status, stdout and stderr of the real binary.

use crate::context_fixtures as support;

use std::{path::Path, process::Command};

fn images(context: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
        .arg("images")
        .args(extra)
        .arg("--helm")
        .arg(support::helm())
        .arg(context)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn chart_render_failure_exits_1_naming_the_chart_and_still_lists_the_rest() {
    let (code, stdout, stderr) = images(&support::fixture("failing-charts"), &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("kubefile-ls images: error: helm cannot render chart charts/broken"), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(!json["errors"].as_array().unwrap().is_empty());
    assert!(json["images"].as_array().unwrap().iter().any(|i| i["source"] == "manifest"), "{stdout}");
}

#[test]
fn invalid_shim_reference_exits_1_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("images/shim")).unwrap();
    std::fs::write(dir.path().join("images/shim/list"), "nginx:1.25\nnginx:1.25 # web\n").unwrap();
    let (code, stdout, stderr) = images(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        stderr,
        "kubefile-ls images: error: images/shim/list:2: `nginx:1.25 # web` cannot be saved into registry/: `nginx:1.25 # web` is not a valid image reference: the `#` comment after the reference is read as part of it\n"
    );
    assert!(stdout.starts_with("images/shim/\n  images/shim/list:1  nginx:1.25  -> library/nginx:1.25\n"), "{stdout}");
}

#[test]
fn clean_context_exits_0_and_charts_are_rendered() {
    let (code, stdout, stderr) = images(&support::fixture("chart-context"), &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    assert!(stdout.contains("charts/ (rendered with helm)\n"), "{stdout}");
    assert!(stdout.contains("(chart webapp)"), "{stdout}");
}

#[test]
fn missing_context_is_a_usage_error() {
    let (code, _, stderr) = images(Path::new("/nonexistent/context"), &[]);
    assert_eq!(code, 2);
    assert_eq!(stderr, "kubefile-ls images: /nonexistent/context is not a directory\n");
}

#[test]
fn chart_with_a_symlink_leading_outside_the_context_is_not_rendered() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.yaml"), "image: secret/leak:1\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("charts/app");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: app\nversion: 1.0.0\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.yaml"), chart.join("templates/leak.yaml")).unwrap();
    let (code, stdout, stderr) = images(dir.path(), &["--format", "json"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("chart charts/app: charts/app/templates/leak.yaml is a symlink to ")
            && stderr.contains("outside the build context"),
        "{stderr}"
    );
    assert!(!stdout.contains("secret/leak"), "{stdout}");
}
