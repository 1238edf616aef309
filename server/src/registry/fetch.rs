//! Downloading one blob: streamed to `<registry>/.kubefile-ls-tmp/<hex>.partial`, hashed while
//! written, checked against the descriptor's size and digest, then renamed into
//! `blobs/sha256/<hh>/<hex>/data`. An interrupted download keeps its partial file and the next
//! attempt (or the next run) continues it with an HTTP range request.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Seek, SeekFrom, Write},
    path::PathBuf,
    sync::{atomic::Ordering, Arc},
};

use futures_util::StreamExt as _;
use oci_client::{client::BlobResponse, Reference};
use sha2::{Digest as _, Sha256};

use super::{
    error::ImageError, layout::Sha256Digest, report::SaveEvent, transport::RegistryClient, Engine,
};

/// Bytes gathered before one write+hash step in the blocking pool.
const WRITE_BATCH: usize = 1 << 20;

/// A partial download on disk and the hash of what it holds.
struct Partial {
    path: PathBuf,
    file: File,
    hasher: Sha256,
    len: u64,
}

impl Partial {
    /// Opens (or creates) the partial file and hashes what it holds; a file longer than the
    /// blob is started over.
    fn open(path: PathBuf, size: u64) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        let len = file.metadata()?.len();
        let mut partial = Self {
            path,
            file: file.try_clone()?,
            hasher: Sha256::new(),
            len: 0,
        };
        if len > size {
            partial.restart()?;
            return Ok(partial);
        }
        let mut buffer = vec![0u8; WRITE_BATCH];
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            partial.hasher.update(&buffer[..n]);
            partial.len += n as u64;
        }
        partial.file.seek(SeekFrom::End(0))?;
        Ok(partial)
    }

    fn restart(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.hasher = Sha256::new();
        self.len = 0;
        Ok(())
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.file.write_all(bytes)?;
        self.len += bytes.len() as u64;
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f)
        .await
        .expect("blocking task panicked")
}

/// Everything one download needs; owned so that it can run as its own task.
pub(crate) struct BlobJob {
    pub engine: Arc<Engine>,
    pub client: Arc<RegistryClient>,
    /// A reference in a repository that holds the blob (the requesting image's).
    pub reference: Reference,
    pub digest: Sha256Digest,
    pub size: u64,
    /// The image that started the download (for events and retries).
    pub image: String,
}

/// How one attempt ended.
enum Step {
    Done,
    /// Failed; `true` when trying again may help.
    Failed(ImageError, bool),
}

/// Downloads, verifies and commits one blob. Returns the number of bytes received.
pub(crate) async fn download(job: BlobJob) -> Result<u64, ImageError> {
    let what = format!("blob {}", job.digest);
    let path = job.engine.layout.partial_blob_path(&job.digest);
    let open_path = path.clone();
    let size = job.size;
    let mut partial = blocking(move || Partial::open(open_path, size))
        .await
        .map_err(|e| ImageError::io(&path, &e))?;
    if partial.len > 0 {
        job.emit_progress(partial.len);
    }
    let retrier = job.engine.retrier(&job.image);
    let mut counters = Counters::default();
    let mut attempt = 0;
    loop {
        let (back, step) = attempt_once(&job, &what, partial, &mut counters).await;
        partial = back;
        match step {
            Step::Done => return Ok(counters.received),
            Step::Failed(error, retry) => {
                if let Err(error) = retrier
                    .backoff(&job.client.name, &what, error, retry, &mut attempt)
                    .await
                {
                    if counters.mismatches > 0 {
                        // Content that failed verification is never kept.
                        drop(partial);
                        let _ = fs::remove_file(&path);
                    }
                    return Err(error);
                }
            }
        }
    }
}

#[derive(Default)]
struct Counters {
    received: u64,
    /// Verification failures (wrong size or digest). The first one restarts the download
    /// from scratch; the second is final.
    mismatches: u32,
}

impl BlobJob {
    fn emit_progress(&self, bytes: u64) {
        (self.engine.emit)(SaveEvent::BlobProgress {
            image: self.image.clone(),
            digest: self.digest.to_string(),
            bytes,
            size: self.size,
        });
    }

    fn what_of(&self, what: &str) -> String {
        format!("{what} of {}", self.reference.repository())
    }
}

