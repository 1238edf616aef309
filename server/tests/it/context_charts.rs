//! Chart extraction with the real helm binary, on small charts written for these tests
//! (`tests/fixtures/context/`). Set `KUBEFILE_LS_HELM` or put helm on `PATH`
//! (`scripts/install-helm.sh` installs it).

use crate::context_fixtures as support;

use std::{fmt::Write as _, fs, path::Path, process::Command};

use expect_test::expect;
use kubefile_ls::context::{
    images::{extract, ExtractOptions, ImageIndex, ImageSource},
    BuildContext,
};

fn chart_context() -> ImageIndex {
    extract(&BuildContext::new(support::fixture("chart-context")), &support::rendering())
}

fn chart_images(index: &ImageIndex) -> Vec<&str> {
    index.images.iter().filter(|i| i.source == ImageSource::Chart).map(|i| i.image.as_str()).collect()
}

#[test]
fn chart_images_are_rendered_with_the_real_helm() {
    let index = chart_context();
    assert!(index.errors.is_empty(), "{:?}", index.errors);
    let mut summary = String::new();
    for image in &index.images {
        let registry_path = image.registry_path.as_deref().unwrap_or("-");
        let chart = image.chart.as_deref().unwrap_or("-");
        let _ = writeln!(
            summary,
            "{} -> {registry_path} ({}:{}, chart {chart})",
            image.image,
            image.file.display(),
            image.line
        );
    }
    for skipped in &index.skipped {
        let _ = writeln!(summary, "skipped {}:{} `{}`", skipped.file.display(), skipped.line, skipped.text);
    }
    expect![[r#"
        docker.io/library/busybox:1.36 -> library/busybox:1.36 (charts/web/templates/tests/test-connection.yaml:10, chart webapp)
        docker.io/library/busybox:dryrun -> library/busybox:dryrun (charts/web/templates/deployment.yaml:12, chart webapp)
        docker.io/library/nginx:1.26 -> library/nginx:1.26 (charts/web/templates/deployment.yaml:10, chart webapp)
        docker.io/library/postgres:15 -> library/postgres:15 (charts/web/charts/db/templates/statefulset.yaml:10, chart webapp)
        ghcr.io/example/migrate:1.0 -> example/migrate:1.0 (charts/web/templates/hook.yaml:12, chart webapp)
        quay.io/example/sidecar:2.0 -> example/sidecar:2.0 (charts/web/templates/deployment.yaml:14, chart webapp)
        registry.k8s.io/kube-old:1.20 -> kube-old:1.20 (charts/web/templates/deployment.yaml:16, chart webapp)
        skipped charts/web/templates/deployment.yaml:18 `redis:7 # a trailing comment makes sealos skip this line`
        skipped charts/web/templates/deployment.yaml:20 `{{ .Values.notRendered }}`
    "#]]
    .assert_eq(&summary);
}

#[test]
fn values_overlay_uses_chart_yaml_name_not_dir_name() {
    let index = chart_context();
    let images = chart_images(&index);
    assert!(images.contains(&"docker.io/library/nginx:1.26"), "{images:?}");
    assert!(!images.iter().any(|i| i.ends_with(":9.9") || i.ends_with(":1.25")), "{images:?}");
    assert_eq!(index.charts[0].values_file.as_deref(), Some(Path::new("charts/webapp.values.yaml")));
}

#[test]
fn values_file_named_after_the_directory_is_reported_as_orphan() {
    assert_eq!(chart_context().orphan_values_files, [Path::new("charts/web.values.yaml")]);
}

#[test]
fn capabilities_are_those_of_kubernetes_1_20() {
    let index = chart_context();
    let images = chart_images(&index);
    assert!(images.contains(&"registry.k8s.io/kube-old:1.20"), "{images:?}");
    assert!(!images.contains(&"registry.k8s.io/kube-new:1.21"), "{images:?}");
}

#[test]
fn release_name_is_dryrun() {
    assert!(chart_images(&chart_context()).contains(&"docker.io/library/busybox:dryrun"));
}

#[test]
fn hooks_tests_and_vendored_subcharts_are_scanned() {
    let index = chart_context();
    let images = chart_images(&index);
    for image in ["ghcr.io/example/migrate:1.0", "docker.io/library/busybox:1.36", "docker.io/library/postgres:15"] {
        assert!(images.contains(&image), "{image} missing from {images:?}");
    }
}

#[test]
fn notes_and_partials_are_not_scanned() {
    // sealos's engine.Render includes NOTES.txt; `helm template` has no way to print it (a
    // documented difference). Partials (`_*.tpl`) are never rendered on their own by either.
    let images = chart_images(&chart_context()).join(" ");
    assert!(!images.contains("notes-only") && !images.contains("partial-only"), "{images}");
}

#[test]
fn failing_chart_is_an_error_naming_the_chart_and_other_sources_still_count() {
    let index = extract(&BuildContext::new(support::fixture("failing-charts")), &support::rendering());
    let messages: Vec<String> = index.errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("helm cannot render chart charts/broken: "), "{}", messages[0]);
    assert!(messages[0].contains("this chart refuses to render"), "{}", messages[0]);
    assert!(messages[1].starts_with("helm cannot render chart charts/notachart: "), "{}", messages[1]);
    assert!(messages[1].contains("Chart.yaml"), "{}", messages[1]);
    assert_eq!(index.image_list(), ["docker.io/library/alpine:3.19"]);
    assert!(index.charts.iter().all(|chart| !chart.rendered));
}

#[test]
fn packaged_chart_with_tgz_suffix_without_dot_is_rendered_with_its_overlay() {
    let source = support::fixture("packaged-chart");
    let dir = tempfile::tempdir().unwrap();
    let charts = dir.path().join("charts");
    fs::create_dir_all(&charts).unwrap();
    let status = Command::new(support::helm())
        .arg("package")
        .arg(source.join("src"))
        .arg("--destination")
        .arg(&charts)
        .env("HELM_CACHE_HOME", dir.path().join(".helm"))
        .env("HELM_CONFIG_HOME", dir.path().join(".helm"))
        .env("HELM_DATA_HOME", dir.path().join(".helm"))
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    fs::rename(charts.join("packaged-1.0.0.tgz"), charts.join("packagedtgz")).unwrap();
    fs::copy(source.join("packaged.values.yaml"), charts.join("packaged.values.yaml")).unwrap();

    let index = extract(&BuildContext::new(dir.path()), &support::rendering());
    assert!(index.errors.is_empty(), "{:?}", index.errors);
    assert_eq!(index.charts[0].name.as_deref(), Some("packaged"));
    let image = &index.images[0];
    assert_eq!(image.image, "docker.io/example/packaged:2.0");
    assert_eq!(image.file, Path::new("charts/packagedtgz/templates/pod.yaml"));
    assert_eq!(image.chart.as_deref(), Some("packaged"));
}

#[test]
fn fast_scan_lists_charts_without_rendering_them() {
    let index = extract(
        &BuildContext::new(support::fixture("chart-context")),
        &ExtractOptions { helm: None, render_charts: false },
    );
    assert!(index.errors.is_empty(), "{:?}", index.errors);
    assert!(chart_images(&index).is_empty());
    assert_eq!(index.charts.len(), 1);
    assert_eq!(index.charts[0].name.as_deref(), Some("webapp"));
    assert!(!index.charts[0].rendered);
}
