//! Every analysis request an editor can make, as plain functions of a file and a cursor offset,
//! each checking the one thing every answer must satisfy: its ranges lie inside the text, on
//! character boundaries, start before end (the LSP layer converts them to positions, and a
//! range past the end or inside a UTF-8 sequence would be a lie or a panic there).
//!
//! Shared by `tests/it/robust_offsets.rs` (every corpus file at every offset, in CI) and the
//! `analysis` fuzz target (arbitrary text), so both exercise exactly the same calls. It depends
//! only on `kubefile_ls` and `std`, so both can include it with `#[path]`.

use std::{collections::BTreeSet, ops::Range};

use kubefile_ls::{
    analysis::{
        actions::{self, ActionOptions},
        code_lens::{self, CodeLensOptions},
        completion::{self, CompletionOptions},
        diagnostics_for,
        docs::{DocOptions, Locale, Markup},
        folding,
        format::{self, FormatOptions},
        hover::{self, HoverOptions},
        inlay_hints::{self, InlayHintOptions},
        links, lists, navigation, semantic_tokens, signature_help, symbols, Config, ContextFacts, FileKind, ImageSource,
        TextEdit,
    },
    syntax::{PositionEncoding, SourceFile},
};

/// A build file and what the server would know with it.
pub struct Subject {
    pub file: SourceFile,
    pub facts: Option<ContextFacts>,
    pub config: Config,
    pub kind: FileKind,
}

impl Subject {
    pub fn new(text: &str, facts: Option<ContextFacts>, kind: FileKind) -> Subject {
        Subject { file: SourceFile::parse(text), facts, config: Config::default(), kind }
    }

    fn text(&self) -> &str {
        self.file.text()
    }

    fn facts(&self) -> Option<&ContextFacts> {
        self.facts.as_ref()
    }
}

/// A request by name; the offset is ignored by whole-file requests.
pub type Request = (&'static str, fn(&Subject, usize));

/// Requests about the whole document (run once per file).
pub const WHOLE_FILE: &[Request] = &[
    ("diagnostics", |s, _| {
        for diagnostic in diagnostics_for(&s.file, s.kind, s.facts(), &s.config) {
            check_range(s.text(), &diagnostic.range, diagnostic.code);
            for fix in &diagnostic.fixes {
                check_edits(s.text(), &fix.edits, &fix.title);
            }
        }
    }),
    ("formatting", |s, _| {
        for options in format_options() {
            check_edits(s.text(), &format::format(&s.file, &options), "format");
        }
    }),
    ("documentSymbol", |s, _| {
        // The outline is a list where each symbol's children follow it one level deeper.
        let mut depth = 0;
        for symbol in symbols::document_symbols(&s.file) {
            check_range(s.text(), &symbol.range, "symbol");
            check_range(s.text(), &symbol.selection_range, "symbol selection");
            assert!(
                symbol.range.start <= symbol.selection_range.start && symbol.selection_range.end <= symbol.range.end,
                "selection {:?} outside symbol {:?} ({})",
                symbol.selection_range,
                symbol.range,
                symbol.name
            );
            assert!(symbol.depth <= depth, "{} is nested two levels below the symbol before it", symbol.name);
            depth = symbol.depth + 1;
        }
    }),
    ("foldingRange", |s, _| {
        for range in folding::folding_ranges(&s.file) {
            check_range(s.text(), &range.range, "folding range");
        }
    }),
    ("semanticTokens/full", |s, _| {
        let tokens = semantic_tokens::semantic_tokens(&s.file, None);
        for token in &tokens {
            check_range(s.text(), &token.range, "semantic token");
        }
        for encoding in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
            let data = semantic_tokens::encode(&s.file, &tokens, encoding);
            assert_eq!(data.len() % 5, 0, "semantic token data comes in fives");
            let edits = semantic_tokens::diff(&[], &data);
            assert!(edits.len() <= 1, "a diff from nothing is one insertion");
        }
    }),
    ("inlayHint/full", |s, _| {
        for hint in inlay_hints::inlay_hints(&s.file, 0..s.text().len(), s.facts(), &inlay_options()) {
            check_offset(s.text(), hint.offset, "inlay hint");
        }
    }),
    ("codeLens", |s, _| {
        let opts = CodeLensOptions { kind: s.kind, build_command: true, ..CodeLensOptions::default() };
        for lens in code_lens::code_lenses(&s.file, s.facts(), &opts) {
            check_range(s.text(), &lens.range, "code lens");
        }
    }),
    ("documentLink", |s, _| {
        for link in links::document_links(&s.file, s.facts()) {
            check_range(s.text(), &link.range, "document link");
        }
    }),
    ("source.fixAll", |s, _| {
        if let Some(action) = actions::fix_all(&s.file, s.facts(), &s.config, s.kind) {
            check_edits(s.text(), &action.edits, &action.title);
        }
    }),
];