/// One request: continue the partial file from its end, then verify and commit when complete.
async fn attempt_once(
    job: &BlobJob,
    what: &str,
    mut partial: Partial,
    counters: &mut Counters,
) -> (Partial, Step) {
    let engine = &job.engine;
    let registry = job.client.name.clone();
    let verification_failure = |counters: &mut Counters, error: ImageError| {
        counters.mismatches += 1;
        Step::Failed(error, counters.mismatches <= 1)
    };

    // An empty blob needs no request: its digest decides alone.
    if partial.len < job.size {
        let digest = job.digest.as_str();
        let response = tokio::select! {
            biased;
            () = engine.cancel.cancelled() => return (partial, Step::Failed(ImageError::Cancelled, false)),
            response = job.client.blobs().pull_blob_stream_partial(&job.reference, &digest, partial.len, None) => response,
        };
        let stream = match response {
            Ok(BlobResponse::Partial(stream)) => stream,
            Ok(BlobResponse::Full(stream)) => {
                // The registry ignored the range: start over.
                if partial.len > 0 {
                    if let Err(e) = partial.restart() {
                        return (
                            partial,
                            Step::Failed(
                                ImageError::io(
                                    job.engine.layout.partial_blob_path(&job.digest),
                                    &e,
                                ),
                                false,
                            ),
                        );
                    }
                }
                stream
            }
            Err(error) => {
                let (error, retry) = job.client.classify(what, error);
                return (partial, Step::Failed(error, retry));
            }
        };
        if let Some(length) = stream.content_length {
            let announced = partial.len + length;
            if announced != job.size {
                // The registry announces other content than the manifest names.
                let _ = partial.restart();
                let error = ImageError::SizeMismatch {
                    registry,
                    what: job.what_of(what),
                    expected: job.size,
                    actual: announced,
                };
                return (partial, verification_failure(counters, error));
            }
        }
        let mut stream = stream.stream;
        let mut batch: Vec<u8> = Vec::with_capacity(WRITE_BATCH);
        let mut failure: Option<Step> = None;
        loop {
            let next = tokio::select! {
                biased;
                () = engine.cancel.cancelled() => { failure = Some(Step::Failed(ImageError::Cancelled, false)); break; }
                next = stream.next() => next,
            };
            match next {
                Some(Ok(chunk)) => {
                    let have = partial.len + batch.len() as u64 + chunk.len() as u64;
                    if have > job.size {
                        batch.clear();
                        let _ = partial.restart();
                        let error = ImageError::SizeMismatch {
                            registry: registry.clone(),
                            what: job.what_of(what),
                            expected: job.size,
                            actual: have,
                        };
                        failure = Some(verification_failure(counters, error));
                        break;
                    }
                    counters.received += chunk.len() as u64;
                    engine
                        .stats
                        .bytes_downloaded
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    batch.extend_from_slice(&chunk);
                    if batch.len() >= WRITE_BATCH {
                        let result;
                        (partial, batch, result) = write_batch(partial, batch).await;
                        match result {
                            Ok(n) => job.emit_progress(n),
                            Err(e) => {
                                let path = job.engine.layout.partial_blob_path(&job.digest);
                                failure = Some(Step::Failed(ImageError::io(&path, &e), false));
                                break;
                            }
                        }
                    }
                }
                Some(Err(error)) => {
                    let error = ImageError::Network {
                        registry: registry.clone(),
                        what: what.to_owned(),
                        message: format!("the download broke off: {error}"),
                    };
                    failure = Some(Step::Failed(error, true));
                    break;
                }
                None => break,
            }
        }
        // Keep whatever arrived intact, so that a retry (or the next run) continues from there.
        let result;
        (partial, _, result) = write_batch(partial, batch).await;
        match result {
            Ok(0) => {}
            Ok(n) => job.emit_progress(n),
            Err(e) => {
                let path = job.engine.layout.partial_blob_path(&job.digest);
                return (partial, Step::Failed(ImageError::io(&path, &e), false));
            }
        }
        if let Some(step) = failure {
            return (partial, step);
        }
        if partial.len < job.size {
            // The body ended early; the next attempt asks for the rest.
            let error = ImageError::SizeMismatch {
                registry,
                what: job.what_of(what),
                expected: job.size,
                actual: partial.len,
            };
            return (partial, Step::Failed(error, true));
        }
    }

    // Complete: verify, persist, commit.
    let actual = Sha256Digest::from_hasher(partial.hasher.clone());
    if actual != job.digest {
        let _ = partial.restart();
        let error = ImageError::DigestMismatch {
            registry,
            what: job.what_of(what),
            expected: job.digest.to_string(),
            actual: actual.to_string(),
        };
        return (partial, verification_failure(counters, error));
    }
    let sync = engine.options.sync;
    let engine2 = engine.clone();
    let digest = job.digest.clone();
    let (partial, committed) = blocking(move || {
        let result = (|| {
            if sync {
                partial.file.sync_data()?;
            }
            engine2.layout.commit_blob(&partial.path, &digest)
        })();
        (partial, result)
    })
    .await;
    match committed {
        Ok(()) => (partial, Step::Done),
        Err(e) => {
            let target = job.engine.layout.blob_path(&job.digest);
            (partial, Step::Failed(ImageError::io(target, &e), false))
        }
    }
}

/// Hashes and writes a batch in the blocking pool, off the async workers.
async fn write_batch(
    mut partial: Partial,
    mut batch: Vec<u8>,
) -> (Partial, Vec<u8>, io::Result<u64>) {
    if batch.is_empty() {
        return (partial, batch, Ok(0));
    }
    let (partial, batch, result) = blocking(move || {
        let result = partial.append(&batch).map(|()| batch.len() as u64);
        batch.clear();
        (partial, batch, result)
    })
    .await;
    (partial, batch, result)
}
