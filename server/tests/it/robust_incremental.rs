//! Differential test of incremental parsing: random `didChange` sequences applied to corpus files
//! through the server's own path (`Document::unparsed` as on `didOpen`, `Document::edit` for each
//! content change, then a snapshot or a parse job as the publisher takes it), asserting after
//! every notification that the rope is the text the client holds and that the incrementally
//! re-parsed tree is node for node (kind, field, byte range, points, MISSING) the tree a fresh
//! parse of that text gives.
//!
//! Edits span line continuations, heredocs, CRLF line ends, `# escape=` changes, multi-byte and
//! astral-plane characters, in UTF-16 and UTF-8 positions, including positions past the end of a
//! line or the file and inside a surrogate pair (the expected text follows the documented clamping,
//! computed here independently).
//!
//! Bounded for CI (`CASES` cases); `PROPTEST_CASES=5000 cargo test -p kubefile-ls --test
//! robust_incremental` runs more. Failures are not persisted to files: a shrunk failing case is
//! printed, and belongs in `pinned_cases` below once understood.

use std::{path::Path, sync::OnceLock};

use kubefile_ls::syntax::{document::Document, LineCol, PositionEncoding, SourceFile};
use proptest::{prelude::*, sample::Index, test_runner::Config};
use tree_sitter::Tree;

const CASES: u32 = 128;

/// Fragments that make edits interesting for the scanner: continuations, heredocs, quotes,
/// templates, directives, line ends and wide characters.
const FRAGMENTS: &[&str] = &[
    "\\\n", "\\\r\n", " \\\n    ", "`\n", "\n", "\r\n", "\r", "<<EOF\n", "<<-EOT\n", "EOF\n", "\tEOT\n", "<<\"X\" <<Y\n",
    "RUN ", "FROM scratch\n", "COPY --from=build a b\n", "LABEL a=\"b c\" \\\n", "ENV A=1 B=${A:-x}\n",
    "CMD [\"a\", \"b\"]\n", "[\"", "\"]", "\"", "'", "$(NAME)", "${", "}", "$", "# escape=`\n", "# syntax=x\n",
    "# comment\n", "ARG V\n", "é", "😀", "日本", "\u{2028}", "\u{feff}", "\0", " ", "=",
];

fn corpus() -> &'static [String] {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image");
        let index = std::fs::read_to_string(root.join("INDEX.tsv")).expect("corpus INDEX.tsv (../shared/corpus beside the repo)");
        let files: Vec<String> = index
            .lines()
            .skip(1)
            .filter_map(|line| std::fs::read_to_string(root.join(line.split('\t').next()?)).ok())
            .collect();
        assert!(files.len() > 300, "only {} corpus files", files.len());
        files
    })
}

/// One content change, with its positions still to be placed in the text it applies to.
#[derive(Clone, Debug)]
enum ChangeSpec {
    /// Replace `len` bytes from byte `start` (modulo the text's length; both ends snapped back to
    /// character boundaries), with `quirk` making the client's positions awkward.
    Range { start: usize, len: usize, text: String, quirk: Quirk },
    /// A whole-document change (`range` absent).
    Full { text: String },
}

#[derive(Clone, Copy, Debug)]
enum Quirk {
    None,
    /// The end's column is far past its line's end.
    EndPastLineEnd,
    /// The end's line is past the last line.
    EndPastLastLine,
    /// The start's column is one unit further (inside a surrogate pair or a UTF-8 sequence when
    /// the character there is wide).
    StartOneUnitIn,
    /// Start and end swapped (an end before the start).
    Reversed,
}

fn insertion() -> impl Strategy<Value = String> {
    let fragment = prop::sample::select(FRAGMENTS).prop_map(str::to_owned);
    let typed = "[a-zA-Z0-9 =$\\\\{}()\"'#<>\\-\\[\\]\t\r\néü😀]{0,6}";
    prop::collection::vec(prop_oneof![3 => fragment, 2 => typed], 0..4).prop_map(|parts| parts.concat())
}

