//! kubefile-ls: editor tooling and command-line checks for Sealos Kubefiles.
//!
//! Layers (see ARCHITECTURE.md): `syntax` → `analysis` → `lsp`/`cli`; `context` (the build
//! context on disk) feeds `analysis` and the pipeline, and never sees LSP types.

pub mod analysis;
pub mod build;
pub mod sealos;
pub mod cli;
pub mod context;
pub mod lsp;
pub mod registry;
pub mod syntax;
pub mod workspace;
