//! Published and pulled diagnostics over real stdio: syntax errors, incremental edits,
//! versions, position encodings, which documents are handled, and settings.

use crate::support;

use std::{fs, time::Duration};

use serde_json::{json, Value};
use support::{codes, file_uri, full_client, push_client, range, LspClient};

const BROKEN: &str = "FROM scratch\nCOPY . .\nLABEL sealos.io.type=\"application\" =x\nCMD [\"bash init.sh\"]\n";
/// A broken Dockerfile that says nothing about sealos.
const PLAIN_BROKEN: &str = "FROM alpine\nLABEL =x\n";

fn context_with(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, text).unwrap();
    let uri = file_uri(&path);
    (dir, uri)
}

#[test]
fn a_syntax_error_is_published_and_an_incremental_fix_clears_it() {
    let (_dir, uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, BROKEN);
    let published = client.diagnostics(&uri, Some(1));
    let diagnostics = &published["diagnostics"];
    assert_eq!(codes(diagnostics), ["syntax-error"], "{published}");
    let error = &diagnostics[0];
    assert_eq!(error["range"], range((2, 35), (2, 37)));
    assert_eq!(error["severity"], 1);
    assert_eq!(error["source"], "kubefile-ls");
    assert_eq!(
        error["codeDescription"]["href"],
        "https://github.com/kubefile-ls/kubefile-ls/blob/main/docs/diagnostics.md#syntax-error"
    );

    client.change(&uri, 2, (2, 34), (2, 37), "");
    let published = client.diagnostics(&uri, Some(2));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_burst_of_edits_is_published_in_order_ending_with_the_last_version() {
    let text = "FROM scratch\nCOPY . .\nLABEL \n";
    let (_dir, uri) = context_with("Kubefile", text);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    client.diagnostics(&uri, Some(1));
    // Type `sealos.io.typ="application"` one character at a time, as fast as the pipe takes it.
    let typed = "sealos.io.typ=\"application\"";
    for (i, ch) in typed.chars().enumerate() {
        client.change(&uri, 2 + i as i64, (2, 6 + i as u32), (2, 6 + i as u32), &ch.to_string());
    }
    let last = 1 + typed.len() as i64;
    let mut versions = Vec::new();
    let final_publication = loop {
        let published = client.diagnostics(&uri, None);
        let version = published["version"].as_i64().unwrap();
        versions.push(version);
        if version == last {
            break published;
        }
    };
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "publications out of order: {versions:?}");
    assert_eq!(codes(&final_publication["diagnostics"]), ["unknown-label"], "{final_publication}");
    // Nothing older arrives afterwards.
    client.drain_for(Duration::from_millis(100));
    let late: Vec<&Value> = client
        .notifications
        .iter()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["version"].as_i64() < Some(last))
        .collect();
    assert!(late.is_empty(), "stale publication after the last one: {late:?}");
}

