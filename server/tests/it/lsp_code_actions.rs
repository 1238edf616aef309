//! Quick fixes over real stdio: code actions come from the diagnostics of the current text that
//! touch the requested range, with the edit as plain `changes` or versioned `documentChanges`;
//! clients without `CodeAction` literals get commands, their edits applied by the server.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{file_uri, full_client, push_client, range, LspClient};

const TEXT: &str = "FROM scratch\nCOPY . .\nLABEL sealos.io.typ=\"application\"\n";

fn open(capabilities: Value) -> (tempfile::TempDir, String, LspClient) {
    open_in_context(capabilities, TEXT, &[])
}

/// A client with `text` open as the Kubefile of a context that also holds `files` (path, content).
fn open_in_context(capabilities: Value, text: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, String, LspClient) {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    fs::write(dir.path().join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(capabilities, Value::Null);
    client.open(&uri, "kubefile", 1, text);
    (dir, uri, client)
}

/// The quick fixes among code actions (refactors and source actions are another feature's).
fn quick_fixes(actions: Value) -> Value {
    Value::Array(actions.as_array().unwrap().iter().filter(|action| action["kind"] == "quickfix").cloned().collect())
}

fn code_actions(client: &mut LspClient, uri: &str, start: (u32, u32), end: (u32, u32), only: Option<Value>) -> Value {
    let mut context = json!({"diagnostics": []});
    if let Some(only) = only {
        context["only"] = only;
    }
    client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range(start, end), "context": context}),
    )
}

/// A push client that takes `CodeAction` literals but no versioned edits.
fn literal_push_client() -> Value {
    let mut capabilities = push_client();
    capabilities["textDocument"]["codeAction"] =
        json!({"codeActionLiteralSupport": {"codeActionKind": {"valueSet": []}}});
    capabilities
}

