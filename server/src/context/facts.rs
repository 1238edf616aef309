//! The plain-data view of a context that analysis rules read ([`ContextFacts`]).

use std::{fs, path::Path};

use super::{
    ignore::ContextIgnore,
    images::{extract, ExtractOptions, ImageIndex, ImageSource},
    BuildContext,
};
use crate::analysis::facts::{ChartFact, ContextFacts, ImageSource as FactImage};

/// Facts about the context at `root`, with the fast image scan (charts are not rendered, so no
/// helm process is started).
pub fn collect(root: &Path) -> ContextFacts {
    let index = extract(&BuildContext::new(root), &ExtractOptions { helm: None, render_charts: false });
    from_index(root, &index)
}

/// Facts about the context at `root` with images from an existing extraction (for example one
/// that rendered the charts).
pub fn from_index(root: &Path, index: &ImageIndex) -> ContextFacts {
    let mut facts = ContextFacts::default();
    list_entries(root, root, &mut facts.entries);
    // An unparsable ignore file hides nothing here; buildah would refuse to build.
    if let Ok(ignore) = ContextIgnore::load(root) {
        facts.ignored = facts.entries.iter().filter(|entry| ignore.is_ignored(entry)).cloned().collect();
        // `registry/` is created by the save step, after this scan: ask about it even when absent.
        if ignore.is_ignored("registry") {
            facts.ignored.insert("registry".to_string());
        }
    }
    facts.images = index
        .images
        .iter()
        .map(|image| FactImage {
            image: image.image.clone(),
            source: match image.source {
                ImageSource::Chart => "chart",
                ImageSource::Manifest => "manifest",
                ImageSource::Shim => "shim",
                ImageSource::Tar => "tar",
            },
            file: slash_path(&image.file),
            line: image.line,
        })
        .collect();
    facts.charts = index
        .charts
        .iter()
        .map(|chart| ChartFact { path: slash_path(&chart.path), name: chart.name.clone() })
        .collect();
    facts.build_files = BuildContext::new(root)
        .build_files()
        .unwrap_or_default()
        .iter()
        .filter_map(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .collect();
    facts
}

/// Every path below `dir`; `registry/` is listed but its (large) content is not.
fn list_entries(root: &Path, dir: &Path, entries: &mut std::collections::BTreeSet<String>) {
    let Ok(read) = fs::read_dir(dir) else { return };
    for entry in read.filter_map(Result::ok) {
        let path = entry.path();
        let relative = slash_path(path.strip_prefix(root).unwrap_or(&path));
        let descend = entry.file_type().is_ok_and(|t| t.is_dir()) && relative != "registry";
        entries.insert(relative);
        if descend {
            list_entries(root, &path, entries);
        }
    }
}

fn slash_path(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_list_entries_ignored_paths_images_and_build_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("manifests")).unwrap();
        fs::create_dir_all(root.join("registry/docker/registry")).unwrap();
        fs::write(root.join("manifests/app.yaml"), "image: nginx:1.25\n").unwrap();
        fs::write(root.join("Kubefile"), "FROM scratch\n").unwrap();
        fs::write(root.join(".dockerignore"), "manifests\n").unwrap();
        fs::create_dir_all(root.join("charts/calico")).unwrap();
        fs::write(root.join("charts/calico/Chart.yaml"), "name: tigera-operator\n").unwrap();
        let facts = collect(root);
        assert!(facts.entries.contains("manifests/app.yaml"));
        assert!(facts.entries.contains("registry"));
        assert!(!facts.entries.contains("registry/docker"));
        assert!(facts.is_ignored("manifests/app.yaml"));
        assert_eq!(facts.images.len(), 1);
        assert_eq!((facts.images[0].source, facts.images[0].file.as_str()), ("manifest", "manifests/app.yaml"));
        assert_eq!(facts.build_files, ["Kubefile"]);
        assert_eq!(facts.charts, [ChartFact { path: "charts/calico".into(), name: Some("tigera-operator".into()) }]);
    }
}
