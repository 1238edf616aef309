//! An open document: its text in a rope, the syntax tree kept up to date by incremental
//! re-parsing, and the editor's version number.
//!
//! Edits arrive as ranges of line/column positions in the negotiated encoding. Each edit updates
//! the rope and tells the tree what changed (`Tree::edit` with byte offsets and tree-sitter
//! points, whose columns are bytes); the next parse then reuses every subtree the edit did not
//! touch. Lines are separated by `\n` only (ropey is built without its `cr_lines`/`unicode_lines`
//! features), which is what tree-sitter rows and [`LineIndex`](super::LineIndex) count; a `\r`
//! before the `\n` belongs to the line's content but positions past the line's end clamp before it.

use std::{cell::RefCell, ops::Range, sync::Arc};

use ropey::Rope;
use tree_sitter::{InputEdit, Point, Tree};

use super::{LineCol, LineIndex, PositionEncoding, SourceFile};

thread_local! {
    /// Parsers hold allocations worth reusing; one per thread is enough since parsing is synchronous.
    static PARSER: RefCell<tree_sitter::Parser> = RefCell::new(super::parser());
}

/// The text, tree and version of one open document.
pub struct Document {
    rope: Rope,
    /// The rope's line starts, updated by each edit (shared with the snapshot until the next one).
    line_index: Arc<LineIndex>,
    tree: Tree,
    version: i32,
    /// Edits have been applied to the rope and the tree since the last parse.
    stale_tree: bool,
    /// The tree describes an earlier state of the rope, edited to match it (false after a full
    /// replacement, until the next parse).
    tree_reusable: bool,
    /// Counts edits, so that a parse done outside the document can tell whether it is still current.
    edits: u64,
    /// The text and tree as a [`SourceFile`], built on demand and dropped by the next edit.
    snapshot: Option<SourceFile>,
    /// The text as it was given, until the first edit: the first parse takes it instead of
    /// copying it out of the rope.
    text: Option<Arc<String>>,
}

impl Document {
    /// A document with `text`, parsed from scratch.
    pub fn new(text: &str, version: i32) -> Document {
        let tree = parse_str(text, None);
        let line_index = Arc::new(LineIndex::new(text));
        let snapshot = SourceFile::with_line_index(Arc::new(text.to_owned()), tree.clone(), line_index.clone());
        Document {
            rope: Rope::from_str(text),
            line_index,
            tree,
            version,
            stale_tree: false,
            tree_reusable: true,
            edits: 0,
            snapshot: Some(snapshot),
            text: None,
        }
    }

    /// A document with `text` whose parse is left to the first [`snapshot`](Self::snapshot),
    /// [`tree`](Self::tree) or [`ParseJob`], so it can happen off the caller's thread. A `String`
    /// given by value is what the first parse reads (see [`release_text`](Self::release_text)).
    pub fn unparsed(text: impl Into<String>, version: i32) -> Document {
        let text = text.into();
        Document {
            rope: Rope::from_str(&text),
            line_index: Arc::new(LineIndex::new(&text)),
            tree: parse_str("", None),
            version,
            stale_tree: true,
            tree_reusable: false,
            edits: 0,
            snapshot: None,
            text: Some(Arc::new(text)),
        }
    }

