//! Computing, publishing and serving diagnostics.
//!
//! Push: every open document has a publisher task listening on a `watch` channel. An edit bumps
//! the document's revision and overwrites the channel's value, so however fast edits come, at
//! most one analysis per document is running and one more is pending: typing never queues work.
//! The publisher analyses at once (parsing incrementally on the analysis thread, [`worker`]),
//! without waiting for typing to pause: an idle server answers a keystroke in the time the work
//! takes, and a burst is coalesced by the channel instead of a timer. Edits that arrive while an
//! analysis runs collapse into the one pending run of the latest revision; the running one's
//! jobs are dropped by the analysis thread if their revision is gone before their turn (see
//! `publish_on_change`).
//! A result is published only if the document's revision is still the one it was computed for;
//! otherwise it is dropped and the publisher, which has seen the newer value, runs again.
//!
//! Pull (clients that advertise `textDocument/diagnostic`): nothing is pushed; requests are
//! answered from the cached analysis of the current revision, or compute it. Either way a
//! revision is analysed once, however many ask for it.
//!
//! Documents over the size limit (`maxDocumentSize`, [`config::DEFAULT_MAX_DOCUMENT_SIZE`]) are
//! kept as text only: edits still apply to the rope, but there is no tree and no analysis (a
//! 50 MB file would take minutes and gigabytes). Their diagnostics are empty (published, so
//! earlier ones are cleared), the user is told once with a `window/showMessage` warning, and
//! requests about them get their "nothing here" answer (`null` or an empty list, which editors
//! show as no result rather than an error popup; see `worker::snapshot`). An edit that brings
//! the document back under the limit makes the next analysis parse it afresh.

