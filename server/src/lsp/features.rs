//! Editor features: each request takes a snapshot of its document (before its first `.await`, so
//! positions refer to the text the client meant), calls one analysis function and converts the
//! result. Build files (Kubefiles, and Dockerfiles with or without sealos rules) get every
//! feature; `images/shim` lists get completion and links; other documents get nothing.

use std::{
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
};

use tower_lsp_server::{
    jsonrpc::{Error, Result},
    ls_types::{self as lsp, Uri},
};

use super::{
    build, commands,
    contexts::{self, BuildFileKind},
    convert, diagnostics,
    documents::Snapshot,
    json,
    session::Session,
    transport::ResultBody,
    worker,
};
use crate::analysis::{
    actions, code_lens, completion, completion_limit, folding, format, hover, inlay_hints, links,
    lists::{self, ListFile},
    navigation, semantic_tokens, signature_help, symbols, ContextFacts, FileKind,
};

/// What a document is to the editor features.
enum Subject {
    /// A build file, with or without the sealos rules.
    BuildFile(FileKind),
    /// An `images/shim` image list: the context's directory, and the list's path in it.
    ShimList { context: PathBuf, list: String },
    Other,
}

/// A request's view of its document.
struct Doc {
    uri: Uri,
    snapshot: Snapshot,
    subject: Subject,
}

impl Doc {
    /// Must be awaited before anything else in the handler (it takes the text as the request
    /// arrived; a parse that text needs runs on the analysis lane, see `worker::snapshot`).
    async fn take(session: &Arc<Session>, uri: &Uri) -> Option<Doc> {
        let snapshot = worker::snapshot(session, uri).await?;
        // An image list of a build context is one whatever the editor's languageId for it, as for
        // the diagnostics (`diagnostics::run_analysis`).
        let list = contexts::file_path(uri).and_then(|path| lists::locate(&path));
        let subject = match (list, snapshot.kind) {
            (Some((context, list, ListFile::Shim)), _) => {
                Subject::ShimList { context, list: list.to_string_lossy().replace('\\', "/") }
            }
            (Some(_), _) => Subject::Other,
            (None, BuildFileKind::Kubefile) => Subject::BuildFile(FileKind::Kubefile),
            (None, BuildFileKind::Dockerfile) => {
                let sealos = contexts::dockerfile_is_kubefile(
                    snapshot.context_dir.as_deref(),
                    snapshot.file.text().contains("sealos.io"),
                );
                Subject::BuildFile(if sealos { FileKind::Kubefile } else { FileKind::Dockerfile })
            }
            (None, BuildFileKind::Other) => Subject::Other,
        };
        Some(Doc { uri: uri.clone(), snapshot, subject })
    }

    /// The build-file kind, `None` for documents that are no build file.
    fn build_file(&self) -> Option<FileKind> {
        match self.subject {
            Subject::BuildFile(kind) => Some(kind),
            _ => None,
        }
    }

    /// The facts of the document's context (with chart images when they have been rendered).
    async fn facts(&self, session: &Session) -> Option<Arc<ContextFacts>> {
        match &self.snapshot.context_dir {
            Some(dir) => Some(session.contexts.best_facts(dir).await),
            None => None,
        }
    }

    fn offset(&self, position: lsp::Position, session: &Session) -> usize {
        convert::offset(&self.snapshot.file, position, session.negotiated().encoding)
    }
}

/// A build file's view, or `Ok(None)` for the request's "nothing here" answer.
macro_rules! build_file {
    ($session:expr, $uri:expr) => {
        match Doc::take($session, $uri).await {
            Some(doc) => match doc.build_file() {
                Some(kind) => (doc, kind),
                None => return Ok(None),
            },
            None => return Ok(None),
        }
    };
}

// --- completion, hover, signature help ------------------------------------------------------

/// Where the latest completion list was asked for, under the id its items carry in `data`, when
/// the client resolves their documentation: a client shows one list at a time and resolves items
/// of the list it shows.
#[derive(Default)]
pub struct CompletionLists {
    latest: Mutex<Option<CompletionOrigin>>,
    /// Ids of lists, unique for the life of the server.
    next_id: AtomicU64,
}

struct CompletionOrigin {
    id: u64,
    uri: Uri,
    position: lsp::Position,
}

