//! The analysis threads: parsing and analysis of open documents run here, off the async runtime.
//!
//! Two long-lived threads (rather than tokio's blocking pool, whose threads come and go and each
//! get a malloc arena) form two lanes: documents of at least [`BIG_DOCUMENT`] bytes take one,
//! every other document the other, so a file that takes a second or more to analyse never holds
//! up the diagnostics of the small ones. Within a lane, jobs run one at a time in order. The
//! parses requests need run here too ([`snapshot`]), never on the message thread.
//!
//! A job is for one revision of one document, and is looked at again when its turn comes: a job
//! whose document changed meanwhile is dropped (its result would be discarded anyway, and the
//! publisher has been signalled to analyse the newer revision), and so is the job or the result
//! of a document that was closed. Because the lane drops them, a closed document's text and trees
//! are freed on the lane, which then hands the memory back to the OS ([`release_freed_memory`]):
//! `didClose` trims too, but analysis still in flight for the document frees its share later.

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    sync::{mpsc, Arc, Mutex, OnceLock},
};

use tokio::sync::oneshot;
use tower_lsp_server::ls_types::Uri;

use super::{
    documents::{Snapshot, Tree},
    session::Session,
};

/// Documents at least this big are analysed on the lane for big documents. Parsing and analysing
/// take about 0.4 s per megabyte (release build, `scripts/bench-size-limit.sh`), so a small-lane
/// job stays under half a second; documents over the size limit (`config::DEFAULT_MAX_DOCUMENT_SIZE`)
/// are not analysed at all.
pub const BIG_DOCUMENT: usize = 1 << 20;

/// Where a job runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lane {
    Small,
    Big,
}

impl Lane {
    fn for_size(bytes: usize) -> Lane {
        if bytes >= BIG_DOCUMENT {
            Lane::Big
        } else {
            Lane::Small
        }
    }
}

/// What has become of the document a job is for, when the job is about to run or has run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Still at the job's revision.
    Current,
    /// Changed since: a newer job is (or will be) on its way.
    Superseded,
    Closed,
}

type Job = Box<dyn FnOnce() + Send>;

fn lane(lane: Lane) -> &'static Mutex<mpsc::Sender<Job>> {
    static SMALL: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    static BIG: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let (cell, name) = match lane {
        Lane::Small => (&SMALL, "kubefile-ls-analysis"),
        Lane::Big => (&BIG, "kubefile-ls-analysis-big"),
    };
    cell.get_or_init(|| {
        let (sender, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                for job in jobs {
                    job();
                }
            })
            .expect("spawn an analysis thread");
        Mutex::new(sender)
    })
}

/// Starts the lane for ordinary documents ahead of the first one, whose parse would otherwise
/// wait for the thread to start.
pub fn start() {
    lane(Lane::Small);
}

/// Runs `work` for revision `revision` of the open document `uri`, on the lane its size calls
/// for. `None` when the document is closed or changed before the job's turn came, when it was
/// closed while the job ran, or when the job panicked (a bug in a rule, logged).
pub async fn run_for<T: Send + 'static>(
    session: &Arc<Session>,
    uri: &Uri,
    revision: u64,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let lane = Lane::for_size(session.documents.get(uri)?.doc.len_bytes());
    let (session, uri) = (session.clone(), uri.clone());
    let fate = move || match session.documents.get(&uri) {
        None => Fate::Closed,
        Some(entry) if entry.revision == revision => Fate::Current,
        Some(_) => Fate::Superseded,
    };
    run_on(lane, fate, work).await
}

/// The text and tree of `uri` as a request sees it: the text when this is called (request
/// handlers call it before anything else, so in arrival order with the edits: the request's
/// positions refer to that text), parsed on the document's lane if edits are pending. The
/// message thread never parses: a 2 MB document took it seconds, holding up every message behind
/// it. A job still runs when the document changes meanwhile (the request wants the text it was
/// sent against); it is dropped when the document is closed. `None` for unknown documents and
/// for documents over the size limit, which are kept as text only: requests about them get
/// their "nothing here" answer.
pub async fn snapshot(session: &Arc<Session>, uri: &Uri) -> Option<Snapshot> {
    let view = session.documents.request_view(uri, session.config.max_document_size())?;
    let file = match view.tree {
        Tree::Current(file) => file,
        tree => {
            let fate = {
                let (session, uri) = (session.clone(), uri.clone());
                move || if session.documents.is_open(&uri) { Fate::Current } else { Fate::Closed }
            };
            let (session, uri) = (session.clone(), uri.clone());
            run_on(Lane::for_size(view.len_bytes), fate, move || session.documents.parse(&uri, tree)).await?
        }
    };
    Some(Snapshot { file, version: view.version, kind: view.kind, context_dir: view.context_dir })
}

