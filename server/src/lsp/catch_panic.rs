//! Panic safety: the transport runs every message handler through [`guard`], which turns a panic
//! into a logged error and, for a request, an `InternalError` answer, so that one bug in one
//! handler costs one answer instead of the whole server.
//!
//! A handler's future is polled first by the transport's dispatch loop, then by a task of its
//! own; a panic in either would end the loop or the task without an answer. Catching it around
//! each handler keeps the transport, the other in-flight handlers and the document store alive.
//! (Analysis jobs already catch their own panics in `worker`; this covers the handlers.)
//!
//! Testing: debug builds panic on purpose in the handler of the method named by the
//! `KUBEFILE_LS_INJECT_PANIC` environment variable (see [`injected_panic`]). Release builds do not
//! contain that code at all.

use std::{any::Any, future::Future, panic::AssertUnwindSafe};

use futures_util::{future::BoxFuture, FutureExt as _};
use tower_lsp_server::jsonrpc::Error;

/// Makes the handler of `method` with `make` and runs it. A panic in either (the router may run
/// code before it returns the handler's future) is logged and becomes the `InternalError` to
/// answer a request with.
pub fn guard<F>(method: String, make: impl FnOnce() -> F) -> BoxFuture<'static, Result<F::Output, Error>>
where
    F: Future + Send + 'static,
{
    let inject = injected_panic(&method);
    let handler = std::panic::catch_unwind(AssertUnwindSafe(make));
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
        outcome.map_err(|payload| {
            let message = panic_message(payload.as_ref());
            tracing::error!("the handler of {method} panicked: {message}");
            let mut error = Error::internal_error();
            error.message = format!("kubefile-ls failed on this request (a bug: {message})").into();
            error
        })
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Whether this handler must panic, for the panic-safety test (`tests/it/robust_protocol.rs`): in
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn panics_in_making_or_running_a_handler_become_internal_errors() {
        assert_eq!(guard("ok".to_owned(), || async { 42 }).await, Ok(42));
        let made = guard("made".to_owned(), || -> std::future::Ready<()> { panic!("while making") }).await;
        assert!(made.unwrap_err().message.contains("a bug: while making"));
        let ran = guard("ran".to_owned(), || async { panic!("while running") }).await;
        let error: Result<(), Error> = ran;
        assert_eq!(error.as_ref().unwrap_err().code, tower_lsp_server::jsonrpc::ErrorCode::InternalError);
        assert!(error.unwrap_err().message.contains("a bug: while running"));
    }
}