impl CompletionLists {
    /// Remembers a new latest list; its id.
    fn remember(&self, uri: Uri, position: lsp::Position) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(CompletionOrigin { id, uri, position });
        id
    }

    /// Where list `id` was asked for, if it is still the latest.
    fn origin(&self, id: Option<u64>) -> Option<(Uri, lsp::Position)> {
        let latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        latest.as_ref().filter(|origin| Some(origin.id) == id).map(|origin| (origin.uri.clone(), origin.position))
    }
}

pub async fn completion(
    session: &Arc<Session>,
    params: lsp::CompletionParams,
) -> Result<Option<lsp::CompletionResponse>> {
    let at = params.text_document_position;
    let negotiated = session.negotiated();
    let lazy = negotiated.completion_resolve;
    let Some((doc, offset, items)) = completion_at(session, &at.text_document.uri, at.position, !lazy).await else {
        return Ok(None);
    };
    let file = &doc.snapshot.file;
    let cut = completion_limit::limit(file.text(), offset, items, completion_limit::DEFAULT_LIMIT);
    let list = lazy.then(|| session.completion_lists.remember(at.text_document.uri, at.position));
    let items = convert::completion_items(file, cut.items, negotiated, list);
    Ok(Some(if cut.incomplete {
        lsp::CompletionResponse::List(lsp::CompletionList { is_incomplete: true, items })
    } else {
        lsp::CompletionResponse::Array(items)
    }))
}

/// `completionItem/resolve`: the documentation of an item of the latest list. The completion runs
/// again where that list was asked for, on the text as it is now: what the user typed since then
/// comes after that position, and completion reads the text before it. An item of an older list,
/// or one the completion no longer offers, is returned as it came.
pub async fn completion_resolve(session: &Arc<Session>, mut item: lsp::CompletionItem) -> Result<lsp::CompletionItem> {
    let list = item.data.as_ref().and_then(serde_json::Value::as_u64);
    let Some((uri, position)) = session.completion_lists.origin(list) else { return Ok(item) };
    let Some((_, _, items)) = completion_at(session, &uri, position, true).await else { return Ok(item) };
    let found = items
        .into_iter()
        .find(|candidate| candidate.label == item.label && item.sort_text.as_ref() == Some(&candidate.sort_text));
    if let Some(found) = found {
        item.documentation = convert::documentation(found.documentation, session.negotiated().completion_markup);
    }
    Ok(item)
}

/// The completion items at `position` (with their documentation if `documentation`), the
/// document they were computed on and the position's byte offset in it; `None` for documents
/// without completion.
async fn completion_at(
    session: &Arc<Session>,
    uri: &Uri,
    position: lsp::Position,
    documentation: bool,
) -> Option<(Doc, usize, Vec<completion::CompletionItem>)> {
    let doc = Doc::take(session, uri).await?;
    let offset = doc.offset(position, session);
    let negotiated = session.negotiated();
    let mut options = completion::CompletionOptions {
        snippets: negotiated.snippets,
        docs: negotiated.completion_docs(),
        documentation,
        ..Default::default()
    };
    let file = &doc.snapshot.file;
    let items = match &doc.subject {
        Subject::BuildFile(kind) => {
            options.kind = *kind;
            options.workspace_images = session.documents.workspace_images(&doc.uri);
            let facts = doc.facts(session).await;
            completion::completion(file, offset, facts.as_deref(), &session.config.current(), &options)
        }
        Subject::ShimList { context: dir, .. } => {
            let facts = session.contexts.best_facts(dir).await;
            completion::shim_completion(file.text(), offset, &facts)
        }
        Subject::Other => return None,
    };
    Some((doc, offset, items))
}

pub async fn hover(session: &Arc<Session>, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
    let position = params.text_document_position_params;
    let Some(doc) = Doc::take(session, &position.text_document.uri).await else { return Ok(None) };
    let offset = doc.offset(position.position, session);
    let negotiated = session.negotiated();
    let file = &doc.snapshot.file;
    let found = match &doc.subject {
        Subject::BuildFile(kind) => {
            let facts = doc.facts(session).await;
            let options = hover::HoverOptions { docs: negotiated.hover_docs(), kind: Some(*kind) };
            hover::hover(file, offset, facts.as_deref(), &session.config.current(), &options)
        }
        Subject::ShimList { context, list } => {
            let facts = session.contexts.best_facts(context).await;
            let options = hover::HoverOptions { docs: negotiated.hover_docs(), kind: None };
            hover::shim_hover(file.text(), offset, list, Some(&facts), &options)
        }
        Subject::Other => None,
    };
    Ok(found.map(|found| convert::hover(file, found, negotiated.hover_markup, negotiated.encoding)))
}

