//! Rendering of list diagnostics for the fixture tests: `line:col-line:col severity[code] message`,
//! 1-based UTF-16 columns, one per line, and the text after a quick fix.

use std::fmt::Write as _;

use crate::{
    analysis::Diagnostic,
    syntax::{LineIndex, PositionEncoding},
};

pub(super) fn render(text: &str, found: &[Diagnostic]) -> String {
    let index = LineIndex::new(text);
    let mut out = String::new();
    for d in found {
        let start = index.line_col(text, d.range.start, PositionEncoding::Utf16);
        let end = index.line_col(text, d.range.end, PositionEncoding::Utf16);
        let _ = writeln!(
            out,
            "{}:{}-{}:{} {}[{}] {}",
            start.line + 1,
            start.col + 1,
            end.line + 1,
            end.col + 1,
            d.severity.as_str(),
            d.code,
            d.message
        );
    }
    out
}

/// The fix's title and the text with its edits applied.
pub(super) fn apply_fix(text: &str, fix: &crate::analysis::Fix) -> String {
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse((e.range.start, e.range.end)));
    let mut out = text.to_string();
    for edit in edits {
        out.replace_range(edit.range, &edit.new_text);
    }
    format!("{}\n{out}", fix.title)
}
