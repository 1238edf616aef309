//! Completion over real stdio: what depends on the rest of the workspace (after `FROM`, the base
//! images the other open build files name), and documentation sent with the items or, for
//! clients that resolve it, on `completionItem/resolve`.

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

const VARIABLES: &str = "ARG BASE=alpine\nARG VERSION=1\nFROM ${\n\n";

/// A client for `VARIABLES` (a Kubefile on disk) with these completion-item capabilities; and the
/// `completionProvider` it was told.
fn open_variables(completion_item: Value) -> (tempfile::TempDir, String, LspClient, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Kubefile");
    fs::write(&path, VARIABLES).unwrap();
    let uri = file_uri(&path);
    let mut client = LspClient::spawn();
    let capabilities = json!({"textDocument": {"completion": {"completionItem": completion_item}}});
    let provider = client.initialize(capabilities, Value::Null)["capabilities"]["completionProvider"].clone();
    client.open(&uri, "kubefile", 1, VARIABLES);
    (dir, uri, client, provider)
}

fn item<'a>(items: &'a Value, label: &str) -> &'a Value {
    items.as_array().unwrap().iter().find(|item| item["label"] == label).unwrap_or_else(|| panic!("no {label} in {items}"))
}

#[test]
fn clients_that_resolve_documentation_get_it_on_resolve_only() {
    let resolving = json!({
        "snippetSupport": true,
        "documentationFormat": ["markdown"],
        "resolveSupport": {"properties": ["documentation", "detail"]},
    });
    let (_dir, uri, mut client, provider) = open_variables(resolving);
    assert_eq!(provider["resolveProvider"], true, "{provider}");

    let variables = client.request("textDocument/completion", at(&uri, 2, 7));
    for listed in variables.as_array().unwrap() {
        assert!(listed.get("documentation").is_none(), "{listed}");
        assert_eq!(listed["data"], variables[0]["data"], "one list, one id: {listed}");
    }
    let base = item(&variables, "BASE");
    assert_eq!(base["detail"], "= alpine", "the detail stays in the list: {base}");
    let resolved = client.request("completionItem/resolve", base.clone());
    assert_eq!(resolved["documentation"], json!({"kind": "markdown", "value": "Defined at line 1: `ARG BASE=alpine`"}));
    let mut rest = resolved.clone();
    rest.as_object_mut().unwrap().remove("documentation");
    assert_eq!(&rest, base, "resolve adds the documentation and changes nothing else");

    // What the user types after the list opened does not change what its items are.
    client.change(&uri, 2, (2, 7), (2, 7), "VE");
    let resolved = client.request("completionItem/resolve", item(&variables, "VERSION").clone());
    assert_eq!(resolved["documentation"]["value"], "Defined at line 2: `ARG VERSION=1`", "{resolved}");

    // Keywords are resolved the same way.
    let keywords = client.request("textDocument/completion", at(&uri, 3, 0));
    let copy = item(&keywords, "COPY");
    assert!(copy.get("documentation").is_none(), "{copy}");
    let resolved = client.request("completionItem/resolve", copy.clone());
    assert!(resolved["documentation"]["value"].as_str().unwrap().starts_with("**COPY**"), "{resolved}");

    // Once a newer list is out, an item of an older one comes back as it was sent.
    let stale = item(&variables, "BASE").clone();
    assert_eq!(client.request("completionItem/resolve", stale.clone()), stale);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn clients_that_do_not_resolve_documentation_get_it_in_the_list() {
    // `resolveSupport` without `documentation` (Neovim's built-in client lists only edits and
    // commands) counts as none.
    for completion_item in [
        json!({"documentationFormat": ["markdown"]}),
        json!({"documentationFormat": ["markdown"], "resolveSupport": {"properties": ["additionalTextEdits"]}}),
    ] {
        let (_dir, uri, mut client, provider) = open_variables(completion_item);
        assert_eq!(provider["resolveProvider"], false, "{provider}");
        let variables = client.request("textDocument/completion", at(&uri, 2, 7));
        let base = item(&variables, "BASE");
        assert_eq!(base["documentation"]["value"], "Defined at line 1: `ARG BASE=alpine`", "{base}");
        assert!(base.get("data").is_none(), "{base}");
        let keywords = client.request("textDocument/completion", at(&uri, 3, 0));
        assert!(item(&keywords, "COPY")["documentation"]["value"].as_str().unwrap().starts_with("**COPY**"));
        assert_eq!(client.shutdown_and_exit().code(), Some(0));
    }
}

#[test]
fn a_long_list_is_cut_and_asked_for_again_as_the_user_types() {
    // 150 global ARGs: `${` in FROM lists them all, and the predefined ARGs.
    let args: String = (1..=150).map(|n| format!("ARG BASE_{n}\n")).collect();
    let text = format!("{args}FROM ${{\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Kubefile");
    fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);
    let mut client = LspClient::spawn();
    client.initialize(full_client(), Value::Null);
    client.open(&uri, "kubefile", 1, &text);

    let list = client.request("textDocument/completion", at(&uri, 150, 7));
    assert_eq!(list["isIncomplete"], true, "{list}");
    let found = labels(&list["items"]);
    assert_eq!(found.len(), 100);
    assert_eq!(found[..3], ["BASE_1", "BASE_10", "BASE_100"], "in sort order");

    // Typing narrows the list: prefix matches first, then the names holding the typed letters in
    // order (a client's fuzzy filter shows those too).
    client.change(&uri, 2, (150, 7), (150, 7), "base_14");
    let list = client.request("textDocument/completion", at(&uri, 150, 14));
    let prefixed = (0..10).map(|n| format!("BASE_14{n}"));
    let expected: Vec<String> = ["BASE_14".to_string()].into_iter().chain(prefixed).chain(["BASE_104", "BASE_114", "BASE_124", "BASE_134"].map(String::from)).collect();
    assert_eq!(labels(&list["items"]), expected);
    assert_eq!(list["items"][0]["textEdit"]["range"], support::range((150, 7), (150, 14)));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