fn change() -> impl Strategy<Value = ChangeSpec> {
    let quirk = prop_oneof![
        12 => Just(Quirk::None),
        1 => Just(Quirk::EndPastLineEnd),
        1 => Just(Quirk::EndPastLastLine),
        2 => Just(Quirk::StartOneUnitIn),
        1 => Just(Quirk::Reversed),
    ];
    prop_oneof![
        60 => (any::<usize>(), prop_oneof![0..1usize, 0..40usize], insertion(), quirk)
            .prop_map(|(start, len, text, quirk)| ChangeSpec::Range { start, len, text, quirk }),
        1 => insertion().prop_map(|text| ChangeSpec::Full { text }),
    ]
}

/// The starting text: a corpus file as is, with CRLF line ends, or with `# escape=\``.
fn document() -> impl Strategy<Value = String> {
    (any::<Index>(), 0..4u8).prop_map(|(file, variant)| {
        let text = &corpus()[file.index(corpus().len())];
        match variant {
            0 => text.replace('\n', "\r\n"),
            1 => format!("# escape=`\n{text}"),
            _ => text.clone(),
        }
    })
}

/// The position a client holding `text` sends for byte `offset`.
fn position(text: &str, offset: usize, encoding: PositionEncoding) -> LineCol {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol { line: before.matches('\n').count() as u32, col: units(&before[line_start..], encoding) }
}

fn units(s: &str, encoding: PositionEncoding) -> u32 {
    match encoding {
        PositionEncoding::Utf8 => s.len() as u32,
        PositionEncoding::Utf16 => s.encode_utf16().count() as u32,
    }
}

/// Where the server must place `pos` in `text`, per its documented clamping: past the last line
/// → end of text; past a line's content (which excludes `\n` and a `\r` before it, but not a
/// `\r` ending the text) → end of content; inside a character → its start.
fn clamped_offset(text: &str, pos: LineCol, encoding: PositionEncoding) -> usize {
    let mut line_start = 0;
    for _ in 0..pos.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[line_start..];
    let content = match rest.find('\n') {
        // Only `\n` ends a line; a `\r` right before it is part of the line end, any other is content.
        Some(end) => rest[..end].strip_suffix('\r').unwrap_or(&rest[..end]),
        None => rest,
    };
    let mut used = 0;
    for (i, c) in content.char_indices() {
        let width = units(c.encode_utf8(&mut [0; 4]), encoding);
        if used + width > pos.col {
            return line_start + i;
        }
        used += width;
    }
    line_start + content.len()
}

