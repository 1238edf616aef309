//! The build context is watched: creating files in it re-evaluates its Kubefiles.

use crate::support;

use std::{fs, time::Duration};

use serde_json::{json, Value};
use support::{codes, file_uri, LspClient};

/// A push client that supports dynamic file watching.
fn watching_client() -> Value {
    json!({
        "textDocument": {"publishDiagnostics": {"versionSupport": true}},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    })
}

fn created(client: &mut LspClient, path: &std::path::Path) {
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(path), "type": 1}]}));
}

#[test]
fn creating_a_manifest_in_the_context_republishes_the_kubefile() {
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM scratch\nCOPY manifests manifests\nCMD [\"kubectl apply -f manifests\"]\n";
    fs::write(dir.path().join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(watching_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    let before = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&before["diagnostics"]), ["copy-source-not-found"], "{before}");
    assert!(client.server_requests.iter().any(|(method, _)| method == "client/registerCapability"));

    fs::create_dir(dir.path().join("manifests")).unwrap();
    fs::write(dir.path().join("manifests/x.yaml"), "spec:\n  containers:\n  - image: nginx:1.25\n").unwrap();
    created(&mut client, &dir.path().join("manifests/x.yaml"));
    let after = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&after["diagnostics"]), ["missing-registry-copy"], "{after}");

    // An event elsewhere changes nothing.
    let elsewhere = tempfile::tempdir().unwrap();
    created(&mut client, &elsewhere.path().join("x.yaml"));
    client.drain_for(Duration::from_millis(200));
    assert!(!client.notifications.iter().any(|n| n["method"] == "textDocument/publishDiagnostics"));
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_dockerfile_becomes_a_kubefile_when_its_directory_becomes_a_sealos_context() {
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM alpine\nLABEL =x\n";
    fs::write(dir.path().join("Dockerfile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Dockerfile"));
    let mut client = LspClient::spawn();
    client.initialize(watching_client(), Value::Null);
    client.open(&uri, "dockerfile", 1, text);
    client.drain_for(Duration::from_millis(200));
    assert!(!client.notifications.iter().any(|n| n["method"] == "textDocument/publishDiagnostics"));

    fs::create_dir_all(dir.path().join("images/shim")).unwrap();
    fs::write(dir.path().join("images/shim/list"), "nginx:1.25\n").unwrap();
    created(&mut client, &dir.path().join("images/shim/list"));
    let published = client.diagnostics(&uri, Some(1));
    assert!(codes(&published["diagnostics"]).contains(&"syntax-error".to_owned()), "{published}");

    // And back: once the context is gone its diagnostics are cleared.
    fs::remove_dir_all(dir.path().join("images")).unwrap();
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&dir.path().join("images")), "type": 3}]}),
    );
    let cleared = client.diagnostics(&uri, Some(1));
    assert_eq!(cleared["diagnostics"], json!([]));
}

#[test]
fn a_pulling_client_is_asked_to_pull_again_when_the_context_changes() {
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM scratch\nCOPY Kubefile Kubefile\n";
    fs::write(dir.path().join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(support::full_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(report["items"], json!([]));

    fs::create_dir(dir.path().join("manifests")).unwrap();
    fs::write(dir.path().join("manifests/x.yaml"), "image: nginx:1.25\n").unwrap();
    created(&mut client, &dir.path().join("manifests/x.yaml"));
    let deadline = std::time::Instant::now() + support::TIMEOUT;
    while !client.server_requests.iter().any(|(m, _)| m == "workspace/diagnostic/refresh") {
        assert!(std::time::Instant::now() < deadline, "no workspace/diagnostic/refresh");
        client.drain_for(Duration::from_millis(20));
    }
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(codes(&report["items"]), ["missing-registry-copy"], "{report}");
}

#[test]
fn without_file_events_a_save_looks_at_the_context_again() {
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM scratch\nCOPY Kubefile Kubefile\n";
    fs::write(dir.path().join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(support::push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    assert_eq!(client.diagnostics(&uri, Some(1))["diagnostics"], json!([]));
    fs::create_dir_all(dir.path().join("images/shim")).unwrap();
    fs::write(dir.path().join("images/shim/list"), "nginx:1.25\n").unwrap();
    client.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&published["diagnostics"]), ["missing-registry-copy"], "{published}");
}

/// A client that pulls diagnostics but cannot be asked to pull again (Neovim without
/// `workspace.diagnostics.refreshSupport`) would never hear of a context change; the server
/// pushes to it instead (and, so that nothing shows twice, does not offer pull).
#[test]
fn a_client_that_pulls_but_cannot_refresh_gets_pushed_context_changes() {
    let dir = tempfile::tempdir().unwrap();
    let text = "FROM scratch\nCOPY manifests manifests\nCMD [\"kubectl apply -f manifests\"]\n";
    fs::write(dir.path().join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    let capabilities = json!({
        "textDocument": {"publishDiagnostics": {"versionSupport": true}, "diagnostic": {"dynamicRegistration": false}},
        "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}},
    });
    let initialized = client.initialize(capabilities, Value::Null);
    assert!(initialized["capabilities"]["diagnosticProvider"].is_null(), "{initialized}");
    client.open(&uri, "kubefile", 1, text);
    let before = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&before["diagnostics"]), ["copy-source-not-found"], "{before}");

    fs::create_dir(dir.path().join("manifests")).unwrap();
    fs::write(dir.path().join("manifests/x.yaml"), "spec:\n  containers:\n  - image: nginx:1.25\n").unwrap();
    created(&mut client, &dir.path().join("manifests/x.yaml"));
    let after = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&after["diagnostics"]), ["missing-registry-copy"], "{after}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}
