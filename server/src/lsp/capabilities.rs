//! What we advertise, decided from what the client says it supports.

use tower_lsp_server::ls_types as lsp;

use crate::{
    analysis::{
        completion,
        docs::{DocOptions, Locale, Markup},
        format, semantic_tokens, signature_help,
    },
    syntax::PositionEncoding,
};

use super::{commands, convert};

/// The facts about the client that change how the server behaves, fixed at `initialize`.
#[derive(Clone, Debug, Default)]
pub struct Negotiated {
    pub encoding: PositionEncoding,
    /// The client pulls diagnostics (`textDocument/diagnostic`) and accepts
    /// `workspace/diagnostic/refresh`; we then do not push them too, which would show every
    /// diagnostic twice in clients that keep the two apart. A client that pulls but cannot be
    /// asked to pull again (Neovim) would never see a change of the build context, so it gets push.
    pub pull_diagnostics: bool,
    /// The client accepts a dynamic `workspace/didChangeWatchedFiles` registration.
    pub watch_files: bool,
    /// The client answers `workspace/configuration`.
    pub configuration: bool,
    /// The client takes versioned `documentChanges` in workspace edits.
    pub versioned_edits: bool,
    /// The language of documentation, from `initialize`'s `locale`.
    pub locale: Locale,
    /// Completion items may be snippets.
    pub snippets: bool,
    /// The client fetches a completion item's documentation with `completionItem/resolve` when
    /// it shows the item, so lists go without it.
    pub completion_resolve: bool,
    /// Documentation formats per feature (Markdown only when the client lists it).
    pub completion_markup: Markup,
    pub hover_markup: Markup,
    pub signature_markup: Markup,
    /// Deprecated completion items are marked with tags (else with the `deprecated` field, if any).
    pub completion_tags: bool,
    pub completion_deprecated: bool,
    /// Code actions can be returned as `CodeAction` literals with a kind; without this they are
    /// sent as commands (edits through `kubefile.applyEdit`).
    pub code_action_literals: bool,
    /// The client accepts `workspace/applyEdit`.
    pub apply_edit: bool,
    /// `textDocument/documentSymbol` may return a tree.
    pub hierarchical_symbols: bool,
    /// Folding ranges must span whole lines (no start/end characters).
    pub line_folding_only: bool,
    /// Folding ranges may carry `collapsedText`.
    pub folding_collapsed_text: bool,
    /// `textDocument/prepareRename` is asked before `rename`.
    pub prepare_rename: bool,
    /// Definitions may be `LocationLink`s (with the whole definition as target range).
    pub definition_links: bool,
    /// Document links may carry a tooltip.
    pub link_tooltips: bool,
    /// The client accepts `workspace/codeLens/refresh`.
    pub code_lens_refresh: bool,
    /// The client accepts `window/workDoneProgress/create` (progress of `kubefile.build` when
    /// the request carries no token).
    pub work_done_progress: bool,
    /// The client is VS Code, whose `editor.action.triggerSuggest` command a completion item may
    /// run to open the list again (other clients would report an unknown command).
    pub trigger_suggest: bool,
}

/// The first format of a client's preference list that we can write; plain text without a list.
fn markup(formats: Option<&Vec<lsp::MarkupKind>>) -> Markup {
    let preferred = formats.and_then(|formats| {
        formats.iter().find(|kind| matches!(kind, lsp::MarkupKind::Markdown | lsp::MarkupKind::PlainText))
    });
    match preferred {
        Some(lsp::MarkupKind::Markdown) => Markup::Markdown,
        _ => Markup::PlainText,
    }
}

impl Negotiated {
    /// What `initialize` tells: the client's capabilities and its locale.
    pub fn from_initialize(params: &lsp::InitializeParams) -> Negotiated {
        let locale = params.locale.as_deref().map_or(Locale::En, Locale::from_tag);
        let client_name = params.client_info.as_ref().map_or("", |info| info.name.as_str());
        let trigger_suggest = ["Visual Studio Code", "VSCodium", "code-server", "Code - OSS"]
            .iter()
            .any(|name| client_name.starts_with(name));
        Negotiated { locale, trigger_suggest, ..Negotiated::from_client(&params.capabilities) }
    }

