//! The language server: tower-lsp-server glue and our own stdio transport. Converts types, routes
//! requests, holds documents; no analysis logic of its own.
//!
//! - [`server`]: the `LanguageServer` implementation (routing only).
//! - [`capabilities`]: what we advertise, from what the client supports.
//! - [`documents`]: open documents (rope + incrementally parsed tree) and their revisions.
//! - [`diagnostics`]: coalesced, version-checked publishing (analysis at once; edits during a run fold into one pending run); pull reports; quick fixes.
//! - [`contexts`]: which documents are Kubefiles; cached build-context facts and rendered images.
//! - [`features`]: completion, hover, navigation, structure, formatting, semantic tokens, inlay
//!   hints, code lenses, links and code actions.
//! - [`commands`]: `workspace/executeCommand` (`kubefile.images`, `kubefile.build`,
//!   `kubefile.applyEdit` for clients without code-action literals).
//! - [`build`]: `kubefile.build`: the build pipeline with progress, cancellation and located failures.
//! - [`config`]: settings from `initializationOptions` and the workspace.
//! - [`convert`]: the only place analysis types and positions become LSP types.
//! - [`transport`]: stdio framing and dispatch; answers the whole-document requests itself.
//! - [`json`]: JSON written by hand for the biggest answers.
//! - [`catch_panic`]: a panicking handler costs one answer, not the server.
//! - [`worker`]: the threads parsing and analysis run on (a lane of its own for big documents).

mod build;
mod capabilities;
mod catch_panic;
mod commands;
mod config;
mod contexts;
mod convert;
mod diagnostics;
mod documents;
mod features;
mod json;
mod server;
mod session;
mod transport;
mod worker;

use std::{
    process::ExitCode,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use tower_lsp_server::LspService;

/// Serves LSP on stdin/stdout until the client asks to exit. Exits with 0 when `shutdown` came
/// before `exit` (or before stdin closed), 1 otherwise, as the protocol asks.
pub fn run_stdio() -> ExitCode {
    worker::allocate_from_one_heap();
    init_tracing();
    worker::start();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("kubefile-ls")
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kubefile-ls: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let mut stdio = match transport::Stdio::start() {
        Ok(stdio) => stdio,
        Err(error) => {
            eprintln!("kubefile-ls: cannot start the stdio threads: {error}");
            return ExitCode::from(1);
        }
    };
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let requested = shutdown_requested.clone();
    runtime.block_on(async {
        let (service, socket) = LspService::build(move |client| server::Server::new(client, requested))
            // Not in tower-lsp-server's trait: cancels a `kubefile.build` from the progress UI.
            .custom_method("window/workDoneProgress/cancel", server::Server::work_done_progress_cancel)
            .finish();
        let session = service.inner().session().clone();
        transport::serve(&mut stdio, service, socket, session).await;
    });
    // Analysis still running must not hold the process (nor does the stdin thread, blocked in a
    // read, once `main` returns).
    runtime.shutdown_timeout(Duration::from_millis(100));
    // Answers already given are written, unless the client stopped reading.
    stdio.finish(Duration::from_secs(1));
    if shutdown_requested.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Logs go to stderr (stdout carries the protocol), filtered by `RUST_LOG` (default `warn`).
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(false).with_env_filter(filter).try_init();
}
