//! `kubefile-ls check` from the shell: the human report and the exit codes; image lists (a
//! context's `images/shim/**` and `images/skopeo/tar.txt` are checked with its build file, and a
//! list file can be checked on its own).

use std::{fs, path::Path, process::Command};

use serde_json::Value;

fn check(args: &[&str]) -> (Option<i32>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_kubefile-ls")).arg("check").args(["--format", "json"]).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"));
    (output.status.code(), report)
}

/// `(path relative to the context, code, 0-based line)` of each reported diagnostic.
fn found(report: &Value, context: &Path) -> Vec<(String, String, u64)> {
    let mut found: Vec<_> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let path = Path::new(d["path"].as_str().unwrap());
            let relative = path.strip_prefix(context).unwrap_or(path).to_string_lossy().into_owned();
            (relative, d["code"].as_str().unwrap().to_owned(), d["range"]["start"]["line"].as_u64().unwrap())
        })
        .collect();
    found.sort();
    found
}

fn context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("Kubefile"), "FROM scratch\nCOPY registry registry\nCMD [\"echo ok\"]\n").unwrap();
    fs::create_dir_all(root.join("images/shim/extra")).unwrap();
    fs::create_dir_all(root.join("images/skopeo")).unwrap();
    fs::write(root.join("images/shim/list"), "# web\nnginx:1.25\n").unwrap();
    fs::write(root.join("images/shim/extra/more"), "Nginx:1.25\nnginx:1.25\n").unwrap();
    fs::write(root.join("images/skopeo/tar.txt"), "docker-archive:missing.tar\n").unwrap();
    dir
}

#[test]
fn checking_a_context_checks_its_image_lists() {
    let dir = context();
    let (status, report) = check(&[dir.path().to_str().unwrap()]);
    assert_eq!(status, Some(1), "{report}");
    assert_eq!(
        found(&report, dir.path()),
        [
            ("images/shim/extra/more".to_owned(), "invalid-image-reference".to_owned(), 0),
            ("images/shim/list".to_owned(), "duplicate-image".to_owned(), 1),
            ("images/skopeo/tar.txt".to_owned(), "invalid-tar-line".to_owned(), 0),
        ],
        "{report}"
    );
}

#[test]
fn a_list_file_can_be_checked_on_its_own() {
    let dir = context();
    let shim = dir.path().join("images/shim/extra/more");
    let (status, report) = check(&[shim.to_str().unwrap()]);
    assert_eq!(status, Some(1), "{report}");
    assert_eq!(found(&report, dir.path()), [("images/shim/extra/more".to_owned(), "invalid-image-reference".to_owned(), 0)]);
    let range = &report[0]["range"];
    assert_eq!((range["start"]["character"].as_u64(), range["end"]["character"].as_u64()), (Some(0), Some(10)));

    // The context's other lists still count: sealos walks `extra/more` before `list`.
    let list = dir.path().join("images/shim/list");
    let (status, report) = check(&[list.to_str().unwrap()]);
    assert_eq!(status, Some(0), "warnings only: {report}");
    assert_eq!(found(&report, dir.path()), [("images/shim/list".to_owned(), "duplicate-image".to_owned(), 1)]);
}

#[test]
fn human_output_points_at_each_problem_and_counts_them() {
    let dir = tempfile::tempdir().unwrap();
    let kubefile = dir.path().join("Kubefile");
    fs::write(&kubefile, "FROM scratch\nLABEL sealos.io.typ=application\nCMD [\"echo ok\"]\n").unwrap();
    let run = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_kubefile-ls")).arg("check").args(args).output().unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let path = kubefile.to_str().unwrap();
    let (status, stdout) = run(&[path]);
    assert_eq!(status, Some(0), "warnings only: {stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with(&format!("{path}:2:7: warning[unknown-label]: ")), "{stdout}");
    assert_eq!(lines[1..], ["  LABEL sealos.io.typ=application", "        ^^^^^^^^^^^^^", "0 errors, 1 warning, 0 info, 0 hints"]);
    assert_eq!(run(&["--deny", "warnings", path]).0, Some(1));
    assert_eq!(run(&["--severity-override", "unknown-label=error", path]).0, Some(1));
    assert_eq!(run(&["--severity-override", "unknown-label=off", path]), (Some(0), String::new()));
    assert_eq!(run(&["--format", "yaml", path]).0, Some(2), "usage error");
}