    pub fn from_client(capabilities: &lsp::ClientCapabilities) -> Negotiated {
        let offers_utf8 = capabilities
            .general
            .as_ref()
            .and_then(|general| general.position_encodings.as_ref())
            .is_some_and(|encodings| encodings.contains(&lsp::PositionEncodingKind::UTF8));
        let workspace = capabilities.workspace.as_ref();
        let text_document = capabilities.text_document.as_ref();
        let pull_diagnostics = text_document.is_some_and(|td| td.diagnostic.is_some())
            && workspace
                .and_then(|ws| ws.diagnostics.as_ref())
                .and_then(|diagnostics| diagnostics.refresh_support)
                .unwrap_or(false);
        let completion_item =
            text_document.and_then(|td| td.completion.as_ref()).and_then(|c| c.completion_item.as_ref());
        let folding = text_document.and_then(|td| td.folding_range.as_ref());
        Negotiated {
            encoding: if offers_utf8 { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 },
            pull_diagnostics,
            watch_files: workspace
                .and_then(|ws| ws.did_change_watched_files.as_ref())
                .and_then(|watch| watch.dynamic_registration)
                .unwrap_or(false),
            configuration: workspace.and_then(|ws| ws.configuration).unwrap_or(false),
            versioned_edits: workspace
                .and_then(|ws| ws.workspace_edit.as_ref())
                .and_then(|edit| edit.document_changes)
                .unwrap_or(false),
            locale: Locale::En,
            snippets: completion_item.and_then(|item| item.snippet_support).unwrap_or(false),
            completion_resolve: completion_item
                .and_then(|item| item.resolve_support.as_ref())
                .is_some_and(|resolve| resolve.properties.iter().any(|property| property == "documentation")),
            completion_markup: markup(completion_item.and_then(|item| item.documentation_format.as_ref())),
            hover_markup: markup(
                text_document.and_then(|td| td.hover.as_ref()).and_then(|h| h.content_format.as_ref()),
            ),
            signature_markup: markup(
                text_document
                    .and_then(|td| td.signature_help.as_ref())
                    .and_then(|help| help.signature_information.as_ref())
                    .and_then(|info| info.documentation_format.as_ref()),
            ),
            completion_tags: completion_item
                .and_then(|item| item.tag_support.as_ref())
                .is_some_and(|tags| tags.value_set.contains(&lsp::CompletionItemTag::DEPRECATED)),
            completion_deprecated: completion_item.and_then(|item| item.deprecated_support).unwrap_or(false),
            code_action_literals: text_document
                .and_then(|td| td.code_action.as_ref())
                .is_some_and(|actions| actions.code_action_literal_support.is_some()),
            apply_edit: workspace.and_then(|ws| ws.apply_edit).unwrap_or(false),
            hierarchical_symbols: text_document
                .and_then(|td| td.document_symbol.as_ref())
                .and_then(|symbols| symbols.hierarchical_document_symbol_support)
                .unwrap_or(false),
            line_folding_only: folding.and_then(|folding| folding.line_folding_only).unwrap_or(false),
            folding_collapsed_text: folding
                .and_then(|folding| folding.folding_range.as_ref())
                .and_then(|range| range.collapsed_text)
                .unwrap_or(false),
            prepare_rename: text_document
                .and_then(|td| td.rename.as_ref())
                .and_then(|rename| rename.prepare_support)
                .unwrap_or(false),
            definition_links: text_document
                .and_then(|td| td.definition.as_ref())
                .and_then(|definition| definition.link_support)
                .unwrap_or(false),
            link_tooltips: text_document
                .and_then(|td| td.document_link.as_ref())
                .and_then(|links| links.tooltip_support)
                .unwrap_or(false),
            code_lens_refresh: workspace
                .and_then(|ws| ws.code_lens.as_ref())
                .and_then(|lens| lens.refresh_support)
                .unwrap_or(false),
            work_done_progress: capabilities
                .window
                .as_ref()
                .and_then(|window| window.work_done_progress)
                .unwrap_or(false),
            trigger_suggest: false,
        }
    }

