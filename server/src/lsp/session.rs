//! The state shared by request handlers and background tasks.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, OnceLock,
};

use tokio::sync::watch;
use tower_lsp_server::Client;

use super::{build::Builds, capabilities::Negotiated, config::ConfigStore, contexts::Contexts, documents::Documents};

pub struct Session {
    pub client: Client,
    pub documents: Documents,
    pub contexts: Contexts,
    pub config: ConfigStore,
    /// `kubefile.build` runs and the diagnostics they published.
    pub builds: Builds,
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
            documents: Documents::default(),
            contexts: Contexts::default(),
            config: ConfigStore::default(),
            builds: Builds::default(),
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
