//! Diagnostics for the files of a build context that `sealos build` reads to find images, read
//! the way it reads them before buildah runs (sealos-semantics §1.5):
//!
//! * every file below `images/shim/` is a list of image references, one per line;
//! * `images/skopeo/tar.txt` lists image archives as `docker-archive:|oci-archive:<path>@<repo[:tag]>`;
//! * `manifests/**/*.{yaml,yml,tmpl}` are scanned for `image:` lines, and sealos skips the ones it
//!   cannot parse;
//! * `charts/<name>.values.yaml` overlays the chart whose `Chart.yaml` name is `<name>`.
//!
//! These are pure functions of the file text (plus, when known, facts about the context), with
//! byte ranges into that text and the engine's [`Diagnostic`] type, so the language server and
//! `kubefile-ls check` publish them like Kubefile diagnostics. [`file_role`] and [`locate`] tell
//! whether a path is one of these files, and [`diagnostics`] checks it.

mod lines;
mod manifest;
mod shim;
mod tar;
#[cfg(test)]
mod testing;
mod values;

use std::path::{Component, Path, PathBuf};

pub use manifest::manifest_diagnostics;
pub use shim::{shim_diagnostics, shim_image_at, ShimContext};
pub use tar::tar_list_diagnostics;
pub use values::values_file_diagnostics;

use super::{facts::ContextFacts, Config, Diagnostic};

/// Which list a file inside a build context is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListFile {
    /// Any file below `images/shim/` (sealos reads every one, whatever its name).
    Shim,
    /// `images/skopeo/tar.txt`.
    TarList,
    /// `manifests/**/*.{yaml,yml,tmpl}` (extension in any case).
    Manifest,
    /// `charts/<name>.values.yaml`.
    ChartValues,
}

/// The list a path relative to the context root is, if any: `images/shim/imageList` → `Shim`,
/// `images/skopeo/tar.txt` → `TarList`, `manifests/app/deploy.yaml` → `Manifest`,
/// `charts/calico.values.yaml` → `ChartValues`, anything else → `None`.
pub fn file_role(relative_path: &Path) -> Option<ListFile> {
    let parts: Vec<&str> = relative_path
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        ["images", "shim", _, ..] => Some(ListFile::Shim),
        ["images", "skopeo", "tar.txt"] => Some(ListFile::TarList),
        ["manifests", .., _] if crate::context::images::is_manifest(relative_path) => Some(ListFile::Manifest),
        ["charts", name] if name.ends_with(values::VALUES_SUFFIX) => Some(ListFile::ChartValues),
        _ => None,
    }
}

/// For a path on disk, the build context it belongs to as a list file: `(context root, path
/// relative to it, role)`. The context is the directory holding `images/`; for nested
/// `images/shim` directories the outermost one wins, as sealos reads `images/shim` recursively.
pub fn locate(path: &Path) -> Option<(PathBuf, PathBuf, ListFile)> {
    let ancestors: Vec<&Path> = path.ancestors().skip(1).collect();
    for root in ancestors.into_iter().rev() {
        let Ok(relative) = path.strip_prefix(root) else { continue };
        if let Some(role) = file_role(relative) {
            return Some((root.to_path_buf(), relative.to_path_buf(), role));
        }
    }
    None
}

