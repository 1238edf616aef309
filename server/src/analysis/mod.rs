//! Analysis: pure functions from a parsed Kubefile (plus facts about its build context and the
//! user's configuration) to editor-level results. Results use byte offsets and our own types;
//! `lsp::convert` and the CLI turn them into protocol or terminal output.

pub mod config;
pub mod facts;
pub mod diagnostics;

pub use config::Config;
pub use facts::{ContextFacts, ImageSource};
pub use diagnostics::{diagnostics, Diagnostic, Fix, Severity, TextEdit};