pub async fn signature_help(
    session: &Arc<Session>,
    params: lsp::SignatureHelpParams,
) -> Result<Option<lsp::SignatureHelp>> {
    let position = params.text_document_position_params;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let offset = doc.offset(position.position, session);
    let negotiated = session.negotiated();
    let help = signature_help::signature_help(&doc.snapshot.file, offset, &negotiated.signature_docs());
    Ok(help.map(|help| convert::signature_help(help, negotiated.signature_markup)))
}

// --- navigation -------------------------------------------------------------------------------

pub async fn definition(
    session: &Arc<Session>,
    params: lsp::GotoDefinitionParams,
) -> Result<Option<lsp::GotoDefinitionResponse>> {
    let position = params.text_document_position_params;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let targets = navigation::goto_definition(&doc.snapshot.file, doc.offset(position.position, session));
    if targets.is_empty() {
        return Ok(None);
    }
    let negotiated = session.negotiated();
    let file = &doc.snapshot.file;
    Ok(Some(convert::definition(file, &doc.uri, targets, negotiated.definition_links, negotiated.encoding)))
}

pub async fn references(session: &Arc<Session>, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
    let position = params.text_document_position;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let offset = doc.offset(position.position, session);
    let found = navigation::references(&doc.snapshot.file, offset, params.context.include_declaration);
    Ok(Some(convert::locations(&doc.snapshot.file, &doc.uri, found, session.negotiated().encoding)))
}

pub async fn document_highlight(
    session: &Arc<Session>,
    params: lsp::DocumentHighlightParams,
) -> Result<Option<Vec<lsp::DocumentHighlight>>> {
    let position = params.text_document_position_params;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let file = &doc.snapshot.file;
    let highlights = navigation::document_highlights(file, doc.offset(position.position, session));
    let encoding = session.negotiated().encoding;
    Ok(Some(highlights.into_iter().map(|highlight| convert::highlight(file, highlight, encoding)).collect()))
}

/// A refused rename: the client shows the message.
fn rename_refused(error: navigation::RenameError) -> Error {
    commands::request_failed(error.0)
}

pub async fn prepare_rename(
    session: &Arc<Session>,
    params: lsp::TextDocumentPositionParams,
) -> Result<Option<lsp::PrepareRenameResponse>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let prepared = navigation::prepare_rename(file, doc.offset(params.position, session)).map_err(rename_refused)?;
    Ok(Some(convert::prepare_rename(file, prepared, session.negotiated().encoding)))
}

pub async fn rename(session: &Arc<Session>, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
    let position = params.text_document_position;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let file = &doc.snapshot.file;
    let offset = doc.offset(position.position, session);
    let edits = navigation::rename(file, offset, &params.new_name).map_err(rename_refused)?;
    let negotiated = session.negotiated();
    let target =
        convert::EditTarget { uri: &doc.uri, version: doc.snapshot.version, versioned: negotiated.versioned_edits };
    Ok(Some(convert::workspace_edit(file, &edits, &target, negotiated.encoding)))
}

// --- structure --------------------------------------------------------------------------------

/// Written straight into the response: the outline of a 10,000-line file is a 2 MB answer. When
/// the buffer has to grow (a file denser than the estimate), the grown one becomes the
/// transport's spare and the next outline is written into it.
pub async fn document_symbol(session: &Arc<Session>, params: lsp::DocumentSymbolParams) -> Result<Option<ResultBody>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let negotiated = session.negotiated();
    // About 210 bytes of JSON per top-level node (instructions with their children, comments).
    let mut body = ResultBody::with_capacity(file.top_level().len() * 256);
    if negotiated.hierarchical_symbols {
        let mut writer = convert::DocumentSymbolWriter::new(body.result(), file, negotiated.encoding);
        symbols::outline(file, |symbol| writer.symbol(symbol));
        writer.finish();
    } else {
        let symbols = symbols::document_symbols(file);
        json::write_json(body.result(), &convert::symbol_information(file, &doc.uri, &symbols, negotiated.encoding));
    }
    Ok(Some(body))
}

pub async fn selection_range(
    session: &Arc<Session>,
    params: lsp::SelectionRangeParams,
) -> Result<Option<Vec<lsp::SelectionRange>>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let offsets: Vec<usize> = params.positions.iter().map(|position| doc.offset(*position, session)).collect();
    let encoding = session.negotiated().encoding;
    let ranges = symbols::selection_ranges(file, &offsets);
    Ok(Some(ranges.iter().map(|selection| convert::selection_range(file, selection, encoding)).collect()))
}