/// The diagnostics of a list file, with the configured severity overrides applied (a code set to
/// `off` is dropped). `relative_path` is the file's path inside the context (used to find the
/// same image in other shim lists of `facts`).
///
/// `manifests/` and `charts/` are common directory names outside Sealos, so their files are only
/// checked when `facts` shows a build file beside them; values files also need the charts.
pub fn diagnostics(
    role: ListFile,
    relative_path: &str,
    text: &str,
    facts: Option<&ContextFacts>,
    config: &Config,
) -> Vec<Diagnostic> {
    let found = match role {
        ListFile::Shim => {
            shim_diagnostics(text, facts.map(|facts| ShimContext { file: relative_path, images: &facts.images }))
        }
        ListFile::TarList => tar_list_diagnostics(text, facts),
        ListFile::Manifest => match facts {
            Some(facts) if !facts.build_files.is_empty() => manifest_diagnostics(text),
            _ => Vec::new(),
        },
        ListFile::ChartValues => match facts {
            Some(facts) if !facts.build_files.is_empty() => {
                values_file_diagnostics(relative_path, text, &facts.charts)
            }
            _ => Vec::new(),
        },
    };
    found
        .into_iter()
        .filter_map(|mut diagnostic| {
            if let Some(level) = config.severity.get(diagnostic.code) {
                diagnostic.severity = level.severity()?;
            }
            Some(diagnostic)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_paths_inside_a_context() {
        assert_eq!(file_role(Path::new("images/shim/imageList")), Some(ListFile::Shim));
        assert_eq!(file_role(Path::new("./images/shim/sub/dir/list.txt")), Some(ListFile::Shim));
        assert_eq!(file_role(Path::new("images/shim/README.md")), Some(ListFile::Shim));
        assert_eq!(file_role(Path::new("images/skopeo/tar.txt")), Some(ListFile::TarList));
        assert_eq!(file_role(Path::new("manifests/app/deploy.YML")), Some(ListFile::Manifest));
        assert_eq!(file_role(Path::new("manifests/x.yaml.tmpl")), Some(ListFile::Manifest));
        assert_eq!(file_role(Path::new("manifests/x.json")), None);
        assert_eq!(file_role(Path::new("manifests")), None);
        assert_eq!(file_role(Path::new("charts/calico.values.yaml")), Some(ListFile::ChartValues));
        assert_eq!(file_role(Path::new("charts/calico/values.yaml")), None);
        assert_eq!(file_role(Path::new("charts/calico/x.values.yaml")), None);
        assert_eq!(file_role(Path::new("images/shim")), None);
        assert_eq!(file_role(Path::new("images/skopeo/other.txt")), None);
        assert_eq!(file_role(Path::new("manifests/images/shim/x")), None);
        assert_eq!(file_role(Path::new("Kubefile")), None);
    }

    #[test]
    fn locate_finds_the_context_root() {
        let (root, relative, role) = locate(Path::new("/work/app/images/shim/list")).unwrap();
        assert_eq!((root.as_path(), relative.as_path(), role), (Path::new("/work/app"), Path::new("images/shim/list"), ListFile::Shim));
        let (root, _, role) = locate(Path::new("/ctx/images/skopeo/tar.txt")).unwrap();
        assert_eq!((root.as_path(), role), (Path::new("/ctx"), ListFile::TarList));
        assert_eq!(locate(Path::new("/ctx/Kubefile")), None);
    }

    #[test]
    fn manifests_and_values_files_are_checked_only_beside_a_build_file() {
        let manifest = "image: nginx:1 # pinned\n";
        let values = "a: 1\n";
        let mut facts = ContextFacts::default();
        facts.charts.push(crate::analysis::facts::ChartFact {
            path: "charts/calico".into(),
            name: Some("tigera-operator".into()),
        });
        let config = Config::default();
        let check = |role, path, text, facts: Option<&ContextFacts>| diagnostics(role, path, text, facts, &config).len();
        assert_eq!(check(ListFile::Manifest, "manifests/a.yaml", manifest, None), 0);
        assert_eq!(check(ListFile::Manifest, "manifests/a.yaml", manifest, Some(&facts)), 0);
        assert_eq!(check(ListFile::ChartValues, "charts/calico.values.yaml", values, Some(&facts)), 0);
        facts.build_files.push("Kubefile".into());
        assert_eq!(check(ListFile::Manifest, "manifests/a.yaml", manifest, Some(&facts)), 1);
        assert_eq!(check(ListFile::ChartValues, "charts/calico.values.yaml", values, Some(&facts)), 1);
        assert_eq!(check(ListFile::ChartValues, "charts/tigera-operator.values.yaml", values, Some(&facts)), 0);
    }

    #[test]
    fn severity_overrides_apply() {
        let mut config = Config::default();
        config.severity.insert("duplicate-image".into(), crate::analysis::config::SeverityOverride::Off);
        let found = diagnostics(ListFile::Shim, "images/shim/list", "nginx:1\nnginx:1\n", None, &config);
        assert!(found.is_empty(), "{found:?}");
    }
}
