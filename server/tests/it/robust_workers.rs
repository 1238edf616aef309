//! The analysis lanes over stdio: a document that takes seconds to analyse does not hold up the
//! diagnostics of small ones, and what is published for each still describes its latest text.

use crate::support;

use std::time::Duration;

use serde_json::Value;
use support::{codes, file_uri, push_client, LspClient};

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
    let (big_text, big_last_line) = big_kubefile(2 << 20);
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
    let (big_text, _) = big_kubefile(2 << 20);
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
