//! Go to definition, references, document highlight, rename, document symbols, selection
//! ranges, folding ranges and document links over real stdio.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{apply_edits, at, editor_client, file_uri, plain_client, range, LspClient};

const TEXT: &str = "\
# the application image
# built by CI
FROM alpine:3.19 AS build
RUN echo hi
FROM scratch
ENV NAME=${NAME:-\"nginx\"} \\
    PORT=80
COPY --from=build /etc/hosts hosts
COPY manifests manifests
CMD [\"kubectl apply -f manifests/$(NAME).yaml\"]
";

fn start(capabilities: Value) -> (tempfile::TempDir, String, LspClient) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("manifests")).unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(capabilities, Value::Null);
    client.open(&uri, "kubefile", 1, TEXT);
    (dir, uri, client)
}

fn document(uri: &str) -> Value {
    json!({"textDocument": {"uri": uri}})
}

#[test]
fn definition_as_links_or_locations() {
    let (_dir, uri, mut client) = start(editor_client());
    // `$(NAME)` in CMD → the ENV key, with the whole pair as the target range.
    let links = client.request("textDocument/definition", at(&uri, 9, 36));
    assert_eq!(
        links,
        json!([{"targetUri": uri, "targetRange": range((5, 4), (5, 25)), "targetSelectionRange": range((5, 4), (5, 8))}])
    );
    // The stage named by `--from=build`.
    let stage = client.request("textDocument/definition", at(&uri, 7, 14));
    assert_eq!(stage[0]["targetSelectionRange"], range((2, 20), (2, 25)));
    assert_eq!(client.request("textDocument/definition", at(&uri, 3, 1)), Value::Null);

    let (_dir, uri, mut client) = start(plain_client());
    let locations = client.request("textDocument/definition", at(&uri, 9, 36));
    assert_eq!(locations, json!([{"uri": uri, "range": range((5, 4), (5, 8))}]));
}

#[test]
fn references_and_highlights_cover_every_mention() {
    let (_dir, uri, mut client) = start(editor_client());
    let with = |include: bool| json!({"textDocument": {"uri": uri}, "position": {"line": 5, "character": 5}, "context": {"includeDeclaration": include}});
    let all = client.request("textDocument/references", with(true));
    let ranges: Vec<&Value> = all.as_array().unwrap().iter().map(|l| &l["range"]).collect();
    assert_eq!(ranges, [&range((5, 4), (5, 8)), &range((5, 11), (5, 15)), &range((9, 35), (9, 39))]);
    assert_eq!(client.request("textDocument/references", with(false)).as_array().unwrap().len(), 2);

    let highlights = client.request("textDocument/documentHighlight", at(&uri, 9, 36));
    let kinds: Vec<u64> = highlights.as_array().unwrap().iter().map(|h| h["kind"].as_u64().unwrap()).collect();
    assert_eq!(kinds, [3, 2, 2], "{highlights}"); // write, read, read
}

#[test]
fn rename_variables_and_stages_and_refuse_sealos_names() {
    let (_dir, uri, mut client) = start(editor_client());
    let prepared = client.request("textDocument/prepareRename", at(&uri, 2, 21));
    assert_eq!(prepared, json!({"range": range((2, 20), (2, 25)), "placeholder": "build"}));

    let edit = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 21}, "newName": "builder"}),
    );
    let change = &edit["documentChanges"][0];
    assert_eq!(change["textDocument"], json!({"uri": uri, "version": 1}));
    let renamed = apply_edits(TEXT, &change["edits"]);
    assert!(renamed.contains("AS builder\n") && renamed.contains("--from=builder "), "{renamed}");

    let edit = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": uri}, "position": {"line": 9, "character": 36}, "newName": "APP"}),
    );
    let renamed = apply_edits(TEXT, &edit["documentChanges"][0]["edits"]);
    assert!(renamed.contains("ENV APP=${APP:-\"nginx\"}") && renamed.contains("$(APP)"), "{renamed}");

    let refused = client.request_raw("textDocument/rename", json!({"textDocument": {"uri": uri}, "position": {"line": 5, "character": 5}, "newName": "SEALOS_SYS_KUBE_VERSION"}));
    assert_eq!(refused["error"]["code"], -32803, "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("SEALOS_SYS"), "{refused}");
    let nothing = client.request_raw("textDocument/prepareRename", at(&uri, 3, 1));
    assert!(nothing["error"]["message"].as_str().is_some(), "{nothing}");
}

#[test]
fn outline_selection_and_folding() {
    let (_dir, uri, mut client) = start(editor_client());
    let symbols = client.request("textDocument/documentSymbol", document(&uri));
    let stages: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(stages.len(), 2, "{symbols}");
    let env = symbols[1]["children"].as_array().unwrap().iter().find(|s| s["name"] == "ENV").unwrap();
    let pairs: Vec<&str> = env["children"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(pairs, ["NAME", "PORT"]);

    let selections = client.request(
        "textDocument/selectionRange",
        json!({"textDocument": {"uri": uri}, "positions": [{"line": 6, "character": 5}]}),
    );
    let mut chain = Vec::new();
    let mut current = &selections[0];
    while !current.is_null() {
        chain.push(current["range"].clone());
        current = &current["parent"];
    }
    assert_eq!(chain[0], range((6, 4), (6, 8)), "{selections}");
    assert_eq!(chain[1], range((6, 4), (6, 11)));
    assert!(chain.contains(&range((5, 0), (6, 11))), "{chain:?}");

    let folds = client.request("textDocument/foldingRange", document(&uri));
    let folds = folds.as_array().unwrap();
    let comment = folds.iter().find(|f| f["kind"] == "comment").unwrap_or_else(|| panic!("{folds:?}"));
    assert_eq!((comment["startLine"].as_u64(), comment["endLine"].as_u64()), (Some(0), Some(1)));
    assert!(folds.iter().any(|f| f["kind"] == "region" && f["startLine"] == 5 && f["endLine"] == 6), "{folds:?}");
    assert!(folds.iter().any(|f| f.get("startCharacter").is_some()));
}

#[test]
fn links_to_context_paths_and_registry_pages() {
    let (dir, uri, mut client) = start(editor_client());
    let links = client.request("textDocument/documentLink", document(&uri));
    let targets: Vec<&str> = links.as_array().unwrap().iter().map(|l| l["target"].as_str().unwrap()).collect();
    assert_eq!(targets, ["https://hub.docker.com/_/alpine", &file_uri(&dir.path().join("manifests"))], "{links}");
    assert_eq!(links[1]["range"], range((8, 5), (8, 14)));
}
