//! The analysis thread: parsing and analysis run here, one job at a time, off the async runtime.
//!
//! One long-lived thread (rather than tokio's blocking pool) keeps every syntax tree allocated
//! by the same thread: one thread-local parser, one malloc arena, a smaller peak RSS. Documents
//! are analysed one after another, which on an editor's scale costs nothing (the publisher of
//! each document already lets at most one analysis of it run at a time).

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{mpsc, Mutex, OnceLock},
};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

fn sender() -> &'static Mutex<mpsc::Sender<Job>> {
    static SENDER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    SENDER.get_or_init(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("kubefile-ls-analysis".to_owned())
            .spawn(move || {
                for job in jobs {
                    job();
                }
            })
            .expect("spawn the analysis thread");
        Mutex::new(sender)
    })
}

/// Runs `work` on the analysis thread. A panic (a bug in a rule) is logged and yields `None`.
pub async fn run<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        let outcome = catch_unwind(AssertUnwindSafe(work));
        if outcome.is_err() {
            tracing::error!("analysis panicked; see the message above");
        }
        let _ = done.send(outcome.ok());
    });
    sender().lock().unwrap_or_else(|e| e.into_inner()).send(job).ok()?;
    result.await.ok().flatten()
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn results_and_panics() {
        assert_eq!(super::run(|| 6 * 7).await, Some(42));
        assert_eq!(super::run(|| -> i32 { panic!("a bug in a rule") }).await, None);
        // The thread survives a panicking job.
        assert_eq!(super::run(|| "still here").await, Some("still here"));
    }
}