/// Requests at a cursor position (run at every offset).
pub const AT_OFFSET: &[Request] = &[
    ("completion", |s, offset| {
        for snippets in [true, false] {
            let caps = CompletionOptions { snippets, kind: s.kind, ..CompletionOptions::default() };
            for item in completion::completion(&s.file, offset, s.facts(), &s.config, &caps) {
                check_range(s.text(), &item.edit_range, &item.label);
            }
        }
    }),
    ("hover", |s, offset| {
        for docs in doc_options() {
            let opts = HoverOptions { docs, kind: Some(s.kind) };
            if let Some(hover) = hover::hover(&s.file, offset, s.facts(), &s.config, &opts) {
                check_range(s.text(), &hover.range, "hover");
            }
        }
    }),
    ("signatureHelp", |s, offset| {
        for docs in doc_options() {
            if let Some(help) = signature_help::signature_help(&s.file, offset, &docs) {
                assert!(help.active_signature < help.signatures.len().max(1), "active signature out of range");
                for signature in &help.signatures {
                    for parameter in &signature.parameters {
                        check_range(&signature.label, &parameter.label, "signature parameter");
                    }
                }
            }
        }
    }),
    ("definition", |s, offset| {
        for target in navigation::goto_definition(&s.file, offset) {
            check_range(s.text(), &target.full_range, "definition");
            check_range(s.text(), &target.focus_range, "definition focus");
        }
    }),
    ("references", |s, offset| {
        for include_declaration in [true, false] {
            for range in navigation::references(&s.file, offset, include_declaration) {
                check_range(s.text(), &range, "reference");
            }
        }
    }),
    ("documentHighlight", |s, offset| {
        for highlight in navigation::document_highlights(&s.file, offset) {
            check_range(s.text(), &highlight.range, "highlight");
        }
    }),
    ("prepareRename", |s, offset| {
        if let Ok(prepared) = navigation::prepare_rename(&s.file, offset) {
            check_range(s.text(), &prepared.range, "prepare rename");
        }
    }),
    ("rename", |s, offset| {
        for new_name in ["RENAMED_1", "a b😀"] {
            if let Ok(edits) = navigation::rename(&s.file, offset, new_name) {
                check_edits(s.text(), &edits, "rename");
            }
        }
    }),
    ("selectionRange", |s, offset| {
        for selection in symbols::selection_ranges(&s.file, &[offset]) {
            for range in selection.ranges() {
                check_range(s.text(), &range, "selection range");
            }
        }
    }),
    ("codeAction", |s, offset| {
        // As the server asks: quick fixes come from the published diagnostics (whose fixes the
        // `diagnostics` request checks) and `source.fixAll` is a request of its own.
        let opts = ActionOptions { kind: s.kind, quick_fixes: false, fix_all: false };
        let range = offset..next_line_end(s.text(), offset);
        for action in actions::code_actions(&s.file, range, s.facts(), &s.config, &opts) {
            check_edits(s.text(), &action.edits, &action.title);
        }
    }),
    ("rangeFormatting", |s, offset| {
        let range = offset..next_line_end(s.text(), offset);
        check_edits(s.text(), &format::format_range(&s.file, range, &FormatOptions::default()), "range format");
    }),
    ("onTypeFormatting", |s, offset| {
        // The offset is after the typed character; only trigger characters are sent.
        let Some(typed) = s.text()[..offset].chars().next_back() else { return };
        if format::ON_TYPE_TRIGGERS.contains(&typed) {
            check_edits(s.text(), &format::format_on_type(&s.file, offset, typed, &FormatOptions::default()), "on type");
        }
    }),
    ("semanticTokens/range", |s, offset| {
        let range = offset..next_line_end(s.text(), offset);
        for token in semantic_tokens::semantic_tokens(&s.file, Some(range)) {
            check_range(s.text(), &token.range, "semantic token");
        }
    }),
    ("inlayHint/range", |s, offset| {
        let range = offset..next_line_end(s.text(), offset);
        for hint in inlay_hints::inlay_hints(&s.file, range, s.facts(), &inlay_options()) {
            check_offset(s.text(), hint.offset, "inlay hint");
        }
    }),
];

/// Requests for an `images/shim` list (whole file, then at an offset).
pub const SHIM_WHOLE_FILE: &[Request] = &[
    ("shim diagnostics", |s, _| {
        let relative = "images/shim/imageList";
        let found = lists::diagnostics(lists::ListFile::Shim, relative, s.text(), s.facts(), &s.config);
        for diagnostic in found.iter().chain(&lists::shim_diagnostics(s.text(), None)) {
            check_range(s.text(), &diagnostic.range, diagnostic.code);
            for fix in &diagnostic.fixes {
                check_edits(s.text(), &fix.edits, &fix.title);
            }
        }
    }),
    ("tar.txt diagnostics", |s, _| {
        for diagnostic in lists::tar_list_diagnostics(s.text(), s.facts()) {
            check_range(s.text(), &diagnostic.range, diagnostic.code);
            for fix in &diagnostic.fixes {
                check_edits(s.text(), &fix.edits, &fix.title);
            }
        }
    }),
    ("shim documentLink", |s, _| {
        for link in links::shim_links(s.text()) {
            check_range(s.text(), &link.range, "shim link");
        }
    }),
];

