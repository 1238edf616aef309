//! Open documents: text, tree and version, plus what the server knows about each.
//!
//! Locking discipline: entries are only borrowed for short synchronous sections (never across an
//! `.await`), and never two at a time.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use dashmap::{
    mapref::one::{Ref, RefMut},
    DashMap,
};
use tokio::sync::watch;
use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::contexts::BuildFileKind;
use crate::{
    analysis,
    syntax::{
        document::{Document, ParseJob, ParsedSnapshot},
        SourceFile,
    },
};

/// What the publisher of a document is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub revision: u64,
    /// Wait for typing to pause before analysing (edits); `false` for open, settings and context
    /// changes, which are analysed at once.
    pub debounce: bool,
}

/// The diagnostics of one revision of a document.
pub struct Analysis {
    pub revision: u64,
    pub version: i32,
    pub file: SourceFile,
    /// Whether the document gets diagnostics at all (see [`BuildFileKind`]).
    pub handled: bool,
    pub diagnostics: Vec<analysis::Diagnostic>,
    /// `diagnostics` converted, in the same order.
    pub lsp: Vec<lsp::Diagnostic>,
    /// The document is a build file, whose FROM lines name base images.
    is_build_file: bool,
    /// The images its FROM lines name, offered after `FROM` in the other documents: found on the
    /// first completion that asks, not on every keystroke (walking a big file's FROM lines costs
    /// as much as the incremental diagnostics).
    base_images: std::sync::OnceLock<Vec<String>>,
}

impl Analysis {
    pub fn new(
        revision: u64,
        version: i32,
        file: SourceFile,
        handled: bool,
        is_build_file: bool,
        diagnostics: Vec<analysis::Diagnostic>,
        lsp: Vec<lsp::Diagnostic>,
    ) -> Analysis {
        Analysis { revision, version, file, handled, diagnostics, lsp, is_build_file, base_images: Default::default() }
    }

    pub fn base_images(&self) -> &[String] {
        if !self.is_build_file {
            return &[];
        }
        self.base_images.get_or_init(|| analysis::completion_images::base_images(&self.file))
    }

    /// The result id of pull reports: the revision, unique across documents and restarts of a document.
    pub fn result_id(&self) -> String {
        self.revision.to_string()
    }
}

pub struct OpenDocument {
    pub doc: Document,
    pub kind: BuildFileKind,
    pub context_dir: Option<PathBuf>,
    /// Bumped (from a counter shared by all documents) whenever anything the diagnostics depend
    /// on changes: text, configuration, context facts. Results are kept or published only while
    /// it is unchanged.
    pub revision: u64,
    pub last: Option<Arc<Analysis>>,
    /// Diagnostics have been published for this document (so "nothing" must be published to clear them).
    pub published: bool,
    /// The revision whose diagnostics were last published (or found to need no publishing).
    pub published_revision: Option<u64>,
    /// Held from the check that a result is current until it is sent, and by `didClose` before
    /// it clears: a publication never lands after the clearing one.
    pub publish_lock: Arc<tokio::sync::Mutex<()>>,
    /// The last semantic tokens sent, for `semanticTokens/full/delta`: (result id, data).
    pub semantic_tokens: Option<(String, Arc<Vec<u32>>)>,
    /// The previous analysis's per-instruction findings, so that an edit re-analyses only the
    /// instructions it touched. Locked on the analysis thread only.
    pub diagnostics_cache: Arc<std::sync::Mutex<analysis::diagnostics::DiagnosticsCache>>,
    trigger: watch::Sender<Trigger>,
}

/// The text and tree of a document as a request saw it, with what the server knows about it.
pub struct Snapshot {
    pub file: SourceFile,
    pub version: i32,
    pub kind: BuildFileKind,
    pub context_dir: Option<PathBuf>,
}

/// A document's tree: current, or the job that brings it up to date with the text (to run away
/// from the map's locks).
pub enum Tree {
    Current(SourceFile),
    Pending(ParseJob),
}

impl Tree {
    /// Parses if needed (blocking work). Returns the file and the parse result for [`Documents::install`].
    pub fn parse(self) -> (SourceFile, Option<ParsedSnapshot>) {
        match self {
            Tree::Current(file) => (file, None),
            Tree::Pending(job) => {
                let parsed = job.run();
                (parsed.file.clone(), Some(parsed))
            }
        }
    }
}

impl OpenDocument {
    pub fn tree(&self) -> Tree {
        match self.doc.cached_snapshot() {
            Some(file) => Tree::Current(file),
            None => Tree::Pending(self.doc.parse_job()),
        }
    }

    /// The latest analysis if it is for the current revision.
    pub fn current_analysis(&self) -> Option<Arc<Analysis>> {
        self.last.as_ref().filter(|last| last.revision == self.revision).cloned()
    }
}

