//! The only place where positions and analysis results become LSP types (and back).
//!
//! Analysis speaks byte offsets into a [`SourceFile`]; the protocol speaks 0-based lines and
//! columns counted in the negotiated encoding. Conversions clamp instead of failing, so a
//! position a client computed on other text never panics.

use std::{collections::HashMap, ops::Range, path::Path, str::FromStr, sync::{LazyLock, Mutex}};

use tower_lsp_server::ls_types as lsp;

use super::{capabilities::Negotiated, json};
use crate::{
    analysis::{
        actions, code_lens,
        completion::{CompletionItem, CompletionKind},
        docs::Markup,
        folding::{FoldingKind, FoldingRange},
        hover::Hover,
        inlay_hints::{InlayHint, InlayHintKind},
        links::{DocumentLink, LinkTarget},
        navigation::{Highlight, HighlightKind, NavigationTarget, PrepareRename},
        semantic_tokens::SemanticTokensEdit,
        signature_help::SignatureHelp,
        symbols::{self, DocumentSymbol, SelectionRange},
        Diagnostic, Fix, Severity, TextEdit,
    },
    syntax::{LineCol, PositionEncoding, SourceFile},
};

/// What `source` says on every diagnostic.
pub const SOURCE: &str = "kubefile-ls";

/// Where each code is documented; the code is the anchor.
pub const DOCS_URL: &str = "https://github.com/kubefile-ls/kubefile-ls/blob/main/docs/diagnostics.md";

pub fn encoding_kind(encoding: PositionEncoding) -> lsp::PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => lsp::PositionEncodingKind::UTF16,
    }
}

pub fn line_col(position: lsp::Position) -> LineCol {
    LineCol { line: position.line, col: position.character }
}

pub fn line_col_range(range: lsp::Range) -> Range<LineCol> {
    line_col(range.start)..line_col(range.end)
}

pub fn position(file: &SourceFile, offset: usize, encoding: PositionEncoding) -> lsp::Position {
    let at = file.line_index().line_col(file.text(), offset, encoding);
    lsp::Position { line: at.line, character: at.col }
}

pub fn range(file: &SourceFile, range: &Range<usize>, encoding: PositionEncoding) -> lsp::Range {
    lsp::Range { start: position(file, range.start, encoding), end: position(file, range.end, encoding) }
}

pub fn offset(file: &SourceFile, position: lsp::Position, encoding: PositionEncoding) -> usize {
    file.line_index().offset(file.text(), line_col(position), encoding)
}

/// Byte range of an LSP range; an end before the start collapses onto the start.
pub fn text_range(file: &SourceFile, range: lsp::Range, encoding: PositionEncoding) -> Range<usize> {
    let start = offset(file, range.start, encoding);
    let end = offset(file, range.end, encoding).max(start);
    start..end
}

fn severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// The documentation link of a code, e.g. `…/docs/diagnostics.md#unknown-label`; parsed once per
/// code (a big file's analysis converts hundreds of diagnostics on every keystroke).
fn code_href(code: &'static str) -> Option<lsp::Uri> {
    static PARSED: LazyLock<Mutex<HashMap<&'static str, Option<lsp::Uri>>>> = LazyLock::new(Mutex::default);
    let mut parsed = PARSED.lock().unwrap_or_else(|e| e.into_inner());
    parsed.entry(code).or_insert_with(|| lsp::Uri::from_str(&format!("{DOCS_URL}#{code}")).ok()).clone()
}

pub fn diagnostic(file: &SourceFile, diagnostic: &Diagnostic, encoding: PositionEncoding) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: range(file, &diagnostic.range, encoding),
        severity: Some(severity(diagnostic.severity)),
        code: Some(lsp::NumberOrString::String(diagnostic.code.to_owned())),
        code_description: code_href(diagnostic.code).map(|href| lsp::CodeDescription { href }),
        source: Some(SOURCE.to_owned()),
        message: diagnostic.message.clone(),
        related_information: None,
        tags: diagnostic.unnecessary.then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        data: None,
    }
}

/// Where a quick fix applies: the document at the version its diagnostics were computed for.
pub struct EditTarget<'a> {
    pub uri: &'a lsp::Uri,
    pub version: i32,
    /// The client takes `documentChanges` (versioned edits) rather than a plain `changes` map.
    pub versioned: bool,
}

