//! Completion that depends on the rest of the workspace, over real stdio: after `FROM`, the base
//! images the other open build files name.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{at, file_uri, full_client, LspClient};

fn labels(items: &Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("an array: {items}"))
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

/// Waits until the server has analysed the current text of `uri` (a pull answers from it).
fn analysed(client: &mut LspClient, uri: &str) {
    client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
}

#[test]
fn from_offers_the_base_images_of_the_other_open_build_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        ("cluster/Kubefile", "FROM labring/kubernetes:v1.27.7\nCOPY registry registry\n"),
        // A plain Dockerfile (no sealos context): its stage name is no image elsewhere.
        ("tools/Dockerfile", "FROM golang:1.22 AS build\nFROM build\nFROM ${BASE}\n"),
        ("app/Kubefile", "FROM \n"),
    ];
    let mut client = LspClient::spawn();
    client.initialize(full_client(), Value::Null);
    let mut uris = Vec::new();
    for (path, text) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        let uri = file_uri(&path);
        let language = if path.ends_with("Dockerfile") { "dockerfile" } else { "kubefile" };
        client.open(&uri, language, 1, text);
        analysed(&mut client, &uri);
        uris.push(uri);
    }
    let [cluster, _tools, app] = &uris[..] else { unreachable!() };

    let items = client.request("textDocument/completion", at(app, 0, 5));
    let found = labels(&items);
    assert_eq!(found, ["scratch", "labring/kubernetes:v1.27.7", "golang:1.22"], "{items}");
    let image = &items[1];
    assert_eq!(image["kind"], 9, "an image is a module: {image}");
    assert_eq!(image["textEdit"]["range"], support::range((0, 5), (0, 5)));

    // Edits show up once analysed; a closed document no longer counts.
    client.change(cluster, 2, (0, 5), (0, 31), "labring/kubernetes:v1.28.0");
    analysed(&mut client, cluster);
    let found = labels(&client.request("textDocument/completion", at(app, 0, 5))).join(" ");
    assert!(found.contains("v1.28.0") && !found.contains("v1.27.7"), "{found}");
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": cluster}}));
    let items = client.request("textDocument/completion", at(app, 0, 5));
    assert_eq!(labels(&items), ["scratch", "golang:1.22"]);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