/// Typing never queues work: edits that come while an analysis runs are coalesced into one more
/// run, of the latest text. A document big enough for its analysis (milliseconds, more in a debug
/// build) to outlast the burst, whose edits are written microseconds apart, shows it.
#[test]
fn a_burst_of_edits_costs_far_fewer_analyses_than_edits() {
    let block = "FROM alpine AS build\nARG VERSION=1.2.3\nENV PATH=/opt/bin:$PATH\nRUN apk add curl && echo \"${VERSION}\"\nCOPY --from=build /opt /opt\nLABEL sealos.io.type=\"rootfs\"\n";
    let text = block.repeat(500);
    let (_dir, uri) = context_with("Kubefile", &text);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, &text);
    client.diagnostics(&uri, Some(1));
    let middle = u32::try_from(text.lines().count() / 2).unwrap();
    let edits = 40;
    for i in 0..edits {
        let at = (middle, 0);
        let (end, typed) = if i % 2 == 0 { (at, "x") } else { ((middle, 1), "") };
        client.change(&uri, 2 + i, at, end, typed);
    }
    let last = 1 + edits;
    let mut publications = 0;
    loop {
        let published = client.diagnostics(&uri, None);
        publications += 1;
        if published["version"] == last {
            break;
        }
    }
    assert!(publications <= edits / 4, "{publications} publications for {edits} edits");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn pulled_diagnostics_carry_result_ids_and_nothing_is_pushed() {
    let (_dir, uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(full_client(), Value::Null);
    client.open(&uri, "kubefile", 1, BROKEN);
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(report["kind"], "full");
    assert_eq!(codes(&report["items"]), ["syntax-error"]);
    let first_id = report["resultId"].as_str().expect("a result id").to_owned();

    // Same text, same result id.
    let again =
        client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}, "previousResultId": first_id}));
    assert_eq!(again["resultId"], first_id.as_str());

    client.change(&uri, 2, (2, 34), (2, 37), "");
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(report["kind"], "full");
    assert_eq!(report["items"], json!([]));
    assert_ne!(report["resultId"], first_id.as_str());

    let workspace = client.request("workspace/diagnostic", json!({"previousResultIds": []}));
    let items = workspace["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{workspace}");
    assert_eq!(items[0]["uri"], uri.as_str());
    assert_eq!(items[0]["version"], 2);
    assert_eq!(items[0]["kind"], "full");
    assert_eq!(items[0]["resultId"], report["resultId"]);

    client.drain_for(Duration::from_millis(200));
    assert!(
        !client.notifications.iter().any(|n| n["method"] == "textDocument/publishDiagnostics"),
        "a pulling client must not get pushed diagnostics too"
    );
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn a_workspace_pull_that_is_up_to_date_waits_for_a_change() {
    let (_dir, uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(full_client(), Value::Null);
    client.open(&uri, "kubefile", 1, BROKEN);
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    let id = report["resultId"].clone();
    let request =
        client.send_request("workspace/diagnostic", json!({"previousResultIds": [{"uri": uri, "value": id}]}));
    assert_eq!(client.response(request, Duration::from_millis(300)), None, "answered although nothing changed");
    // The held request answers once the text changes.
    client.change(&uri, 2, (2, 34), (2, 37), "");
    let workspace = client.response(request, support::TIMEOUT).expect("an answer after the change");
    let workspace = &workspace["result"];
    assert_eq!(workspace["items"][0]["version"], 2, "{workspace}");
    assert_ne!(workspace["items"][0]["resultId"], id);
    // Shutting down lets a held request go.
    let held = client.send_request(
        "workspace/diagnostic",
        json!({"previousResultIds": [{"uri": uri, "value": workspace["items"][0]["resultId"]}]}),
    );
    client.request("shutdown", Value::Null);
    assert!(client.response(held, support::TIMEOUT).is_some());
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(0));
}

