//! The build context on disk: which build files sealos picks, which files the ignore file hides
//! from COPY, and which images `sealos build` saves into `registry/` (see [`images`]).
//!
//! Everything here reads the file system and knows nothing of editors or LSP.

pub mod facts;
pub mod ignore;
pub mod images;
pub mod lists;
pub mod reference;

use std::path::{Path, PathBuf};

/// The build files sealos looks for when no `-f` is given, in the order it concatenates them.
pub const BUILD_FILE_NAMES: [&str; 4] = ["Sealfile", "Kubefile", "Dockerfile", "Containerfile"];

/// Directories that only make sense in a Sealos cluster-image context (relative, `/`-separated).
pub const SEALOS_MARKERS: [&str; 4] = ["manifests", "charts", "images/shim", "registry"];

/// A directory used as the context of `sealos build`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    root: PathBuf,
}

impl BuildContext {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The build files `sealos build` uses without `-f`: every one of [`BUILD_FILE_NAMES`] that
    /// is a regular file (symlinks followed), in that order. Sealos does not stop at the first
    /// one; buildah concatenates them all into one multi-stage build. A directory with one of
    /// these names is skipped.
    pub fn build_files(&self) -> Result<Vec<PathBuf>, NoBuildFile> {
        let found: Vec<PathBuf> = BUILD_FILE_NAMES
            .iter()
            .map(|name| self.root.join(name))
            .filter(|path| path.metadata().is_ok_and(|m| m.is_file()))
            .collect();
        if found.is_empty() {
            Err(NoBuildFile)
        } else {
            Ok(found)
        }
    }

    /// Whether the directory has one of `manifests/`, `charts/`, `images/shim/` or `registry/`
    /// beside its build file: the sign that it is a Sealos cluster image rather than an
    /// ordinary Dockerfile project.
    pub fn looks_like_sealos(&self) -> bool {
        SEALOS_MARKERS.iter().any(|marker| self.root.join(marker).is_dir())
    }
}

/// sealos's own error text, so users can search for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot find any of Sealfile, Kubefile, Dockerfile, Containerfile in context directory")]
pub struct NoBuildFile;

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn names(context: &BuildContext) -> Vec<String> {
        context.build_files().unwrap().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn every_existing_build_file_is_used_in_sealos_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["Containerfile", "Dockerfile", "Kubefile", "Sealfile"] {
            fs::write(dir.path().join(name), "FROM scratch\n").unwrap();
        }
        let context = BuildContext::new(dir.path());
        assert_eq!(names(&context), ["Sealfile", "Kubefile", "Dockerfile", "Containerfile"]);
    }

    #[test]
    fn directory_named_like_a_build_file_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("Kubefile")).unwrap();
        fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        assert_eq!(names(&BuildContext::new(dir.path())), ["Dockerfile"]);
    }

    #[test]
    fn no_build_file_gives_sealos_error_text() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("kubefile"), "FROM scratch\n").unwrap();
        let error = BuildContext::new(dir.path()).build_files().unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot find any of Sealfile, Kubefile, Dockerfile, Containerfile in context directory"
        );
    }

    #[test]
    fn symlinked_build_file_counts() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("real"), "FROM scratch\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("Kubefile")).unwrap();
        assert_eq!(names(&BuildContext::new(dir.path())), ["Kubefile"]);
    }

    #[test]
    fn sealos_context_is_recognised_by_its_directories() {
        let dir = tempfile::tempdir().unwrap();
        let context = BuildContext::new(dir.path());
        assert!(!context.looks_like_sealos());
        fs::create_dir_all(dir.path().join("images/shim")).unwrap();
        assert!(context.looks_like_sealos());
    }

    #[test]
    fn images_directory_without_shim_is_not_a_sealos_marker() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("images")).unwrap();
        fs::write(dir.path().join("charts"), "not a directory").unwrap();
        assert!(!BuildContext::new(dir.path()).looks_like_sealos());
    }
}