/// Edits as LSP edits. The analysis writes line breaks as `\n`; in a document whose first line
/// ends with `\r\n` they become `\r\n`, so that a fix does not mix line endings.
pub fn text_edits(file: &SourceFile, edits: &[TextEdit], encoding: PositionEncoding) -> Vec<lsp::TextEdit> {
    let text = file.text();
    let crlf = text.find('\n').is_some_and(|newline| text[..newline].ends_with('\r'));
    edits
        .iter()
        .map(|edit| lsp::TextEdit {
            range: range(file, &edit.range, encoding),
            new_text: if crlf { crlf_line_breaks(&edit.new_text) } else { edit.new_text.clone() },
        })
        .collect()
}

/// `\n` → `\r\n`, leaving `\r\n` as it is.
fn crlf_line_breaks(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut previous = '\0';
    for c in text.chars() {
        if c == '\n' && previous != '\r' {
            out.push('\r');
        }
        out.push(c);
        previous = c;
    }
    out
}

/// Edits of one document as a workspace edit: versioned `documentChanges` when the client takes
/// them (the client then refuses edits computed for another version), else a `changes` map.
pub fn workspace_edit(
    file: &SourceFile,
    edits: &[TextEdit],
    target: &EditTarget<'_>,
    encoding: PositionEncoding,
) -> lsp::WorkspaceEdit {
    let edits = text_edits(file, edits, encoding);
    if target.versioned {
        lsp::WorkspaceEdit {
            document_changes: Some(lsp::DocumentChanges::Edits(vec![lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                    uri: target.uri.clone(),
                    version: Some(target.version),
                },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            }])),
            ..Default::default()
        }
    } else {
        lsp::WorkspaceEdit { changes: Some(HashMap::from([(target.uri.clone(), edits)])), ..Default::default() }
    }
}

/// A quick fix as a code action carrying its edit and the diagnostic it resolves.
pub fn code_action(
    file: &SourceFile,
    fix: &Fix,
    resolves: &lsp::Diagnostic,
    preferred: bool,
    target: &EditTarget<'_>,
    encoding: PositionEncoding,
) -> lsp::CodeAction {
    lsp::CodeAction {
        title: fix.title.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![resolves.clone()]),
        edit: Some(workspace_edit(file, &fix.edits, target, encoding)),
        command: None,
        is_preferred: preferred.then_some(true),
        disabled: None,
        data: None,
    }
}

/// A refactoring or `source.fixAll` action.
pub fn edit_action(
    file: &SourceFile,
    action: &actions::CodeAction,
    target: &EditTarget<'_>,
    encoding: PositionEncoding,
) -> lsp::CodeAction {
    lsp::CodeAction {
        title: action.title.clone(),
        kind: Some(lsp::CodeActionKind::from(action.kind.as_str().to_owned())),
        diagnostics: None,
        edit: Some(workspace_edit(file, &action.edits, target, encoding)),
        command: None,
        is_preferred: action.is_preferred.then_some(true),
        disabled: None,
        data: None,
    }
}

pub fn markup_content(value: String, markup: Markup) -> lsp::MarkupContent {
    let kind = match markup {
        Markup::Markdown => lsp::MarkupKind::Markdown,
        Markup::PlainText => lsp::MarkupKind::PlainText,
    };
    lsp::MarkupContent { kind, value }
}

fn completion_kind(kind: CompletionKind) -> lsp::CompletionItemKind {
    match kind {
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
        CompletionKind::Snippet => lsp::CompletionItemKind::SNIPPET,
        CompletionKind::Property => lsp::CompletionItemKind::PROPERTY,
        CompletionKind::Value => lsp::CompletionItemKind::VALUE,
        CompletionKind::EnumMember => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Variable => lsp::CompletionItemKind::VARIABLE,
        CompletionKind::Constant => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::File => lsp::CompletionItemKind::FILE,
        CompletionKind::Folder => lsp::CompletionItemKind::FOLDER,
        CompletionKind::Reference => lsp::CompletionItemKind::REFERENCE,
        CompletionKind::Module => lsp::CompletionItemKind::MODULE,
    }
}

/// VS Code's command that opens the suggestion list again (after a keyword, a `--flag=`, ...).
const TRIGGER_SUGGEST: &str = "editor.action.triggerSuggest";

/// Completion items; edit ranges come from `file` (the text the completion was asked on). `list`
/// is the id of the list whose items the client resolves (`completionItem/resolve`), if it does.
pub fn completion_items(
    file: &SourceFile,
    items: Vec<CompletionItem>,
    negotiated: &Negotiated,
    list: Option<u64>,
) -> Vec<lsp::CompletionItem> {
    // Items mostly share one edit range (the word at the cursor): each distinct range is
    // converted once, not once per item of a list of hundreds.
    let mut converted: Option<(Range<usize>, lsp::Range)> = None;
    items
        .into_iter()
        .map(|item| {
            let edit_range = match &converted {
                Some((bytes, range)) if *bytes == item.edit_range => *range,
                _ => {
                    let edit_range = range(file, &item.edit_range, negotiated.encoding);
                    converted = Some((item.edit_range.clone(), edit_range));
                    edit_range
                }
            };
            completion_item(item, edit_range, negotiated, list)
        })
        .collect()
}

