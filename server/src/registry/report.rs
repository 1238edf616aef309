//! What a save tells its caller: a stream of [`SaveEvent`]s while it runs (rendered by the CLI as
//! progress bars or log lines, sent as JSON to editors) and a [`SaveReport`] at the end.

use std::time::Duration;

use serde::Serialize;

use super::error::ImageFailure;

/// How a blob needed by an image was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobOutcome {
    /// Downloaded by this image's task.
    Downloaded,
    /// Already in `registry/` (an earlier run, or another image of this run).
    Present,
    /// Downloaded once for several images: this image waited for another's download.
    Shared,
}

/// Progress of a save. Events arrive from several tasks at once; each carries the image it is
/// about (as requested) so that a renderer can attribute it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SaveEvent {
    Started {
        images: usize,
        platform: String,
        all_platforms: bool,
        max_pull_procs: usize,
    },
    ImageStarted {
        image: String,
        /// Where it lands in `registry/`: `library/nginx:1.25` or `repo@sha256:…`.
        destination: String,
    },
    /// The manifest is known: the blobs and bytes the image needs.
    ImageResolved {
        image: String,
        manifest_digest: String,
        /// The platforms kept (one by default, all with `--all`; empty for a single-platform image).
        platforms: Vec<String>,
        blobs: usize,
        bytes: u64,
    },
    /// New bytes of a blob this image's task is downloading (deltas; a resumed partial file
    /// counts once, as the first delta).
    BlobProgress {
        image: String,
        digest: String,
        bytes: u64,
        size: u64,
    },
    BlobDone {
        image: String,
        digest: String,
        size: u64,
        outcome: BlobOutcome,
    },
    Retry {
        image: String,
        registry: String,
        what: String,
        attempt: u32,
        delay_ms: u64,
        reason: String,
    },
    ImageDone {
        image: String,
        destination: String,
        manifest_digest: String,
    },
    ImageFailed {
        image: String,
        error: String,
    },
    Warning {
        message: String,
    },
    Finished {
        saved: usize,
        failed: usize,
        blobs_downloaded: usize,
        bytes_downloaded: u64,
        blobs_present: usize,
        blobs_shared: usize,
        elapsed_ms: u64,
    },
}

/// One image that was saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedImage {
    /// The image as requested.
    pub image: String,
    /// Where the image was pulled from (`docker.io/library/nginx:1.25`).
    pub source: String,
    /// Repository and tag or digest in `registry/` (`library/nginx:1.25`).
    pub destination: String,
    /// The digest the destination resolves to: the platform's manifest by default, the index
    /// with `--all` (or for a digest reference naming an index).
    pub manifest_digest: String,
    pub media_type: String,
    /// Platforms stored (empty for a single-platform image).
    pub platforms: Vec<String>,
}

/// The result of a save.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SaveReport {
    /// Saved images, in request order.
    pub images: Vec<SavedImage>,
    pub failures: Vec<ImageFailure>,
    pub warnings: Vec<String>,
    /// Blobs (configs and layers) downloaded in this run, each at most once.
    pub blobs_downloaded: usize,
    pub bytes_downloaded: u64,
    /// Blob uses satisfied by data already in `registry/`.
    pub blobs_present: usize,
    /// Blob uses satisfied by another image's download in this run.
    pub blobs_shared: usize,
    /// Manifests fetched from registries (tags are always asked for; digests are reused from
    /// `registry/` when present).
    pub manifests_fetched: usize,
    /// Requests repeated after a transient failure.
    pub retries: usize,
    #[serde(serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl SaveReport {
    /// Whether every requested image was saved.
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }
}