async fn run_on<T: Send + 'static>(
    lane_of_job: Lane,
    fate: impl Fn() -> Fate + Send + 'static,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = oneshot::channel();
    let job: Job = Box::new(move || {
        match fate() {
            Fate::Current => {}
            Fate::Superseded => return,
            Fate::Closed => {
                drop(work);
                release_freed_memory();
                return;
            }
        }
        let outcome = catch_unwind(AssertUnwindSafe(work));
        if outcome.is_err() {
            tracing::error!("analysis panicked; see the message above");
        }
        if fate() == Fate::Closed {
            drop(outcome);
            release_freed_memory();
            return;
        }
        let _ = done.send(outcome.ok());
    });
    lane(lane_of_job).lock().unwrap_or_else(|e| e.into_inner()).send(job).ok()?;
    result.await.ok().flatten()
}

/// Drops `value`, something of a document of `bytes` bytes (an earlier analysis: its tree, text
/// and diagnostics), on that document's lane after the jobs queued there. Freeing a big file's
/// analysis takes a fair share of a keystroke's work (glibc consolidates its free chunks); on the
/// message thread it would hold up the publication that replaces it.
pub fn drop_on_lane<T: Send + 'static>(bytes: usize, value: T) {
    let job: Job = Box::new(move || drop(value));
    // A lane that is gone (its thread panicked outside a job) hands the job back: dropped here.
    let _ = lane(Lane::for_size(bytes)).lock().unwrap_or_else(|e| e.into_inner()).send(job);
}

/// Makes every thread of the server allocate from glibc's main heap. `malloc_trim` returns the
/// free top of the main heap only; a thread's own arena keeps it. With a lane thread allocating
/// from its own arena, a server that reopened a closed 512 KB document kept ~10 MiB of it after
/// the next close in a third of the runs (the first close returned all of it). The server's
/// few threads rarely allocate at the same moment, so sharing one heap costs no measurable time.
/// Call it before any thread starts.
pub fn allocate_from_one_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; no allocation is in flight on another
    // thread because none has started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

/// Hands the heap memory freed so far back to the OS. glibc keeps what a closed document used
/// (its rope, trees and diagnostics: hundreds of megabytes for a big file) in its arenas
/// otherwise, so a server that once held a big file would stay that big. `malloc_trim` walks
/// every thread's arena, not only the calling thread's.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn results_and_panics() {
        let current = || Fate::Current;
        assert_eq!(run_on(Lane::Small, current, || 6 * 7).await, Some(42));
        assert_eq!(run_on(Lane::Small, current, || -> i32 { panic!("a bug in a rule") }).await, None);
        // The thread survives a panicking job.
        assert_eq!(run_on(Lane::Small, current, || "still here").await, Some("still here"));
    }

    #[tokio::test]
    async fn jobs_of_changed_or_closed_documents_do_not_run() {
        for fate in [Fate::Superseded, Fate::Closed] {
            let ran = Arc::new(AtomicBool::new(false));
            let flag = ran.clone();
            assert_eq!(run_on(Lane::Small, move || fate, move || flag.store(true, Ordering::SeqCst)).await, None);
            assert!(!ran.load(Ordering::SeqCst), "{fate:?}");
        }
    }

    #[tokio::test]
    async fn the_result_of_a_document_closed_while_it_ran_is_dropped() {
        let closed = Arc::new(AtomicBool::new(false));
        let fate = {
            let closed = closed.clone();
            move || if closed.load(Ordering::SeqCst) { Fate::Closed } else { Fate::Current }
        };
        assert_eq!(run_on(Lane::Small, fate, move || closed.store(true, Ordering::SeqCst)).await, None);
    }

    #[test]
    fn values_given_to_a_lane_are_dropped_on_it() {
        struct Recorder(mpsc::Sender<Option<String>>);
        impl Drop for Recorder {
            fn drop(&mut self) {
                let _ = self.0.send(std::thread::current().name().map(str::to_owned));
            }
        }
        for (bytes, lane) in [(0, "kubefile-ls-analysis"), (BIG_DOCUMENT, "kubefile-ls-analysis-big")] {
            let (sender, dropped) = mpsc::channel();
            drop_on_lane(bytes, Recorder(sender));
            assert_eq!(dropped.recv().unwrap().as_deref(), Some(lane));
        }
    }

    #[tokio::test]
    async fn a_busy_big_lane_does_not_hold_up_small_documents() {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let big = tokio::spawn(run_on(Lane::Big, || Fate::Current, move || blocked.recv().is_ok()));
        // The big lane is stuck until the small lane has answered.
        assert_eq!(run_on(Lane::Small, || Fate::Current, || "small").await, Some("small"));
        release.send(()).unwrap();
        assert_eq!(big.await.unwrap(), Some(true));
    }
}