#[test]
fn columns_follow_the_negotiated_encoding() {
    let text = "FROM scratch\nLABEL description=\"é😀 日本\" =x\n";
    let error_at = text.lines().nth(1).unwrap().find("=x").unwrap();
    let prefix = &text.lines().nth(1).unwrap()[..error_at];
    for (capabilities, expected) in [
        (push_client(), prefix.encode_utf16().count()),
        (json!({"general": {"positionEncodings": ["utf-16", "utf-8"]}}), prefix.len()),
    ] {
        let (_dir, uri) = context_with("Kubefile", text);
        let mut client = LspClient::spawn();
        let result = client.initialize(capabilities, Value::Null);
        client.open(&uri, "kubefile", 1, text);
        let published = client.diagnostics(&uri, Some(1));
        let error = published["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["code"] == "syntax-error")
            .unwrap_or_else(|| panic!("{published}"))
            .clone();
        assert_eq!(
            error["range"]["start"]["character"], expected as u64,
            "{}: {published}",
            result["capabilities"]["positionEncoding"]
        );

        // An edit in the same encoding: replace the emoji by `x`, then the error moves left.
        let emoji = prefix.find('😀').unwrap();
        let (start, end) = if result["capabilities"]["positionEncoding"] == "utf-8" {
            (emoji, emoji + 4)
        } else {
            (prefix[..emoji].encode_utf16().count(), prefix[..emoji].encode_utf16().count() + 2)
        };
        client.change(&uri, 2, (1, start as u32), (1, end as u32), "x");
        let published = client.diagnostics(&uri, Some(2));
        let moved =
            published["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "syntax-error").unwrap().clone();
        let shift = if result["capabilities"]["positionEncoding"] == "utf-8" { 3 } else { 1 };
        assert_eq!(moved["range"]["start"]["character"], (expected - shift) as u64, "{published}");
    }
}

#[test]
fn a_plain_dockerfile_gets_nothing_but_one_in_a_sealos_context_does() {
    let (_plain, plain_uri) = context_with("Dockerfile", PLAIN_BROKEN);
    let (sealos, sealos_uri) = context_with("Dockerfile", PLAIN_BROKEN);
    fs::create_dir(sealos.path().join("charts")).unwrap();
    let (_kube, kube_uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&plain_uri, "dockerfile", 1, PLAIN_BROKEN);
    client.open(&sealos_uri, "dockerfile", 1, PLAIN_BROKEN);
    client.open(&kube_uri, "dockerfile", 1, BROKEN);
    assert!(codes(&client.diagnostics(&sealos_uri, Some(1))["diagnostics"]).contains(&"syntax-error".to_owned()));
    assert_eq!(codes(&client.diagnostics(&kube_uri, Some(1))["diagnostics"]), ["syntax-error"]);
    client.drain_for(Duration::from_millis(300));
    assert!(
        !client.notifications.iter().any(|n| n["params"]["uri"] == plain_uri.as_str()),
        "a Dockerfile outside a Sealos context got diagnostics"
    );
    let pulled = {
        let mut pulling = LspClient::spawn();
        pulling.initialize(full_client(), Value::Null);
        pulling.open(&plain_uri, "dockerfile", 1, PLAIN_BROKEN);
        pulling.request("textDocument/diagnostic", json!({"textDocument": {"uri": plain_uri}}))
    };
    assert_eq!(pulled["items"], json!([]));
}

#[test]
fn the_context_directory_is_found_through_a_percent_encoded_uri() {
    let root = tempfile::tempdir().unwrap();
    // The corpus has a directory whose name ends with a space.
    let dir = root.path().join("app v1 ");
    fs::create_dir_all(dir.join("manifests")).unwrap();
    fs::write(dir.join("manifests/x.yaml"), "spec:\n  containers:\n  - image: nginx:1.25\n").unwrap();
    let text = "FROM scratch\nCOPY manifests manifests\nCMD [\"kubectl apply -f manifests\"]\n";
    fs::write(dir.join("Kubefile"), text).unwrap();
    let uri = file_uri(&dir.join("Kubefile"));
    assert!(uri.ends_with("/app%20v1%20/Kubefile"), "{uri}");
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(codes(&published["diagnostics"]), ["missing-registry-copy"], "{published}");
}

#[test]
fn settings_from_initialization_options_and_the_workspace_merge_over_defaults() {
    let text = "FROM scratch\nCOPY . .\nLABEL sealos.io.typ=\"application\" =x\n";
    let (_dir, uri) = context_with("Kubefile", text);
    let mut client = LspClient::spawn();
    // The initialization options turn syntax errors off; the workspace sets another key.
    client.settings = json!({"allowedLabels": ["team.example/owner"]});
    client.initialize(full_client(), json!({"severity": {"syntax-error": "off", "unknown-label": "hint"}}));
    client.open(&uri, "kubefile", 1, text);
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(codes(&report["items"]), ["unknown-label"], "{report}");
    assert_eq!(report["items"][0]["severity"], 4);

    // The workspace now sends its own `severity`: it replaces the initialization's map as a
    // whole, so the overrides it does not repeat (syntax-error off) do not stick.
    client.settings = json!({"severity": {"unknown-label": "error"}});
    let refreshes = count_requests(&client, "workspace/diagnostic/refresh");
    client.notify("workspace/didChangeConfiguration", json!({"settings": null}));
    let refresh = wait_for_server_request(&mut client, "workspace/diagnostic/refresh", refreshes + 1);
    assert!(refresh, "the client was not asked to pull again");
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(codes(&report["items"]), ["unknown-label", "syntax-error"], "{report}");
    assert_eq!(report["items"][0]["severity"], 1);

    // Removing the workspace's severity map brings back the initialization options, not the last map.
    client.settings = json!({"allowedLabels": []});
    let refreshes = count_requests(&client, "workspace/diagnostic/refresh");
    client.notify("workspace/didChangeConfiguration", json!({"settings": null}));
    assert!(wait_for_server_request(&mut client, "workspace/diagnostic/refresh", refreshes + 1));
    let report = client.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
    assert_eq!(codes(&report["items"]), ["unknown-label"], "{report}");
    assert_eq!(report["items"][0]["severity"], 4);
}

#[test]
fn image_lists_get_their_own_diagnostics_whatever_their_language_id() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("Kubefile"), "FROM scratch\nCOPY registry registry\n").unwrap();
    fs::create_dir_all(dir.path().join("images/shim/more")).unwrap();
    fs::create_dir_all(dir.path().join("images/skopeo")).unwrap();
    let shim = dir.path().join("images/shim/more/list");
    let shim_text = "nginx:1.25 # web\nNginx:1.25\n";
    fs::write(&shim, shim_text).unwrap();
    let tar = dir.path().join("images/skopeo/tar.txt");
    let tar_text = "docker-archive:missing.tar\n";
    fs::write(&tar, tar_text).unwrap();

    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    let shim_uri = file_uri(&shim);
    client.open(&shim_uri, "plaintext", 1, shim_text);
    let published = client.diagnostics(&shim_uri, Some(1));
    assert_eq!(codes(&published["diagnostics"]), ["shim-inline-comment", "invalid-image-reference"], "{published}");
    assert_eq!(published["diagnostics"][1]["range"], range((1, 0), (1, 10)), "{published}");

    // Fixing the line by an incremental edit clears it.
    client.change(&shim_uri, 2, (1, 0), (1, 1), "n");
    let published = client.diagnostics(&shim_uri, Some(2));
    assert_eq!(codes(&published["diagnostics"]), ["shim-inline-comment"], "{published}");

    let tar_uri = file_uri(&tar);
    client.open(&tar_uri, "dockerfile", 1, tar_text);
    let published = client.diagnostics(&tar_uri, Some(1));
    assert_eq!(codes(&published["diagnostics"]), ["invalid-tar-line"], "{published}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn settings_pushed_by_a_client_without_workspace_configuration_are_applied() {
    let text = "FROM scratch\nCOPY . .\nLABEL sealos.io.typ=\"application\"\n";
    let (_dir, uri) = context_with("Kubefile", text);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, text);
    assert_eq!(client.diagnostics(&uri, Some(1))["diagnostics"][0]["severity"], 2);
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kubefile": {"severity": {"unknown-label": "info", "bogus": "loud"}}}}),
    );
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(published["diagnostics"][0]["severity"], 3, "{published}");
    let message = client.wait_for("window/showMessage", |_| true);
    assert!(message["message"].as_str().unwrap().contains("bogus"), "{message}");
    // New settings replace the workspace layer: the override is gone, the default is back.
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"kubefile": {"knownVariables": ["X"]}}}));
    let published = client.diagnostics(&uri, Some(1));
    assert_eq!(published["diagnostics"][0]["severity"], 2, "{published}");
}

