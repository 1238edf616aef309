//! Cursor fixtures for feature tests (completion, hover, navigation, ...): a Kubefile with `$0`
//! markers, optionally with context files, in the style of `diagnostics/fixture.rs`.
//!
//! ```text
//! //- /Kubefile
//! FROM scratch
//! COPY $0
//! //- /manifests/app.yaml
//! image: nginx:1.25
//! ```
//! Without `//-` markers the whole text is the Kubefile and there is no build context. The file
//! holding the markers is the one under test (the `Kubefile` section when no file has one). Two
//! markers select a range.

use std::fmt::Write as _;

use crate::{
    analysis::{ContextFacts, TextEdit},
    syntax::{PositionEncoding, SourceFile, TextRange},
};

pub(crate) struct CursorFixture {
    pub file: SourceFile,
    /// Byte offsets of the `$0` markers, in order (markers removed from the text).
    pub offsets: Vec<usize>,
    pub facts: Option<ContextFacts>,
    _dir: Option<tempfile::TempDir>,
}

impl CursorFixture {
    /// The first marker, or the end of the file without markers.
    pub fn offset(&self) -> usize {
        self.offsets.first().copied().unwrap_or(self.file.text().len())
    }

    /// The range between the first two markers (or the cursor as an empty range).
    pub fn range(&self) -> TextRange {
        match self.offsets.as_slice() {
            [start, end, ..] => *start..*end,
            [at] => *at..*at,
            [] => 0..self.file.text().len(),
        }
    }

    pub fn facts(&self) -> Option<&ContextFacts> {
        self.facts.as_ref()
    }
}

fn strip_markers(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut offsets = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("$0") {
        out.push_str(&rest[..i]);
        offsets.push(out.len());
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    (out, offsets)
}

pub(crate) fn parse(fixture: &str) -> CursorFixture {
    if !fixture.trim_start().starts_with("//- ") {
        let (text, offsets) = strip_markers(fixture);
        return CursorFixture { file: SourceFile::parse(&text), offsets, facts: None, _dir: None };
    }
    let dir = tempfile::tempdir().expect("temp dir for a fixture context");
    let mut main: Option<(String, Vec<usize>)> = None;
    let mut kubefile: Option<String> = None;
    for section in fixture.trim_start().split("//- ").filter(|s| !s.is_empty()) {
        let (path, content) = section.split_once('\n').unwrap_or((section, ""));
        let path = path.trim().trim_start_matches('/');
        let full = dir.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        if path.ends_with('/') {
            std::fs::create_dir_all(&full).unwrap();
            continue;
        }
        let (content, offsets) = strip_markers(content);
        std::fs::write(&full, &content).unwrap();
        if !offsets.is_empty() {
            main = Some((content.clone(), offsets));
        }
        if path == "Kubefile" {
            kubefile = Some(content);
        }
    }
    let (text, offsets) = main.unwrap_or_else(|| (kubefile.unwrap_or_default(), Vec::new()));
    let facts = crate::context::facts::collect(dir.path());
    CursorFixture { file: SourceFile::parse(&text), offsets, facts: Some(facts), _dir: Some(dir) }
}

/// `line:col` (1-based, UTF-16 columns).
pub(crate) fn pos(file: &SourceFile, offset: usize) -> String {
    let at = file.line_index().line_col(file.text(), offset, PositionEncoding::Utf16);
    format!("{}:{}", at.line + 1, at.col + 1)
}

/// `line:col-line:col`.
pub(crate) fn range(file: &SourceFile, range: &TextRange) -> String {
    format!("{}-{}", pos(file, range.start), pos(file, range.end))
}

/// The text covered by a range, for readable snapshots.
pub(crate) fn slice<'a>(file: &'a SourceFile, range: &TextRange) -> &'a str {
    file.text().get(range.clone()).unwrap_or("<invalid range>")
}

/// Applies non-overlapping edits (in any order) to `text`.
pub(crate) fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_by_key(|edit| std::cmp::Reverse((edit.range.start, edit.range.end)));
    let mut out = text.to_string();
    for edit in edits {
        out.replace_range(edit.range, &edit.new_text);
    }
    out
}

/// Marks ranges in the text with `[[` `]]` (for highlight/reference snapshots).
pub(crate) fn mark(file: &SourceFile, ranges: &[TextRange]) -> String {
    let mut ranges = ranges.to_vec();
    ranges.sort_by_key(|r| (r.start, r.end));
    let text = file.text();
    let mut out = String::new();
    let mut at = 0;
    for r in ranges {
        if r.start < at {
            continue;
        }
        let _ = write!(out, "{}[[{}]]", &text[at..r.start], &text[r.clone()]);
        at = r.end;
    }
    out.push_str(&text[at..]);
    out
}
