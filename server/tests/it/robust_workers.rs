//! The analysis lanes over stdio: a document that takes seconds to analyse does not hold up the
//! diagnostics of small ones, and what is published for each still describes its latest text.
//! And the size limit: a document over it is kept as text only, and analysed again once edits
//! bring it back under.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{codes, file_uri, push_client, LspClient};

/// Over the big lane's threshold (1 MiB) and under the default size limit (2 MiB).
const BIG: usize = 3 << 19;

/// Long enough for the analysis of a few megabytes on a loaded machine in a debug build.
const BIG_TIMEOUT: Duration = Duration::from_secs(900);

/// A Kubefile of at least `bytes` bytes: realistic instructions, then one misspelt instruction
/// on its last line (returned with the text).
fn big_kubefile(bytes: usize) -> (String, u64) {
    let block = "FROM alpine AS build\nARG VERSION=1.2.3\nENV PATH=/opt/bin:$PATH \\\n    HOME=/root\nRUN apk add --no-cache curl && \\\n    echo \"${VERSION}\"\nCOPY --from=build /opt /opt\nLABEL sealos.io.type=\"rootfs\"\n# a comment\n";
    let mut text = String::from("FROM scratch\n");
    while text.len() < bytes {
        text.push_str(block);
    }
    let last_line = text.matches('\n').count() as u64;
    text.push_str("FORM end\n");
    (text, last_line)
}

fn kubefile_in_context(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Kubefile");
    std::fs::write(&path, text).unwrap();
    (dir, file_uri(&path))
}

fn published_for(client: &LspClient, uri: &str) -> bool {
    client
        .notifications
        .iter()
        .any(|message| message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri)
}

#[test]
fn a_big_document_does_not_hold_up_the_diagnostics_of_small_ones() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    let (big_text, big_last_line) = big_kubefile(BIG);
    let (_big_dir, big) = kubefile_in_context(&big_text);
    let (_small_dir, small) = kubefile_in_context("FROM scratch\n");

    client.open(&big, "kubefile", 1, &big_text);
    client.open(&small, "kubefile", 1, "FROM scratch\n");
    assert_eq!(codes(&client.diagnostics(&small, Some(1))["diagnostics"]), Vec::<String>::new());
    // Several rounds, so that some are sure to be asked while the big document's analysis (not
    // only its parse) is running: each is answered before that analysis is done.
    for version in 2..=6 {
        let line = u32::try_from(version - 1).unwrap();
        client.change(&small, version, (line, 0), (line, 0), "FORM x\n");
        let published = client.diagnostics(&small, Some(version));
        let expected = vec!["unknown-instruction".to_owned(); usize::try_from(version - 1).unwrap()];
        assert_eq!(codes(&published["diagnostics"]), expected, "{published}");
        assert!(!published_for(&client, &big), "the big document was analysed before the small one's version {version}");
    }

    let published = client
        .try_wait_for("textDocument/publishDiagnostics", BIG_TIMEOUT, |params| params["uri"] == big.as_str())
        .expect("the big document's diagnostics are published");
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["code"] == "unknown-instruction" && d["range"]["start"]["line"] == big_last_line),
        "the misspelt last line is found"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_big_document_closed_while_it_is_analysed_is_never_published_and_small_ones_still_are() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    let (big_text, _) = big_kubefile(BIG);
    let (_big_dir, big) = kubefile_in_context(&big_text);
    let (_small_dir, small) = kubefile_in_context("FROM scratch\n");

    client.open(&big, "kubefile", 1, &big_text);
    client.notify("textDocument/didClose", serde_json::json!({"textDocument": {"uri": big}}));
    client.open(&small, "kubefile", 1, "FROM scratch\nFORM x\n");
    assert_eq!(codes(&client.diagnostics(&small, Some(1))["diagnostics"]), ["unknown-instruction"]);
    // Reopened with other text: the analysis of the closed text, dropped or discarded, never
    // lands on the new document.
    client.open(&big, "kubefile", 2, "FROM scratch\nFORM y\n");
    let published = client
        .try_wait_for("textDocument/publishDiagnostics", BIG_TIMEOUT, |params| params["uri"] == big.as_str())
        .expect("the reopened document's diagnostics are published");
    assert_eq!(published["version"], 2, "only the reopened text is published: {published}");
    assert_eq!(codes(&published["diagnostics"]), ["unknown-instruction"]);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// Edits take a document over the size limit (set low with `maxDocumentSize`) and back: over it,
