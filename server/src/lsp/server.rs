//! The `LanguageServer` implementation: routes each message to the module that handles it.
//!
//! Ordering: tower-lsp-server polls message handlers concurrently, but a handler runs
//! synchronously until its first `.await`, and handlers are first polled in arrival order. The
//! text-sync handlers (`didOpen`, `didChange`, `didClose`) therefore do all their work before any
//! `.await`, so edits are applied in the order the client sent them.

use std::{path::PathBuf, sync::Arc};

use tower_lsp_server::{
    jsonrpc::Result,
    ls_types::{self as lsp, notification::Notification as _},
    Client, LanguageServer,
};

use super::{
    build,
    capabilities::{self, Negotiated},
    commands, config, contexts, convert, diagnostics, features,
    session::Session,
    transport, worker,
};
use crate::syntax::document::Document;

pub struct Server {
    session: Arc<Session>,
}

impl Server {
    pub fn new(client: Client, shutdown_requested: Arc<std::sync::atomic::AtomicBool>) -> Server {
        Server { session: Arc::new(Session::new(client, shutdown_requested)) }
    }

    /// For the transport, which answers the whole-document requests itself.
    pub(super) fn session(&self) -> &Arc<Session> {
        &self.session
    }

    fn warn(&self, warnings: Vec<String>) {
        for warning in warnings {
            tracing::warn!("{warning}");
            self.session.show_message(lsp::MessageType::WARNING, warning);
        }
    }

    /// Reads section `kubefile` with `workspace/configuration`. Returns whether the settings changed.
    async fn pull_configuration(&self) -> bool {
        let item = lsp::ConfigurationItem { scope_uri: None, section: Some(config::SECTION.to_owned()) };
        match self.session.client.configuration(vec![item]).await {
            Ok(mut values) => {
                let (changed, warnings) = self.session.config.set_workspace(values.pop().unwrap_or_default());
                self.warn(warnings);
                changed
            }
            Err(error) => {
                tracing::warn!("workspace/configuration failed: {error}");
                false
            }
        }
    }

    /// `window/workDoneProgress/cancel`: the user stopped a `kubefile.build` from its progress UI.
    pub async fn work_done_progress_cancel(&self, params: lsp::WorkDoneProgressCancelParams) {
        build::cancel(&self.session, &params.token);
    }

    async fn watch_files(&self) {
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![lsp::FileSystemWatcher {
                glob_pattern: lsp::GlobPattern::String("**/*".to_owned()),
                kind: None,
            }],
        };
        let registration = lsp::Registration {
            id: "kubefile-ls/watched-files".to_owned(),
            method: lsp::notification::DidChangeWatchedFiles::METHOD.to_owned(),
            register_options: serde_json::to_value(options).ok(),
        };
        if let Err(error) = self.session.client.register_capability(vec![registration]).await {
            tracing::warn!("registering file watchers failed: {error}");
        }
    }
}