fn completion_item(
    item: CompletionItem,
    edit_range: lsp::Range,
    negotiated: &Negotiated,
    list: Option<u64>,
) -> lsp::CompletionItem {
    let documentation = documentation(item.documentation, negotiated.completion_markup);
    lsp::CompletionItem {
        kind: Some(completion_kind(item.kind)),
        detail: item.detail,
        documentation,
        text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit { range: edit_range, new_text: item.insert_text })),
        // Absent means plain text (the protocol's default): a tenth of a long list's bytes.
        insert_text_format: item.is_snippet.then_some(lsp::InsertTextFormat::SNIPPET),
        filter_text: item.filter_text,
        sort_text: Some(item.sort_text),
        tags: (item.deprecated && negotiated.completion_tags).then(|| vec![lsp::CompletionItemTag::DEPRECATED]),
        deprecated: (item.deprecated && !negotiated.completion_tags && negotiated.completion_deprecated)
            .then_some(true),
        command: (item.retrigger && negotiated.trigger_suggest).then(|| lsp::Command {
            title: "Suggest".to_owned(),
            command: TRIGGER_SUGGEST.to_owned(),
            arguments: None,
        }),
        label: item.label,
        data: list.map(serde_json::Value::from),
        ..Default::default()
    }
}

pub fn hover(file: &SourceFile, hover: Hover, markup: Markup, encoding: PositionEncoding) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(markup_content(hover.contents, markup)),
        range: Some(range(file, &hover.range, encoding)),
    }
}

pub fn documentation(text: Option<String>, markup: Markup) -> Option<lsp::Documentation> {
    text.map(|text| match markup {
        Markup::Markdown => lsp::Documentation::MarkupContent(markup_content(text, Markup::Markdown)),
        Markup::PlainText => lsp::Documentation::String(text),
    })
}

/// Signature help; parameter labels are offsets into the (ASCII) signature label.
pub fn signature_help(help: SignatureHelp, markup: Markup) -> lsp::SignatureHelp {
    let signatures = help
        .signatures
        .into_iter()
        .map(|signature| lsp::SignatureInformation {
            label: signature.label,
            documentation: documentation(signature.documentation, markup),
            parameters: Some(
                signature
                    .parameters
                    .into_iter()
                    .map(|parameter| lsp::ParameterInformation {
                        label: lsp::ParameterLabel::LabelOffsets([
                            parameter.label.start as u32,
                            parameter.label.end as u32,
                        ]),
                        documentation: documentation(parameter.documentation, markup),
                    })
                    .collect(),
            ),
            active_parameter: None,
        })
        .collect();
    lsp::SignatureHelp {
        signatures,
        active_signature: Some(help.active_signature as u32),
        active_parameter: help.active_parameter.map(|parameter| parameter as u32),
    }
}

/// Definitions as links (the whole definition, its name selected) or plain locations of the name.
pub fn definition(
    file: &SourceFile,
    uri: &lsp::Uri,
    targets: Vec<NavigationTarget>,
    links: bool,
    encoding: PositionEncoding,
) -> lsp::GotoDefinitionResponse {
    if links {
        lsp::GotoDefinitionResponse::Link(
            targets
                .iter()
                .map(|target| lsp::LocationLink {
                    origin_selection_range: None,
                    target_uri: uri.clone(),
                    target_range: range(file, &target.full_range, encoding),
                    target_selection_range: range(file, &target.focus_range, encoding),
                })
                .collect(),
        )
    } else {
        lsp::GotoDefinitionResponse::Array(locations(
            file,
            uri,
            targets.into_iter().map(|target| target.focus_range),
            encoding,
        ))
    }
}

pub fn locations(
    file: &SourceFile,
    uri: &lsp::Uri,
    ranges: impl IntoIterator<Item = Range<usize>>,
    encoding: PositionEncoding,
) -> Vec<lsp::Location> {
    ranges.into_iter().map(|r| lsp::Location { uri: uri.clone(), range: range(file, &r, encoding) }).collect()
}

pub fn highlight(file: &SourceFile, highlight: Highlight, encoding: PositionEncoding) -> lsp::DocumentHighlight {
    lsp::DocumentHighlight {
        range: range(file, &highlight.range, encoding),
        kind: Some(match highlight.kind {
            HighlightKind::Write => lsp::DocumentHighlightKind::WRITE,
            HighlightKind::Read => lsp::DocumentHighlightKind::READ,
        }),
    }
}

