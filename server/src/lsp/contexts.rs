//! Which open documents are Kubefiles, and the facts about their build contexts.
//!
//! The build context of a Kubefile is its directory. Facts are collected once per directory on a
//! blocking thread (concurrent requests for the same directory share one collection) and kept
//! until a watched-file event under that directory, or the last document using it closing, drops them.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use dashmap::DashMap;
use tokio::sync::OnceCell;
use tower_lsp_server::ls_types::Uri;

use crate::{analysis::ContextFacts, context::BuildContext, workspace::is_kubefile_name};

/// What a document is, as far as its name and language id tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildFileKind {
    /// Always analysed: languageId `kubefile`, or named Kubefile, Sealfile, *.Kubefile, Kubefile.*.
    Kubefile,
    /// A Dockerfile or Containerfile (by name or languageId `dockerfile`): analysed only in a
    /// Sealos build context (a sibling manifests/, charts/, images/shim/ or registry/) or when it
    /// declares sealos labels, as the CLI does; other Dockerfiles get no diagnostics from us.
    Dockerfile,
    /// Anything else we were sent: ignored.
    Other,
}

pub fn classify(language_id: &str, path: Option<&Path>) -> BuildFileKind {
    let name = path.and_then(Path::file_name).map(|name| name.to_string_lossy()).unwrap_or_default();
    if language_id.eq_ignore_ascii_case("kubefile") || is_kubefile_name(&name) {
        return BuildFileKind::Kubefile;
    }
    let dockerfile_name = ["Dockerfile", "Containerfile"]
        .iter()
        .any(|base| name == *base || name.starts_with(&format!("{base}.")) || name.ends_with(&format!(".{base}")));
    if dockerfile_name || language_id.eq_ignore_ascii_case("dockerfile") {
        BuildFileKind::Dockerfile
    } else {
        BuildFileKind::Other
    }
}

/// The local path of a `file:` URI (percent-decoded), or `None` for other schemes.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    if !uri.scheme().as_str().eq_ignore_ascii_case("file") {
        return None;
    }
    let path = uri.to_file_path()?.into_owned();
    path.is_absolute().then_some(path)
}

/// The build context directory of a document at `path`: its parent directory.
pub fn context_dir(path: Option<&Path>) -> Option<PathBuf> {
    path?.parent().filter(|dir| !dir.as_os_str().is_empty()).map(Path::to_path_buf)
}

/// Cached facts per context directory.
#[derive(Default)]
pub struct Contexts {
    facts: DashMap<PathBuf, Arc<OnceCell<Arc<ContextFacts>>>>,
}

impl Contexts {
    /// The facts of `dir`, collected on a blocking thread the first time they are asked for.
    pub async fn facts(&self, dir: &Path) -> Arc<ContextFacts> {
        let cell = self.facts.entry(dir.to_path_buf()).or_default().clone();
        cell.get_or_init(|| async {
            let dir = dir.to_path_buf();
            let started = std::time::Instant::now();
            let facts = tokio::task::spawn_blocking({
                let dir = dir.clone();
                move || crate::context::facts::collect(&dir)
            })
            .await
            .unwrap_or_else(|error| {
                tracing::error!("collecting the facts of {} failed: {error}", dir.display());
                ContextFacts::default()
            });
            tracing::debug!("collected facts of {} in {:?}", dir.display(), started.elapsed());
            Arc::new(facts)
        })
        .await
        .clone()
    }

    /// Forgets the facts of every cached context that contains `path` (or is below it, when a
    /// whole directory tree went away). Returns whether any was dropped.
    pub fn invalidate(&self, path: &Path) -> bool {
        let before = self.facts.len();
        self.facts.retain(|dir, _| !(path.starts_with(dir) || dir.starts_with(path)));
        self.facts.len() != before
    }

    pub fn forget(&self, dir: &Path) {
        self.facts.remove(dir);
    }
}

/// Whether a Dockerfile-like document gets Kubefile diagnostics (blocking: looks at the disk).
pub fn dockerfile_is_kubefile(dir: Option<&Path>, text_mentions_sealos: bool) -> bool {
    text_mentions_sealos || dir.is_some_and(|dir| BuildContext::new(dir).looks_like_sealos())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn names_and_language_ids() {
        let kind = |id: &str, path: &str| classify(id, Some(Path::new(path)));
        assert_eq!(kind("dockerfile", "/c/Kubefile"), BuildFileKind::Kubefile);
        assert_eq!(kind("plaintext", "/c/Sealfile"), BuildFileKind::Kubefile);
        assert_eq!(kind("dockerfile", "/c/app.Kubefile"), BuildFileKind::Kubefile);
        assert_eq!(kind("dockerfile", "/c/Kubefile.arm64"), BuildFileKind::Kubefile);
        assert_eq!(kind("kubefile", "/c/anything"), BuildFileKind::Kubefile);
        assert_eq!(kind("dockerfile", "/c/Dockerfile"), BuildFileKind::Dockerfile);
        assert_eq!(kind("plaintext", "/c/Containerfile.dev"), BuildFileKind::Dockerfile);
        assert_eq!(kind("dockerfile", "/c/build.df"), BuildFileKind::Dockerfile);
        assert_eq!(kind("yaml", "/c/values.yaml"), BuildFileKind::Other);
        assert_eq!(classify("kubefile", None), BuildFileKind::Kubefile);
    }

    #[test]
    fn file_uris_decode_to_paths_with_spaces() {
        let uri = Uri::from_str("file:///work/corpus/app%20v1%20/Kubefile").unwrap();
        let path = file_path(&uri).unwrap();
        assert_eq!(path, Path::new("/work/corpus/app v1 /Kubefile"));
        assert_eq!(context_dir(Some(&path)).unwrap(), Path::new("/work/corpus/app v1 "));
        assert_eq!(file_path(&Uri::from_str("untitled:Untitled-1").unwrap()), None);
    }

    #[tokio::test]
    async fn facts_are_cached_until_a_change_under_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let contexts = Contexts::default();
        let first = contexts.facts(dir.path()).await;
        assert!(!first.exists("manifests"));
        std::fs::create_dir(dir.path().join("manifests")).unwrap();
        assert!(Arc::ptr_eq(&first, &contexts.facts(dir.path()).await));
        assert!(!contexts.invalidate(Path::new("/elsewhere/x")));
        assert!(contexts.invalidate(&dir.path().join("manifests")));
        assert!(contexts.facts(dir.path()).await.exists("manifests"));
    }

    #[test]
    fn dockerfiles_need_a_sealos_context() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!dockerfile_is_kubefile(Some(dir.path()), false));
        assert!(dockerfile_is_kubefile(Some(dir.path()), true));
        std::fs::create_dir_all(dir.path().join("images/shim")).unwrap();
        assert!(dockerfile_is_kubefile(Some(dir.path()), false));
        assert!(!dockerfile_is_kubefile(None, false));
    }
}
