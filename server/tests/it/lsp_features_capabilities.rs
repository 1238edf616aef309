//! What the server advertises, and how its answers adapt to what the client supports: snippets
//! or plain text, Markdown or plain text, code-action literals, hierarchical symbols, whole-line
//! folding, position encodings and the client's locale.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{at, editor_client, file_uri, plain_client, LspClient};

const TEXT: &str = "FROM scratch\nENV NAME=${NAME:-\"nginx\"}\nLABEL sealos.io.type=\"application\" é=\"😀\"\n\nCMD [\"echo $(NAME)\"]\n";

fn start(capabilities: Value, extra: Value) -> (tempfile::TempDir, String, LspClient, Value) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    let result = client.initialize_with(capabilities, extra);
    client.open(&uri, "kubefile", 1, TEXT);
    (dir, uri, client, result["capabilities"].clone())
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_implemented_feature_is_advertised_and_only_implemented_commands() {
    let (_dir, _uri, client, caps) = start(editor_client(), json!({}));
    for provider in [
        "completionProvider",
        "hoverProvider",
        "signatureHelpProvider",
        "definitionProvider",
        "referencesProvider",
        "documentHighlightProvider",
        "documentSymbolProvider",
        "selectionRangeProvider",
        "foldingRangeProvider",
        "documentFormattingProvider",
        "documentRangeFormattingProvider",
        "documentOnTypeFormattingProvider",
        "inlayHintProvider",
        "codeLensProvider",
        "documentLinkProvider",
    ] {
        assert!(caps.get(provider).is_some_and(|p| p != &json!(false)), "{provider} missing in {caps}");
    }
    let commands = caps["executeCommandProvider"]["commands"].as_array().unwrap();
    assert!(commands.contains(&json!("kubefile.images")), "{commands:?}");
    assert_eq!(caps["renameProvider"], json!({"prepareProvider": true}));
    let kinds = caps["codeActionProvider"]["codeActionKinds"].as_array().unwrap();
    for kind in ["quickfix", "refactor", "refactor.rewrite", "source.fixAll"] {
        assert!(kinds.contains(&json!(kind)), "{kind} missing in {kinds:?}");
    }
    let tokens = &caps["semanticTokensProvider"];
    assert_eq!(tokens["full"], json!({"delta": true}));
    assert_eq!(tokens["range"], true);
    assert_eq!(tokens["legend"]["tokenTypes"][0], "keyword");
    assert_eq!(caps["documentOnTypeFormattingProvider"]["firstTriggerCharacter"], "\n");
    assert!(caps["completionProvider"]["triggerCharacters"].as_array().unwrap().contains(&json!("$")));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn snippets_and_markdown_for_a_client_that_supports_them() {
    let (_dir, uri, mut client, _) = start(editor_client(), json!({}));
    let items = client.request("textDocument/completion", at(&uri, 3, 0));
    let items = items.as_array().unwrap();
    let copy_registry =
        items.iter().find(|item| item["insertTextFormat"] == 2).unwrap_or_else(|| panic!("no snippet in {items:?}"));
    assert!(copy_registry["textEdit"]["newText"].as_str().unwrap().contains("${"), "{copy_registry}");
    assert!(items.iter().any(|item| item["documentation"]["kind"] == "markdown"));
    let hover = client.request("textDocument/hover", at(&uri, 1, 1));
    assert_eq!(hover["contents"]["kind"], "markdown");
    assert!(hover["contents"]["value"].as_str().unwrap().contains("**ENV**"), "{hover}");
}

#[test]
fn a_minimal_client_gets_plain_text_no_snippets_flat_symbols_and_whole_line_folds() {
    let (_dir, uri, mut client, caps) = start(plain_client(), json!({}));
    // No code-action literals: actions are commands (without `applyEdit`, only those needing no edit).
    assert_eq!(caps["codeActionProvider"], true, "{caps}");
    assert!(!caps["executeCommandProvider"]["commands"].as_array().unwrap().contains(&json!("kubefile.applyEdit")));
    assert_eq!(caps["renameProvider"], true);

    let items = client.request("textDocument/completion", at(&uri, 3, 0));
    let items = items.as_array().unwrap();
    assert!(!items.is_empty());
    for item in items {
        // No `insertTextFormat` is plain text, the protocol's default.
        assert!(item["insertTextFormat"].is_null(), "{item}");
        assert!(!item["textEdit"]["newText"].as_str().unwrap().contains("${1"), "{item}");
        assert!(item["documentation"].is_null() || item["documentation"].is_string(), "{item}");
    }
    let hover = client.request("textDocument/hover", at(&uri, 1, 1));
    assert_eq!(hover["contents"]["kind"], "plaintext");
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("ENV") && !value.contains("**"), "{value}");

    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));
    let symbols = symbols.as_array().unwrap();
    let name = symbols.iter().find(|s| s["name"] == "NAME").unwrap_or_else(|| panic!("{symbols:?}"));
    assert_eq!(name["location"]["uri"], uri.as_str());
    assert_eq!(name["containerName"], "ENV");
    assert!(symbols.iter().all(|s| s.get("children").is_none()));

    let folds = client.request("textDocument/foldingRange", json!({"textDocument": {"uri": uri}}));
    let stage = &folds.as_array().unwrap()[0];
    assert_eq!((stage["startLine"].as_u64(), stage["endLine"].as_u64()), (Some(0), Some(4)), "{folds}");
    assert!(stage.get("startCharacter").is_none() && stage.get("collapsedText").is_none(), "{stage}");
}

#[test]
fn simplified_chinese_for_a_zh_cn_client_and_english_otherwise() {
    let (_dir, uri, mut client, _) = start(editor_client(), json!({"locale": "zh-CN"}));
    let hover = client.request("textDocument/hover", at(&uri, 1, 1));
    assert!(has_cjk(hover["contents"]["value"].as_str().unwrap()), "{hover}");
    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let images =
        lenses.as_array().unwrap().iter().find(|lens| lens["command"]["command"] == "kubefile.images").unwrap();
    assert_eq!(images["command"]["title"], "将保存 0 个镜像");

    for locale in ["zh-TW", "fr"] {
        let (_dir, uri, mut client, _) = start(editor_client(), json!({"locale": locale}));
        let hover = client.request("textDocument/hover", at(&uri, 1, 1));
        assert!(!has_cjk(hover["contents"]["value"].as_str().unwrap()), "{locale}: {hover}");
    }
}

#[test]
fn positions_are_counted_in_the_negotiated_encoding() {
    let mut utf8 = editor_client();
    utf8["general"]["positionEncodings"] = json!(["utf-8", "utf-16"]);
    for (capabilities, end) in [(editor_client(), 41), (utf8, 44)] {
        let (_dir, uri, mut client, caps) = start(capabilities, json!({}));
        // Line 2: `LABEL sealos.io.type="application" é="😀"`; the emoji is 2 UTF-16 units, 4 bytes.
        let links = client.request(
            "textDocument/semanticTokens/range",
            json!({"textDocument": {"uri": uri}, "range": support::range((2, 0), (2, 99))}),
        );
        let data: Vec<u64> = links["data"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
        let (mut column, mut last_end) = (0, 0);
        for token in data.chunks(5) {
            column = if token[0] == 0 { column + token[1] } else { token[1] };
            last_end = column + token[2];
        }
        assert_eq!(last_end, end, "{} {data:?}", caps["positionEncoding"]);
    }
}