pub async fn folding_range(
    session: &Arc<Session>,
    params: lsp::FoldingRangeParams,
) -> Result<Option<Vec<lsp::FoldingRange>>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let negotiated = session.negotiated();
    Ok(Some(convert::folding_ranges(file, folding::folding_ranges(file), negotiated)))
}

// --- formatting -------------------------------------------------------------------------------

fn format_options(session: &Session, options: &lsp::FormattingOptions) -> format::FormatOptions {
    session.config.format_options(options.tab_size, options.insert_spaces)
}

pub async fn formatting(
    session: &Arc<Session>,
    params: lsp::DocumentFormattingParams,
) -> Result<Option<Vec<lsp::TextEdit>>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let edits = format::format(file, &format_options(session, &params.options));
    Ok(Some(convert::text_edits(file, &edits, session.negotiated().encoding)))
}

pub async fn range_formatting(
    session: &Arc<Session>,
    params: lsp::DocumentRangeFormattingParams,
) -> Result<Option<Vec<lsp::TextEdit>>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let encoding = session.negotiated().encoding;
    let range = convert::text_range(file, params.range, encoding);
    let edits = format::format_range(file, range, &format_options(session, &params.options));
    Ok(Some(convert::text_edits(file, &edits, encoding)))
}

pub async fn on_type_formatting(
    session: &Arc<Session>,
    params: lsp::DocumentOnTypeFormattingParams,
) -> Result<Option<Vec<lsp::TextEdit>>> {
    let position = params.text_document_position;
    let (doc, _) = build_file!(session, &position.text_document.uri);
    let Some(typed) = params.ch.chars().next() else { return Ok(None) };
    let file = &doc.snapshot.file;
    let offset = doc.offset(position.position, session);
    let edits = format::format_on_type(file, offset, typed, &format_options(session, &params.options));
    Ok(Some(convert::text_edits(file, &edits, session.negotiated().encoding)))
}

// --- semantic tokens --------------------------------------------------------------------------

/// Result ids of full token sets, unique for the life of the server.
static RESULT_IDS: AtomicU64 = AtomicU64::new(0);

/// Encodes the tokens of the whole document and keeps them for the next delta request.
fn full_tokens(session: &Session, doc: &Doc) -> (String, Arc<Vec<u32>>) {
    let file = &doc.snapshot.file;
    // The set kept for the last answer is replaced: let it go before the new one is built (a delta
    // request holds its own reference to diff against). Both at once are 1.4 MB on a big file.
    let cache = session.documents.get_mut(&doc.uri).map(|mut entry| {
        entry.semantic_tokens = None;
        entry.token_cache.clone()
    });
    let tokens = match cache {
        Some(cache) => cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).semantic_tokens(file),
        None => semantic_tokens::semantic_tokens(file, None),
    };
    let data = Arc::new(semantic_tokens::encode(file, &tokens, session.negotiated().encoding));
    let result_id = RESULT_IDS.fetch_add(1, Ordering::Relaxed).to_string();
    if let Some(mut entry) = session.documents.get_mut(&doc.uri) {
        entry.semantic_tokens = Some((result_id.clone(), data.clone()));
    }
    (result_id, data)
}

/// Written straight into the response: 150,000 numbers for a 10,000-line file.
pub async fn semantic_tokens_full(session: &Arc<Session>, params: lsp::SemanticTokensParams) -> Result<Option<ResultBody>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let (result_id, data) = full_tokens(session, &doc);
    // Two or three digits and a comma per number.
    let mut body = ResultBody::with_capacity(data.len() * 3 + result_id.len() + 32);
    convert::write_semantic_tokens(body.result(), &result_id, &data);
    Ok(Some(body))
}

pub async fn semantic_tokens_full_delta(
    session: &Arc<Session>,
    params: lsp::SemanticTokensDeltaParams,
) -> Result<Option<lsp::SemanticTokensFullDeltaResult>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let previous = session.documents.get(&doc.uri).and_then(|entry| entry.semantic_tokens.clone());
    let (result_id, data) = full_tokens(session, &doc);
    Ok(Some(match previous {
        Some((previous_id, previous)) if previous_id == params.previous_result_id => {
            let edits = semantic_tokens::diff(&previous, &data);
            lsp::SemanticTokensFullDeltaResult::TokensDelta(lsp::SemanticTokensDelta {
                result_id: Some(result_id),
                edits: edits.into_iter().map(convert::semantic_tokens_edit).collect(),
            })
        }
        // The client's base is not the one we kept: send everything.
        _ => lsp::SemanticTokensFullDeltaResult::Tokens(lsp::SemanticTokens {
            result_id: Some(result_id),
            data: convert::semantic_token_data(&data),
        }),
    }))
}

