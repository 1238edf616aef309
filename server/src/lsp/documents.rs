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
        document::{Document, ParseJob},
        SourceFile,
    },
};

/// What the publisher of a document is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub revision: u64,
    /// The change is an edit, which may be one of a burst the message loop is still applying;
    /// `false` for open, settings and context changes.
    pub after_edit: bool,
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

    /// The analysis of a document over the size limit: no diagnostics, and an empty file in place
    /// of its text (there is no tree to go with it). `handled` as for any document of its kind,
    /// so that empty diagnostics are published over any earlier ones.
    pub fn oversized(revision: u64, version: i32, handled: bool) -> Analysis {
        Analysis::new(revision, version, SourceFile::parse(""), handled, false, Vec::new(), Vec::new())
    }

    /// A build file (not an image list or another file sealos reads).
    pub fn is_build_file(&self) -> bool {
        self.is_build_file
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
    /// The tokens of each top-level node of the last full request, so that the next one walks
    /// only the nodes an edit changed.
    pub token_cache: Arc<std::sync::Mutex<analysis::semantic_tokens::TokenCache>>,
    /// The previous analysis's per-instruction findings, so that an edit re-analyses only the
    /// instructions it touched. Locked on the analysis thread only.
    pub diagnostics_cache: Arc<std::sync::Mutex<analysis::diagnostics::DiagnosticsCache>>,
    /// The analysis of one revision while it runs: whoever asks for that revision next (the
    /// publisher, a pull request, quick fixes) waits for it instead of analysing it again.
    pub analysis_in_flight: Option<(u64, AnalysisCell)>,
    /// The document holds a parse: a tree, and the snapshot and diagnostics derived from it.
    /// False from `didOpen` until the first parse is installed, and again once the document is
    /// found over the size limit and kept as text only.
    parsed: bool,
    /// The user has been told that the document is over the size limit (once per document).
    pub size_notice_sent: bool,
    /// The revision of the latest text (set by `didOpen` and each edit, not by settings or context
    /// changes): unique across documents and reopenings, so that a parse job can tell whether its
    /// text is still the document's ([`Documents::parse`]).
    text_revision: u64,
    trigger: watch::Sender<Trigger>,
}

/// The shared result of one analysis run (`None`: the document changed or closed first, or the
/// analysis failed).
pub type AnalysisCell = Arc<tokio::sync::OnceCell<Option<Arc<Analysis>>>>;

/// The text and tree of a document as a request saw it, with what the server knows about it.
pub struct Snapshot {
    pub file: SourceFile,
    pub version: i32,
    pub kind: BuildFileKind,
    pub context_dir: Option<PathBuf>,
}

/// A request's view of a document, taken when the request arrives (so its positions refer to this
/// text), with the parse it still needs.
pub struct RequestView {
    pub tree: Tree,
    pub len_bytes: usize,
    pub version: i32,
    pub kind: BuildFileKind,
    pub context_dir: Option<PathBuf>,
}

/// A document's tree: current, or the job that brings it up to date with the text (to run away
/// from the map's locks, with [`Documents::parse`]).
pub enum Tree {
    Current(SourceFile),
    Pending {
        job: ParseJob,
        /// The document's `text_revision` when the job was taken.
        text_revision: u64,
    },
}

impl OpenDocument {
    pub fn tree(&self) -> Tree {
        match self.doc.cached_snapshot() {
            Some(file) => Tree::Current(file),
            None => Tree::Pending { job: self.doc.parse_job(), text_revision: self.text_revision },
        }
    }

    /// The latest analysis if it is for the current revision.
    pub fn current_analysis(&self) -> Option<Arc<Analysis>> {
        self.last.as_ref().filter(|last| last.revision == self.revision).cloned()
    }

    /// The analysis of the current revision, to wait for or to run: the one in flight if there
    /// is one, else a new cell whoever asked first fills.
    pub fn analysis_cell(&mut self) -> AnalysisCell {
        match &self.analysis_in_flight {
            Some((revision, cell)) if *revision == self.revision => cell.clone(),
            _ => {
                let cell = AnalysisCell::default();
                self.analysis_in_flight = Some((self.revision, cell.clone()));
                cell
            }
        }
    }

