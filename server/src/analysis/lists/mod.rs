//! Diagnostics for the image lists of a build context, read the way `sealos build` reads them
//! before buildah runs (sealos-semantics §1.5 (c) and (e)):
//!
//! * every file below `images/shim/` is a list of image references, one per line;
//! * `images/skopeo/tar.txt` lists image archives as `docker-archive:|oci-archive:<path>@<repo[:tag]>`.
//!
//! These are pure functions of the file text (plus, when known, facts about the context), with
//! byte ranges into that text and the engine's [`Diagnostic`] type, so the language server and
//! `kubefile-ls check` publish them like Kubefile diagnostics. [`file_role`] and [`locate`] tell
//! whether a path is one of these files.

mod lines;
mod shim;
mod tar;

use std::path::{Component, Path, PathBuf};

pub use shim::{shim_diagnostics, ShimContext};
pub use tar::tar_list_diagnostics;

use super::{facts::ContextFacts, Config, Diagnostic};

/// Which list a file inside a build context is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListFile {
    /// Any file below `images/shim/` (sealos reads every one, whatever its name).
    Shim,
    /// `images/skopeo/tar.txt`.
    TarList,
}

/// The list a path relative to the context root is, if any: `images/shim/imageList` → `Shim`,
/// `images/skopeo/tar.txt` → `TarList`, anything else → `None`.
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
    fn severity_overrides_apply() {
        let mut config = Config::default();
        config.severity.insert("duplicate-image".into(), crate::analysis::config::SeverityOverride::Off);
        let found = diagnostics(ListFile::Shim, "images/shim/list", "nginx:1\nnginx:1\n", None, &config);
        assert!(found.is_empty(), "{found:?}");
    }
}
