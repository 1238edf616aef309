//! Semantic tokens (full, delta, range), inlay hints and code lenses over real stdio.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{editor_client, file_uri, range, LspClient};

const TEXT: &str = "\
FROM scratch
ENV NAME=${NAME:-\"nginx\"}
COPY registry registry
CMD [\"kubectl apply -f manifests/$(NAME).yaml\"]
";

fn start() -> (tempfile::TempDir, String, LspClient, Value) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("images/shim")).unwrap();
    fs::write(dir.path().join("images/shim/list"), "nginx:1.25\nredis:7\n").unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    let initialized = client.initialize(editor_client(), Value::Null);
    client.open(&uri, "kubefile", 1, TEXT);
    (dir, uri, client, initialized["capabilities"].clone())
}

fn numbers(data: &Value) -> Vec<u64> {
    data.as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect()
}

/// Decodes relative tokens into (line, start, length, type).
fn decode(data: &[u64]) -> Vec<(u64, u64, u64, u64)> {
    let (mut line, mut start) = (0, 0);
    data.chunks(5)
        .map(|t| {
            if t[0] > 0 {
                start = 0;
            }
            line += t[0];
            start += t[1];
            (line, start, t[2], t[3])
        })
        .collect()
}

#[test]
fn semantic_tokens_full_then_delta_then_range() {
    let (_dir, uri, mut client, _) = start();
    let full = client.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri}}));
    let data = numbers(&full["data"]);
    let tokens = decode(&data);
    assert_eq!(tokens[0], (0, 0, 4, 0), "FROM is a keyword: {tokens:?}");
    assert!(tokens.contains(&(3, 35, 4, 5)), "$(NAME) is a variable: {tokens:?}");

    // A comment line inserted at the top: the delta turns the old data into the new data.
    client.change(&uri, 2, (0, 0), (0, 0), "# a comment\n");
    let delta = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": uri}, "previousResultId": full["resultId"]}),
    );
    assert_ne!(delta["resultId"], full["resultId"]);
    let mut patched = data.clone();
    for edit in delta["edits"].as_array().unwrap_or_else(|| panic!("a delta: {delta}")).iter().rev() {
        let start = edit["start"].as_u64().unwrap() as usize;
        let deleted = edit["deleteCount"].as_u64().unwrap() as usize;
        patched.splice(start..start + deleted, numbers(&edit["data"]));
    }
    let again = client.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": uri}}));
    assert_eq!(patched, numbers(&again["data"]));
    assert_eq!(decode(&patched)[0], (0, 0, 11, 1), "the comment");

    // An unknown base gets the full set.
    let unknown = client.request(
        "textDocument/semanticTokens/full/delta",
        json!({"textDocument": {"uri": uri}, "previousResultId": "no such id"}),
    );
    assert_eq!(numbers(&unknown["data"]), numbers(&again["data"]));

    let ranged = client.request(
        "textDocument/semanticTokens/range",
        json!({"textDocument": {"uri": uri}, "range": range((4, 0), (4, 10))}),
    );
    let ranged = decode(&numbers(&ranged["data"]));
    assert!(ranged.iter().all(|t| t.0 == 4), "{ranged:?}");
    assert_eq!(ranged[0], (4, 0, 3, 0));
}

#[test]
fn inlay_hints_show_values_and_image_counts() {
    let (_dir, uri, mut client, _) = start();
    let hints =
        client.request("textDocument/inlayHint", json!({"textDocument": {"uri": uri}, "range": range((0, 0), (4, 0))}));
    let labels: Vec<(&str, &Value)> =
        hints.as_array().unwrap().iter().map(|h| (h["label"].as_str().unwrap(), &h["position"])).collect();
    assert_eq!(
        labels,
        [("2 images", &json!({"line": 2, "character": 22})), ("= nginx", &json!({"line": 3, "character": 40}))],
        "{hints}"
    );
    assert_eq!(hints[0]["tooltip"]["kind"], "markdown");
    // Only the requested lines.
    let first =
        client.request("textDocument/inlayHint", json!({"textDocument": {"uri": uri}, "range": range((0, 0), (1, 0))}));
    assert_eq!(first, json!([]));
}

#[test]
fn code_lens_counts_images_and_runs_only_commands_the_server_implements() {
    let (_dir, uri, mut client, caps) = start();
    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let lenses = lenses.as_array().unwrap();
    // A lens is shown only for a command the server advertises (no "Build image" without kubefile.build).
    let commands = caps["executeCommandProvider"]["commands"].as_array().unwrap();
    for lens in lenses {
        assert!(commands.contains(&lens["command"]["command"]), "{lens} runs an unknown command; {commands:?}");
        assert_eq!(lens["command"]["arguments"], json!([uri]));
        assert_eq!(lens["range"], range((0, 0), (0, 12)));
    }
    let images = lenses.iter().find(|lens| lens["command"]["command"] == "kubefile.images").unwrap();
    assert_eq!(images["command"]["title"], "2 images will be saved");
    let command = &images["command"];
    let found = client
        .request("workspace/executeCommand", json!({"command": command["command"], "arguments": command["arguments"]}));
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|i| i["image"].as_str().unwrap()).collect();
    assert_eq!(names, ["nginx:1.25", "redis:7"]);
}