pub fn prepare_rename(
    file: &SourceFile,
    prepared: PrepareRename,
    encoding: PositionEncoding,
) -> lsp::PrepareRenameResponse {
    lsp::PrepareRenameResponse::RangeWithPlaceholder {
        range: range(file, &prepared.range, encoding),
        placeholder: prepared.placeholder,
    }
}

fn symbol_kind(kind: symbols::SymbolKind) -> lsp::SymbolKind {
    match kind {
        symbols::SymbolKind::Stage => lsp::SymbolKind::CLASS,
        symbols::SymbolKind::Instruction => lsp::SymbolKind::FUNCTION,
        symbols::SymbolKind::Variable => lsp::SymbolKind::VARIABLE,
        symbols::SymbolKind::Label => lsp::SymbolKind::PROPERTY,
        symbols::SymbolKind::Directive => lsp::SymbolKind::KEY,
    }
}

/// The hierarchical outline (`DocumentSymbol[]`) written as JSON straight from the analysis'
/// symbols as they come, with no LSP types in between: a 10,000-line file has 9,000 symbols and a
/// 2 MB answer, where building the `lsp::DocumentSymbol` tree and serialising it costs more than
/// the analysis. Writes what serde writes for that tree (a test compares them).
pub struct DocumentSymbolWriter<'w, 'f> {
    out: &'w mut Vec<u8>,
    /// Where the symbols start and their names are: in document order, a line or two apart.
    starts: Positions<'f>,
    /// Where the symbols end: a stage's end is far ahead of the next symbol's.
    ends: Positions<'f>,
    /// The JSON of each [`symbols::SymbolKind`]'s LSP kind, by its discriminant.
    kinds: [Vec<u8>; 5],
    /// Symbols whose object is still open; all but the innermost have an open `children` array.
    open: usize,
}

impl<'w, 'f> DocumentSymbolWriter<'w, 'f> {
    pub fn new(out: &'w mut Vec<u8>, file: &'f SourceFile, encoding: PositionEncoding) -> Self {
        out.push(b'[');
        let kinds = [
            symbols::SymbolKind::Stage,
            symbols::SymbolKind::Instruction,
            symbols::SymbolKind::Variable,
            symbols::SymbolKind::Label,
            symbols::SymbolKind::Directive,
        ]
        .map(|kind| {
            let mut json = Vec::new();
            json::write_json(&mut json, &symbol_kind(kind));
            json
        });
        DocumentSymbolWriter {
            out,
            starts: Positions::new(file, encoding),
            ends: Positions::new(file, encoding),
            kinds,
            open: 0,
        }
    }

