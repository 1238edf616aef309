//! Errors of a save. Messages name the image and the registry; they never contain passwords or
//! tokens (credentials are only ever named by user and file).

use std::path::PathBuf;

use super::{auth::AuthFileError, manifest::ManifestError, report::SaveReport};
use crate::context::reference::ReferenceError;

/// Why one image could not be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("cannot use `{source_ref}` as a registry reference: {message}")]
    Source { source_ref: String, message: String },
    #[error("{transport} images are read from a local {store}, which kubefile-ls cannot read; push the image to a registry and list it by its registry name")]
    UnsupportedTransport {
        transport: &'static str,
        store: &'static str,
    },
    #[error("{registry} refused access (401 Unauthorized): {hint}")]
    Unauthorized { registry: String, hint: String },
    #[error("{registry} denied access (403 Forbidden) to {what}{hint}")]
    Denied {
        registry: String,
        what: String,
        hint: String,
    },
    #[error("{what} was not found on {registry} (404){detail}")]
    NotFound {
        registry: String,
        what: String,
        detail: String,
    },
    #[error("{what} from {registry} does not match its digest: expected {expected}, got {actual}")]
    DigestMismatch {
        registry: String,
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{what} from {registry} has the wrong size: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        registry: String,
        what: String,
        expected: u64,
        actual: u64,
    },
    #[error("the manifest list on {registry} has no image for {wanted} (it has: {available}); use --platform or --all")]
    NoMatchingPlatform {
        registry: String,
        wanted: String,
        available: String,
    },
    #[error("unusable manifest from {registry}: {error}")]
    Manifest {
        registry: String,
        error: ManifestError,
    },
    #[error("{registry} answered HTTP {status} for {what}: {message}")]
    Http {
        registry: String,
        what: String,
        status: u16,
        message: String,
    },
    #[error("cannot fetch {what} from {registry}: {message}")]
    Network {
        registry: String,
        what: String,
        message: String,
    },
    #[error("credentials for {registry}: {message}")]
    Credentials { registry: String, message: String },
    #[error("cannot write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("cannot load the archive {}: {message}", archive.display())]
    Archive { archive: PathBuf, message: String },
    #[error("cancelled")]
    Cancelled,
}

impl ImageError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            message: error.to_string(),
        }
    }
}

/// One image that was not saved.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageFailure {
    /// The image as requested.
    pub image: String,
    #[serde(serialize_with = "as_display")]
    pub error: ImageError,
}

fn as_display<S: serde::Serializer, T: std::fmt::Display>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

impl std::fmt::Display for ImageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot save {}: {}", self.image, self.error)
    }
}

/// Why a save as a whole did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// Some images were saved, others were not (see the report's failures).
    #[error("{} of {} images could not be saved", .0.failures.len(), .0.failures.len() + .0.images.len())]
    Incomplete(Box<SaveReport>),
    /// The cancellation token fired; everything visible in `registry/` is complete.
    #[error("cancelled after saving {} images", .0.images.len())]
    Cancelled(Box<SaveReport>),
    #[error("another kubefile-ls save is writing into {} (lock held on {})", registry.display(), lock.display())]
    Locked { registry: PathBuf, lock: PathBuf },
    #[error("cannot prepare {}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error(transparent)]
    AuthFile(#[from] AuthFileError),
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

impl SaveError {
    /// The report, when the save got far enough to have one.
    pub fn report(&self) -> Option<&SaveReport> {
        match self {
            Self::Incomplete(report) | Self::Cancelled(report) => Some(report),
            _ => None,
        }
    }
}
