//! The state shared by request handlers and background tasks.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, OnceLock,
};

use tokio::sync::watch;
use tower_lsp_server::{ls_types as lsp, Client};

use super::{
    build::Builds,
    capabilities::Negotiated,
    config::ConfigStore,
    contexts::Contexts,
    documents::Documents,
    features::CompletionLists,
    transport::{self, Outgoing},
};

pub struct Session {
    /// Requests and notifications to the client, through tower-lsp-server.
    pub client: Client,
    /// The transport's writer, for the notifications serialised here (see
    /// [`Session::publish_diagnostics`]); set before the first message is dispatched.
    outgoing: OnceLock<Outgoing>,
    pub documents: Documents,
    pub contexts: Contexts,
    pub config: ConfigStore,
    /// `kubefile.build` runs and the diagnostics they published.
    pub builds: Builds,
    /// The latest completion list, for `completionItem/resolve`.
    pub completion_lists: CompletionLists,
    negotiated: OnceLock<Negotiated>,
    /// `shutdown` was received: `exit` then ends the process with status 0.
    pub shutdown_requested: Arc<AtomicBool>,
    /// Set on `shutdown`, so that long-polling requests let go.
    shutting_down: watch::Sender<bool>,
}

impl Session {
    pub fn new(client: Client, shutdown_requested: Arc<AtomicBool>) -> Session {
        Session {
            client,
            outgoing: OnceLock::new(),
            documents: Documents::default(),
            contexts: Contexts::default(),
            config: ConfigStore::default(),
            builds: Builds::default(),
            completion_lists: CompletionLists::default(),
            negotiated: OnceLock::new(),
            shutdown_requested,
            shutting_down: watch::Sender::new(false),
        }
    }

    /// What was agreed at `initialize` (defaults before that).
    pub fn negotiated(&self) -> &Negotiated {
        static DEFAULT: OnceLock<Negotiated> = OnceLock::new();
        self.negotiated.get().unwrap_or_else(|| DEFAULT.get_or_init(Negotiated::default))
    }

    pub fn set_negotiated(&self, negotiated: Negotiated) {
        let _ = self.negotiated.set(negotiated);
    }

    pub(super) fn set_outgoing(&self, outgoing: Outgoing) {
        let _ = self.outgoing.set(outgoing);
    }

    /// Sends `textDocument/publishDiagnostics`, serialised straight from `diagnostics` (not through
    /// `Client`, which builds a `serde_json::Value` first). It is queued behind every message sent
    /// before it, and ahead of any sent after this returns.
    pub fn publish_diagnostics<'a>(
        &self,
        uri: &lsp::Uri,
        diagnostics: impl IntoIterator<Item = &'a lsp::Diagnostic>,
        version: Option<i32>,
    ) {
        match self.outgoing.get() {
            Some(outgoing) => outgoing.send(transport::encode_publish_diagnostics(uri, diagnostics, version)),
            None => tracing::error!("diagnostics for {} published before the transport started", uri.as_str()),
        }
    }

    /// Shows `message` to the user (`window/showMessage`), queued on the same writer as
    /// [`Session::publish_diagnostics`]: a warning about a document reaches the client before the
    /// diagnostics published after it (through `Client` it would go by another queue, and could
    /// arrive after them).
    pub fn show_message(&self, typ: lsp::MessageType, message: String) {
        match self.outgoing.get() {
            Some(outgoing) => outgoing.send(transport::encode_show_message(typ, message)),
            None => tracing::error!("message shown before the transport started: {message}"),
        }
    }

    pub fn begin_shutdown(&self) {
        self.shutdown_requested.store(true, Ordering::SeqCst);
        self.shutting_down.send_replace(true);
    }

    /// Resolves once `shutdown` has been received.
    pub async fn shutting_down(&self) {
        let mut receiver = self.shutting_down.subscribe();
        let _ = receiver.wait_for(|down| *down).await;
    }
}
