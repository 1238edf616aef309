//! The only place where positions and analysis results become LSP types (and back).
//!
//! Analysis speaks byte offsets into a [`SourceFile`]; the protocol speaks 0-based lines and
//! columns counted in the negotiated encoding. Conversions clamp instead of failing, so a
//! position a client computed on other text never panics.

use std::{collections::HashMap, ops::Range, str::FromStr, sync::LazyLock};

use tower_lsp_server::ls_types as lsp;

use crate::{
    analysis::{Diagnostic, Fix, Severity},
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

/// The documentation link of a code, e.g. `…/docs/diagnostics.md#unknown-label`.
pub fn code_href(code: &str) -> Option<lsp::Uri> {
    static BASE: LazyLock<String> = LazyLock::new(|| format!("{DOCS_URL}#"));
    lsp::Uri::from_str(&format!("{}{code}", *BASE)).ok()
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

/// A quick fix as a code action carrying its edit and the diagnostic it resolves.
pub fn code_action(
    file: &SourceFile,
    fix: &Fix,
    resolves: &lsp::Diagnostic,
    preferred: bool,
    target: &EditTarget<'_>,
    encoding: PositionEncoding,
) -> lsp::CodeAction {
    let edits: Vec<lsp::TextEdit> = fix
        .edits
        .iter()
        .map(|edit| lsp::TextEdit { range: range(file, &edit.range, encoding), new_text: edit.new_text.clone() })
        .collect();
    let edit = if target.versioned {
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
    };
    lsp::CodeAction {
        title: fix.title.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![resolves.clone()]),
        edit: Some(edit),
        command: None,
        is_preferred: preferred.then_some(true),
        disabled: None,
        data: None,
    }
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
}