#[test]
fn a_misspelt_label_offers_its_correction_as_a_preferred_quick_fix() {
    let (_dir, uri, mut client) = open(literal_push_client());
    let published = client.diagnostics(&uri, Some(1));
    let diagnostic =
        published["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "unknown-label").cloned();
    let diagnostic = diagnostic.unwrap_or_else(|| panic!("{published}"));
    assert_eq!(diagnostic["range"], range((2, 6), (2, 19)));

    // A cursor inside the key is enough.
    let actions = code_actions(&mut client, &uri, (2, 10), (2, 10), None);
    let actions = actions.as_array().unwrap();
    assert!(!actions.is_empty());
    let fix = &actions[0];
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["isPreferred"], true);
    assert!(fix["title"].as_str().unwrap().contains("sealos.io.type"), "{fix}");
    assert_eq!(fix["diagnostics"], json!([diagnostic]));
    // This client takes no documentChanges: a plain `changes` map.
    assert_eq!(fix["edit"]["changes"][&uri], json!([{"range": range((2, 6), (2, 19)), "newText": "sealos.io.type"}]));

    // Away from the diagnostic there is nothing to fix; asking only for refactors gives no fix.
    assert_eq!(quick_fixes(code_actions(&mut client, &uri, (0, 0), (0, 4), None)), json!([]));
    assert_eq!(quick_fixes(code_actions(&mut client, &uri, (2, 10), (2, 10), Some(json!(["refactor"])))), json!([]));
    assert_eq!(
        code_actions(&mut client, &uri, (2, 10), (2, 10), Some(json!(["quickfix"]))).as_array().unwrap().len(),
        quick_fixes(Value::Array(actions.clone())).as_array().unwrap().len()
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn quick_fixes_follow_edits_and_carry_the_version_for_clients_with_document_changes() {
    let (_dir, uri, mut client) = open(full_client());
    // Move the label down a line; the fix must target the new position and version 2.
    client.change(&uri, 2, (2, 0), (2, 0), "\n");
    let actions = code_actions(&mut client, &uri, (3, 6), (3, 19), None);
    let fix = &actions[0];
    let edit = &fix["edit"]["documentChanges"][0];
    assert_eq!(edit["textDocument"], json!({"uri": uri, "version": 2}));
    // UTF-8 was negotiated: same columns here, as the line is ASCII.
    assert_eq!(edit["edits"][0], json!({"range": range((3, 6), (3, 19)), "newText": "sealos.io.type"}));

    // Applying the fix removes the diagnostic.
    client.change(&uri, 3, (3, 6), (3, 19), "sealos.io.type");
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert!(!support::codes(&report["items"]).contains(&"unknown-label".to_owned()), "{report}");
    assert_eq!(quick_fixes(code_actions(&mut client, &uri, (3, 6), (3, 19), None)), json!([]));
}

#[test]
fn a_diagnostic_can_be_ignored_for_its_instruction_with_a_comment_the_next_analysis_honours() {
    let (_dir, uri, mut client) = open(full_client());
    let pull = |client: &mut LspClient| {
        let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
        support::codes(&report["items"])
    };
    assert_eq!(pull(&mut client), ["unknown-label"]);
    let actions = quick_fixes(code_actions(&mut client, &uri, (2, 10), (2, 10), None));
    let ignore = actions.as_array().unwrap().iter().find(|action| action["title"] == "Ignore `unknown-label` for this instruction");
    let ignore = ignore.unwrap_or_else(|| panic!("{actions}"));
    assert_eq!(ignore.get("isPreferred"), None, "the correction stays the preferred fix");
    let edit = &ignore["edit"]["documentChanges"][0]["edits"][0];
    assert_eq!(edit, &json!({"range": range((2, 0), (2, 0)), "newText": "# kubefile-ls ignore=unknown-label\n"}));

    // Applied as an editor would, incrementally: the label is no longer reported.
    client.change(&uri, 2, (2, 0), (2, 0), edit["newText"].as_str().unwrap());
    assert_eq!(pull(&mut client), Vec::<String>::new());
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn fixes_in_a_crlf_document_insert_crlf_line_breaks_after_the_line() {
    let text = "FROM scratch\r\nCOPY manifests manifests\r\nCMD [\"kubectl apply -f manifests\"]\r\n";
    let (_dir, uri, mut client) = open_in_context(full_client(), text, &[("manifests/app.yaml", "image: nginx:1.25\n")]);
    let actions = quick_fixes(code_actions(&mut client, &uri, (0, 0), (0, 4), None));
    let add = actions.as_array().unwrap().iter().find(|action| action["title"] == "Add `COPY registry registry`");
    let add = add.unwrap_or_else(|| panic!("{actions}"));
    let edit = &add["edit"]["documentChanges"][0]["edits"][0];
    assert_eq!(edit, &json!({"range": range((1, 24), (1, 24)), "newText": "\r\nCOPY registry registry"}));
    let ignore = actions.as_array().unwrap().iter().find(|action| action["title"].as_str().unwrap().starts_with("Ignore"));
    let ignore = ignore.unwrap_or_else(|| panic!("{actions}"));
    assert_eq!(ignore["edit"]["documentChanges"][0]["edits"][0]["newText"], "# kubefile-ls ignore=missing-registry-copy\r\n");
}

/// A client from before `CodeAction` literals: it takes commands, and applies edits it is sent.
fn command_client(apply_edit: bool) -> Value {
    json!({
        "textDocument": {"publishDiagnostics": {"versionSupport": true}},
        "workspace": {"applyEdit": apply_edit},
    })
}

#[test]
fn clients_without_action_literals_get_commands_that_apply_the_fix_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    let capabilities = client.initialize(command_client(true), Value::Null)["capabilities"].clone();
    assert_eq!(capabilities["codeActionProvider"], true);
    let commands = capabilities["executeCommandProvider"]["commands"].as_array().unwrap();
    assert!(commands.contains(&json!("kubefile.applyEdit")), "{commands:?}");
    client.open(&uri, "kubefile", 1, TEXT);
    client.diagnostics(&uri, Some(1));

    let actions = code_actions(&mut client, &uri, (2, 10), (2, 10), None);
    let actions = actions.as_array().unwrap();
    assert!(actions.iter().all(|action| action.get("kind").is_none() && action["command"].is_string()), "{actions:?}");
    let fix = &actions[0];
    assert_eq!(fix["command"], "kubefile.applyEdit");
    assert!(fix["title"].as_str().unwrap().contains("sealos.io.type"), "{fix}");
    let argument = &fix["arguments"][0];
    assert_eq!((&argument["uri"], &argument["version"]), (&json!(uri), &json!(1)));
    let edit = json!({"changes": {&uri: [{"range": range((2, 6), (2, 19)), "newText": "sealos.io.type"}]}});
    assert_eq!(argument["edit"], edit);
    // Actions that are commands already stay what they are.
    assert!(actions.iter().any(|action| action["command"] == "kubefile.build"), "{actions:?}");

    // Executing it sends the edit to the client. (The test client answers server requests with
    // `null`, which is no `ApplyWorkspaceEditResult`: the server reports that as a failure.)
    let execute = json!({"command": "kubefile.applyEdit", "arguments": fix["arguments"]});
    let response = client.request_raw("workspace/executeCommand", execute.clone());
    let sent: Vec<&Value> =
        client.server_requests.iter().filter(|(method, _)| method == "workspace/applyEdit").map(|(_, p)| p).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["edit"], edit);
    assert!(response["error"]["message"].as_str().unwrap().contains("workspace/applyEdit"), "{response}");

    // Once the text changed, the command is refused instead of editing the new text blindly.
    client.change(&uri, 2, (0, 0), (0, 0), "\n");
    let response = client.request_raw("workspace/executeCommand", execute);
    assert_eq!(response["error"]["code"], -32801, "{response}");
    assert_eq!(client.server_requests.iter().filter(|(method, _)| method == "workspace/applyEdit").count(), 1);
    let malformed = json!({"command": "kubefile.applyEdit", "arguments": [{"uri": uri}]});
    assert_eq!(client.request_raw("workspace/executeCommand", malformed)["error"]["code"], -32602);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_client_that_applies_no_edits_gets_only_the_actions_that_need_none() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    let capabilities = client.initialize(command_client(false), Value::Null)["capabilities"].clone();
    let commands = capabilities["executeCommandProvider"]["commands"].as_array().unwrap();
    assert!(!commands.contains(&json!("kubefile.applyEdit")), "{commands:?}");
    client.open(&uri, "kubefile", 1, TEXT);
    client.diagnostics(&uri, Some(1));
    let actions = code_actions(&mut client, &uri, (2, 10), (2, 10), None);
    let titles: Vec<&Value> = actions.as_array().unwrap().iter().map(|action| &action["command"]).collect();
    assert_eq!(titles, [&json!("kubefile.build")], "{actions}");
}