pub struct Documents {
    map: DashMap<Uri, OpenDocument>,
    revisions: AtomicU64,
    /// Signalled whenever any document's revision changes or a document opens or closes.
    changes: watch::Sender<()>,
}

impl Default for Documents {
    fn default() -> Self {
        Documents { map: DashMap::new(), revisions: AtomicU64::new(0), changes: watch::Sender::new(()) }
    }
}

impl Documents {
    fn next_revision(&self) -> u64 {
        self.changes.send_replace(());
        self.revisions.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A receiver that sees a change whenever any document does.
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.changes.subscribe()
    }

    /// Stores a newly opened document (replacing any previous one with the same URI) and returns
    /// the receiver its publisher listens on.
    pub fn open(
        &self,
        uri: Uri,
        doc: Document,
        kind: BuildFileKind,
        context_dir: Option<PathBuf>,
    ) -> watch::Receiver<Trigger> {
        let revision = self.next_revision();
        let (trigger, receiver) = watch::channel(Trigger { revision, debounce: false });
        let entry = OpenDocument {
            doc,
            kind,
            context_dir,
            revision,
            last: None,
            published: false,
            published_revision: None,
            publish_lock: Default::default(),
            semantic_tokens: None,
            diagnostics_cache: Default::default(),
            trigger,
        };
        self.map.insert(uri, entry);
        self.changes.send_replace(());
        receiver
    }

    pub fn close(&self, uri: &Uri) -> Option<OpenDocument> {
        let closed = self.map.remove(uri).map(|(_, entry)| entry);
        self.changes.send_replace(());
        closed
    }

    pub fn get(&self, uri: &Uri) -> Option<Ref<'_, Uri, OpenDocument>> {
        self.map.get(uri)
    }

    pub fn get_mut(&self, uri: &Uri) -> Option<RefMut<'_, Uri, OpenDocument>> {
        self.map.get_mut(uri)
    }

    /// The current text and tree of `uri`, parsing (incrementally, on the caller's thread) when
    /// edits are pending. Request handlers call this before their first `.await`, so they see the
    /// text as it was when the request arrived, which is what its positions refer to.
    pub fn snapshot(&self, uri: &Uri) -> Option<Snapshot> {
        let (tree, version, kind, context_dir) = {
            let entry = self.map.get(uri)?;
            (entry.tree(), entry.doc.version(), entry.kind, entry.context_dir.clone())
        };
        let (file, parsed) = tree.parse();
        self.install(uri, parsed);
        Some(Snapshot { file, version, kind, context_dir })
    }

    /// Keeps the result of a parse in its document (dropped if edits came since the job was taken).
    pub fn install(&self, uri: &Uri, parsed: Option<ParsedSnapshot>) {
        if let Some(parsed) = parsed {
            if let Some(mut entry) = self.map.get_mut(uri) {
                entry.doc.install(parsed);
            }
        }
    }

    /// Applies `edit` to the document and signals its publisher. Returns false for unknown URIs.
    pub fn edit(&self, uri: &Uri, debounce: bool, edit: impl FnOnce(&mut OpenDocument)) -> bool {
        let Some(mut entry) = self.map.get_mut(uri) else { return false };
        edit(&mut entry);
        let revision = self.next_revision();
        entry.revision = revision;
        entry.trigger.send_replace(Trigger { revision, debounce });
        true
    }

    /// Marks the documents selected by `affected` as changed (their context or the configuration
    /// did) and signals their publishers. Returns their URIs.
    pub fn touch(&self, mut affected: impl FnMut(&OpenDocument) -> bool) -> Vec<Uri> {
        let mut touched = Vec::new();
        for mut entry in self.map.iter_mut() {
            if affected(&entry) {
                let revision = self.next_revision();
                entry.revision = revision;
                entry.trigger.send_replace(Trigger { revision, debounce: false });
                touched.push(entry.key().clone());
            }
        }
        touched
    }

    pub fn uris(&self) -> Vec<Uri> {
        self.map.iter().map(|entry| entry.key().clone()).collect()
    }

    /// The base images the open documents other than `except` name, from their latest analysis
    /// (a revision behind is good enough for completion), in URI order.
    pub fn workspace_images(&self, except: &Uri) -> Vec<String> {
        let mut analyses: Vec<(Uri, Arc<Analysis>)> = self
            .map
            .iter()
            .filter(|entry| entry.key() != except)
            .filter_map(|entry| Some((entry.key().clone(), entry.last.clone()?)))
            .collect();
        analyses.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        analyses.iter().flat_map(|(_, analysis)| analysis.base_images().iter().cloned()).collect()
    }

    /// Whether another open document uses `dir` as its context.
    pub fn uses_context(&self, dir: &std::path::Path) -> bool {
        self.map.iter().any(|entry| entry.context_dir.as_deref() == Some(dir))
    }
}
