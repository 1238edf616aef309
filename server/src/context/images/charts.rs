//! `charts/`: Helm charts rendered with the real helm binary, then line-scanned like manifests
//! (sealos `ParseChartImages`).
//!
//! Only direct entries of `charts/` are charts: any directory (hidden ones too, symlinks not
//! followed) or any name ending in `tgz` (no dot needed). Values are overlaid from
//! `charts/<name>.values.yaml`, where `<name>` is the `name` in the chart's `Chart.yaml`, not the
//! directory or archive name.
//!
//! Stricter than sealos: a chart (or its values file) holding a symlink that leads outside the
//! build context is not rendered, since helm would read the file it points to.

use std::{
    collections::BTreeSet,
    fs,
    io::Read as _,
    path::{Component, Path, PathBuf},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Mutex,
    },
    thread,
};

use serde::Deserialize;

use super::{
    helm::{split_rendered, Helm, HelmFailure},
    manifests, outside_context, relative, ChartInfo, ExtractError, ImageSource, Scan,
};

const CHARTS_DIR: &str = "charts";
const VALUES_SUFFIX: &str = ".values.yaml";

/// What the chart source found: the charts themselves, values files that match none of them,
/// and the images of the charts that were rendered.
pub(super) struct ChartScan {
    pub charts: Vec<ChartInfo>,
    pub orphan_values_files: Vec<PathBuf>,
    pub scan: Scan,
}

/// Lists the charts and, when `helm` is given, renders them in parallel.
pub(super) fn scan(root: &Path, helm: Option<&Helm>) -> ChartScan {
    let dir = root.join(CHARTS_DIR);
    let entries = chart_entries(&dir);
    let mut charts: Vec<ChartInfo> = entries
        .iter()
        .map(|entry| {
            let name = read_chart_name(entry);
            let values_file = name.as_deref().map(values_file_for).filter(|values| root.join(values).exists());
            ChartInfo { path: relative(root, entry), name, values_file, rendered: false }
        })
        .collect();
    let orphan_values_files = orphan_values_files(root, &dir, &charts);
    let mut scan = Scan::default();
    if let Some(helm) = helm {
        let results = render_all(root, helm, &charts);
        for (chart, result) in charts.iter_mut().zip(results) {
            match result {
                Ok(chart_scan) => {
                    chart.rendered = true;
                    scan.merge(chart_scan);
                }
                Err(error) => scan.errors.push(error),
            }
        }
    }
    ChartScan { charts, orphan_values_files, scan }
}

/// How many charts `charts/` holds.
pub(super) fn count(root: &Path) -> usize {
    chart_entries(&root.join(CHARTS_DIR)).len()
}

/// sealos `getChartSub1Paths` (a `charts/` it cannot read has no charts).
fn chart_entries(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut charts: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            entry.file_type().is_ok_and(|t| t.is_dir()) || entry.file_name().to_string_lossy().ends_with("tgz")
        })
        .map(|entry| entry.path())
        .collect();
    charts.sort();
    charts
}

fn values_file_for(chart_name: &str) -> PathBuf {
    Path::new(CHARTS_DIR).join(format!("{chart_name}{VALUES_SUFFIX}"))
}

#[derive(Deserialize)]
struct ChartYaml {
    name: Option<String>,
}

/// The `name` from `Chart.yaml`, for directories and packaged charts.
fn read_chart_name(chart: &Path) -> Option<String> {
    let text = if chart.is_dir() { fs::read(chart.join("Chart.yaml")).ok()? } else { archived_chart_yaml(chart)? };
    serde_yaml_ng::from_slice::<ChartYaml>(&text).ok()?.name
}

/// Largest `Chart.yaml` read from an archive (helm's own limit for chart files is far larger;
/// real ones are a few KiB).
const MAX_CHART_YAML: u64 = 1 << 20;

/// `<top directory>/Chart.yaml` of a gzipped chart archive, as helm's loader finds it.
fn archived_chart_yaml(archive: &Path) -> Option<Vec<u8>> {
    let file = fs::File::open(archive).ok()?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().ok()? {
        let entry = entry.ok()?;
        let path = entry.path().ok()?.into_owned();
        let parts: Vec<Component> = path.components().filter(|c| matches!(c, Component::Normal(_))).collect();
        if let [_, Component::Normal(name)] = parts.as_slice() {
            if *name == "Chart.yaml" {
                let mut text = Vec::new();
                entry.take(MAX_CHART_YAML).read_to_end(&mut text).ok()?;
                return Some(text);
            }
        }
    }
    None
}

