//! Completion, hover, signature help, formatting (document, range, on type) and code actions
//! (refactorings and `source.fixAll`) over real stdio.

use crate::support;

use std::fs;

use serde_json::{json, Value};
use support::{apply_edits, at, editor_client, file_uri, range, LspClient};

const TEXT: &str = "\
FROM scratch
ENV NAME=${NAME:-\"nginx\"} PORT=80
LABEL sealos.io.type=
copy manifests manifests
COPY m
CMD [\"kubectl apply -f manifests/$(NAME).yaml\"]
";

fn start() -> (tempfile::TempDir, String, LspClient) {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("manifests")).unwrap();
    fs::write(dir.path().join("manifests/app.yaml"), "image: nginx:1.25\n").unwrap();
    fs::write(dir.path().join("Kubefile"), TEXT).unwrap();
    let uri = file_uri(&dir.path().join("Kubefile"));
    let mut client = LspClient::spawn();
    client.initialize(editor_client(), Value::Null);
    client.open(&uri, "kubefile", 1, TEXT);
    (dir, uri, client)
}

fn labels(items: &Value) -> Vec<&str> {
    items.as_array().unwrap().iter().map(|item| item["label"].as_str().unwrap()).collect()
}

#[test]
fn completion_offers_sealos_values_context_paths_and_variables() {
    let (_dir, uri, mut client) = start();
    let types = client.request("textDocument/completion", at(&uri, 2, 21));
    assert_eq!(labels(&types)[..3], ["application", "rootfs", "patch"], "{types}");
    assert_eq!(types[0]["textEdit"]["range"], range((2, 21), (2, 21)));

    let sources = client.request("textDocument/completion", at(&uri, 4, 6));
    assert!(labels(&sources).contains(&"manifests"), "{sources}");

    // `$(` inside CMD completes the image ENV; typed edits are seen by the next request.
    client.change(&uri, 2, (5, 46), (5, 46), " $(");
    let variables = client.request("textDocument/completion", at(&uri, 5, 49));
    let names = labels(&variables);
    assert!(names.contains(&"NAME") && names.contains(&"PORT"), "{variables}");
}

#[test]
fn hover_resolves_variables_and_signature_help_follows_the_cursor() {
    let (_dir, uri, mut client) = start();
    let hover = client.request("textDocument/hover", at(&uri, 5, 37));
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(value.contains("nginx"), "{value}");
    assert_eq!(hover["range"], range((5, 35), (5, 39)));
    assert_eq!(client.request("textDocument/hover", at(&uri, 99, 0)), Value::Null);

    for (character, parameter) in [(6, "<src>..."), (20, "<dest>")] {
        let help = client.request("textDocument/signatureHelp", at(&uri, 3, character));
        let signature = &help["signatures"][help["activeSignature"].as_u64().unwrap() as usize];
        let label = signature["label"].as_str().unwrap();
        assert!(label.starts_with("COPY"), "{help}");
        let active = &signature["parameters"][help["activeParameter"].as_u64().unwrap() as usize]["label"];
        let [start, end] = [0, 1].map(|i| active[i].as_u64().unwrap() as usize);
        assert_eq!(&label[start..end], parameter, "{help}");
    }
}

#[test]
fn formatting_whole_document_range_and_on_type() {
    let (_dir, uri, mut client) = start();
    let options = json!({"tabSize": 4, "insertSpaces": true});
    let edits = client.request("textDocument/formatting", json!({"textDocument": {"uri": uri}, "options": options}));
    let formatted = apply_edits(TEXT, &edits);
    assert!(formatted.contains("\nCOPY manifests manifests\n"), "{formatted}");

    let outside = client.request(
        "textDocument/rangeFormatting",
        json!({"textDocument": {"uri": uri}, "range": range((0, 0), (1, 5)), "options": options}),
    );
    assert_eq!(outside, json!([]));
    let inside = client.request(
        "textDocument/rangeFormatting",
        json!({"textDocument": {"uri": uri}, "range": range((3, 0), (3, 2)), "options": options}),
    );
    assert_eq!(inside, json!([{"range": range((3, 0), (3, 4)), "newText": "COPY"}]));

    // A new line after a continuation is indented one unit.
    client.change(&uri, 2, (1, 25), (1, 26), "\\\n");
    let typed = client.request(
        "textDocument/onTypeFormatting",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 0}, "ch": "\n", "options": options}),
    );
    assert_eq!(typed, json!([{"range": range((2, 0), (2, 0)), "newText": "    "}]));
}

fn code_actions(client: &mut LspClient, uri: &str, line: u32, context: Value) -> Vec<Value> {
    let result = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": range((line, 0), (line, 0)), "context": context}),
    );
    result.as_array().unwrap().clone()
}

#[test]
fn code_actions_refactor_and_fix_everything_safe() {
    let (_dir, uri, mut client) = start();
    let kinds = |actions: &[Value]| actions.iter().map(|a| a["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>();

    // The cursor on ENV: split the pairs; an explicit request also offers fix-all.
    let actions = code_actions(&mut client, &uri, 1, json!({"diagnostics": []}));
    let split = actions.iter().find(|a| a["kind"] == "refactor.rewrite").unwrap_or_else(|| panic!("{actions:?}"));
    assert_eq!(split["title"], "Split into 2 ENV lines");
    let edit = &split["edit"]["documentChanges"][0];
    assert_eq!(edit["textDocument"]["version"], 1);
    let split_text = apply_edits(TEXT, &edit["edits"]);
    assert!(split_text.contains("ENV NAME=${NAME:-\"nginx\"}\nENV PORT=80\n"), "{split_text}");
    assert!(kinds(&actions).contains(&"source.fixAll".to_owned()), "{actions:?}");

    // Automatic requests (cursor moves) skip the whole-file fix-all.
    let automatic = code_actions(&mut client, &uri, 1, json!({"diagnostics": [], "triggerKind": 2}));
    assert!(!kinds(&automatic).contains(&"source.fixAll".to_owned()), "{automatic:?}");

    // `only` filters by kind prefix.
    let refactors = code_actions(&mut client, &uri, 5, json!({"diagnostics": [], "only": ["refactor"]}));
    assert_eq!(kinds(&refactors), ["refactor.rewrite"], "{refactors:?}");
    assert_eq!(refactors[0]["title"], "Convert to shell form");

    let fix_all = code_actions(&mut client, &uri, 0, json!({"diagnostics": [], "only": ["source.fixAll"]}));
    assert_eq!(kinds(&fix_all), ["source.fixAll"], "{fix_all:?}");
    let fixed = apply_edits(TEXT, &fix_all[0]["edit"]["documentChanges"][0]["edits"]);
    assert!(fixed.contains("\nCOPY manifests manifests\n"), "{fixed}");
    assert_eq!(
        code_actions(&mut client, &uri, 0, json!({"diagnostics": [], "only": ["refactor.extract"]})),
        Vec::<Value>::new()
    );
}