pub async fn semantic_tokens_range(
    session: &Arc<Session>,
    params: lsp::SemanticTokensRangeParams,
) -> Result<Option<lsp::SemanticTokensRangeResult>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let file = &doc.snapshot.file;
    let encoding = session.negotiated().encoding;
    let tokens = semantic_tokens::semantic_tokens(file, Some(convert::text_range(file, params.range, encoding)));
    let data = semantic_tokens::encode(file, &tokens, encoding);
    Ok(Some(lsp::SemanticTokensRangeResult::Tokens(lsp::SemanticTokens {
        result_id: None,
        data: convert::semantic_token_data(&data),
    })))
}

// --- inlay hints, code lens, links --------------------------------------------------------------

pub async fn inlay_hint(session: &Arc<Session>, params: lsp::InlayHintParams) -> Result<Option<Vec<lsp::InlayHint>>> {
    let (doc, _) = build_file!(session, &params.text_document.uri);
    let negotiated = session.negotiated();
    let file = &doc.snapshot.file;
    let range = convert::text_range(file, params.range, negotiated.encoding);
    let facts = doc.facts(session).await;
    let options = inlay_hints::InlayHintOptions { locale: negotiated.locale, ..Default::default() };
    let hints = inlay_hints::inlay_hints(file, range, facts.as_deref(), &options);
    Ok(Some(
        hints
            .into_iter()
            .map(|hint| convert::inlay_hint(file, hint, negotiated.hover_markup, negotiated.encoding))
            .collect(),
    ))
}

pub async fn code_lens(session: &Arc<Session>, params: lsp::CodeLensParams) -> Result<Option<Vec<lsp::CodeLens>>> {
    let (doc, kind) = build_file!(session, &params.text_document.uri);
    let Some(dir) = doc.snapshot.context_dir.clone() else { return Ok(None) };
    let facts = match session.contexts.rendered_if_ready(&dir) {
        Some(rendered) => rendered.facts.clone(),
        None => {
            let facts = session.contexts.facts(&dir).await;
            if facts.exists("charts") {
                render_charts_in_background(session, dir);
            }
            facts
        }
    };
    let negotiated = session.negotiated();
    let options = code_lens::CodeLensOptions {
        locale: negotiated.locale,
        kind,
        // `kubefile.build`.
        build_command: true,
    };
    let file = &doc.snapshot.file;
    let lenses = code_lens::code_lenses(file, Some(&facts), &options)
        .into_iter()
        .map(|lens| {
            let command = commands::lens_command(&lens.kind);
            convert::code_lens(file, lens, command, &doc.uri, negotiated.encoding)
        })
        .collect();
    Ok(Some(lenses))
}

/// Renders the charts of `dir` off the request path, then asks the client to fetch the lenses
/// again: "N images will be saved" then counts the charts' images too.
fn render_charts_in_background(session: &Arc<Session>, dir: PathBuf) {
    let session = session.clone();
    tokio::spawn(async move {
        session.contexts.rendered(&dir, session.config.helm_path()).await;
        if session.negotiated().code_lens_refresh {
            let _ = session.client.code_lens_refresh().await;
        }
    });
}

pub async fn document_link(
    session: &Arc<Session>,
    params: lsp::DocumentLinkParams,
) -> Result<Option<Vec<lsp::DocumentLink>>> {
    let Some(doc) = Doc::take(session, &params.text_document.uri).await else { return Ok(None) };
    let file = &doc.snapshot.file;
    let found = match &doc.subject {
        Subject::BuildFile(_) => {
            let facts = doc.facts(session).await;
            links::document_links(file, facts.as_deref())
        }
        Subject::ShimList { .. } => links::shim_links(file.text()),
        Subject::Other => return Ok(None),
    };
    let negotiated = session.negotiated();
    let dir = doc.snapshot.context_dir.as_deref();
    Ok(Some(
        found
            .into_iter()
            .filter_map(|link| convert::document_link(file, link, dir, negotiated.link_tooltips, negotiated.encoding))
            .collect(),
    ))
}

// --- code actions -----------------------------------------------------------------------------