pub const SHIM_AT_OFFSET: &[Request] = &[
    ("shim completion", |s, offset| {
        let Some(facts) = s.facts() else { return };
        for item in completion::shim_completion(s.text(), offset, facts) {
            check_range(s.text(), &item.edit_range, &item.label);
        }
    }),
    ("shim hover", |s, offset| {
        if let Some(found) = hover::shim_hover(s.text(), offset, "images/shim/imageList", s.facts(), &HoverOptions::default()) {
            check_range(s.text(), &found.range, "shim hover");
        }
    }),
];

/// The cursor offsets an LSP position can become: every character boundary, end of text included.
/// (Positions inside a UTF-8 sequence or a surrogate pair clamp to the character's start.)
pub fn cursor_offsets(text: &str) -> impl Iterator<Item = usize> + '_ {
    (0..=text.len()).filter(|&offset| text.is_char_boundary(offset))
}

/// Formats `text` with the default options and with every option flipped, applies the edits and
/// formats again: the second pass must change nothing.
pub fn check_format_idempotent(text: &str) {
    let file = SourceFile::parse(text);
    for options in format_options() {
        let edits = format::format(&file, &options);
        check_edits(text, &edits, "format");
        let once = apply(text, &edits);
        let twice_edits = format::format(&SourceFile::parse(&once), &options);
        let twice = apply(&once, &twice_edits);
        assert!(
            once == twice,
            "formatting is not idempotent with {options:?}\n--- input\n{text:?}\n--- once\n{once:?}\n--- twice\n{twice:?}"
        );
    }
}

/// Facts of a small imaginary context, so that rules and requests that read the context run on
/// arbitrary text too.
pub fn sample_facts() -> ContextFacts {
    let entries = ["Kubefile", "init.sh", "registry", "charts", "charts/app", "charts/app/Chart.yaml", "manifests",
        "manifests/app.yaml", "images", "images/shim", "images/shim/imageList", "opt", "opt/tool", "é 😀.txt"];
    ContextFacts {
        entries: entries.iter().map(|e| e.to_string()).collect(),
        ignored: BTreeSet::from(["opt/tool".to_string()]),
        images: vec![
            ImageSource { image: "docker.io/library/nginx:1.25".into(), source: "manifest", file: "manifests/app.yaml".into(), line: 3 },
            ImageSource { image: "ghcr.io/app/app@sha256:0000000000000000000000000000000000000000000000000000000000000000".into(), source: "shim", file: "images/shim/imageList".into(), line: 1 },
        ],
        build_files: vec!["Kubefile".into()],
        ..ContextFacts::default()
    }
}

fn format_options() -> [FormatOptions; 2] {
    let other = FormatOptions {
        tab_size: 2,
        insert_spaces: false,
        ignore_multiline_instructions: true,
        keep_aligned_continuations: false,
        legacy_key_value: false,
        normalize_json: false,
    };
    [FormatOptions::default(), other]
}

fn doc_options() -> [DocOptions; 2] {
    [DocOptions::new(Markup::Markdown, Locale::En), DocOptions::new(Markup::PlainText, Locale::ZhCn)]
}

fn inlay_options() -> InlayHintOptions {
    InlayHintOptions { max_length: 8, ..InlayHintOptions::default() }
}

/// The end of the line after the one holding `offset` (a range request over a line break).
fn next_line_end(text: &str, offset: usize) -> usize {
    let mut end = offset;
    for _ in 0..2 {
        end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    }
    end
}

fn check_offset(text: &str, offset: usize, what: &str) {
    assert!(offset <= text.len() && text.is_char_boundary(offset), "{what}: offset {offset} is not a character boundary of a {}-byte text", text.len());
}

fn check_range(text: &str, range: &Range<usize>, what: &str) {
    assert!(range.start <= range.end, "{what}: range {range:?} ends before it starts");
    check_offset(text, range.start, what);
    check_offset(text, range.end, what);
}

/// Edits must be valid ranges that do not overlap (the LSP requires it of a `TextEdit[]`).
fn check_edits(text: &str, edits: &[TextEdit], what: &str) {
    let mut ranges: Vec<&Range<usize>> = edits.iter().map(|edit| &edit.range).collect();
    for range in &ranges {
        check_range(text, range, what);
        for offset in [range.start, range.end] {
            let splits_crlf = text[..offset].ends_with('\r') && text[offset..].starts_with('\n');
            assert!(!splits_crlf, "{what}: edit {range:?} starts or ends inside a \\r\\n line break");
        }
    }
    ranges.sort_by_key(|range| (range.start, range.end));
    for pair in ranges.windows(2) {
        assert!(pair[0].end <= pair[1].start, "{what}: edits {:?} and {:?} overlap", pair[0], pair[1]);
    }
}

/// `text` with non-overlapping `edits` applied.
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|edit| (edit.range.start, edit.range.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        out.push_str(&text[at..edit.range.start]);
        out.push_str(&edit.new_text);
        at = edit.range.end;
    }
    out.push_str(&text[at..]);
    out
}
