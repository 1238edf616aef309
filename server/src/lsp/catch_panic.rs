//! Panic safety: a tower layer around the `LspService` that turns a panic in any message handler
//! into a logged error and, for a request, an `InternalError` response, so that one bug in one
//! handler costs one answer instead of the whole server.
//!
//! Handlers run as futures polled by tower-lsp-server's `Server::serve` on its own task; a panic
//! there would unwind through `serve` and end the process. Catching it around each handler's
//! future keeps the transport, the other in-flight handlers and the document store alive.
//! (Analysis jobs already catch their own panics in `worker`; this covers the handlers.)
//!
//! Testing: debug builds panic on purpose in the handler of the method named by the
//! `KUBEFILE_LS_INJECT_PANIC` environment variable (see [`injected_panic`]). Release builds do not
//! contain that code at all.

use std::{
    any::Any,
    future::Future,
    panic::AssertUnwindSafe,
    pin::Pin,
    task::{Context, Poll},
};

use futures_util::FutureExt as _;
use tower_lsp_server::jsonrpc::{Error, Request, Response};
use tower_service::Service;

/// Wraps a service answering JSON-RPC requests; see the module documentation.
pub struct CatchPanic<S> {
    inner: S,
}

impl<S> CatchPanic<S> {
    pub fn new(inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

impl<S> Service<Request> for CatchPanic<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Option<Response>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = request.method().to_owned();
        let id = request.id().cloned();
        let inject = injected_panic(&method);
        // The router may run code before returning the handler's future: catch that too.
        let handler = std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)));
        Box::pin(async move {
            let outcome = AssertUnwindSafe(async {
                if inject {
                    panic!("panic injected into {method} by KUBEFILE_LS_INJECT_PANIC");
                }
                match handler {
                    Ok(handler) => handler.await,
                    Err(payload) => std::panic::resume_unwind(payload),
                }
            })
            .catch_unwind()
            .await;
            match outcome {
                Ok(result) => result,
                Err(payload) => {
                    let message = panic_message(payload.as_ref());
                    tracing::error!("the handler of {method} panicked: {message}");
                    // A notification has no one to answer; a request gets an error instead of silence.
                    Ok(id.map(|id| {
                        let mut error = Error::internal_error();
                        error.message = format!("kubefile-ls failed on this request (a bug: {message})").into();
                        Response::from_error(id, error)
                    }))
                }
            }
        })
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Whether this handler must panic, for the panic-safety test (`tests/robust_protocol.rs`): in
/// debug builds only, when `KUBEFILE_LS_INJECT_PANIC` names `method`. An environment variable
/// rather than a hidden LSP method, so that no build answers a method clients could call by
/// mistake, and so that the panic happens in the handler of a real method, with the inner
/// service's bookkeeping for that request in flight.
#[cfg(debug_assertions)]
fn injected_panic(method: &str) -> bool {
    std::env::var("KUBEFILE_LS_INJECT_PANIC").is_ok_and(|target| target == method)
}

#[cfg(not(debug_assertions))]
fn injected_panic(_: &str) -> bool {
    false
}
