//! The server's life cycle over real stdio: initialize (capabilities negotiated from the
//! client's), initialized (dynamic registrations, configuration), shutdown and exit codes.

use crate::support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{full_client, push_client, LspClient, TIMEOUT};

#[test]
fn a_plain_client_gets_push_diagnostics_utf16_and_incremental_sync() {
    let mut client = LspClient::spawn();
    let result = client.initialize(push_client(), Value::Null);
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync: {caps}");
    assert_eq!(caps["textDocumentSync"]["openClose"], true);
    assert!(caps.get("diagnosticProvider").is_none(), "no pull diagnostics for this client: {caps}");
    // Without code-action literal support, actions are sent as commands: no kinds to filter by.
    assert_eq!(caps["codeActionProvider"], true, "{caps}");
    assert_eq!(result["serverInfo"]["name"], "kubefile-ls");
    // It asked for nothing it was not offered.
    client.drain_for(Duration::from_millis(200));
    assert!(client.server_requests.is_empty(), "{:?}", client.server_requests);
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_capable_client_gets_pull_diagnostics_utf8_watching_and_is_asked_for_settings() {
    let mut client = LspClient::spawn();
    let result = client.initialize(full_client(), Value::Null);
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-8");
    let provider = &caps["diagnosticProvider"];
    assert_eq!(provider["identifier"], "kubefile-ls");
    assert_eq!(provider["workspaceDiagnostics"], true);
    assert_eq!(provider["interFileDependencies"], true);

    let deadline = std::time::Instant::now() + TIMEOUT;
    while client.server_requests.len() < 2 && std::time::Instant::now() < deadline {
        client.drain_for(Duration::from_millis(50));
    }
    let configuration = client.server_requests.iter().find(|(method, _)| method == "workspace/configuration");
    assert_eq!(configuration.expect("workspace/configuration was requested").1["items"][0]["section"], "kubefile");
    let registration = client
        .server_requests
        .iter()
        .find(|(method, _)| method == "client/registerCapability")
        .expect("file watchers were registered");
    let registration = &registration.1["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(registration["registerOptions"]["watchers"][0]["globPattern"], "**/*");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(1));
}

#[test]
fn closing_stdin_ends_the_server() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    assert_eq!(client.wait_exit().code(), Some(1));
}

#[test]
fn requests_after_shutdown_are_refused_and_exit_is_still_clean() {
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.request("shutdown", Value::Null);
    let response = client.request_raw(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": "file:///nowhere/Kubefile"},
            "range": support::range((0, 0), (0, 0)),
            "context": {"diagnostics": []},
        }),
    );
    assert!(response.get("error").is_some(), "{response}");
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(0));
}