/// A character boundary at or before `offset`.
fn floor_char(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The LSP range for `spec` in `text`, and the text after applying it (computed independently
/// of `Document`).
fn place(text: &str, spec: &ChangeSpec, encoding: PositionEncoding) -> (Option<std::ops::Range<LineCol>>, String, String) {
    let ChangeSpec::Range { start, len, text: insert, quirk } = spec else {
        let ChangeSpec::Full { text: new } = spec else { unreachable!() };
        return (None, new.clone(), new.clone());
    };
    let a = floor_char(text, start % (text.len() + 1));
    let b = floor_char(text, a + len);
    let (mut from, mut to) = (position(text, a, encoding), position(text, b, encoding));
    match quirk {
        Quirk::None => {}
        Quirk::EndPastLineEnd => to.col += 1000,
        Quirk::EndPastLastLine => to.line += 1000,
        Quirk::StartOneUnitIn => from.col += 1,
        Quirk::Reversed => std::mem::swap(&mut from, &mut to),
    }
    let start_byte = clamped_offset(text, from, encoding);
    let end_byte = clamped_offset(text, to, encoding).max(start_byte);
    let mut expected = text.to_owned();
    expected.replace_range(start_byte..end_byte, insert);
    (Some(from..to), insert.clone(), expected)
}

/// Every node (named or not) with its field, kind, byte range, points and MISSING flag.
fn dump(tree: &Tree) -> String {
    let mut out = String::new();
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        let node = cursor.node();
        out.push_str(&format!(
            "{}{}{}{} {:?} {:?}-{:?}\n",
            "  ".repeat(depth),
            cursor.field_name().map(|f| format!("{f}: ")).unwrap_or_default(),
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
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
            depth -= 1;
        }
    }
}

/// Applies `notifications` (each a list of content changes, as one `didChange` carries) to a
/// document opened with `initial`, checking text and tree after each; the parse is taken the
/// way the server takes it, alternately as a snapshot and as a parse job.
fn check(initial: &str, notifications: &[Vec<ChangeSpec>], encoding: PositionEncoding) -> Result<(), TestCaseError> {
    let mut doc = Document::unparsed(initial, 1);
    let mut text = initial.to_owned();
    for (step, changes) in notifications.iter().enumerate() {
        let mut applied = Vec::new();
        for spec in changes {
            let (range, insert, expected) = place(&text, spec, encoding);
            doc.edit(range.clone(), &insert, encoding);
            text = expected;
            applied.push((range, insert));
        }
        prop_assert_eq!(doc.rope().to_string(), text.as_str(), "step {}: text after {:?}", step, applied);
        let file = if step % 2 == 0 {
            doc.snapshot()
        } else {
            let parsed = doc.parse_job().run();
            let file = parsed.file.clone();
            prop_assert!(doc.install(parsed), "step {}: a parse job taken with no edit since is current", step);
            file
        };
        prop_assert_eq!(file.text(), text.as_str());
        let fresh = SourceFile::parse(&text);
        let (incremental, expected) = (dump(file.tree()), dump(fresh.tree()));
        if incremental != expected {
            let diff_at = incremental.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(0);
            return Err(TestCaseError::fail(format!(
                "step {step}: incremental tree differs from a fresh parse after {applied:?}\ntext: {text:?}\nfirst difference at dump line {diff_at}:\n  incremental: {:?}\n  fresh:       {:?}",
                incremental.lines().nth(diff_at),
                expected.lines().nth(diff_at),
            )));
        }
    }
    Ok(())
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(CASES);
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn incremental_parse_equals_a_fresh_parse_after_every_change(
        initial in document(),
        notifications in prop::collection::vec(prop::collection::vec(change(), 1..4), 1..30),
        utf8 in any::<bool>(),
    ) {
        let encoding = if utf8 { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
        check(&initial, &notifications, encoding)?;
    }
}

/// Cases worth keeping whatever the random generator does, each checked step by step.
#[test]
fn pinned_cases() {
    let at = |start: usize, len: usize, text: &str, quirk: Quirk| vec![ChangeSpec::Range { start, len, text: text.to_owned(), quirk }];
    let utf16 = PositionEncoding::Utf16;
    let continuation = "FROM a\nRUN a \\\n    b\nCOPY x y\n";
    // Deleting and restoring the escape of a continuation.
    check(continuation, &[at(13, 1, "", Quirk::None), at(13, 0, "\\", Quirk::None)], utf16).unwrap();
    // A continuation typed at the end of a line, then a CRLF one.
    check(continuation, &[at(8, 0, " \\", Quirk::EndPastLineEnd), at(6, 1, "\\\r\n", Quirk::None)], utf16).unwrap();
    // Breaking and restoring a heredoc terminator, and removing the heredoc's opener.
    let heredoc = "FROM a\nRUN <<EOF\necho $X\nEOF\nCOPY x y\n";
    check(heredoc, &[at(26, 1, "X", Quirk::None), at(26, 1, "O", Quirk::None), at(11, 5, "", Quirk::None)], utf16).unwrap();
    // Inside a surrogate pair (UTF-16 column 10 of `LABEL a="😀"` is its second half).
    let astral = "FROM a\nLABEL a=\"😀\" b=c\n";
    check(astral, &[at(16, 0, "x", Quirk::StartOneUnitIn), at(16, 4, "😀😀", Quirk::StartOneUnitIn)], utf16).unwrap();
    check(astral, &[at(17, 2, "é", Quirk::StartOneUnitIn)], PositionEncoding::Utf8).unwrap();
    // `# escape=` appearing and disappearing changes what every backslash means.
    check(continuation, &[at(0, 0, "# escape=`\n", Quirk::None), at(0, 11, "", Quirk::None)], utf16).unwrap();
    // Everything deleted, then a full replacement.
    check(heredoc, &[at(0, usize::MAX / 2, "", Quirk::EndPastLastLine), vec![ChangeSpec::Full { text: heredoc.to_owned() }]], utf16).unwrap();
}