/// The first symlink of the chart (itself, anything below it, or its values file) that leads
/// outside the context.
fn symlink_outside(root: &Path, chart: &ChartInfo) -> Option<ExtractError> {
    let mut links = Vec::new();
    let path = root.join(&chart.path);
    collect_symlinks(&path, &mut links);
    if let Some(values) = &chart.values_file {
        links.push(root.join(values));
    }
    links.into_iter().find_map(|link| {
        let target = outside_context(root, &link)?;
        Some(ExtractError::ChartSymlinkOutsideContext { chart: chart.path.clone(), link: relative(root, &link), target })
    })
}

/// `path` when it is a symlink, and every symlink below it (symlinked directories are listed,
/// not entered).
fn collect_symlinks(path: &Path, links: &mut Vec<PathBuf>) {
    let Ok(metadata) = fs::symlink_metadata(path) else { return };
    if metadata.file_type().is_symlink() {
        links.push(path.to_path_buf());
    } else if metadata.is_dir() {
        let Ok(entries) = fs::read_dir(path) else { return };
        let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|entry| entry.path()).collect();
        entries.sort();
        for entry in entries {
            collect_symlinks(&entry, links);
        }
    }
}

/// `charts/*.values.yaml` files whose name is no chart's `Chart.yaml` name: sealos never reads
/// them (the calico pitfall). Not reported while some chart's name is unknown.
fn orphan_values_files(root: &Path, dir: &Path, charts: &[ChartInfo]) -> Vec<PathBuf> {
    let Some(names) = charts.iter().map(|c| c.name.as_deref()).collect::<Option<BTreeSet<&str>>>() else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut orphans: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            file_name.strip_suffix(VALUES_SUFFIX).is_some_and(|name| !names.contains(name))
        })
        .map(|entry| relative(root, &entry.path()))
        .collect();
    orphans.sort();
    orphans
}

