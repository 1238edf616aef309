//! Image destinations other than the OCI layout the assembler writes: `oci-archive:`, `docker://`.
//!
//! Both start from an OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/…`)
//! such as the assembler or `buildah push oci:DIR:TAG` writes:
//!
//! * [`write_oci_archive`]`(layout, file)` — `--output oci-archive:FILE`: the whole layout as
//!   one tar, reproducible (sorted entries, mtime 0), written to a temporary file and renamed,
//!   so `FILE` is never left half-written.
//! * [`push`]`(layout, tag, destination, &options).await` — `--output docker://REGISTRY/REPO:TAG`:
//!   the image tagged `tag` (the `org.opencontainers.image.ref.name` annotation; `None` for the
//!   only image) uploaded with the registry save's client, auth and transport rules
//!   ([`PushOptions`]: `--authfile`, `--tls-verify`, insecure registries; loopback registries
//!   are plain HTTP). The manifest bytes are pushed unchanged: the digest stays the layout's.
//!
//! Errors are [`OutputError`]s: they name the layout or destination and never contain secrets.

mod archive;
mod oci_layout;
mod push;

use std::path::PathBuf;

pub use archive::{write_oci_archive, ArchiveReport};
pub use push::{push, PushOptions, PushReport};

use crate::registry::ImageError;

/// Why an image could not be written to its destination.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{}: {message}", path.display())]
    Layout { path: PathBuf, message: String },
    #[error("invalid destination `{destination}`: {message}")]
    Destination {
        destination: String,
        message: String,
    },
    #[error("cannot write {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// The registry refused the push or could not be reached.
    #[error("cannot push to {destination}: {message}")]
    Push {
        destination: String,
        message: String,
    },
}

impl OutputError {
    fn io(path: impl Into<PathBuf>, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            message: error.to_string(),
        }
    }

    /// The save's errors speak of fetching; a push sends.
    fn from_push(destination: &str, error: ImageError) -> Self {
        let message = match error {
            ImageError::Network {
                registry,
                what,
                message,
            } => format!("cannot send {what} to {registry}: {message}"),
            ImageError::NotFound {
                registry,
                what,
                detail,
            } => {
                format!("{registry} answered 404 for {what}{detail}")
            }
            other => other.to_string(),
        };
        Self::Push {
            destination: destination.to_owned(),
            message,
        }
    }
}
