//! The diagnostics engine: every rule is one file in this folder, a pure function of the parsed
//! file, the build context facts and the configuration.

mod syntax_error;

use crate::syntax::{SourceFile, TextRange};

use super::{facts::ContextFacts, Config};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// A quick fix: edits to this file that resolve the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// Stable kebab-case code, documented in docs/diagnostics.md.
    pub code: &'static str,
    pub message: String,
    pub fixes: Vec<Fix>,
    /// The finding is about code that has no effect (rendered faded by editors).
    pub unnecessary: bool,
}

/// All diagnostics for a file, sorted by position, after suppression comments and severity
/// overrides have been applied.
pub fn diagnostics(file: &SourceFile, context: Option<&ContextFacts>, config: &Config) -> Vec<Diagnostic> {
    let _ = context;
    let mut found = Vec::new();
    syntax_error::check(file, &mut found);
    let mut published: Vec<Diagnostic> = found
        .into_iter()
        .filter_map(|mut diagnostic| {
            if let Some(level) = config.severity.get(diagnostic.code) {
                diagnostic.severity = level.severity()?;
            }
            Some(diagnostic)
        })
        .collect();
    published.sort_by_key(|d| (d.range.start, d.range.end, d.code));
    published
}