/// Whether a `CodeActionContext.only` filter admits actions of `kind` (a kind admits its
/// sub-kinds: `refactor` admits `refactor.rewrite`).
fn admits(only: Option<&[lsp::CodeActionKind]>, kind: &str) -> bool {
    only.is_none_or(|filters| {
        filters.iter().any(|filter| {
            let filter = filter.as_str();
            filter.is_empty() || kind == filter || kind.strip_prefix(filter).is_some_and(|rest| rest.starts_with('.'))
        })
    })
}

/// Quick fixes of the current diagnostics, refactorings of the selected instructions, and
/// `source.fixAll` (when asked for explicitly: it analyses the whole file). Clients without
/// `CodeAction` literals get them as commands.
pub async fn code_action(
    session: &Arc<Session>,
    params: lsp::CodeActionParams,
) -> Result<Option<lsp::CodeActionResponse>> {
    let Some(doc) = Doc::take(session, &params.text_document.uri).await else { return Ok(Some(Vec::new())) };
    let mut actions = if admits(params.context.only.as_deref(), lsp::CodeActionKind::QUICKFIX.as_str()) {
        diagnostics::code_actions(session, &params).await
    } else {
        Vec::new()
    };
    if let Some(kind) = doc.build_file() {
        actions.extend(build_file_actions(session, &doc, kind, &params).await);
    }
    let negotiated = session.negotiated();
    let response = if negotiated.code_action_literals {
        actions.into_iter().map(lsp::CodeActionOrCommand::CodeAction).collect()
    } else {
        let target = commands::EditedDocument { uri: doc.uri.clone(), version: doc.snapshot.version };
        actions
            .into_iter()
            .filter_map(|action| commands::action_command(action, &target, negotiated.apply_edit))
            .map(lsp::CodeActionOrCommand::Command)
            .collect()
    };
    Ok(Some(response))
}

/// The refactorings, fix-all and "Build image" actions of a build file.
async fn build_file_actions(
    session: &Arc<Session>,
    doc: &Doc,
    kind: FileKind,
    params: &lsp::CodeActionParams,
) -> Vec<lsp::CodeAction> {
    let only = params.context.only.as_deref();
    // Fix-all when the filter names it (`source`, `source.fixAll`), or, without a filter, when
    // the user asked (not the requests editors send as the cursor moves).
    let fix_all = match only {
        Some(filters) => filters.iter().any(|filter| {
            !filter.as_str().is_empty()
                && admits(Some(std::slice::from_ref(filter)), actions::ActionKind::SourceFixAll.as_str())
        }),
        None => params.context.trigger_kind != Some(lsp::CodeActionTriggerKind::AUTOMATIC),
    };
    let options = actions::ActionOptions { kind, quick_fixes: false, fix_all };
    let negotiated = session.negotiated();
    let file = &doc.snapshot.file;
    let range = convert::text_range(file, params.range, negotiated.encoding);
    let facts = doc.facts(session).await;
    let found = actions::code_actions(file, range, facts.as_deref(), &session.config.current(), &options);
    let target =
        convert::EditTarget { uri: &doc.uri, version: doc.snapshot.version, versioned: negotiated.versioned_edits };
    let mut response: Vec<lsp::CodeAction> = found
        .iter()
        .filter(|action| admits(only, action.kind.as_str()))
        .map(|action| convert::edit_action(file, action, &target, negotiated.encoding))
        .collect();
    // "Build image" like fix-all: asked for by kind, or by the user without a filter.
    let build_asked = match only {
        Some(_) => admits(only, lsp::CodeActionKind::SOURCE.as_str()),
        None => params.context.trigger_kind != Some(lsp::CodeActionTriggerKind::AUTOMATIC),
    };
    if kind == FileKind::Kubefile && build_asked {
        response.push(build::code_action(&doc.uri, negotiated.locale));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_filters_admit_sub_kinds() {
        let kinds = |list: &[&str]| list.iter().map(|k| lsp::CodeActionKind::from(k.to_string())).collect::<Vec<_>>();
        assert!(admits(None, "refactor.rewrite"));
        assert!(admits(Some(&kinds(&["refactor"])), "refactor.rewrite"));
        assert!(admits(Some(&kinds(&["source"])), "source.fixAll"));
        assert!(admits(Some(&kinds(&[""])), "quickfix"));
        assert!(!admits(Some(&kinds(&["refactor"])), "quickfix"));
        assert!(!admits(Some(&kinds(&["source.fix"])), "source.fixAll"));
        assert!(!admits(Some(&kinds(&["refactor.extract"])), "refactor.rewrite"));
    }
}