use std::{
    collections::HashMap,
    future::Future,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::FutureExt as _;
use tokio::sync::watch;
use tower_lsp_server::ls_types::{self as lsp, Uri};

#[cfg(doc)]
use super::config;
use super::{
    contexts::{self, BuildFileKind},
    convert,
    documents::{self, Analysis, Trigger},
    session::Session,
    worker,
};
use crate::{
    analysis::{self, Config, ContextFacts},
    syntax::{PositionEncoding, SourceFile},
};

/// Longest a `workspace/diagnostic` request waits for a change when the client is up to date.
const LONG_POLL: Duration = Duration::from_secs(60);

/// Starts the task that publishes the diagnostics of `uri` until the document closes (the
/// sender side of `trigger` is dropped).
pub fn spawn_publisher(session: Arc<Session>, uri: Uri, trigger: watch::Receiver<Trigger>) {
    tokio::spawn(publish_on_change(trigger, move || {
        let (session, uri) = (session.clone(), uri.clone());
        async move { publish(&session, &uri).await }
    }));
}

/// Runs `publish` for the value `trigger` was created with (the `didOpen`), then after every
/// change of it, until its sender is dropped. Changes that come while `publish` runs are seen as
/// one: the channel keeps only the latest value, so a burst of edits costs the run in progress
/// and one more, of the latest revision, however long the burst.
async fn publish_on_change<F: Future<Output = ()>>(
    mut trigger: watch::Receiver<Trigger>,
    mut publish: impl FnMut() -> F,
) {
    loop {
        if trigger.borrow_and_update().after_edit {
            // Woken by an edit, this task may run on another worker thread while the message
            // loop is still applying the rest of a burst: give it that turn first (this costs
            // microseconds, where the timer this replaces cost 2-3 ms on every keystroke).
            tokio::task::yield_now().await;
            trigger.borrow_and_update();
        }
        publish().await;
        if trigger.changed().await.is_err() {
            return;
        }
    }
}

async fn publish(session: &Arc<Session>, uri: &Uri) {
    let Some(analysis) = analyze(session, uri).await else { return };
    let Some(lock) = session.documents.get(uri).map(|entry| entry.publish_lock.clone()) else { return };
    let _publishing = lock.lock().await;
    {
        let Some(mut entry) = session.documents.get_mut(uri) else { return };
        if entry.revision != analysis.revision || entry.published_revision == Some(analysis.revision) {
            // Newer text, settings or context: the publisher has been signalled and runs again.
            return;
        }
        entry.published_revision = Some(analysis.revision);
        if !analysis.handled && !entry.published {
            return;
        }
        entry.published = analysis.handled;
    }
    tracing::debug!("publishing {} diagnostics for {} v{}", analysis.lsp.len(), uri.as_str(), analysis.version);
    // A build's failures located in this file stay until the next build (`lsp/build.rs`).
    let from_build = session.builds.diagnostics(uri);
    session.publish_diagnostics(uri, analysis.lsp.iter().chain(&from_build), Some(analysis.version));
}

/// The diagnostics of the latest revision of `uri`, for requests (pull reports, quick fixes):
/// when the document changes while it is analysed (the worker then drops the job), the newer
/// text is analysed. `None` for unknown documents or when analysis failed (a bug, logged).
async fn analyze_latest(session: &Arc<Session>, uri: &Uri) -> Option<Arc<Analysis>> {
    loop {
        let revision = session.documents.get(uri)?.revision;
        match analyze(session, uri).await {
            Some(analysis) => return Some(analysis),
            None if session.documents.get(uri).is_some_and(|entry| entry.revision != revision) => continue,
            None => return None,
        }
    }
}

/// The diagnostics of the current revision of `uri`, computed if not cached, once however many
/// ask at the same time (the publisher and a pull request for a newly opened document). `None` for
/// unknown documents, when the document changed or closed before its analysis ran (the publisher
/// has been signalled), or when analysis failed (a bug, logged).
async fn analyze(session: &Arc<Session>, uri: &Uri) -> Option<Arc<Analysis>> {
    let (revision, cell) = {
        let mut entry = session.documents.get_mut(uri)?;
        if let Some(current) = entry.current_analysis() {
            return Some(current);
        }
        (entry.revision, entry.analysis_cell())
    };
    // A caller that goes away (a cancelled request) leaves the cell to the next one.
    cell.get_or_init(|| run_analysis(session, uri, revision)).await.clone()
}

/// What an analysis starts from, by the document's size.
enum Input {
    /// The tree, current or to parse incrementally.
    Tree(documents::Tree),
    /// Over `maxDocumentSize`: text only. `first_notice` until the user has been told once.
    TooBig { size: usize, first_notice: bool },
}

/// What [`analyze`] does when the revision is neither cached nor in flight.
async fn run_analysis(session: &Arc<Session>, uri: &Uri, revision: u64) -> Option<Arc<Analysis>> {
    let size_limit = session.config.max_document_size();
    let (version, kind, dir, input, cache) = {
        let mut entry = session.documents.get_mut(uri)?;
        if entry.revision != revision {
            return None;
        }
        let size = entry.doc.len_bytes();
        let input = if size > size_limit {
            entry.keep_text_only();
            let first_notice = !std::mem::replace(&mut entry.size_notice_sent, true);
            Input::TooBig { size, first_notice }
        } else {
            Input::Tree(entry.tree())
        };
        (entry.doc.version(), entry.kind, entry.context_dir.clone(), input, entry.diagnostics_cache.clone())
    };
    let started = Instant::now();
    // A file of a build context sealos reads images from (`images/shim/**`, `images/skopeo/tar.txt`,
    // manifests, chart values files), whatever its languageId.
    let list = contexts::file_path(uri).and_then(|path| analysis::lists::locate(&path));
    let is_build_file = matches!(kind, BuildFileKind::Kubefile | BuildFileKind::Dockerfile) && list.is_none();

    let tree = match input {
        Input::Tree(tree) => tree,
        Input::TooBig { size, first_notice } => {
            let handled = is_build_file || list.is_some();
            if first_notice && handled {
                tell_oversized(session, uri, size, size_limit);
            }
            return Some(keep(session, uri, Analysis::oversized(revision, version, handled)));
        }
    };

    // Whether sealos rules apply, when the document's kind says so without its text.
    let handled_by_kind = match kind {
        _ if list.is_some() => Some(true),
        BuildFileKind::Kubefile => Some(true),
        BuildFileKind::Dockerfile => None,
        BuildFileKind::Other => Some(false),
    };
    let facts_dir = list.as_ref().map(|(root, ..)| root.clone()).or_else(|| dir.clone());
    let job = AnalysisJob { revision, version, list, cache, encoding: session.negotiated().encoding, is_build_file };
    // Settings and the context's facts, gathered while the document parses (the first analysis of a
    // context collects its facts on a blocking thread).
    let mut inputs = (handled_by_kind == Some(true)).then(|| Box::pin(analysis_inputs(session, facts_dir.as_deref())));
    let parse = {
        let (session, uri) = (session.clone(), uri.clone());
        move || {
            let file = session.documents.parse(&uri, tree);
            let handled = handled_by_kind.unwrap_or_else(|| {
                contexts::dockerfile_is_kubefile(dir.as_deref(), file.text().contains("sealos.io"))
            });
            (file, handled)
        }
    };
    let analysis = match inputs.as_mut().and_then(|inputs| inputs.now_or_never()) {
        // At hand (every edit after the first analysis): one job parses and analyses.
        Some(inputs) => worker::run_for(session, uri, revision, move || job.run(parse().0, Some(inputs))).await?,
        None => {
            let parsed = worker::run_for(session, uri, revision, parse);
            let ((file, handled), inputs) = match inputs {
                Some(inputs) => {
                    let (parsed, inputs) = tokio::join!(parsed, inputs);
                    (parsed?, Some(inputs))
                }
                None => (parsed.await?, None),
            };
            if handled {
                let inputs = match inputs {
                    Some(inputs) => inputs,
                    None => analysis_inputs(session, facts_dir.as_deref()).await,
                };
                worker::run_for(session, uri, revision, move || job.run(file, Some(inputs))).await?
            } else {
                job.run(file, None)
            }
        }
    };
    tracing::debug!(
        "analysed {} r{revision} in {:?}: {} diagnostics",
        uri.as_str(),
        started.elapsed(),
        analysis.diagnostics.len()
    );
    Some(keep(session, uri, analysis))
}

/// What an analysis needs besides the document: the settings and the facts of its build context.
struct Inputs {
    config: Arc<Config>,
    facts: Option<Arc<ContextFacts>>,
}

async fn analysis_inputs(session: &Session, facts_dir: Option<&Path>) -> Inputs {
    session.config.ready().await;
    let config = session.config.current();
    let facts = match facts_dir {
        Some(dir) => Some(session.contexts.facts(dir).await),
        None => None,
    };
    Inputs { config, facts }
}

/// The analysis of one revision once its tree is parsed: blocking work, for the document's lane.
struct AnalysisJob {
    revision: u64,
    version: i32,
    list: Option<(PathBuf, PathBuf, analysis::lists::ListFile)>,
    cache: Arc<std::sync::Mutex<analysis::diagnostics::DiagnosticsCache>>,
    encoding: PositionEncoding,
    is_build_file: bool,
}

impl AnalysisJob {
    /// The diagnostics of `file`, none when sealos rules do not apply to it (no `inputs`).
    fn run(self, file: SourceFile, inputs: Option<Inputs>) -> Analysis {
        let Some(Inputs { config, facts }) = inputs else {
            return Analysis::new(self.revision, self.version, file, false, self.is_build_file, Vec::new(), Vec::new());
        };
        let diagnostics = match &self.list {
            Some((_, relative, role)) => {
                let relative = relative.to_string_lossy();
                analysis::lists::diagnostics(*role, &relative, file.text(), facts.as_deref(), &config)
            }
            // A poisoned cache only means an earlier analysis panicked; its state is still a
            // valid starting point because the cache compares texts before reusing anything.
            None => self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).diagnostics(
                &file,
                facts.as_deref(),
                &config,
            ),
        };
        let lsp = diagnostics.iter().map(|d| convert::diagnostic(&file, d, self.encoding)).collect();
        Analysis::new(self.revision, self.version, file, true, self.is_build_file, diagnostics, lsp)
    }
}

