//! Analysis: pure functions from a parsed Kubefile (plus facts about its build context and the
//! user's configuration) to editor-level results. Results use byte offsets and our own types;
//! `lsp::convert` and the CLI turn them into protocol or terminal output.

pub mod config;
pub mod copies;
pub mod facts;
pub mod lists;
pub mod model;
pub mod variables;
pub mod actions;
pub mod folding;
pub mod symbols;
pub mod completion;
pub mod completion_images;
pub mod completion_limit;
pub mod docs;
#[cfg(test)] mod fixture;
pub mod format;
pub mod hover;
pub mod inlay_hints;
pub mod code_lens;
pub mod navigation;
pub mod semantic_tokens;
pub mod signature_help;
pub mod links;
pub mod diagnostics;

pub use config::Config;
pub use facts::{ContextFacts, ImageSource};
pub use diagnostics::{diagnostics, diagnostics_for, ignore_fix, Diagnostic, FileKind, Fix, Severity, TextEdit};