    /// Keeps only the text (the document is over the size limit): drops the tree, the snapshot,
    /// and what analysis and semantic tokens kept of earlier revisions, which are several times
    /// the text's size. Incremental edits still apply to the rope; once the document is back
    /// under the limit it is parsed afresh.
    pub fn keep_text_only(&mut self) {
        if self.parsed {
            // `Document` keeps its tree for incremental parsing; a fresh unparsed document from
            // the same text is the way to let go of it (one copy of the text, when the document
            // crosses the limit, not per edit).
            let text = self.doc.rope().to_string();
            self.doc = Document::unparsed(text, self.doc.version());
            self.parsed = false;
        }
        self.doc.release_text();
        self.last = None;
        self.semantic_tokens = None;
        *self.token_cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Default::default();
        *self.diagnostics_cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Default::default();
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
        let (trigger, receiver) = watch::channel(Trigger { revision, after_edit: false });
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
            token_cache: Default::default(),
            analysis_in_flight: None,
            parsed: false,
            size_notice_sent: false,
            text_revision: revision,
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

    /// What a request needs to see `uri` as it is now, `None` for unknown documents and for
    /// documents over `size_limit` (kept as text only): the snapshot if the tree is up to date,
    /// else the parse to run (away from the message thread: `worker::snapshot`).
    pub fn request_view(&self, uri: &Uri, size_limit: usize) -> Option<RequestView> {
        let entry = self.map.get(uri)?;
        if entry.doc.len_bytes() > size_limit {
            return None;
        }
        Some(RequestView {
            tree: entry.tree(),
            len_bytes: entry.doc.len_bytes(),
            version: entry.doc.version(),
            kind: entry.kind,
            context_dir: entry.context_dir.clone(),
        })
    }

    /// The text and tree `tree` stands for, parsing if needed: blocking work, for an analysis
    /// lane. The parse is kept in the document if its text is still the document's; and a job
    /// whose text the document has parsed meanwhile (the publisher's and a request's parse of the
    /// same edits, queued one after the other) takes that parse instead of repeating it.
    pub fn parse(&self, uri: &Uri, tree: Tree) -> SourceFile {
        let (job, text_revision) = match tree {
            Tree::Current(file) => return file,
            Tree::Pending { job, text_revision } => (job, text_revision),
        };
        let parsed_meanwhile = self
            .map
            .get(uri)
            .filter(|entry| entry.text_revision == text_revision)
            .and_then(|entry| entry.doc.cached_snapshot());
        if let Some(file) = parsed_meanwhile {
            return file;
        }
        let parsed = job.run();
        let file = parsed.file.clone();
        if let Some(mut entry) = self.map.get_mut(uri).filter(|entry| entry.text_revision == text_revision) {
            entry.parsed |= entry.doc.install(parsed);
        }
        file
    }

    /// Whether `uri` is open.
    pub fn is_open(&self, uri: &Uri) -> bool {
        self.map.contains_key(uri)
    }

    /// Applies `edit` to the document and signals its publisher (`from_client`: a `didChange`,
    /// see [`Trigger::after_edit`]). Returns false for unknown URIs.
    pub fn edit(&self, uri: &Uri, from_client: bool, edit: impl FnOnce(&mut OpenDocument)) -> bool {
        let Some(mut entry) = self.map.get_mut(uri) else { return false };
        edit(&mut entry);
        let revision = self.next_revision();
        entry.revision = revision;
        entry.text_revision = revision;
        entry.trigger.send_replace(Trigger { revision, after_edit: from_client });
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
                entry.trigger.send_replace(Trigger { revision, after_edit: false });
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;
    use crate::syntax::{LineCol, PositionEncoding};

    fn open(documents: &Documents, uri: &Uri, text: &str) {
        documents.open(uri.clone(), Document::unparsed(text, 1), BuildFileKind::Kubefile, None);
    }

    fn pending(documents: &Documents, uri: &Uri) -> Tree {
        let tree = documents.get(uri).unwrap().tree();
        assert!(matches!(tree, Tree::Pending { .. }));
        tree
    }

    #[test]
    fn a_parse_of_the_same_text_is_done_once() {
        let (documents, uri) = (Documents::default(), Uri::from_str("file:///a/Kubefile").unwrap());
        open(&documents, &uri, "FROM a\n");
        // The publisher's job and a request's, taken before either ran.
        let (first, second) = (pending(&documents, &uri), pending(&documents, &uri));
        let parsed = documents.parse(&uri, first);
        let reused = documents.parse(&uri, second);
        assert!(std::ptr::eq(parsed.text(), reused.text()), "the second job takes the first one's parse");
        assert!(matches!(documents.get(&uri).unwrap().tree(), Tree::Current(_)));
    }

    #[test]
    fn a_parse_of_an_older_text_is_not_kept() {
        let (documents, uri) = (Documents::default(), Uri::from_str("file:///a/Kubefile").unwrap());
        open(&documents, &uri, "FROM a\n");
        let before_edit = pending(&documents, &uri);
        documents.edit(&uri, false, |entry| entry.doc.edit(None, "FROM b\n", PositionEncoding::Utf16));
        assert_eq!(documents.parse(&uri, before_edit).text(), "FROM a\n", "the job sees the text it was taken of");
        let after_edit = pending(&documents, &uri);
        assert_eq!(documents.parse(&uri, after_edit).text(), "FROM b\n");

        // Closed and opened again with other text: a job taken before is not kept either,
        // although the new document has seen as few edits as the old one.
        open(&documents, &uri, "FROM c\n");
        let old = pending(&documents, &uri);
        documents.close(&uri);
        open(&documents, &uri, "FROM d\n");
        assert_eq!(documents.parse(&uri, old).text(), "FROM c\n");
        assert!(matches!(documents.get(&uri).unwrap().tree(), Tree::Pending { .. }));
    }

    #[test]
    fn a_document_kept_as_text_only_still_takes_edits_and_parses_afresh() {
        let (documents, uri) = (Documents::default(), Uri::from_str("file:///a/Kubefile").unwrap());
        open(&documents, &uri, "FROM a\n");
        let tree = pending(&documents, &uri);
        documents.parse(&uri, tree);
        documents.get_mut(&uri).unwrap().keep_text_only();
        assert!(documents.get(&uri).unwrap().doc.cached_snapshot().is_none());
        documents.edit(&uri, false, |entry| {
            let end_of_from = LineCol { line: 0, col: 6 };
            entry.doc.edit(Some(end_of_from..end_of_from), " AS b", PositionEncoding::Utf16);
        });
        let tree = pending(&documents, &uri);
        let file = documents.parse(&uri, tree);
        assert_eq!(file.text(), "FROM a AS b\n");
        assert!(!file.root().has_error());
    }
}