/// Keeps `analysis` as the document's latest if its revision is still current. The one it
/// replaces is freed on the analysis lane, not here ahead of the publication.
fn keep(session: &Session, uri: &Uri, analysis: Analysis) -> Arc<Analysis> {
    let analysis = Arc::new(analysis);
    let replaced = session
        .documents
        .get_mut(uri)
        .filter(|entry| entry.revision == analysis.revision)
        .map(|mut entry| (entry.doc.len_bytes(), entry.last.replace(analysis.clone())));
    if let Some((bytes, Some(previous))) = replaced {
        worker::drop_on_lane(bytes, previous);
    }
    analysis
}

/// Tells the user, once per document, why a document over the size limit gets no diagnostics or
/// editor features. A `window/showMessage` warning rather than a log line: features going quiet
/// without a word would look like a bug.
fn tell_oversized(session: &Session, uri: &Uri, size: usize, limit: usize) {
    let name = contexts::file_path(uri)
        .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()))
        .unwrap_or_else(|| uri.as_str().to_owned());
    let message = format!(
        "kubefile-ls: {name} is {}, over the {} limit (setting `kubefile.maxDocumentSize`): it gets no \
         diagnostics and no editor features until it is smaller.",
        megabytes(size),
        megabytes(limit)
    );
    tracing::warn!("{message}");
    session.show_message(lsp::MessageType::WARNING, message);
}

