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

/// One `//- /path` section of a fixture, after `prepare` ran on its content.
pub(crate) struct Section<T> {
    pub path: String,
    pub content: String,
    pub prepared: T,
}

/// Writes the `//- /path` sections of `fixture` into a temp dir (a path ending in `/` makes an
/// empty folder). `prepare` turns each raw content into what is written plus extra data (e.g.
/// marker offsets). `None` when the fixture has no sections.
pub(crate) fn write_sections<T>(
    fixture: &str,
    mut prepare: impl FnMut(&str) -> (String, T),
) -> Option<(tempfile::TempDir, Vec<Section<T>>)> {
    if !fixture.trim_start().starts_with("//- ") {
        return None;
    }
    let dir = tempfile::tempdir().expect("temp dir for a fixture context");
    let mut sections = Vec::new();
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
        let (content, prepared) = prepare(content);
        std::fs::write(&full, &content).unwrap();
        sections.push(Section { path: path.to_string(), content, prepared });
    }
    Some((dir, sections))
}

pub(crate) fn parse(fixture: &str) -> CursorFixture {
    let Some((dir, sections)) = write_sections(fixture, strip_markers) else {
        let (text, offsets) = strip_markers(fixture);
        return CursorFixture { file: SourceFile::parse(&text), offsets, facts: None, _dir: None };
    };
    let kubefile = sections.iter().find(|s| s.path == "Kubefile").map(|s| s.content.clone());
    let main = sections.into_iter().rev().find(|s| !s.prepared.is_empty()).map(|s| (s.content, s.prepared));
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

/// Every feature at every offset of tricky inputs (and at sampled offsets of every corpus build
/// file) returns without panicking, with ranges on character boundaries inside the text.
#[test]
fn features_never_panic() {
    use crate::analysis::{
        actions, code_lens, completion, docs::DocOptions, folding, format, hover, inlay_hints, links, navigation,
        semantic_tokens, signature_help, symbols, Config,
    };
    let tricky = [
        "",
        "FROM",
        "# escape=`\nFROM scratch\nRUN a `\n  b\nCOPY [\"a\", `\n  \"b\"]\n",
        "FROM scratch\r\nLABEL a=\"é😀 \\\r\n  ü\" b=c\r\nENV 名前=值 X=${名前:-\"默认\"}\r\nCMD [\"echo $(名前) $(X)\"]\r\n",
        "FROM alpine AS a\nRUN <<EOF cat <<-\"TWO\"\n$X ${Y\nEOF\n\tTWO\nCOPY --from=a <<A /x\nA\nONBUILD RUN echo $Z\nHEALTHCHECK --interval=5s CMD [\"a\",\nFROM a\nCOPY --from= /\n",
        "ARG\nENV\nLABEL =\nENV A\nCMD [\"\nCMD $(\nCMD ${\nENV A=${\nFROM --platform=\nCOPY --\nFOO bar\n\\\n",
        "FROM scratch\nENV A=1 \\\n# comment \\\n\n    B=2\nLABEL sealos.io.type=rootfs vip=\"\\$defaultVIP\" init=\"x $registryDomain\"\nCMD [\"bash\", \"init.sh\"]\n",
    ];
    let config = Config::default();
    let check = |text: &str, offsets: &mut dyn Iterator<Item = usize>| {
        let file = SourceFile::parse(text);
        let len = text.len();
        let ok = |range: &TextRange| range.start <= range.end && range.end <= len && text.is_char_boundary(range.start) && text.is_char_boundary(range.end);
        for symbol in symbols::document_symbols(&file) {
            assert!(ok(&symbol.range) && ok(&symbol.selection_range));
        }
        for fold in folding::folding_ranges(&file) {
            assert!(ok(&fold.range));
        }
        for token in semantic_tokens::semantic_tokens(&file, None) {
            assert!(ok(&token.range) && !token.range.is_empty(), "{token:?} in {text:?}");
        }
        let _ = semantic_tokens::encode(&file, &semantic_tokens::semantic_tokens(&file, None), crate::syntax::PositionEncoding::Utf16);
        let edits = format::format(&file, &format::FormatOptions::default());
        assert!(edits.iter().all(|edit| ok(&edit.range)));
        let formatted = apply(text, &edits);
        let again = SourceFile::parse(&formatted);
        assert_eq!(apply(&formatted, &format::format(&again, &format::FormatOptions::default())), formatted, "{text:?}");
        let _ = links::document_links(&file, None);
        let _ = inlay_hints::inlay_hints(&file, 0..len, None, &inlay_hints::InlayHintOptions::default());
        let _ = code_lens::code_lenses(&file, Some(&ContextFacts::default()), &code_lens::CodeLensOptions::default());
        for offset in offsets {
            if !text.is_char_boundary(offset) {
                continue;
            }
            for item in completion::completion(&file, offset, None, &config, &completion::CompletionOptions::default()) {
                assert!(ok(&item.edit_range) && item.edit_range.start <= offset && offset <= item.edit_range.end, "{item:?} at {offset} in {text:?}");
            }
            if let Some(found) = hover::hover(&file, offset, None, &config, &hover::HoverOptions::default()) {
                assert!(ok(&found.range));
            }
            let _ = signature_help::signature_help(&file, offset, &DocOptions::default());
            for target in navigation::goto_definition(&file, offset) {
                assert!(ok(&target.full_range) && ok(&target.focus_range));
            }
            for range in navigation::references(&file, offset, true) {
                assert!(ok(&range));
            }
            let _ = navigation::document_highlights(&file, offset);
            if let Ok(edits) = navigation::rename(&file, offset, "RENAMED") {
                assert!(edits.iter().all(|edit| ok(&edit.range)));
            }
            let _ = symbols::selection_ranges(&file, &[offset]);
            let _ = format::format_on_type(&file, offset, '\n', &format::FormatOptions::default());
            for action in actions::code_actions(&file, offset..offset, None, &config, &actions::ActionOptions::default()) {
                assert!(action.edits.iter().all(|edit| ok(&edit.range)));
            }
        }
    };
    for text in tricky {
        check(text, &mut (0..=text.len()));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image");
    let Ok(index) = std::fs::read_to_string(root.join("INDEX.tsv")) else { return };
    for line in index.lines().skip(1) {
        let path = line.split('\t').next().unwrap_or_default();
        let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
        let stride = (text.len() / 12).max(1);
        check(&text, &mut (0..=text.len()).step_by(stride));
    }
}