#[test]
fn bad_positions_and_unknown_documents_do_not_break_the_server() {
    let (_dir, uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    let unknown = "file:///nowhere/Kubefile";
    client.change(unknown, 5, (0, 0), (0, 0), "x");
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": unknown}, "range": range((0, 0), (9, 9)), "context": {"diagnostics": []}}),
    );
    assert_eq!(actions, json!([]));
    client.open(&uri, "kubefile", 1, BROKEN);
    client.diagnostics(&uri, Some(1));
    // Far past the end of the text, and a range whose end comes before its start.
    client.change(&uri, 2, (99, 99), (120, 0), "\nRUN echo appended\n");
    client.change(&uri, 3, (1, 50), (0, 3), "");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": "FROM scratch\nCOPY . .\n"}]}),
    );
    let published = client.diagnostics(&uri, Some(4));
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let report = client.request_raw("textDocument/diagnostic", json!({"textDocument": {"uri": unknown}}));
    assert!(report.get("error").is_some() || report["result"]["items"] == json!([]), "{report}");
    assert_eq!(client.shutdown_and_exit().code(), Some(0));
}

#[test]
fn closing_a_document_clears_its_diagnostics() {
    let (_dir, uri) = context_with("Kubefile", BROKEN);
    let mut client = LspClient::spawn();
    client.initialize(push_client(), Value::Null);
    client.open(&uri, "kubefile", 1, BROKEN);
    client.diagnostics(&uri, Some(1));
    client.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
    let cleared = client.wait_for("textDocument/publishDiagnostics", |p| p["uri"] == uri.as_str());
    assert_eq!(cleared["diagnostics"], json!([]));
}

fn count_requests(client: &LspClient, method: &str) -> usize {
    client.server_requests.iter().filter(|(m, _)| m == method).count()
}

/// Waits until the server has sent `method` at least `count` times.
fn wait_for_server_request(client: &mut LspClient, method: &str, count: usize) -> bool {
    let deadline = std::time::Instant::now() + support::TIMEOUT;
    while std::time::Instant::now() < deadline {
        if count_requests(client, method) >= count {
            return true;
        }
        client.drain_for(Duration::from_millis(20));
    }
    false
}
