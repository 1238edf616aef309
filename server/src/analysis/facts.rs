//! What analysis knows about a Kubefile's build context: plain data collected by
//! `context::facts::collect`, so that every rule stays a pure function.

use std::collections::BTreeSet;

/// One image sealos will save into `registry/`, with where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSource {
    pub image: String,
    /// Which extraction source: "chart", "manifest", "shim" or "tar".
    pub source: &'static str,
    /// Path relative to the context root.
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// Facts about the directory a Kubefile is built in.
#[derive(Clone, Debug, Default)]
pub struct ContextFacts {
    /// Every file and directory below the context root, as `/`-separated relative paths
    /// (directories without a trailing slash). `registry/` is listed but not descended into.
    pub entries: BTreeSet<String>,
    /// Relative paths that `.dockerignore`/`.containerignore` exclude.
    pub ignored: BTreeSet<String>,
    /// Images the context will save, from manifests, shim lists and tar.txt (charts when rendered).
    pub images: Vec<ImageSource>,
    /// Build files sealos would concatenate without `-f` (Sealfile, Kubefile, Dockerfile, Containerfile).
    pub build_files: Vec<String>,
    /// The charts of `charts/` (its direct entries that sealos renders).
    pub charts: Vec<ChartFact>,
}

/// One chart of `charts/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChartFact {
    /// `charts/<entry>`.
    pub path: String,
    /// The `name` of its `Chart.yaml` (`None` when unreadable).
    pub name: Option<String>,
}

impl ContextFacts {
    pub fn exists(&self, relative: &str) -> bool {
        relative.is_empty() || relative == "." || self.entries.contains(relative)
    }

    pub fn has_registry_dir(&self) -> bool {
        self.entries.contains("registry")
    }

    pub fn has_init_script(&self) -> bool {
        self.entries.contains("init.sh")
    }

    pub fn is_ignored(&self, relative: &str) -> bool {
        self.ignored.contains(relative)
    }
}
