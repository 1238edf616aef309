//! `workspace/executeCommand kubefile.images` with the real helm (`KUBEFILE_LS_HELM` or `helm` on
//! `PATH`; `scripts/install-helm.sh` installs it): rendered once per context, kept until a file of
//! the context changes; the "N images" code lens updated once charts are rendered in the
//! background; and `images/shim` lists (completion, links).

use crate::context_fixtures;
use crate::support;

use std::{
    fs,
    path::Path,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use support::{at, editor_client, file_uri, full_client, push_client, LspClient};

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A copy of the chart fixture, the server started with our helm, and the Kubefile opened.
fn start(capabilities: Value) -> (tempfile::TempDir, String, LspClient) {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&context_fixtures::fixture("chart-context"), dir.path());
    let kubefile = dir.path().join("Kubefile");
    let uri = file_uri(&kubefile);
    let mut client = LspClient::spawn();
    let helm = context_fixtures::helm();
    client.initialize(capabilities, json!({"helm": {"path": helm}}));
    client.open(&uri, "kubefile", 1, &fs::read_to_string(&kubefile).unwrap());
    (dir, uri, client)
}

fn images(client: &mut LspClient, uri: &str) -> Vec<Value> {
    let result = client.request("workspace/executeCommand", json!({"command": "kubefile.images", "arguments": [uri]}));
    result.as_array().unwrap_or_else(|| panic!("an array: {result}")).clone()
}

fn names(images: &[Value]) -> Vec<&str> {
    images.iter().map(|image| image["image"].as_str().unwrap()).collect()
}

fn add_manifest(dir: &Path) -> std::path::PathBuf {
    fs::create_dir_all(dir.join("manifests")).unwrap();
    let path = dir.join("manifests/extra.yaml");
    fs::write(&path, "spec:\n  image: redis:7\n").unwrap();
    path
}

#[test]
fn chart_images_are_rendered_with_helm_and_cached_until_a_context_file_changes() {
    let (dir, uri, mut client) = start(full_client());
    let found = images(&mut client, &uri);
    let nginx = found
        .iter()
        .find(|image| image["image"] == "docker.io/library/nginx:1.26")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(
        nginx,
        &json!({
            "image": "docker.io/library/nginx:1.26",
            "registry_path": "library/nginx:1.26",
            "source": "chart",
            "chart": "webapp",
            "file": "charts/web/templates/deployment.yaml",
            "line": 10,
        })
    );
    assert_eq!(found.len(), 7, "{found:?}");

    // A new manifest is not seen until the client reports the change.
    let manifest = add_manifest(dir.path());
    assert!(!names(&images(&mut client, &uri)).contains(&"docker.io/library/redis:7"));
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": file_uri(&manifest), "type": 1}]}));
    let found = images(&mut client, &uri);
    let redis =
        found.iter().find(|image| image["image"] == "docker.io/library/redis:7").unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(
        (redis["source"].as_str(), redis["file"].as_str(), redis["line"].as_u64()),
        (Some("manifest"), Some("manifests/extra.yaml"), Some(2))
    );
    assert!(redis.get("chart").is_none());
}

#[test]
fn without_file_events_a_save_refreshes_the_images() {
    let (dir, uri, mut client) = start(push_client());
    assert_eq!(images(&mut client, &uri).len(), 7);
    add_manifest(dir.path());
    client.notify("textDocument/didSave", json!({"textDocument": {"uri": uri}}));
    assert!(names(&images(&mut client, &uri)).contains(&"docker.io/library/redis:7"));
}

#[test]
fn the_images_lens_counts_chart_images_once_they_are_rendered_in_the_background() {
    let mut capabilities = editor_client();
    capabilities["workspace"]["codeLens"] = json!({"refreshSupport": true});
    let (_dir, uri, mut client) = start(capabilities);
    let title = |client: &mut LspClient| {
        let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
        let images =
            lenses.as_array().unwrap().iter().find(|lens| lens["command"]["command"] == "kubefile.images").cloned();
        images.unwrap_or_else(|| panic!("no images lens: {lenses}"))["command"]["title"].as_str().unwrap().to_owned()
    };
    // The fast scan does not render charts: the first answer comes at once, without their images.
    assert_eq!(title(&mut client), "0 images will be saved");
    let deadline = Instant::now() + support::TIMEOUT;
    while !client.server_requests.iter().any(|(method, _)| method == "workspace/codeLens/refresh") {
        assert!(Instant::now() < deadline, "no workspace/codeLens/refresh after rendering");
        client.drain_for(Duration::from_millis(50));
    }
    assert_eq!(title(&mut client), "7 images will be saved");
}

/// Whatever language the editor gives an image list (VS Code: plain text; a user's file
/// association may say `kubefile`), it gets the list's features, never a build file's.
#[test]
fn shim_lists_complete_the_context_images_and_link_to_registry_pages() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("images/shim")).unwrap();
    add_manifest(dir.path());
    let list = dir.path().join("images/shim/list");
    let text = "nginx:1.25\nnginx:1.25\n\n";
    fs::write(&list, text).unwrap();
    let uri = file_uri(&list);
    for language in ["plaintext", "kubefile"] {
        let mut client = LspClient::spawn();
        client.initialize(editor_client(), Value::Null);
        client.open(&uri, language, 1, text);
        let items = client.request("textDocument/completion", at(&uri, 2, 0));
        assert_eq!(items[0]["label"], "docker.io/library/redis:7", "{language}: {items}");
        assert_eq!(items[0]["detail"], "manifests/extra.yaml:2");
        let links = client.request("textDocument/documentLink", json!({"textDocument": {"uri": uri}}));
        assert_eq!(links[0]["target"], "https://hub.docker.com/_/nginx", "{language}: {links}");
        let hover = client.request("textDocument/hover", at(&uri, 0, 1));
        let contents = hover["contents"]["value"].as_str().unwrap_or_else(|| panic!("{language}: {hover}"));
        assert!(contents.contains("pulls `docker.io/library/nginx:1.25`"), "{contents}");
        assert!(contents.contains("Also named in: `images/shim/list:2`"), "{contents}");
        // The duplicate on line 2 has its own fix; nothing of a build file's (`FROM scratch`,
        // Build image, ignore comments).
        let range = json!({"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}});
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": {"diagnostics": []}}),
        );
        let titles: Vec<&str> = actions.as_array().unwrap().iter().map(|action| action["title"].as_str().unwrap()).collect();
        assert_eq!(titles, ["Delete the duplicate line"], "{language}: {actions}");
    }
}

#[test]
fn commands_check_their_arguments() {
    let mut client = LspClient::spawn();
    client.initialize(editor_client(), Value::Null);
    let missing =
        client.request_raw("workspace/executeCommand", json!({"command": "kubefile.images", "arguments": []}));
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    let remote = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "kubefile.images", "arguments": ["https://example.com/Kubefile"]}),
    );
    assert_eq!(remote["error"]["code"], -32602, "{remote}");
    let unknown =
        client.request_raw("workspace/executeCommand", json!({"command": "kubefile.unknown", "arguments": []}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    assert!(unknown["error"]["message"].as_str().unwrap().contains("kubefile.unknown"), "{unknown}");
}