    /// Lets go of the contiguous text an unparsed document keeps for its first parse (a document
    /// that is kept as text only would otherwise hold its text twice).
    pub fn release_text(&mut self) {
        self.text = None;
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn set_version(&mut self, version: i32) {
        self.version = version;
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    pub fn len_bytes(&self) -> usize {
        self.rope.len_bytes()
    }

    /// The syntax tree of the current text (re-parses first if edits are pending).
    pub fn tree(&mut self) -> &Tree {
        self.reparse();
        &self.tree
    }

    /// Replaces `range` (the whole text when `None`) with `new_text` and re-parses incrementally.
    /// Positions out of range clamp: past a line's end to the end of its content, past the last
    /// line to the end of the text; an end before the start is treated as the start.
    pub fn apply_change(&mut self, range: Option<Range<LineCol>>, new_text: &str, encoding: PositionEncoding) {
        self.edit(range, new_text, encoding);
        self.reparse();
    }

    /// Applies several changes in order (as one `didChange` carries them), parsing once at the end.
    pub fn apply_changes<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (Option<Range<LineCol>>, &'a str)>,
        encoding: PositionEncoding,
    ) {
        for (range, text) in changes {
            self.edit(range, text, encoding);
        }
        self.reparse();
    }

    /// Updates the rope and marks the edit in the tree, deferring the parse to the next
    /// [`snapshot`](Self::snapshot), [`tree`](Self::tree) or [`ParseJob`]: a burst of edits then
    /// costs one incremental parse. Positions clamp as in [`apply_change`](Self::apply_change).
    pub fn edit(&mut self, range: Option<Range<LineCol>>, new_text: &str, encoding: PositionEncoding) {
        self.snapshot = None;
        self.text = None;
        self.edits += 1;
        let Some(range) = range else {
            // Full replacement: the old tree has nothing to offer; the next parse starts afresh.
            self.rope = Rope::from_str(new_text);
            self.line_index = Arc::new(LineIndex::new(new_text));
            self.stale_tree = true;
            self.tree_reusable = false;
            return;
        };
        let start_byte = self.offset(range.start, encoding);
        let old_end_byte = self.offset(range.end, encoding).max(start_byte);
        let start_position = self.point(start_byte);
        let old_end_position = self.point(old_end_byte);

        let start_char = self.rope.byte_to_char(start_byte);
        let old_end_char = self.rope.byte_to_char(old_end_byte);
        self.rope.remove(start_char..old_end_char);
        self.rope.insert(start_char, new_text);
        Arc::make_mut(&mut self.line_index).edit(start_byte..old_end_byte, new_text);

        let new_end_byte = start_byte + new_text.len();
        let new_end_position = advance(start_position, new_text);
        self.tree.edit(&InputEdit {
            start_byte,
            old_end_byte,
            new_end_byte,
            start_position,
            old_end_position,
            new_end_position,
        });
        self.stale_tree = true;
    }

    fn reparse(&mut self) {
        if self.stale_tree || self.snapshot.is_none() {
            let snapshot = self.parse_job().run();
            self.install(snapshot);
        }
    }

    /// The current text and tree, for analysis. Cheap when nothing changed since the last call.
    pub fn snapshot(&mut self) -> SourceFile {
        self.reparse();
        self.snapshot.clone().expect("reparse leaves a snapshot")
    }

    /// The snapshot if it is up to date, without parsing.
    pub fn cached_snapshot(&self) -> Option<SourceFile> {
        self.snapshot.clone()
    }

    /// What is needed to bring the tree up to date away from the document (and any lock around
    /// it): cloning a rope or a tree is cheap, both share their nodes.
    pub fn parse_job(&self) -> ParseJob {
        let old_tree = self.tree_reusable.then(|| self.tree.clone());
        ParseJob {
            text: self.text.clone(),
            rope: self.rope.clone(),
            line_index: self.line_index.clone(),
            old_tree,
            stale_tree: self.stale_tree,
            edits: self.edits,
        }
    }

    /// Keeps the result of a [`ParseJob`] if no edit happened since the job was taken.
    /// Returns whether it was kept.
    pub fn install(&mut self, parsed: ParsedSnapshot) -> bool {
        if parsed.edits != self.edits {
            return false;
        }
        self.tree = parsed.file.tree().clone();
        self.stale_tree = false;
        self.tree_reusable = true;
        self.snapshot = Some(parsed.file);
        true
    }

    /// The byte offset of a line/column position, clamped into the text (never panics).
    pub fn offset(&self, pos: LineCol, encoding: PositionEncoding) -> usize {
        let rope = &self.rope;
        let line = pos.line as usize;
        if line >= rope.len_lines() {
            return rope.len_bytes();
        }
        let start = rope.line_to_byte(line);
        let end = self.line_content_end(line);
        let offset = match encoding {
            PositionEncoding::Utf8 => {
                let byte = start.saturating_add(pos.col as usize).min(end);
                // Snap back to the start of the character holding `byte`.
                rope.char_to_byte(rope.byte_to_char(byte))
            }
            PositionEncoding::Utf16 => {
                let start_char = rope.byte_to_char(start);
                let start_cu = rope.char_to_utf16_cu(start_char);
                let end_cu = rope.char_to_utf16_cu(rope.byte_to_char(end));
                let target_cu = start_cu.saturating_add(pos.col as usize).min(end_cu);
                rope.char_to_byte(rope.utf16_cu_to_char(target_cu))
            }
        };
        offset.min(end)
    }

    /// The byte offset where `line`'s content ends (before `\n` or `\r\n`).
    fn line_content_end(&self, line: usize) -> usize {
        let rope = &self.rope;
        let mut end = if line + 1 < rope.len_lines() { rope.line_to_byte(line + 1) } else { rope.len_bytes() };
        let start = rope.line_to_byte(line);
        if end > start && rope.byte(end - 1) == b'\n' {
            end -= 1;
            if end > start && rope.byte(end - 1) == b'\r' {
                end -= 1;
            }
        }
        end
    }

    /// The tree-sitter point (row, byte column) of a byte offset.
    fn point(&self, byte: usize) -> Point {
        let row = self.rope.byte_to_line(byte);
        Point { row, column: byte - self.rope.line_to_byte(row) }
    }
}

/// An incremental parse taken out of a [`Document`], to run on any thread.
pub struct ParseJob {
    /// The text, when the document still has it contiguous (no edit since it was created).
    text: Option<Arc<String>>,
    rope: Rope,
    line_index: Arc<LineIndex>,
    /// `None` to parse from scratch.
    old_tree: Option<Tree>,
    stale_tree: bool,
    edits: u64,
}

/// The result of a [`ParseJob`]: the snapshot of the document as it was when the job was taken.
pub struct ParsedSnapshot {
    pub file: SourceFile,
    edits: u64,
}

impl ParseJob {
    /// Copies the text out of the rope (unless the document still has it contiguous) and parses
    /// it, reusing the old tree's unchanged subtrees. (Parsing from the contiguous copy measured
    /// faster than feeding tree-sitter rope chunks, and analysis needs the copy anyway.)
    pub fn run(self) -> ParsedSnapshot {
        let text = self.text.unwrap_or_else(|| rope_to_arc(&self.rope));
        let tree = match self.old_tree {
            Some(tree) if !self.stale_tree => tree,
            old_tree => parse_str(&text, old_tree.as_ref()),
        };
        ParsedSnapshot { file: SourceFile::with_line_index(text, tree, self.line_index), edits: self.edits }
    }
}

/// Where a point ends up after `text` is inserted at it.
fn advance(start: Point, text: &str) -> Point {
    match text.rfind('\n') {
        Some(last) => Point { row: start.row + text.matches('\n').count(), column: text.len() - last - 1 },
        None => Point { row: start.row, column: start.column + text.len() },
    }
}

/// The rope's text, copied once: the `String` is moved into the `Arc`, not copied again (an
/// `Arc<str>` would copy it a second time and hold both for a moment, on every edit of a big file).
fn rope_to_arc(rope: &Rope) -> Arc<String> {
    let mut text = String::with_capacity(rope.len_bytes());
    for chunk in rope.chunks() {
        text.push_str(chunk);
    }
    Arc::new(text)
}

/// Above this size a parse from scratch leaves the parser a fresh one: tree-sitter keeps the parse
/// stack's buffers it grew (4.4 MB after a 340 KB file), and an incremental parse needs a fraction.
const KEEP_PARSER_BELOW: usize = 64 * 1024;

fn parse_str(text: &str, old_tree: Option<&Tree>) -> Tree {
    PARSER.with_borrow_mut(|parser| {
        let tree =
            parser.parse(text, old_tree).expect("parsing without a timeout or cancellation flag always yields a tree");
        if old_tree.is_none() && text.len() > KEEP_PARSER_BELOW {
            *parser = super::parser();
        }
        tree
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses by reading the rope's chunks in place, so no contiguous copy of the text is needed.
    fn parse_rope(rope: &Rope, old_tree: Option<&Tree>) -> Tree {
        let len = rope.len_bytes();
        let mut read = |byte: usize, _: Point| -> &[u8] {
            if byte >= len {
                return &[];
            }
            let (chunk, chunk_start, _, _) = rope.chunk_at_byte(byte);
            &chunk.as_bytes()[byte - chunk_start..]
        };
        PARSER.with_borrow_mut(|parser| {
            parser
                .parse_with_options(&mut read, old_tree, None)
                .expect("parsing without a timeout or cancellation flag always yields a tree")
        })
    }

    /// Every node (named or not) with its kind, byte range and points: stricter than `to_sexp`.
    fn dump(tree: &Tree) -> String {
        let mut out = String::new();
        let mut cursor = tree.walk();
        let mut depth = 0;
        loop {
            let node = cursor.node();
            let field = cursor.field_name().map(|f| format!("{f}: ")).unwrap_or_default();
            out.push_str(&format!(
                "{}{field}{}{} {:?} {:?}-{:?}\n",
                "  ".repeat(depth),
                if node.is_missing() { "MISSING " } else { "" },
                node.kind(),
                node.byte_range(),
                (node.start_position().row, node.start_position().column),
                (node.end_position().row, node.end_position().column),
            ));
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return out;
                }
                depth -= 1;
            }
        }
    }

    fn assert_matches_fresh_parse(doc: &mut Document, context: &str) {
        let snapshot = doc.snapshot();
        let text = snapshot.text().to_owned();
        assert_eq!(text, doc.rope().to_string(), "{context}");
        assert_eq!(*snapshot.line_index(), LineIndex::new(&text), "{context}: line index");
        let fresh = parse_str(&text, None);
        let incremental = dump(snapshot.tree());
        let expected = dump(&fresh);
        if incremental != expected {
            panic!(
                "{context}\nincremental tree differs from a fresh parse of:\n{text:?}\n--- incremental\n{incremental}\n--- fresh\n{expected}"
            );
        }
        assert_eq!(snapshot.tree().root_node().to_sexp(), fresh.root_node().to_sexp(), "{context}");
    }

    fn lc(line: u32, col: u32) -> LineCol {
        LineCol { line, col }
    }

    /// The UTF-16 or UTF-8 position of a byte offset in `text` (for building edits in tests).
    fn position(text: &str, byte: usize, encoding: PositionEncoding) -> LineCol {
        let before = &text[..byte];
        let line = before.matches('\n').count() as u32;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = match encoding {
            PositionEncoding::Utf8 => byte - line_start,
            PositionEncoding::Utf16 => before[line_start..].encode_utf16().count(),
        };
        lc(line, col as u32)
    }

    const SEED_TEXT: &str = "# syntax=docker/dockerfile:1\nARG BASE=alpine\nFROM ${BASE} AS build\r\nLABEL sealos.io.type=\"rootfs\" \\\n      version=\"v1.2.3\" note=\"día 😀\"\nENV A=1 B=\"two words\"\nRUN echo $A && \\\n    echo ${B:-x}\nCOPY --from=build registry registry\nRUN <<EOF\necho heredoc\nEOF\nCMD [\"bash init.sh $(NAME)\"]\n";

    const SNIPPETS: &[&str] = &[
        "",
        " ",
        "\n",
        "\r\n",
        "\\\n",
        "RUN ",
        "FROM scratch\n",
        "COPY . .\n",
        "LABEL a=b\n",
        "ENV X=$Y\n",
        "\"",
        "[",
        "]",
        "${",
        "}",
        "$(NAME)",
        "é",
        "😀",
        "日本",
        "# comment\n",
        "<<EOF\nbody\nEOF\n",
        "CMD [\"a\", \"b\"]\n",
        "\t",
        "FORM x\n",
    ];

    /// A small deterministic generator (xorshift), so the test needs no extra dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A position an LSP client can express: a character boundary, not between `\r` and `\n`.
    fn char_boundary_at_or_before(text: &str, mut i: usize) -> usize {
        while !text.is_char_boundary(i) || (i > 0 && text[..i].ends_with('\r') && text[i..].starts_with('\n')) {
            i -= 1;
        }
        i
    }

    #[test]
    fn random_edits_keep_the_tree_equal_to_a_fresh_parse() {
        for encoding in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut doc = Document::new(SEED_TEXT, 1);
            assert_matches_fresh_parse(&mut doc, "initial");
            for step in 0..400 {
                // One to three edits before the tree is looked at, as one didChange may carry.
                let mut description = String::new();
                for _ in 0..1 + rng.below(3) {
                    let text = doc.rope().to_string();
                    let a = char_boundary_at_or_before(&text, rng.below(text.len() + 1));
                    let span = if rng.below(3) == 0 { 0 } else { rng.below(12) };
                    let b = char_boundary_at_or_before(&text, (a + span).min(text.len()));
                    let insert = SNIPPETS[rng.below(SNIPPETS.len())];
                    let range = position(&text, a, encoding)..position(&text, b, encoding);
                    doc.edit(Some(range.clone()), insert, encoding);
                    let mut expected = text.clone();
                    expected.replace_range(a..b, insert);
                    assert_eq!(doc.rope().to_string(), expected, "step {step}: text after replacing {range:?}");
                    description.push_str(&format!("{range:?} -> {insert:?}; "));
                }
                assert_matches_fresh_parse(&mut doc, &format!("{encoding:?} step {step}: {description}"));
                if doc.len_bytes() > 4000 {
                    doc.apply_change(None, SEED_TEXT, encoding);
                }
            }
        }
    }

    #[test]
    fn several_changes_in_one_notification_parse_once() {
        let mut doc = Document::new("FROM a\nRUN b\n", 1);
        doc.apply_changes(
            [
                (Some(lc(0, 5)..lc(0, 6)), "scratch"),
                (Some(lc(1, 0)..lc(1, 5)), "COPY . ."),
                (Some(lc(2, 0)..lc(2, 0)), "CMD [\"x\"]\n"),
            ],
            PositionEncoding::Utf16,
        );
        assert_eq!(doc.rope().to_string(), "FROM scratch\nCOPY . .\nCMD [\"x\"]\n");
        assert_matches_fresh_parse(&mut doc, "batched");
    }

    #[test]
    fn crlf_lines_clamp_before_the_carriage_return() {
        let mut doc = Document::new("FROM a\r\nRUN b\r\n", 1);
        assert_eq!(doc.offset(lc(0, 99), PositionEncoding::Utf16), 6);
        assert_eq!(doc.offset(lc(1, 0), PositionEncoding::Utf16), 8);
        doc.apply_change(Some(lc(0, 99)..lc(0, 99)), " AS x", PositionEncoding::Utf16);
        assert_eq!(doc.rope().to_string(), "FROM a AS x\r\nRUN b\r\n");
        doc.apply_change(Some(lc(1, 4)..lc(1, 5)), "c \\\r\n  d", PositionEncoding::Utf16);
        assert_eq!(doc.rope().to_string(), "FROM a AS x\r\nRUN c \\\r\n  d\r\n");
        assert_matches_fresh_parse(&mut doc, "crlf");
    }

    #[test]
    fn lines_are_separated_by_line_feeds_only() {
        // A lone CR or a Unicode line separator is not a line break for tree-sitter or LineIndex;
        // this guards against ropey's `cr_lines`/`unicode_lines` features being switched on.
        let doc = Document::new("a\rb\u{2028}c\u{85}d\ne", 1);
        assert_eq!(doc.rope().len_lines(), 2);
        assert_eq!(doc.offset(lc(1, 0), PositionEncoding::Utf16), "a\rb\u{2028}c\u{85}d\n".len());
    }

    #[test]
    fn multi_byte_and_astral_characters_in_both_encodings() {
        let text = "LABEL a=\"é😀\" b=c\n";
        let mut doc = Document::new(text, 1);
        let b = text.find("b=").unwrap();
        // é is 1 UTF-16 unit / 2 bytes, 😀 is 2 units / 4 bytes.
        assert_eq!(doc.offset(lc(0, 14), PositionEncoding::Utf16), b);
        assert_eq!(doc.offset(lc(0, 17), PositionEncoding::Utf8), b);
        // Inside the surrogate pair or inside a UTF-8 sequence: the character's start.
        let emoji = text.find('😀').unwrap();
        assert_eq!(doc.offset(lc(0, 11), PositionEncoding::Utf16), emoji);
        assert_eq!(doc.offset(lc(0, 13), PositionEncoding::Utf8), emoji);
        doc.apply_change(Some(lc(0, 10)..lc(0, 12)), "🚀🚀", PositionEncoding::Utf16);
        assert_eq!(doc.rope().to_string(), "LABEL a=\"é🚀🚀\" b=c\n");
        doc.apply_change(Some(lc(0, 9)..lc(0, 11)), "", PositionEncoding::Utf8);
        assert_eq!(doc.rope().to_string(), "LABEL a=\"🚀🚀\" b=c\n");
        assert_matches_fresh_parse(&mut doc, "astral");
    }

    #[test]
    fn out_of_range_positions_clamp_instead_of_panicking() {
        let mut doc = Document::new("FROM a\n", 1);
        doc.apply_change(Some(lc(7, 3)..lc(2, 0)), "RUN x\n", PositionEncoding::Utf16);
        assert_eq!(doc.rope().to_string(), "FROM a\nRUN x\n");
        doc.apply_change(Some(lc(0, 4)..lc(0, 2)), "!", PositionEncoding::Utf8);
        assert_eq!(doc.rope().to_string(), "FROM! a\nRUN x\n");
        doc.apply_change(Some(lc(0, u32::MAX)..lc(u32::MAX, u32::MAX)), "", PositionEncoding::Utf16);
        assert_eq!(doc.rope().to_string(), "FROM! a");
        assert_matches_fresh_parse(&mut doc, "clamped");
    }

    #[test]
    fn full_replacement_and_snapshot_caching() {
        let mut doc = Document::new("FROM a\n", 1);
        let first = doc.snapshot();
        assert_eq!(first.text().as_ptr(), doc.snapshot().text().as_ptr());
        doc.apply_change(None, "FROM b\nCOPY . .\n", PositionEncoding::Utf16);
        let second = doc.snapshot();
        assert_eq!(second.text(), "FROM b\nCOPY . .\n");
        assert_eq!(first.text(), "FROM a\n");
        assert_matches_fresh_parse(&mut doc, "replaced");
    }

    #[test]
    fn an_unparsed_document_parses_on_first_use_even_after_edits() {
        let mut doc = Document::unparsed("FROM a\n", 3);
        assert!(doc.cached_snapshot().is_none());
        doc.edit(Some(lc(0, 5)..lc(0, 6)), "scratch", PositionEncoding::Utf16);
        assert_eq!(doc.version(), 3);
        assert_eq!(doc.snapshot().text(), "FROM scratch\n");
        assert_matches_fresh_parse(&mut doc, "unparsed");
    }

    #[test]
    fn parse_job_results_are_kept_only_while_current() {
        let mut doc = Document::new("FROM a\n", 1);
        doc.edit(Some(lc(1, 0)..lc(1, 0)), "RUN b\n", PositionEncoding::Utf16);
        assert!(doc.cached_snapshot().is_none());
        let job = doc.parse_job();
        doc.edit(Some(lc(2, 0)..lc(2, 0)), "COPY . .\n", PositionEncoding::Utf16);
        let outdated = job.run();
        assert_eq!(outdated.file.text(), "FROM a\nRUN b\n");
        assert!(!doc.install(outdated));
        let current = doc.parse_job().run();
        assert!(doc.install(current));
        assert_eq!(doc.cached_snapshot().unwrap().text(), "FROM a\nRUN b\nCOPY . .\n");
        assert_matches_fresh_parse(&mut doc, "parse job");
    }

    #[test]
    fn the_first_parse_reads_the_text_given_and_edits_read_the_rope() {
        let text = String::from("FROM a\nRUN b\n");
        let given = text.as_ptr();
        let mut doc = Document::unparsed(text, 1);
        assert_eq!(doc.snapshot().text().as_ptr(), given, "the text is parsed where it was given, not copied");
        doc.edit(Some(LineCol { line: 1, col: 4 }..LineCol { line: 1, col: 5 }), "c", PositionEncoding::Utf16);
        assert_eq!(doc.snapshot().text(), "FROM a\nRUN c\n");
        assert_matches_fresh_parse(&mut doc, "edit after the first parse");

        let mut released = Document::unparsed("FROM a\n", 1);
        released.release_text();
        assert_eq!(released.snapshot().text(), "FROM a\n", "parsed from the rope instead");
    }

    /// Not a test: times parsing a 10k-line file from rope chunks vs. from a contiguous copy.
    /// `cargo test --release -p kubefile-ls --lib document::tests::parse_strategies -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn parse_strategies() {
        use std::time::Instant;
        let mut text =
            std::env::var("KUBEFILE_BENCH_FILE").map(|path| std::fs::read_to_string(path).unwrap()).unwrap_or_default();
        while text.lines().count() < 10_000 {
            text.push_str(SEED_TEXT);
        }
        let mut doc = Document::new(&text, 1);
        let mid_line = text.lines().count() / 2;
        let mid_col = text.lines().nth(mid_line).unwrap().len() as u32;
        let middle = lc(mid_line as u32, mid_col);
        let rounds = 200;
        let (mut chunks, mut contiguous, mut copy_only) = (0u128, 0u128, 0u128);
        for i in 0..rounds {
            let insert = if i % 2 == 0 { " " } else { "" };
            let range = if i % 2 == 0 { middle..middle } else { middle..lc(middle.line, middle.col + 1) };
            doc.edit(Some(range), insert, PositionEncoding::Utf16);
            let old = doc.tree.clone();
            let t = Instant::now();
            let a = parse_rope(&doc.rope, Some(&old));
            chunks += t.elapsed().as_micros();
            let t = Instant::now();
            let string = rope_to_arc(&doc.rope);
            copy_only += t.elapsed().as_micros();
            let b = parse_str(&string, Some(&old));
            contiguous += t.elapsed().as_micros();
            assert_eq!(a.root_node().child_count(), b.root_node().child_count());
            doc.tree = a;
            doc.stale_tree = false;
        }
        let t = Instant::now();
        let _ = parse_str(&text, None);
        let full = t.elapsed().as_micros();
        println!(
            "{} bytes: incremental from rope chunks {} µs, copy+incremental from string {} µs (copy {} µs), full parse {} µs",
            text.len(),
            chunks / rounds,
            contiguous / rounds,
            copy_only / rounds,
            full
        );
    }
}
