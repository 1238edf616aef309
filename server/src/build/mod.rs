//! `kubefile-ls build`: extract images → save them into `registry/` → assemble the cluster image.
//!
//! The assembly is native (no daemon, no container runtime): the build file is read with our
//! grammar ([`instruction`]), evaluated with buildah v1.30 / imagebuilder semantics
//! ([`evaluate`], [`words`]), and every COPY/ADD becomes one reproducible gzip tar layer
//! ([`copy`], [`layer`]; already-compressed files go into stored blocks, [`gzip`]) of an OCI
//! image layout written atomically ([`layout`]). Base images are pulled with the registry client
//! ([`base`]). [`pipeline`] runs diagnostics, extraction, save and assembly in sealos's order,
//! reporting [`BuildEvent`]s; it knows nothing of terminals or LSP. [`options`] turns the flags of
//! `sealos build` into the pipeline's options, for the CLI and the editor alike.

pub mod assemble;
pub mod base;
pub mod buildah;
pub mod config;
pub mod copy;
pub mod evaluate;
pub mod gzip;
pub mod instruction;
pub mod layer;
pub mod layout;
pub mod options;
pub mod output;
pub mod pipeline;
pub mod tree;
pub mod words;

use std::path::PathBuf;

use serde::Serialize;

use crate::{registry::SaveEvent, syntax::TextRange};

/// Why a build stopped.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("no FROM statement found")]
    NoFrom,
    /// An instruction buildah would reject: `file` indexes the concatenated build files.
    #[error("{message}")]
    Instruction { file: usize, range: TextRange, message: String },
    /// The same, once the build file is known.
    #[error("{}: {message}", file.display())]
    InFile { file: PathBuf, range: TextRange, message: String },
    #[error("{count} error(s) in the build file; fix them first (`kubefile-ls check` lists them)")]
    Diagnostics { count: usize },
    #[error("cannot extract the images of the context: {0}")]
    Extract(String),
    #[error("cannot save the images into registry/: {0}")]
    Save(String),
    #[error("cannot pull {image}: {message}")]
    Pull { image: String, message: String },
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Buildah(String),
    #[error("cancelled")]
    Cancelled,
}

/// Progress of a build, for the CLI's bars and lines and for `$/progress` in the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BuildEvent {
    /// A pipeline phase starts: `check`, `extract`, `save`, `assemble`, `write`.
    Phase { name: String },
    /// Images found in the context (before the save).
    ImagesFound { count: usize },
    /// Progress of the registry save or of a base-image pull.
    Save(SaveEvent),
    PullingBase { image: String },
    /// An instruction of the final image's stages is being executed.
    Step { stage: usize, index: usize, total: usize, instruction: String },
    LayerWritten { digest: String, size: u64, entries: usize },
    Warning { message: String },
    /// A line of output from `buildah bud` (`--engine buildah`).
    Log { line: String },
    /// The image is in place.
    Written { output: String, manifest_digest: String, size: u64 },
}
