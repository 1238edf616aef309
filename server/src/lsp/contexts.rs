//! Which open documents are Kubefiles, and the facts about their build contexts.
//!
//! The build context of a Kubefile is its directory (of an `images/shim` list, the directory
//! holding `images/`). Facts are collected once per directory on a blocking thread (concurrent
//! requests for the same directory share one collection) and kept until a watched-file event
//! under that directory, or the last document using it closing, drops them. The same holds for
//! the slower extraction that renders `charts/` with helm ([`RenderedContext`]).

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use dashmap::DashMap;
use tokio::sync::OnceCell;
use tower_lsp_server::ls_types::Uri;

use crate::{
    analysis::ContextFacts,
    context::{
        images::{extract, ExtractOptions, ImageIndex},
        BuildContext,
    },
    workspace::is_kubefile_name,
};

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

/// The build context directory of a document at `path`: its parent directory, or for an image
/// list under `images/shim/`, the directory that holds `images/`.
pub fn context_dir(path: Option<&Path>) -> Option<PathBuf> {
    let path = path?;
    shim_list_context(path).or_else(|| path.parent().filter(|dir| !dir.as_os_str().is_empty()).map(Path::to_path_buf))
}

/// The context directory of an `images/shim/**` image list, `None` for other paths.
fn shim_list_context(path: &Path) -> Option<PathBuf> {
    let parts: Vec<_> = path.components().collect();
    let at = parts.windows(2).rposition(|pair| pair[0].as_os_str() == "images" && pair[1].as_os_str() == "shim")?;
    // The list itself must be below `images/shim`, not the directory.
    if at + 2 >= parts.len() || at == 0 {
        return None;
    }
    Some(parts[..at].iter().collect())
}

/// A context's images with `charts/` rendered by helm, and its facts with those images.
pub struct RenderedContext {
    pub index: ImageIndex,
    pub facts: Arc<ContextFacts>,
}

type Cell<T> = Arc<OnceCell<Arc<T>>>;

/// Cached facts per context directory.
#[derive(Default)]
pub struct Contexts {
    facts: DashMap<PathBuf, Cell<ContextFacts>>,
    rendered: DashMap<PathBuf, Cell<RenderedContext>>,
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

    /// The images of `dir` with its charts rendered by `helm` (`None`: on `PATH`), extracted on a
    /// blocking thread the first time they are asked for; concurrent callers share one extraction.
    pub async fn rendered(&self, dir: &Path, helm: Option<PathBuf>) -> Arc<RenderedContext> {
        let cell = self.rendered.entry(dir.to_path_buf()).or_default().clone();
        cell.get_or_init(|| async {
            let dir = dir.to_path_buf();
            let started = std::time::Instant::now();
            let rendered = tokio::task::spawn_blocking({
                let dir = dir.clone();
                move || {
                    let index = extract(&BuildContext::new(&dir), &ExtractOptions { helm, render_charts: true });
                    let facts = Arc::new(crate::context::facts::from_index(&dir, &index));
                    RenderedContext { index, facts }
                }
            })
            .await
            .unwrap_or_else(|error| {
                tracing::error!("extracting the images of {} failed: {error}", dir.display());
                RenderedContext { index: ImageIndex::default(), facts: Arc::default() }
            });
            tracing::debug!("extracted the images of {} in {:?}", dir.display(), started.elapsed());
            Arc::new(rendered)
        })
        .await
        .clone()
    }

    /// The rendered images of `dir` if an extraction has finished, without waiting.
    pub fn rendered_if_ready(&self, dir: &Path) -> Option<Arc<RenderedContext>> {
        self.rendered.get(dir)?.get().cloned()
    }

    /// The best facts at hand without rendering charts: those of a finished extraction (with the
    /// charts' images), else the fast scan.
    pub async fn best_facts(&self, dir: &Path) -> Arc<ContextFacts> {
        match self.rendered_if_ready(dir) {
            Some(rendered) => rendered.facts.clone(),
            None => self.facts(dir).await,
        }
    }

    /// Forgets the facts of every cached context that contains `path` (or is below it, when a
    /// whole directory tree went away). Returns whether any was dropped.
    pub fn invalidate(&self, path: &Path) -> bool {
        let affected = |dir: &PathBuf| path.starts_with(dir) || dir.starts_with(path);
        let before = self.facts.len() + self.rendered.len();
        self.facts.retain(|dir, _| !affected(dir));
        self.rendered.retain(|dir, _| !affected(dir));
        self.facts.len() + self.rendered.len() != before
    }

    pub fn forget(&self, dir: &Path) {
        self.facts.remove(dir);
        self.rendered.remove(dir);
    }

    /// Drops every rendered extraction (the helm setting changed).
    pub fn forget_rendered(&self) {
        self.rendered.clear();
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

    #[test]
    fn shim_lists_belong_to_the_context_above_images() {
        let dir = |path: &str| context_dir(Some(Path::new(path)));
        assert_eq!(dir("/c/images/shim/list").unwrap(), Path::new("/c"));
        assert_eq!(dir("/c/images/shim/more/list.txt").unwrap(), Path::new("/c"));
        assert_eq!(dir("/c/images/other/list").unwrap(), Path::new("/c/images/other"));
        assert_eq!(dir("/c/images/shim").unwrap(), Path::new("/c/images"));
        assert_eq!(shim_list_context(Path::new("/c/Kubefile")), None);
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