// Completion, hover, documentSymbol, foldingRange, (range) formatting and semantic tokens are
// answered by `transport` without going through this trait: their results are serialised
// without `Value`.
impl LanguageServer for Server {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let negotiated = Negotiated::from_initialize(&params);
        let capabilities = capabilities::server_capabilities(&negotiated);
        let asks_configuration = negotiated.configuration;
        tracing::info!("initialize: {negotiated:?}");
        self.session.set_negotiated(negotiated);
        for warning in self.session.config.set_initialization(params.initialization_options) {
            tracing::warn!("{warning}");
        }
        if !asks_configuration {
            self.session.config.mark_ready();
        }
        Ok(lsp::InitializeResult {
            capabilities,
            server_info: Some(capabilities::server_info()),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: lsp::InitializedParams) {
        let negotiated = self.session.negotiated().clone();
        let configuration = async {
            if negotiated.configuration {
                if self.pull_configuration().await {
                    diagnostics::everything_changed(&self.session);
                }
                self.session.config.mark_ready();
            }
        };
        let watching = async {
            if negotiated.watch_files {
                self.watch_files().await;
            }
        };
        tokio::join!(configuration, watching);
    }

    async fn shutdown(&self) -> Result<()> {
        self.session.begin_shutdown();
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let lsp::TextDocumentItem { uri, language_id, version, text } = params.text_document;
        let path = contexts::file_path(&uri);
        let kind = contexts::classify(&language_id, path.as_deref());
        let context_dir = contexts::context_dir(path.as_deref());
        tracing::debug!("open {} ({language_id}, {kind:?}, context {context_dir:?})", uri.as_str());
        if !self.session.negotiated().watch_files {
            // Without file events, reopening is the way to see the context anew.
            if let Some(dir) = &context_dir {
                self.session.contexts.forget(dir);
            }
        }
        let doc = Document::unparsed(text, version);
        let trigger = self.session.documents.open(uri.clone(), doc, kind, context_dir);
        if !self.session.negotiated().pull_diagnostics {
            diagnostics::spawn_publisher(self.session.clone(), uri, trigger);
        }
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        let encoding = self.session.negotiated().encoding;
        let uri = &params.text_document.uri;
        let applied = self.session.documents.edit(uri, true, |entry| {
            entry.doc.set_version(params.text_document.version);
            for change in &params.content_changes {
                entry.doc.edit(change.range.map(convert::line_col_range), &change.text, encoding);
            }
        });
        if !applied {
            tracing::warn!("didChange for a document that is not open: {}", uri.as_str());
        }
    }

    async fn did_save(&self, params: lsp::DidSaveTextDocumentParams) {
        if self.session.negotiated().watch_files {
            return;
        }
        // Without file events, a save is the moment to look at the context again.
        let dir = self.session.documents.get(&params.text_document.uri).and_then(|entry| entry.context_dir.clone());
        if let Some(dir) = dir {
            diagnostics::context_changed(&self.session, &[dir]);
        }
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(closed) = self.session.documents.close(&uri) else { return };
        if let Some(dir) = &closed.context_dir {
            if !self.session.documents.uses_context(dir) {
                self.session.contexts.forget(dir);
            }
        }
        {
            let _publishing = closed.publish_lock.lock().await;
            if closed.published {
                self.session.publish_diagnostics(&uri, [], None);
            }
        }
        drop(closed);
        // Analysis still in flight for the document trims again when it is dropped (`worker`).
        transport::SpareBody::release();
        worker::release_freed_memory();
    }

    async fn did_change_configuration(&self, params: lsp::DidChangeConfigurationParams) {
        let helm = self.session.config.helm_path();
        let changed = if self.session.negotiated().configuration {
            self.pull_configuration().await
        } else {
            let (changed, warnings) = self.session.config.set_workspace(params.settings);
            self.warn(warnings);
            changed
        };
        if changed {
            if self.session.config.helm_path() != helm {
                self.session.contexts.forget_rendered();
            }
            diagnostics::everything_changed(&self.session);
        }
    }

    async fn did_change_watched_files(&self, params: lsp::DidChangeWatchedFilesParams) {
        let paths: Vec<PathBuf> = params
            .changes
            .iter()
            .filter(|event| {
                // A save of an open build file changes its text, which we already have, not its context.
                !(event.typ == lsp::FileChangeType::CHANGED
                    && self
                        .session
                        .documents
                        .get(&event.uri)
                        .is_some_and(|entry| entry.kind != contexts::BuildFileKind::Other))
            })
            .filter_map(|event| contexts::file_path(&event.uri))
            // Git's own bookkeeping changes on every git command and never matters to sealos.
            .filter(|path| !path.components().any(|part| part.as_os_str() == ".git"))
            .collect();
        if !paths.is_empty() {
            diagnostics::context_changed(&self.session, &paths);
        }
    }

    async fn code_action(&self, params: lsp::CodeActionParams) -> Result<Option<lsp::CodeActionResponse>> {
        features::code_action(&self.session, params).await
    }

    async fn completion_resolve(&self, params: lsp::CompletionItem) -> Result<lsp::CompletionItem> {
        features::completion_resolve(&self.session, params).await
    }

    async fn signature_help(&self, params: lsp::SignatureHelpParams) -> Result<Option<lsp::SignatureHelp>> {
        features::signature_help(&self.session, params).await
    }

    async fn goto_definition(&self, params: lsp::GotoDefinitionParams) -> Result<Option<lsp::GotoDefinitionResponse>> {
        features::definition(&self.session, params).await
    }

    async fn references(&self, params: lsp::ReferenceParams) -> Result<Option<Vec<lsp::Location>>> {
        features::references(&self.session, params).await
    }

    async fn document_highlight(
        &self,
        params: lsp::DocumentHighlightParams,
    ) -> Result<Option<Vec<lsp::DocumentHighlight>>> {
        features::document_highlight(&self.session, params).await
    }

    async fn prepare_rename(
        &self,
        params: lsp::TextDocumentPositionParams,
    ) -> Result<Option<lsp::PrepareRenameResponse>> {
        features::prepare_rename(&self.session, params).await
    }

    async fn rename(&self, params: lsp::RenameParams) -> Result<Option<lsp::WorkspaceEdit>> {
        features::rename(&self.session, params).await
    }

    async fn selection_range(&self, params: lsp::SelectionRangeParams) -> Result<Option<Vec<lsp::SelectionRange>>> {
        features::selection_range(&self.session, params).await
    }

    async fn on_type_formatting(
        &self,
        params: lsp::DocumentOnTypeFormattingParams,
    ) -> Result<Option<Vec<lsp::TextEdit>>> {
        features::on_type_formatting(&self.session, params).await
    }

    async fn inlay_hint(&self, params: lsp::InlayHintParams) -> Result<Option<Vec<lsp::InlayHint>>> {
        features::inlay_hint(&self.session, params).await
    }

    async fn code_lens(&self, params: lsp::CodeLensParams) -> Result<Option<Vec<lsp::CodeLens>>> {
        features::code_lens(&self.session, params).await
    }

    async fn document_link(&self, params: lsp::DocumentLinkParams) -> Result<Option<Vec<lsp::DocumentLink>>> {
        features::document_link(&self.session, params).await
    }

    async fn execute_command(&self, params: lsp::ExecuteCommandParams) -> Result<Option<serde_json::Value>> {
        commands::execute(&self.session, params).await
    }

    async fn diagnostic(&self, params: lsp::DocumentDiagnosticParams) -> Result<lsp::DocumentDiagnosticReportResult> {
        Ok(diagnostics::document_report(&self.session, &params.text_document.uri).await)
    }

    async fn workspace_diagnostic(
        &self,
        params: lsp::WorkspaceDiagnosticParams,
    ) -> Result<lsp::WorkspaceDiagnosticReportResult> {
        Ok(diagnostics::workspace_report(&self.session, &params).await)
    }
}
