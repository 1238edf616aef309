//! Fixture helpers for rule tests: a Kubefile, optionally with context files, rendered as one
//! line per diagnostic for `expect_test` snapshots.
//!
//! ```text
//! //- /Kubefile
//! FROM scratch
//! //- /manifests/app.yaml
//! image: nginx:1.25
//! ```
//! Without `//-` markers the whole text is the Kubefile and there is no build context.

use std::fmt::Write as _;

use crate::{
    analysis::{Config, ContextFacts},
    syntax::{LineCol, PositionEncoding, SourceFile},
};

use super::{diagnostics, ignore_fix, Diagnostic, Fix};
use crate::analysis::fixture::write_sections;

struct Fixture {
    kubefile: String,
    facts: Option<ContextFacts>,
    _dir: Option<tempfile::TempDir>,
}

fn load(fixture: &str) -> Fixture {
    let Some((dir, sections)) = write_sections(fixture, |content| (content.to_string(), ())) else {
        return Fixture { kubefile: fixture.to_string(), facts: None, _dir: None };
    };
    let kubefile = sections.into_iter().rev().find(|s| s.path == "Kubefile").map(|s| s.content).unwrap_or_default();
    let facts = crate::context::facts::collect(dir.path());
    Fixture { kubefile, facts: Some(facts), _dir: Some(dir) }
}

fn run(fixture: &Fixture, config: &Config) -> (SourceFile, Vec<Diagnostic>) {
    let file = SourceFile::parse(&fixture.kubefile);
    let found = diagnostics(&file, fixture.facts.as_ref(), config);
    (file, found)
}

fn position(file: &SourceFile, offset: usize) -> LineCol {
    file.line_index().line_col(file.text(), offset, PositionEncoding::Utf16)
}

/// Diagnostics whose code is `code` (all when empty), one per line:
/// `line:col-line:col severity[code] message` with 1-based lines and columns.
pub(crate) fn check(code: &str, fixture: &str) -> String {
    check_with(code, fixture, &Config::default())
}

pub(crate) fn check_with(code: &str, fixture: &str, config: &Config) -> String {
    let fixture = load(fixture);
    let (file, found) = run(&fixture, config);
    let mut out = String::new();
    for diagnostic in found.iter().filter(|d| code.is_empty() || d.code == code) {
        let (start, end) = (position(&file, diagnostic.range.start), position(&file, diagnostic.range.end));
        let _ = writeln!(
            out,
            "{}:{}-{}:{} {}[{}] {}",
            start.line + 1,
            start.col + 1,
            end.line + 1,
            end.col + 1,
            diagnostic.severity.as_str(),
            diagnostic.code,
            diagnostic.message
        );
    }
    out
}

/// The Kubefile after applying the first quick fix of the first `code` diagnostic, preceded by
/// the fix title.
pub(crate) fn fix(code: &str, fixture: &str) -> String {
    let fixture = load(fixture);
    let (file, found) = run(&fixture, &Config::default());
    let Some(diagnostic) = found.iter().find(|d| d.code == code) else {
        return format!("no {code} diagnostic");
    };
    let Some(fix) = diagnostic.fixes.first() else { return "no fix".to_string() };
    format!("{}\n{}", fix.title, applied(&file, fix))
}

/// Like [`fix`] with the first `code` diagnostic's [`ignore_fix`], followed by the `code`
/// diagnostics of the result (as [`check`] gives them).
pub(crate) fn ignore(code: &str, fixture: &str) -> String {
    let fixture = load(fixture);
    let (file, found) = run(&fixture, &Config::default());
    let Some(diagnostic) = found.iter().find(|d| d.code == code) else {
        return format!("no {code} diagnostic");
    };
    let Some(fix) = ignore_fix(&file, diagnostic) else { return "no fix".to_string() };
    let text = applied(&file, &fix);
    format!("{}\n{text}-- left:\n{}", fix.title, check(code, &text))
}

fn applied(file: &SourceFile, fix: &Fix) -> String {
    let mut text = file.text().to_string();
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
    for edit in edits {
        text.replace_range(edit.range, &edit.new_text);
    }
    text
}