/// `bytes` in MB (MiB) with one decimal, for messages.
fn megabytes(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// Re-evaluates the documents whose build context contains one of `paths` (watched-file events).
pub fn context_changed(session: &Arc<Session>, paths: &[PathBuf]) {
    for path in paths {
        session.contexts.invalidate(path);
    }
    let touched = session.documents.touch(|doc| {
        doc.context_dir
            .as_deref()
            .is_some_and(|dir| paths.iter().any(|path| path.starts_with(dir) || dir.starts_with(path)))
    });
    if !touched.is_empty() {
        tracing::debug!("context changed for {} document(s)", touched.len());
        refresh_pulled(session);
    }
}

/// Re-evaluates every document (the configuration changed).
pub fn everything_changed(session: &Arc<Session>) {
    if !session.documents.touch(|_| true).is_empty() {
        refresh_pulled(session);
    }
}

/// Asks a pulling client to pull again, when it supports that.
fn refresh_pulled(session: &Arc<Session>) {
    let negotiated = session.negotiated();
    if negotiated.pull_diagnostics {
        let client = session.client.clone();
        tokio::spawn(async move {
            let _ = client.workspace_diagnostic_refresh().await;
        });
    }
}

// --- pull ---------------------------------------------------------------------------------

fn full_report(analysis: Option<&Analysis>) -> lsp::FullDocumentDiagnosticReport {
    lsp::FullDocumentDiagnosticReport {
        result_id: analysis.map(Analysis::result_id),
        items: analysis.map(|a| a.lsp.clone()).unwrap_or_default(),
    }
}

/// `textDocument/diagnostic`: always a full report, with the revision as result id.
pub async fn document_report(session: &Arc<Session>, uri: &Uri) -> lsp::DocumentDiagnosticReportResult {
    let analysis = analyze_latest(session, uri).await;
    lsp::DocumentDiagnosticReportResult::Report(lsp::DocumentDiagnosticReport::Full(
        lsp::RelatedFullDocumentDiagnosticReport {
            related_documents: None,
            full_document_diagnostic_report: full_report(analysis.as_deref()),
        },
    ))
}

/// `workspace/diagnostic`: full reports for the open documents. When the client already has
/// every current result, the request is held until something changes (or a minute passes, or
/// the server shuts down) so clients that re-request at once do not spin.
pub async fn workspace_report(
    session: &Arc<Session>,
    params: &lsp::WorkspaceDiagnosticParams,
) -> lsp::WorkspaceDiagnosticReportResult {
    let previous: HashMap<&str, &str> =
        params.previous_result_ids.iter().map(|p| (p.uri.as_str(), p.value.as_str())).collect();
    let mut changes = session.documents.subscribe();
    let deadline = Instant::now() + LONG_POLL;
    loop {
        changes.borrow_and_update();
        let mut items = Vec::new();
        let mut up_to_date = !previous.is_empty();
        for uri in session.documents.uris() {
            let Some(analysis) = analyze_latest(session, &uri).await else { continue };
            up_to_date &= previous.get(uri.as_str()) == Some(&analysis.result_id().as_str());
            items.push(lsp::WorkspaceDocumentDiagnosticReport::Full(lsp::WorkspaceFullDocumentDiagnosticReport {
                uri,
                version: Some(i64::from(analysis.version)),
                full_document_diagnostic_report: full_report(Some(&analysis)),
            }));
        }
        up_to_date &= items.len() == previous.len();
        if !up_to_date || Instant::now() >= deadline {
            return lsp::WorkspaceDiagnosticReportResult::Report(lsp::WorkspaceDiagnosticReport { items });
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = session.shutting_down() => {
                return lsp::WorkspaceDiagnosticReportResult::Report(lsp::WorkspaceDiagnosticReport { items });
            }
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
}

// --- code actions ---------------------------------------------------------------------------

fn intersects(a: &std::ops::Range<usize>, b: &std::ops::Range<usize>) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// Quick fixes of the current diagnostics that touch the requested range (the caller checks that
/// the request's `only` filter admits quick fixes).
pub async fn code_actions(session: &Arc<Session>, params: &lsp::CodeActionParams) -> Vec<lsp::CodeAction> {
    let uri = &params.text_document.uri;
    let Some(analysis) = analyze_latest(session, uri).await else { return Vec::new() };
    let negotiated = session.negotiated();
    let encoding = negotiated.encoding;
    let file: &SourceFile = &analysis.file;
    let requested = convert::text_range(file, params.range, encoding);
    let target = convert::EditTarget { uri, version: analysis.version, versioned: negotiated.versioned_edits };
    let mut actions = Vec::new();
    for (diagnostic, lsp_diagnostic) in analysis.diagnostics.iter().zip(&analysis.lsp) {
        if !intersects(&diagnostic.range, &requested) {
            continue;
        }
        for (i, fix) in diagnostic.fixes.iter().enumerate() {
            actions.push(convert::code_action(file, fix, lsp_diagnostic, i == 0, &target, encoding));
        }
        // Image lists have no suppression comments.
        if let Some(ignore) = analysis.is_build_file().then(|| analysis::ignore_fix(file, diagnostic)).flatten() {
            actions.push(convert::code_action(file, &ignore, lsp_diagnostic, false, &target, encoding));
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use tokio::sync::{mpsc, Notify};

    use super::*;

    /// The publisher of a document that is edited `burst` times while its first analysis runs:
    /// the revisions its runs saw.
    async fn runs_for_a_burst(burst: u64) -> Vec<u64> {
        let (trigger, receiver) = watch::channel(Trigger { revision: 0, after_edit: false });
        let (ran, mut runs) = mpsc::unbounded_channel();
        let release_first = Arc::new(Notify::new());
        let publisher = tokio::spawn(publish_on_change(receiver.clone(), {
            let release_first = release_first.clone();
            move || {
                let (revision, ran, release_first) = (receiver.borrow().revision, ran.clone(), release_first.clone());
                async move {
                    ran.send(revision).unwrap();
                    if revision == 0 {
                        release_first.notified().await;
                    }
                }
            }
        }));
        let mut seen = vec![runs.recv().await.unwrap()];
        for revision in 1..=burst {
            trigger.send_replace(Trigger { revision, after_edit: true });
        }
        release_first.notify_one();
        if burst > 0 {
            seen.push(runs.recv().await.unwrap());
        }
        // Idle again: nothing more runs until the next change.
        tokio::task::yield_now().await;
        assert!(runs.try_recv().is_err(), "a run without a change after {seen:?}");
        trigger.send_replace(Trigger { revision: burst + 1, after_edit: true });
        seen.push(runs.recv().await.unwrap());
        drop(trigger);
        publisher.await.unwrap();
        assert!(runs.recv().await.is_none());
        seen
    }

    #[tokio::test]
    async fn edits_during_an_analysis_cost_one_more_run_of_the_latest_revision() {
        assert_eq!(runs_for_a_burst(0).await, [0, 1]);
        assert_eq!(runs_for_a_burst(1).await, [0, 1, 2]);
        assert_eq!(runs_for_a_burst(50).await, [0, 50, 51]);
    }

    #[test]
    fn ranges_touching_count_as_intersecting() {
        assert!(intersects(&(3..5), &(5..5)));
        assert!(intersects(&(3..5), &(0..3)));
        assert!(!intersects(&(3..5), &(6..9)));
    }
}