/// diagnostics are published empty, requests get `null`, and the user is told once however many
/// edits follow; the edits made meanwhile still apply, and back under it the document is analysed
/// again from its whole text.
#[test]
fn edits_across_the_size_limit_turn_analysis_off_and_on() {
    const LIMIT: usize = 2000;
    let mut client = LspClient::spawn();
    client.initialize(push_client(), json!({"maxDocumentSize": LIMIT}));
    let text = "FROM scratch\nFORM x\n";
    let (_dir, uri) = kubefile_in_context(text);
    let symbols = |client: &mut LspClient| client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri}}));

    client.open(&uri, "kubefile", 1, text);
    assert_eq!(codes(&client.diagnostics(&uri, Some(1))["diagnostics"]), ["unknown-instruction"]);
    assert_ne!(symbols(&mut client), Value::Null);

    // Pasted at the top: over the limit.
    let pasted: String = (0..).map(|i| format!("LABEL key{i}=value\n")).take(LIMIT / 10).collect();
    assert!(pasted.len() + text.len() > LIMIT);
    let pasted_lines = u32::try_from(pasted.matches('\n').count()).unwrap();
    client.change(&uri, 2, (0, 0), (0, 0), &pasted);
    assert_eq!(client.diagnostics(&uri, Some(2))["diagnostics"], json!([]), "earlier diagnostics are cleared");
    assert_eq!(symbols(&mut client), Value::Null);
    let hover = client.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}}));
    assert_eq!(hover, Value::Null);

    // More edits while over the limit: applied to the text, still no analysis, no second message.
    client.change(&uri, 3, (pasted_lines + 2, 0), (pasted_lines + 2, 0), "FORM y\n");
    assert_eq!(client.diagnostics(&uri, Some(3))["diagnostics"], json!([]));
    client.change(&uri, 4, (pasted_lines + 2, 0), (pasted_lines + 2, 0), "# comment\n");
    assert_eq!(client.diagnostics(&uri, Some(4))["diagnostics"], json!([]));
    let warnings = support::warnings_shown(&client.notifications);
    assert_eq!(warnings.len(), 1, "told once: {warnings:?}");
    assert!(warnings[0].contains("Kubefile") && warnings[0].contains("maxDocumentSize"), "{warnings:?}");

    // The paste undone: under the limit again, analysed with every edit made meanwhile.
    client.change(&uri, 5, (0, 0), (pasted_lines, 0), "");
    let diagnostics = client.diagnostics(&uri, Some(5));
    assert_eq!(codes(&diagnostics["diagnostics"]), ["unknown-instruction", "unknown-instruction"], "{diagnostics}");
    let lines: Vec<_> = diagnostics["diagnostics"].as_array().unwrap().iter().map(|d| d["range"]["start"]["line"].clone()).collect();
    assert_eq!(lines, [json!(1), json!(3)], "FORM x, then FORM y after the comment: {diagnostics}");
    assert_ne!(symbols(&mut client), Value::Null);
    assert_eq!(support::warnings_shown(&client.notifications).len(), 1);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

/// A request about a big document whose parse is pending (just opened) waits for that parse on
/// the big lane, not on the message thread: a request about a small document sent after it is
/// answered first. (Parsing on the message thread, a 2 MB document held up every message for
/// seconds.)
#[test]
fn a_request_about_a_big_document_does_not_hold_up_requests_about_small_ones() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    let (big_text, _) = big_kubefile(BIG);
    let (_big_dir, big) = kubefile_in_context(&big_text);
    let (_small_dir, small) = kubefile_in_context("FROM scratch\n");
    client.open(&small, "kubefile", 1, "FROM scratch\n");
    client.diagnostics(&small, Some(1));

    client.open(&big, "kubefile", 1, &big_text);
    let big_request = client.send_request("textDocument/foldingRange", json!({"textDocument": {"uri": big}}));
    let small_request = client.send_request("textDocument/documentSymbol", json!({"textDocument": {"uri": small}}));
    let small_answer = client.response(small_request, BIG_TIMEOUT).expect("the small document's symbols");
    assert_ne!(small_answer["result"], Value::Null, "{small_answer}");
    assert!(
        client.response(big_request, Duration::ZERO).is_none(),
        "the big document's folding ranges came first: its parse held up the small document's request"
    );
    let big_answer = client.response(big_request, BIG_TIMEOUT).expect("the big document's folding ranges");
    assert!(big_answer["result"].as_array().is_some_and(|ranges| !ranges.is_empty()), "{big_answer}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