    /// The next symbol of the outline, in the order `symbols::outline` gives them (a symbol's
    /// depth is at most one more than the one before it).
    pub fn symbol(&mut self, symbol: DocumentSymbol<'_>) {
        let first_child = self.open == symbol.depth && symbol.depth > 0;
        let first = self.open == 0;
        self.close_to(symbol.depth);
        let range = lsp::Range { start: self.starts.position(symbol.range.start), end: self.ends.position(symbol.range.end) };
        let selection_range = self.starts.range(&symbol.selection_range);
        let out = &mut *self.out;
        if first_child {
            out.extend_from_slice(br#","children":["#);
        } else if !first {
            out.push(b',');
        }
        out.extend_from_slice(br#"{"name":"#);
        json::write_str(out, &symbol.name);
        if let Some(detail) = &symbol.detail {
            out.extend_from_slice(br#","detail":"#);
            json::write_str(out, detail);
        }
        out.extend_from_slice(br#","kind":"#);
        out.extend_from_slice(&self.kinds[symbol.kind as usize]);
        if symbol.deprecated {
            out.extend_from_slice(br#","tags":"#);
            json::write_json(out, &[lsp::SymbolTag::DEPRECATED]);
        }
        out.extend_from_slice(br#","range":"#);
        json::write_range_and_selection(out, &range, &selection_range);
        self.open = symbol.depth + 1;
    }

    /// Closes the symbols deeper than `depth`.
    fn close_to(&mut self, depth: usize) {
        let innermost = self.open;
        while self.open > depth {
            if self.open < innermost {
                self.out.push(b']');
            }
            self.out.push(b'}');
            self.open -= 1;
        }
    }

    pub fn finish(mut self) {
        self.close_to(0);
        self.out.push(b']');
    }
}

/// The outline for clients without hierarchical symbols: flat, each symbol with the name of its
/// parent as container.
pub fn symbol_information(
    file: &SourceFile,
    uri: &lsp::Uri,
    symbols: &[DocumentSymbol<'_>],
    encoding: PositionEncoding,
) -> Vec<lsp::SymbolInformation> {
    let mut positions = Positions::new(file, encoding);
    // The names of the symbols enclosing the current one, by depth.
    let mut parents: Vec<&str> = Vec::new();
    symbols
        .iter()
        .map(|symbol| {
            parents.truncate(symbol.depth);
            #[allow(deprecated)] // `deprecated` is a required field of the struct; we set `tags` instead.
            let information = lsp::SymbolInformation {
                name: symbol.name.clone().into_owned(),
                kind: symbol_kind(symbol.kind),
                tags: symbol.deprecated.then(|| vec![lsp::SymbolTag::DEPRECATED]),
                deprecated: None,
                location: lsp::Location { uri: uri.clone(), range: positions.range(&symbol.range) },
                container_name: parents.last().map(|&name| name.to_owned()),
            };
            parents.push(&symbol.name);
            information
        })
        .collect()
}

/// Positions of offsets that come near each other (a document-order walk): the line is searched
/// outwards from the last one, so a step of a line or two costs a comparison or two and a jump
/// a search over the lines in between.
struct Positions<'f> {
    file: &'f SourceFile,
    encoding: PositionEncoding,
    line: usize,
    /// The text is ASCII (as Kubefiles mostly are): a column is a count of bytes.
    ascii: bool,
}

impl<'f> Positions<'f> {
    fn new(file: &'f SourceFile, encoding: PositionEncoding) -> Self {
        Positions { file, encoding, line: 0, ascii: file.text().is_ascii() }
    }

    fn position(&mut self, offset: usize) -> lsp::Position {
        let text = self.file.text();
        let offset = offset.min(text.len());
        self.line = self.line_of(offset);
        let prefix = &text.as_bytes()[self.file.line_index().line_start(self.line)..offset];
        if !self.ascii && !prefix.is_ascii() {
            // Columns count characters (and clamp inside one): the general conversion.
            return position(self.file, offset, self.encoding);
        }
        lsp::Position { line: self.line as u32, character: prefix.len() as u32 }
    }

    /// The line of `offset` (as `LineIndex::line_of` finds it): the lines around the last one
    /// are bracketed 1, 2, 4, ... lines away, then searched by halves.
    fn line_of(&self, offset: usize) -> usize {
        let index = self.file.line_index();
        let count = index.line_count();
        // The line sought is the last one starting at or before `offset`: at or after `low`,
        // before `high`.
        let (mut low, mut high);
        let mut step = 1;
        if index.line_start(self.line) <= offset {
            low = self.line;
            loop {
                let probe = low + step;
                if probe >= count {
                    high = count;
                    break;
                }
                if index.line_start(probe) > offset {
                    high = probe;
                    break;
                }
                low = probe;
                step *= 2;
            }
        } else {
            high = self.line;
            loop {
                // The first line starts at 0, at or before any offset.
                if step >= high {
                    low = 0;
                    break;
                }
                let probe = high - step;
                if index.line_start(probe) <= offset {
                    low = probe;
                    break;
                }
                high = probe;
                step *= 2;
            }
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            if index.line_start(middle) <= offset {
                low = middle;
            } else {
                high = middle;
            }
        }
        low
    }

    fn range(&mut self, range: &Range<usize>) -> lsp::Range {
        lsp::Range { start: self.position(range.start), end: self.position(range.end) }
    }
}

pub fn selection_range(
    file: &SourceFile,
    selection: &SelectionRange,
    encoding: PositionEncoding,
) -> lsp::SelectionRange {
    lsp::SelectionRange {
        range: range(file, &selection.range, encoding),
        parent: selection.parent.as_deref().map(|parent| Box::new(selection_range(file, parent, encoding))),
    }
}

/// Folding ranges, in the order analysis gives them (by start).
pub fn folding_ranges(file: &SourceFile, foldings: Vec<FoldingRange>, negotiated: &Negotiated) -> Vec<lsp::FoldingRange> {
    // Starts come in order; a stage's end is far from the next fold's.
    let (mut starts, mut ends) = (Positions::new(file, negotiated.encoding), Positions::new(file, negotiated.encoding));
    let characters = !negotiated.line_folding_only;
    foldings
        .into_iter()
        .map(|folding| {
            let start = starts.position(folding.range.start);
            let end = ends.position(folding.range.end);
            lsp::FoldingRange {
                start_line: start.line,
                start_character: characters.then_some(start.character),
                end_line: end.line,
                end_character: characters.then_some(end.character),
                kind: Some(match folding.kind {
                    FoldingKind::Comment => lsp::FoldingRangeKind::Comment,
                    FoldingKind::Region => lsp::FoldingRangeKind::Region,
                }),
                collapsed_text: folding.collapsed_text.filter(|_| negotiated.folding_collapsed_text),
            }
        })
        .collect()
}

pub fn semantic_tokens_edit(edit: SemanticTokensEdit) -> lsp::SemanticTokensEdit {
    lsp::SemanticTokensEdit {
        start: edit.start,
        delete_count: edit.delete_count,
        data: Some(semantic_token_data(&edit.data)),
    }
}

/// A full token set as the protocol's `SemanticTokens` JSON, written straight from the
/// relative-encoded numbers: a 10,000-line file has 30,000 tokens, and a `lsp::SemanticToken`
/// struct per token, serialised field by field, costs as much again as the analysis. Writes what
/// serde writes for the protocol's type (a test compares them).
pub fn write_semantic_tokens(out: &mut Vec<u8>, result_id: &str, data: &[u32]) {
    out.extend_from_slice(br#"{"resultId":"#);
    json::write_str(out, result_id);
    out.extend_from_slice(br#","data":"#);
    json::write_u32s(out, data);
    out.push(b'}');
}

/// Relative-encoded token numbers as the protocol's token structs (serialised back to numbers).
pub fn semantic_token_data(data: &[u32]) -> Vec<lsp::SemanticToken> {
    data.chunks_exact(5)
        .map(|token| lsp::SemanticToken {
            delta_line: token[0],
            delta_start: token[1],
            length: token[2],
            token_type: token[3],
            token_modifiers_bitset: token[4],
        })
        .collect()
}

pub fn inlay_hint(file: &SourceFile, hint: InlayHint, markup: Markup, encoding: PositionEncoding) -> lsp::InlayHint {
    lsp::InlayHint {
        position: position(file, hint.offset, encoding),
        label: lsp::InlayHintLabel::String(hint.label),
        kind: Some(match hint.kind {
            InlayHintKind::Type => lsp::InlayHintKind::TYPE,
            InlayHintKind::Parameter => lsp::InlayHintKind::PARAMETER,
        }),
        text_edits: None,
        tooltip: hint.tooltip.map(|tooltip| match markup {
            Markup::Markdown => lsp::InlayHintTooltip::MarkupContent(markup_content(tooltip, Markup::Markdown)),
            Markup::PlainText => lsp::InlayHintTooltip::String(crate::analysis::docs::to_plain(&tooltip)),
        }),
        padding_left: hint.padding_left.then_some(true),
        padding_right: hint.padding_right.then_some(true),
        data: None,
    }
}

/// A code lens running server command `command` on the document `uri`.
pub fn code_lens(
    file: &SourceFile,
    lens: code_lens::CodeLens,
    command: &str,
    uri: &lsp::Uri,
    encoding: PositionEncoding,
) -> lsp::CodeLens {
    lsp::CodeLens {
        range: range(file, &lens.range, encoding),
        command: Some(lsp::Command {
            title: lens.title,
            command: command.to_owned(),
            arguments: Some(vec![serde_json::Value::String(uri.as_str().to_owned())]),
        }),
        data: None,
    }
}

/// A document link; paths in the build context become `file:` URIs under `context_dir`.
pub fn document_link(
    file: &SourceFile,
    link: DocumentLink,
    context_dir: Option<&Path>,
    tooltips: bool,
    encoding: PositionEncoding,
) -> Option<lsp::DocumentLink> {
    let target = match link.target {
        LinkTarget::Url(url) => lsp::Uri::from_str(&url).ok()?,
        LinkTarget::ContextPath(relative) => lsp::Uri::from_file_path(context_dir?.join(relative))?,
    };
    Some(lsp::DocumentLink {
        range: range(file, &link.range, encoding),
        target: Some(target),
        tooltip: link.tooltip.filter(|_| tooltips),
        data: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::TextEdit;

    fn sample() -> (SourceFile, Diagnostic) {
        let file = SourceFile::parse("FROM scratch\nLABEL é=\"😀\" sealos.io.typ=rootfs\n");
        let start = file.text().find("sealos.io.typ").unwrap();
        let diagnostic = Diagnostic {
            range: start..start + "sealos.io.typ".len(),
            severity: Severity::Warning,
            code: "unknown-label",
            message: "unknown label".into(),
            fixes: vec![Fix {
                title: "Change to `sealos.io.type`".into(),
                edits: vec![TextEdit {
                    range: start..start + "sealos.io.typ".len(),
                    new_text: "sealos.io.type".into(),
                }],
            }],
            unnecessary: true,
        };
        (file, diagnostic)
    }

    #[test]
    fn inserted_line_breaks_follow_the_document() {
        let insert = [TextEdit { range: 12..12, new_text: "\nCOPY registry registry\r\nCMD x\n".into() }];
        let new_text = |text: &str| text_edits(&SourceFile::parse(text), &insert, PositionEncoding::Utf16)[0].new_text.clone();
        assert_eq!(new_text("FROM scratch\r\nCOPY . .\n"), "\r\nCOPY registry registry\r\nCMD x\r\n");
        assert_eq!(new_text("FROM scratch\nCOPY . .\r\n"), "\nCOPY registry registry\r\nCMD x\n");
        assert_eq!(new_text("FROM scratch"), "\nCOPY registry registry\r\nCMD x\n");
    }

    #[test]
    fn diagnostic_fields_and_encodings() {
        let (file, d) = sample();
        let utf16 = diagnostic(&file, &d, PositionEncoding::Utf16);
        assert_eq!(utf16.range.start, lsp::Position { line: 1, character: 13 });
        assert_eq!(utf16.range.end, lsp::Position { line: 1, character: 26 });
        let utf8 = diagnostic(&file, &d, PositionEncoding::Utf8);
        assert_eq!(utf8.range.start, lsp::Position { line: 1, character: 16 });
        assert_eq!(utf16.code, Some(lsp::NumberOrString::String("unknown-label".into())));
        assert_eq!(utf16.source.as_deref(), Some("kubefile-ls"));
        assert_eq!(
            utf16.code_description.unwrap().href.as_str(),
            "https://github.com/kubefile-ls/kubefile-ls/blob/main/docs/diagnostics.md#unknown-label"
        );
        assert_eq!(utf16.tags, Some(vec![lsp::DiagnosticTag::UNNECESSARY]));
        assert_eq!(utf16.severity, Some(lsp::DiagnosticSeverity::WARNING));
    }

    #[test]
    fn fixes_become_versioned_or_plain_workspace_edits() {
        let (file, d) = sample();
        let uri = lsp::Uri::from_str("file:///ctx/Kubefile").unwrap();
        let lsp_diagnostic = diagnostic(&file, &d, PositionEncoding::Utf16);
        let versioned = EditTarget { uri: &uri, version: 7, versioned: true };
        let action = code_action(&file, &d.fixes[0], &lsp_diagnostic, true, &versioned, PositionEncoding::Utf16);
        assert_eq!(action.kind, Some(lsp::CodeActionKind::QUICKFIX));
        assert_eq!(action.is_preferred, Some(true));
        assert_eq!(action.diagnostics.as_deref(), Some(&[lsp_diagnostic.clone()][..]));
        let Some(lsp::DocumentChanges::Edits(edits)) = action.edit.unwrap().document_changes else { panic!() };
        assert_eq!(edits[0].text_document.version, Some(7));
        let plain = EditTarget { uri: &uri, version: 7, versioned: false };
        let action = code_action(&file, &d.fixes[0], &lsp_diagnostic, false, &plain, PositionEncoding::Utf16);
        assert_eq!(action.is_preferred, None);
        let changes = action.edit.unwrap().changes.unwrap();
        assert_eq!(changes[&uri][0].new_text, "sealos.io.type");
        assert_eq!(changes[&uri][0].range, lsp_diagnostic.range);
    }

    #[test]
    fn ranges_from_the_client_clamp() {
        let (file, _) = sample();
        let backwards =
            lsp::Range { start: lsp::Position { line: 1, character: 5 }, end: lsp::Position { line: 0, character: 0 } };
        assert_eq!(text_range(&file, backwards, PositionEncoding::Utf16), 18..18);
        let far = lsp::Range {
            start: lsp::Position { line: 99, character: 0 },
            end: lsp::Position { line: 99, character: 99 },
        };
        assert_eq!(text_range(&file, far, PositionEncoding::Utf8), file.text().len()..file.text().len());
    }

    /// The LSP tree of an outline, built the plain way: what the writer must produce the JSON of.
    #[allow(deprecated)] // `deprecated` is a required field of the struct
    fn symbol_tree(file: &SourceFile, symbols: &[DocumentSymbol<'_>], encoding: PositionEncoding) -> Vec<lsp::DocumentSymbol> {
        fn attach(symbol: lsp::DocumentSymbol, open: &mut [lsp::DocumentSymbol], roots: &mut Vec<lsp::DocumentSymbol>) {
            match open.last_mut() {
                Some(parent) => parent.children.get_or_insert_with(Vec::new).push(symbol),
                None => roots.push(symbol),
            }
        }
        let (mut open, mut roots) = (Vec::new(), Vec::new());
        for symbol in symbols {
            while open.len() > symbol.depth {
                let done = open.pop().unwrap();
                attach(done, &mut open, &mut roots);
            }
            open.push(lsp::DocumentSymbol {
                name: symbol.name.to_string(),
                detail: symbol.detail.as_ref().map(|detail| detail.to_string()),
                kind: symbol_kind(symbol.kind),
                tags: symbol.deprecated.then(|| vec![lsp::SymbolTag::DEPRECATED]),
                deprecated: None,
                range: range(file, &symbol.range, encoding),
                selection_range: range(file, &symbol.selection_range, encoding),
                children: None,
            });
        }
        while let Some(done) = open.pop() {
            attach(done, &mut open, &mut roots);
        }
        roots
    }

    #[test]
    fn outlines_are_written_as_serde_writes_their_lsp_tree() {
        let generated: String = (0..300)
            .map(|n| format!("FROM alpine AS s{n}\nENV A{n}=1 \\\n    B=\"x y\"\nLABEL k=\"v\" \\\n  w=${{A{n}}}\nRUN echo {n} \\\n  && make\nONBUILD ARG X{n}=1\n\n"))
            .collect();
        let texts = [
            "",
            "# escape=`\n# syntax=x\nARG BASE=alpine\nFROM ${BASE} AS build\nRUN make `\n    all\n",
            "FROM scratch\r\nLABEL a=\"é😀 \\\r\n  ü\" b=c\r\nENV 名前=值 X=${名前:-\"默认\"}\r\nmaintainer \"me\\\\you\"\r\nCMD [\"echo $(名前)\"]\r\n",
            "ARG\nENV\nLABEL =\nENV A\nFROM\nONBUILD ONBUILD RUN x\nFOO \"bar\" \\\n\tbaz\n",
            generated.as_str(),
        ];
        for text in texts {
            let file = SourceFile::parse(text);
            for encoding in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
                let mut written = Vec::new();
                let mut writer = DocumentSymbolWriter::new(&mut written, &file, encoding);
                symbols::outline(&file, |symbol| writer.symbol(symbol));
                writer.finish();
                let expected = serde_json::to_string(&symbol_tree(&file, &symbols::document_symbols(&file), encoding)).unwrap();
                assert_eq!(String::from_utf8(written).unwrap(), expected, "{text:?}");
            }
        }
    }

    #[test]
    fn positions_near_each_other_are_the_positions_of_their_offsets() {
        let generated: String = (0..200).map(|n| format!("RUN echo {n} \\\n  && é{n}\n\n")).collect();
        for text in ["", "x", "a\nb\n", "\n\n\n", "FROM é😀\r\nLABEL a=ü\r\n", generated.as_str()] {
            let file = SourceFile::parse(text);
            let len = text.len();
            // Forwards, backwards, steps of every size, jumps, and offsets past the end.
            let mut offsets: Vec<usize> = (0..=len + 2).collect();
            offsets.extend((0..=len).rev());
            offsets.extend((0..len).flat_map(|n| [n * 7919 % (len + 1), len - n, n / 2]));
            for encoding in [PositionEncoding::Utf16, PositionEncoding::Utf8] {
                let mut positions = Positions::new(&file, encoding);
                for &offset in &offsets {
                    assert_eq!(positions.position(offset), position(&file, offset, encoding), "{text:?} at {offset}");
                }
            }
        }
    }

    #[test]
    fn flat_outlines_name_their_containers() {
        let file = SourceFile::parse("ARG A\nFROM scratch AS s\nENV B=1 C=2\n");
        let uri: lsp::Uri = "file:///Kubefile".parse().unwrap();
        let flat = symbol_information(&file, &uri, &symbols::document_symbols(&file), PositionEncoding::Utf16);
        let containers: Vec<(&str, Option<&str>)> = flat.iter().map(|s| (s.name.as_str(), s.container_name.as_deref())).collect();
        assert_eq!(
            containers,
            [("ARG", None), ("A", Some("ARG")), ("s", None), ("FROM", Some("s")), ("ENV", Some("s")), ("B", Some("ENV")), ("C", Some("ENV"))]
        );
    }

    #[test]
    fn semantic_tokens_are_written_as_serde_writes_them() {
        let data: Vec<u32> = (0..499).map(|n| n * 7919 % 1000).chain([u32::MAX]).collect();
        for (result_id, data) in [("0", &data[..]), ("12\"x", &data[..5]), ("7", &[])] {
            let mut written = Vec::new();
            write_semantic_tokens(&mut written, result_id, data);
            let tokens = lsp::SemanticTokens { result_id: Some(result_id.to_owned()), data: semantic_token_data(data) };
            let expected = serde_json::to_string(&lsp::SemanticTokensResult::Tokens(tokens)).unwrap();
            assert_eq!(String::from_utf8(written).unwrap(), expected);
        }
    }
}