    pub fn completion_docs(&self) -> DocOptions {
        DocOptions::new(self.completion_markup, self.locale)
    }

    pub fn hover_docs(&self) -> DocOptions {
        DocOptions::new(self.hover_markup, self.locale)
    }

    pub fn signature_docs(&self) -> DocOptions {
        DocOptions::new(self.signature_markup, self.locale)
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
        code_action_provider: Some(if !negotiated.code_action_literals {
            // Actions as commands: such a client cannot filter by kind.
            lsp::CodeActionProviderCapability::Simple(true)
        } else {
            lsp::CodeActionProviderCapability::Options(lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::REFACTOR,
                    lsp::CodeActionKind::REFACTOR_REWRITE,
                    lsp::CodeActionKind::SOURCE_FIX_ALL,
                    // "Build image" (`kubefile.build`).
                    lsp::CodeActionKind::SOURCE,
                ]),
                resolve_provider: Some(false),
                work_done_progress_options: Default::default(),
            })
        }),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(strings(completion::TRIGGER_CHARACTERS)),
            resolve_provider: Some(negotiated.completion_resolve),
            ..Default::default()
        }),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        signature_help_provider: Some(lsp::SignatureHelpOptions {
            trigger_characters: Some(strings(signature_help::TRIGGER_CHARACTERS)),
            retrigger_characters: Some(strings(signature_help::TRIGGER_CHARACTERS)),
            work_done_progress_options: Default::default(),
        }),
        definition_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        document_highlight_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(if negotiated.prepare_rename {
            lsp::OneOf::Right(lsp::RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })
        } else {
            lsp::OneOf::Left(true)
        }),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        selection_range_provider: Some(lsp::SelectionRangeProviderCapability::Simple(true)),
        folding_range_provider: Some(lsp::FoldingRangeProviderCapability::Simple(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_range_formatting_provider: Some(lsp::OneOf::Left(true)),
        document_on_type_formatting_provider: {
            let (first, more) = format::ON_TYPE_TRIGGERS.split_first().expect("at least one on-type trigger");
            Some(lsp::DocumentOnTypeFormattingOptions {
                first_trigger_character: first.to_string(),
                more_trigger_character: Some(more.iter().map(char::to_string).collect()),
            })
        },
        semantic_tokens_provider: Some(lsp::SemanticTokensServerCapabilities::SemanticTokensOptions(
            lsp::SemanticTokensOptions {
                work_done_progress_options: Default::default(),
                legend: lsp::SemanticTokensLegend {
                    token_types: semantic_tokens::TOKEN_TYPES.iter().map(|t| lsp::SemanticTokenType::new(t)).collect(),
                    token_modifiers: semantic_tokens::TOKEN_MODIFIERS
                        .iter()
                        .map(|m| lsp::SemanticTokenModifier::new(m))
                        .collect(),
                },
                range: Some(true),
                full: Some(lsp::SemanticTokensFullOptions::Delta { delta: Some(true) }),
            },
        )),
        inlay_hint_provider: Some(lsp::OneOf::Left(true)),
        code_lens_provider: Some(lsp::CodeLensOptions { resolve_provider: Some(false) }),
        document_link_provider: Some(lsp::DocumentLinkOptions {
            resolve_provider: Some(false),
            work_done_progress_options: Default::default(),
        }),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: commands::advertised(negotiated),
            // `kubefile.build` reports to the request's `workDoneToken`.
            work_done_progress_options: lsp::WorkDoneProgressOptions { work_done_progress: Some(true) },
        }),
        ..Default::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
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
        // Without code-action literals actions are commands; without applyEdit, only those
        // that need no edit; plain text everywhere.
        assert_eq!(caps.code_action_provider, Some(lsp::CodeActionProviderCapability::Simple(true)));
        assert_eq!(caps.execute_command_provider.unwrap().commands, commands::COMMANDS);
        assert!(!negotiated.snippets && negotiated.hover_markup == Markup::PlainText);
        assert_eq!(caps.rename_provider, Some(lsp::OneOf::Left(true)));
    }

    #[test]
    fn completion_documentation_is_resolved_only_for_clients_that_resolve_it() {
        let resolve = |properties: serde_json::Value| {
            let negotiated = Negotiated::from_client(&client(serde_json::json!({
                "textDocument": {"completion": {"completionItem": {"resolveSupport": {"properties": properties}}}}
            })));
            let provider = server_capabilities(&negotiated).completion_provider.unwrap();
            assert_eq!(provider.resolve_provider, Some(negotiated.completion_resolve));
            negotiated.completion_resolve
        };
        assert!(resolve(serde_json::json!(["detail", "documentation"])));
        assert!(!resolve(serde_json::json!(["additionalTextEdits", "command"])));
        assert!(!Negotiated::from_client(&client(serde_json::json!({}))).completion_resolve);
    }

    #[test]
    fn a_client_without_action_literals_that_applies_edits_gets_the_apply_command() {
        let negotiated = Negotiated::from_client(&client(serde_json::json!({"workspace": {"applyEdit": true}})));
        assert!(negotiated.apply_edit && !negotiated.code_action_literals);
        let commands = server_capabilities(&negotiated).execute_command_provider.unwrap().commands;
        assert!(commands.contains(&commands::APPLY_EDIT.to_owned()), "{commands:?}");
    }

    #[test]
    fn locale_and_client_name_come_from_initialize() {
        let params = |extra: serde_json::Value| -> lsp::InitializeParams {
            let mut value = serde_json::json!({"capabilities": {}});
            value.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            serde_json::from_value(value).unwrap()
        };
        let zh = Negotiated::from_initialize(&params(serde_json::json!({"locale": "zh-cn"})));
        assert_eq!(zh.locale, Locale::ZhCn);
        assert!(!zh.trigger_suggest);
        let code =
            Negotiated::from_initialize(&params(serde_json::json!({"clientInfo": {"name": "Visual Studio Code"}})));
        assert_eq!(code.locale, Locale::En);
        assert!(code.trigger_suggest);
    }

    #[test]
    fn utf8_is_chosen_when_offered_and_pull_when_supported() {
        let negotiated = Negotiated::from_client(&client(serde_json::json!({
            "general": {"positionEncodings": ["utf-16", "utf-8"]},
            "workspace": {
                "configuration": true,
                "didChangeWatchedFiles": {"dynamicRegistration": true},
                "diagnostics": {"refreshSupport": true},
                "workspaceEdit": {"documentChanges": true}
            },
            "textDocument": {
                "diagnostic": {"dynamicRegistration": false},
                "completion": {"completionItem": {"snippetSupport": true, "documentationFormat": ["plaintext", "markdown"]}},
                "hover": {"contentFormat": ["markdown"]},
                "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": []}}},
                "rename": {"prepareSupport": true}
            }
        })));
        assert_eq!(negotiated.encoding, PositionEncoding::Utf8);
        assert!(negotiated.pull_diagnostics);
        assert!(negotiated.watch_files && negotiated.configuration && negotiated.versioned_edits);
        let caps = server_capabilities(&negotiated);
        assert_eq!(caps.position_encoding, Some(lsp::PositionEncodingKind::UTF8));
        let Some(lsp::DiagnosticServerCapabilities::Options(options)) = caps.diagnostic_provider else { panic!() };
        // The client's first preference wins.
        assert!(negotiated.snippets && negotiated.completion_markup == Markup::PlainText);
        assert_eq!(negotiated.hover_markup, Markup::Markdown);
        assert!(matches!(caps.code_action_provider, Some(lsp::CodeActionProviderCapability::Options(_))));
        assert!(!caps.execute_command_provider.unwrap().commands.contains(&commands::APPLY_EDIT.to_owned()));
        assert!(matches!(caps.rename_provider, Some(lsp::OneOf::Right(_))));
        assert!(options.workspace_diagnostics && options.inter_file_dependencies);
    }
}
