//! What we advertise, decided from what the client says it supports.

use tower_lsp_server::ls_types as lsp;

use crate::syntax::PositionEncoding;

use super::convert;

/// The facts about the client that change how the server behaves, fixed at `initialize`.
#[derive(Clone, Debug, Default)]
pub struct Negotiated {
    pub encoding: PositionEncoding,
    /// The client pulls diagnostics (`textDocument/diagnostic`); we then do not push them too,
    /// which would show every diagnostic twice in clients that keep the two apart.
    pub pull_diagnostics: bool,
    /// The client accepts `workspace/diagnostic/refresh` (pull mode only).
    pub diagnostic_refresh: bool,
    /// The client accepts a dynamic `workspace/didChangeWatchedFiles` registration.
    pub watch_files: bool,
    /// The client answers `workspace/configuration`.
    pub configuration: bool,
    /// The client takes versioned `documentChanges` in workspace edits.
    pub versioned_edits: bool,
}

impl Negotiated {
    pub fn from_client(capabilities: &lsp::ClientCapabilities) -> Negotiated {
        let offers_utf8 = capabilities
            .general
            .as_ref()
            .and_then(|general| general.position_encodings.as_ref())
            .is_some_and(|encodings| encodings.contains(&lsp::PositionEncodingKind::UTF8));
        let workspace = capabilities.workspace.as_ref();
        let text_document = capabilities.text_document.as_ref();
        let pull_diagnostics = text_document.is_some_and(|td| td.diagnostic.is_some());
        Negotiated {
            encoding: if offers_utf8 { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 },
            pull_diagnostics,
            diagnostic_refresh: pull_diagnostics
                && workspace
                    .and_then(|ws| ws.diagnostics.as_ref())
                    .and_then(|diagnostics| diagnostics.refresh_support)
                    .unwrap_or(false),
            watch_files: workspace
                .and_then(|ws| ws.did_change_watched_files.as_ref())
                .and_then(|watch| watch.dynamic_registration)
                .unwrap_or(false),
            configuration: workspace.and_then(|ws| ws.configuration).unwrap_or(false),
            versioned_edits: workspace
                .and_then(|ws| ws.workspace_edit.as_ref())
                .and_then(|edit| edit.document_changes)
                .unwrap_or(false),
        }
    }
}

/// Identifies our diagnostics in pull requests.
pub const DIAGNOSTIC_IDENTIFIER: &str = "kubefile-ls";

pub fn server_capabilities(negotiated: &Negotiated) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(convert::encoding_kind(negotiated.encoding)),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
            save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        diagnostic_provider: negotiated.pull_diagnostics.then(|| {
            lsp::DiagnosticServerCapabilities::Options(lsp::DiagnosticOptions {
                identifier: Some(DIAGNOSTIC_IDENTIFIER.to_owned()),
                // A Kubefile's diagnostics depend on the files of its build context.
                inter_file_dependencies: true,
                workspace_diagnostics: true,
                work_done_progress_options: Default::default(),
            })
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(lsp::CodeActionOptions {
            code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
            resolve_provider: Some(false),
            work_done_progress_options: Default::default(),
        })),
        ..Default::default()
    }
}

pub fn server_info() -> lsp::ServerInfo {
    lsp::ServerInfo { name: "kubefile-ls".to_owned(), version: Some(env!("CARGO_PKG_VERSION").to_owned()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(value: serde_json::Value) -> lsp::ClientCapabilities {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_bare_client_gets_utf16_push_diagnostics_and_no_watching() {
        let negotiated = Negotiated::from_client(&client(serde_json::json!({})));
        assert_eq!(negotiated.encoding, PositionEncoding::Utf16);
        assert!(!negotiated.pull_diagnostics && !negotiated.watch_files && !negotiated.configuration);
        let caps = server_capabilities(&negotiated);
        assert_eq!(caps.position_encoding, Some(lsp::PositionEncodingKind::UTF16));
        assert!(caps.diagnostic_provider.is_none());
        assert!(caps.code_action_provider.is_some());
    }

    #[test]
    fn utf8_is_chosen_when_offered_and_pull_when_supported() {
        let negotiated = Negotiated::from_client(&client(serde_json::json!({
            "general": {"positionEncodings": ["utf-16", "utf-8"]},
            "textDocument": {"diagnostic": {"dynamicRegistration": false}},
            "workspace": {
                "configuration": true,
                "didChangeWatchedFiles": {"dynamicRegistration": true},
                "diagnostics": {"refreshSupport": true},
                "workspaceEdit": {"documentChanges": true}
            }
        })));
        assert_eq!(negotiated.encoding, PositionEncoding::Utf8);
        assert!(negotiated.pull_diagnostics && negotiated.diagnostic_refresh);
        assert!(negotiated.watch_files && negotiated.configuration && negotiated.versioned_edits);
        let caps = server_capabilities(&negotiated);
        assert_eq!(caps.position_encoding, Some(lsp::PositionEncodingKind::UTF8));
        let Some(lsp::DiagnosticServerCapabilities::Options(options)) = caps.diagnostic_provider else { panic!() };
        assert!(options.workspace_diagnostics && options.inter_file_dependencies);
    }
}