/// Renders every chart, at most one helm process per core at a time; results keep the order
/// of `charts`.
fn render_all(root: &Path, helm: &Helm, charts: &[ChartInfo]) -> Vec<Result<Scan, ExtractError>> {
    let workers = thread::available_parallelism().map_or(1, |n| n.get()).min(charts.len());
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<Scan, ExtractError>>>> = Mutex::new(charts.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(chart) = charts.get(index) else { break };
                let result = render(root, helm, chart);
                results.lock().unwrap_or_else(|poisoned| poisoned.into_inner())[index] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .into_iter()
        .map(|result| result.expect("every chart is rendered by a worker"))
        .collect()
}

fn render(root: &Path, helm: &Helm, chart: &ChartInfo) -> Result<Scan, ExtractError> {
    if let Some(refused) = symlink_outside(root, chart) {
        return Err(refused);
    }
    let values = chart.values_file.as_ref().map(|values| root.join(values));
    let output = helm.template(&root.join(&chart.path), values.as_deref()).map_err(|failure| match failure {
        HelmFailure::Spawn(source) => ExtractError::HelmFailed { helm: helm.binary().to_path_buf(), source },
        HelmFailure::Failed(message) => ExtractError::ChartRender { chart: chart.path.clone(), message },
    })?;
    let name = chart.name.as_deref();
    let mut scan = Scan::default();
    for template in split_rendered(&output) {
        // helm names templates `<chart name>/<path in chart>`.
        let inside_chart = template.source.split_once('/').map_or(template.source.as_str(), |(_, rest)| rest);
        manifests::record(&mut scan, &template.content, ImageSource::Chart, &chart.path.join(inside_chart), name);
    }
    Ok(scan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, content: &str) {
        let full = root.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }

    fn entries(root: &Path) -> Vec<String> {
        chart_entries(&root.join(CHARTS_DIR)).iter().map(|p| relative(root, p).display().to_string()).collect()
    }

    #[test]
    fn tgz_suffix_without_dot_counts_as_chart() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app-1.0.tgz", "");
        write(dir.path(), "charts/weirdtgz", "");
        assert_eq!(entries(dir.path()), ["charts/app-1.0.tgz", "charts/weirdtgz"]);
    }

    #[test]
    fn tar_gz_and_plain_files_are_not_charts() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app-1.0.tar.gz", "");
        write(dir.path(), "charts/app.values.yaml", "");
        write(dir.path(), "charts/README.md", "");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn hidden_directory_counts_as_chart() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("charts/.git")).unwrap();
        assert_eq!(entries(dir.path()), ["charts/.git"]);
    }

    #[test]
    fn symlinked_directory_is_not_a_chart() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("real")).unwrap();
        fs::create_dir_all(dir.path().join("charts")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("charts/linked")).unwrap();
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn only_direct_entries_are_charts() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app/Chart.yaml", "name: app\n");
        write(dir.path(), "charts/app/charts/db-1.0.tgz", "");
        assert_eq!(entries(dir.path()), ["charts/app"]);
    }

    #[test]
    fn values_overlay_uses_chart_yaml_name_not_dir_name() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/calico/Chart.yaml", "apiVersion: v2\nname: tigera-operator\nversion: 1.0.0\n");
        write(dir.path(), "charts/calico.values.yaml", "a: 1\n");
        write(dir.path(), "charts/tigera-operator.values.yaml", "a: 2\n");
        let found = scan(dir.path(), None);
        assert_eq!(found.charts[0].name.as_deref(), Some("tigera-operator"));
        assert_eq!(found.charts[0].values_file.as_deref(), Some(Path::new("charts/tigera-operator.values.yaml")));
        assert!(!found.charts[0].rendered);
    }

    #[test]
    fn values_file_matching_no_chart_name_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/calico/Chart.yaml", "apiVersion: v2\nname: tigera-operator\nversion: 1.0.0\n");
        write(dir.path(), "charts/calico.values.yaml", "a: 1\n");
        assert_eq!(scan(dir.path(), None).orphan_values_files, [PathBuf::from("charts/calico.values.yaml")]);
    }

    #[test]
    fn orphan_values_are_not_reported_while_a_chart_name_is_unknown() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app-1.0.tgz", "not an archive");
        write(dir.path(), "charts/other.values.yaml", "a: 1\n");
        let found = scan(dir.path(), None);
        assert_eq!(found.charts[0].name, None);
        assert!(found.orphan_values_files.is_empty());
    }

    fn chart_archive(path: &Path, top: &str, chart_yaml: &str) {
        let file = fs::File::create(path).unwrap();
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(file, flate2::Compression::fast()));
        for (name, content) in [(format!("{top}/values.yaml"), "a: 1\n"), (format!("{top}/Chart.yaml"), chart_yaml)] {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, content.as_bytes()).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap();
    }

    #[test]
    fn packaged_chart_name_is_read_from_the_archive_without_helm() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("charts")).unwrap();
        chart_archive(&dir.path().join("charts/op-1.0.tgz"), "operator", "apiVersion: v2\nname: tigera-operator\nversion: 1.0.0\n");
        write(dir.path(), "charts/op.values.yaml", "a: 1\n");
        let found = scan(dir.path(), None);
        assert_eq!(found.charts[0].name.as_deref(), Some("tigera-operator"));
        assert_eq!(found.orphan_values_files, [PathBuf::from("charts/op.values.yaml")]);
    }

    #[test]
    fn symlink_inside_a_chart_leading_outside_the_context_is_found() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.yaml", "image: x:1\n");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
        write(dir.path(), "shared/ok.yaml", "a: 1\n");
        fs::create_dir_all(dir.path().join("charts/app/templates")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("shared/ok.yaml"), dir.path().join("charts/app/templates/a.yaml")).unwrap();
        let info = |root: &Path| scan(root, None).charts.remove(0);
        assert!(symlink_outside(dir.path(), &info(dir.path())).is_none());
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), dir.path().join("charts/app/templates/b.yaml")).unwrap();
        let error = symlink_outside(dir.path(), &info(dir.path())).expect("escaping symlink");
        let message = error.to_string();
        assert!(
            message.starts_with("chart charts/app: charts/app/templates/b.yaml is a symlink to /") && message.ends_with("secret.yaml, outside the build context; kubefile-ls does not render charts that read files from outside the context"),
            "{message}"
        );
    }

    #[test]
    fn values_file_symlink_leading_outside_the_context_is_found() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "values.yaml", "a: 1\n");
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n");
        std::os::unix::fs::symlink(outside.path().join("values.yaml"), dir.path().join("charts/app.values.yaml")).unwrap();
        let chart = scan(dir.path(), None).charts.remove(0);
        assert!(matches!(symlink_outside(dir.path(), &chart), Some(ExtractError::ChartSymlinkOutsideContext { .. })));
    }

    #[test]
    fn missing_charts_directory_has_no_charts() {
        let dir = tempfile::tempdir().unwrap();
        let found = scan(dir.path(), None);
        assert!(found.charts.is_empty() && found.orphan_values_files.is_empty());
    }
}
