//! `workspace/executeCommand` `kubefile.build` over stdio against the real binary, pulling from
//! a real `docker-registry` (with the fault-injecting proxy in front where a pull must be slow):
//! progress notifications in order and an OCI image written; a cancellation mid-pull (by
//! `window/workDoneProgress/cancel` and by `$/cancelRequest`) that leaves `registry/` with no
//! link to missing data; a pull failure shown on the manifest's `image:` line and cleared by
//! the next successful build.
//!
//! Tools: docker-registry and skopeo (`bash scripts/start-registry.sh --install`), helm
//! (`KUBEFILE_LS_HELM` or PATH; `scripts/install-helm.sh`).

use crate::context_fixtures;
use crate::support;
use crate::support_registry;

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use kubefile_ls::registry::layout;
use serde_json::{json, Value};
use support::{file_uri, LspClient};
use support_registry::{skopeo_copy, Fault, Layer, OciLayout, Proxy, Registry};

/// Longest a build may take here (debug binary, small images).
const BUILD_TIMEOUT: Duration = Duration::from_secs(120);

const KUBEFILE: &str = "FROM scratch\nLABEL sealos.io.type=\"application\"\nCOPY registry registry\nCOPY manifests manifests\nCMD [\"kubectl apply -f manifests/\"]\n";

/// Pushes a one-platform image made of `layers` to `registry` as `repository:tag`.
fn push_image(registry: &Registry, work: &Path, repository: &str, tag: &str, layers: &[&Layer]) {
    let dir = work.join(format!("layout-{}", repository.replace('/', "-")));
    let mut layout = OciLayout::new(&dir);
    let descriptor = layout.image("amd64", None, layers);
    layout.tag(tag, &descriptor);
    layout.finish();
    skopeo_copy(
        &format!("oci:{}:{tag}", dir.display()),
        &format!("docker://{}/{repository}:{tag}", registry.host()),
        &[],
    );
}

/// A context whose manifest names `image` (on line 8), with a Kubefile copying it.
fn context_with_image(work: &Path, name: &str, image: &str) -> PathBuf {
    let context = work.join(name);
    fs::create_dir_all(context.join("manifests")).unwrap();
    fs::write(context.join("Kubefile"), KUBEFILE).unwrap();
    fs::write(
        context.join("manifests/app.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: app\n      image: {image}\n"),
    )
    .unwrap();
    context
}

fn client() -> LspClient {
    let mut client = LspClient::spawn();
    let mut capabilities = support::push_client();
    capabilities["window"] = json!({"workDoneProgress": true});
    client.initialize(capabilities, Value::Null);
    client
}

fn build_params(context: &Path, token: &str, options: Value) -> Value {
    json!({
        "command": "kubefile.build",
        "arguments": [file_uri(&context.join("Kubefile")), options],
        "workDoneToken": token,
    })
}

/// Runs a build to its end; the whole response.
fn build(client: &mut LspClient, params: Value) -> Value {
    let id = client.send_request("workspace/executeCommand", params);
    client.response(id, BUILD_TIMEOUT).expect("the build answers")
}

/// The `$/progress` values received for `token`, in order, taken out of the queue.
fn progress_values(client: &mut LspClient, token: &str) -> Vec<Value> {
    let mut values = Vec::new();
    while let Some(params) = client.try_wait_for("$/progress", Duration::ZERO, |params| params["token"] == token) {
        values.push(params["value"].clone());
    }
    values
}

/// Waits for the end of the progress of `token`; returns every value received for it.
fn progress_until_end(client: &mut LspClient, token: &str) -> Vec<Value> {
    let mut values = Vec::new();
    loop {
        let params = client.wait_for("$/progress", |params| params["token"] == token);
        values.push(params["value"].clone());
        if params["value"]["kind"] == "end" {
            return values;
        }
    }
}

/// Every link in `registry/` names blob data that is there and matches its digest.
fn assert_registry_consistent(context: &Path) {
    let check = layout::check(&context.join("registry"), true).unwrap();
    assert!(check.problems.is_empty(), "registry/ after the build: {:#?}", check.problems);
}

#[test]
fn build_reports_progress_in_order_and_writes_an_oci_image() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(&work.path().join("storage"), None);
    push_image(&registry, work.path(), "demo/app", "v1", &[&Layer::new("app", 300_000)]);
    let context = context_with_image(work.path(), "context", &format!("{}/demo/app:v1", registry.host()));

    let mut client = client();
    let initialize_commands = client.server_requests.len();
    let response = build(&mut client, build_params(&context, "build-1", json!({"tags": ["localhost/app:v1"]})));
    let result = response.get("result").unwrap_or_else(|| panic!("the build failed: {response}"));
    assert_eq!(client.server_requests.len(), initialize_commands, "a client token needs no workDoneProgress/create");

    // begin → reports (check, extract, pull N/M with bytes, assemble, write) → end, nothing after.
    let values = progress_values(&mut client, "build-1");
    let kinds: Vec<&str> = values.iter().map(|v| v["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"begin"), "{values:#?}");
    assert_eq!(kinds.last(), Some(&"end"), "{values:#?}");
    assert!(kinds[1..kinds.len() - 1].iter().all(|kind| *kind == "report"), "{kinds:?}");
    assert_eq!(values[0]["cancellable"], true);
    let messages: Vec<&str> = values.iter().filter_map(|v| v["message"].as_str()).collect();
    let position = |needle: &str| {
        messages
            .iter()
            .position(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no progress message with {needle:?}: {messages:#?}"))
    };
    assert!(position("extracting images") < position("pull 1/1 images"), "{messages:#?}");
    assert!(position("pull 1/1 images") < position("assembling"), "{messages:#?}");
    assert!(position("assembling") < position("writing the image"), "{messages:#?}");
    assert!(
        messages.iter().any(|m| m.starts_with("pull ") && m.contains(" of ")),
        "pull progress with bytes: {messages:#?}"
    );
    let percentages: Vec<u64> = values.iter().filter_map(|v| v["percentage"].as_u64()).collect();
    assert!(percentages.windows(2).all(|w| w[0] <= w[1]), "percentages never go back: {percentages:?}");
    assert!(messages.last().unwrap().starts_with("Built localhost/app:v1"), "{messages:#?}");

    // The result, as a value and as a message; log lines on the way.
    assert_eq!(result["image"], "localhost/app:v1");
    let digest = result["digest"].as_str().unwrap();
    assert!(digest.starts_with("sha256:"), "{result}");
    assert!(result["size"].as_u64().unwrap() > 300_000, "the image holds registry/: {result}");
    assert_eq!(result["imagesSaved"], 1);
    let shown = client.wait_for("window/showMessage", |params| params["type"] == 3);
    assert!(shown["message"].as_str().unwrap().contains(digest), "{shown}");
    client.wait_for("window/logMessage", |params| params["message"].as_str().is_some_and(|m| m.starts_with("saved ")));

    // An OCI layout naming the image, whose manifest blob is there.
    let output = PathBuf::from(result["output"].as_str().unwrap());
    assert_eq!(output, context.join("app.oci"));
    let index: Value = serde_json::from_slice(&fs::read(output.join("index.json")).unwrap()).unwrap();
    let manifest = &index["manifests"][0];
    assert_eq!(manifest["digest"], digest);
    assert_eq!(manifest["annotations"]["org.opencontainers.image.ref.name"], "localhost/app:v1");
    assert!(output.join("blobs/sha256").join(&digest[7..]).is_file());
    assert!(output.join("oci-layout").is_file());
    assert_registry_consistent(&context);
    assert!(context
        .join("registry/docker/registry/v2/repositories/demo/app/_manifests/tags/v1/current/link")
        .is_file());
    client.shutdown_and_exit();
}

/// A registry behind a proxy that holds every layer blob for a minute: a pull that never ends
/// by itself.
fn stalled_registry(work: &Path) -> (Registry, Proxy) {
    let registry = Registry::start(&work.join("storage"), None);
    let quick = Layer::new("quick", 50_000);
    let slow = Layer::new("slow", 2_000_000);
    push_image(&registry, work, "demo/big", "v1", &[&quick, &slow]);
    let slow_digest = slow.digest.clone();
    let rule: support_registry::Rule = Arc::new(move |request| {
        if request.method == "GET" && request.path.ends_with(&slow_digest) {
            Fault::StallAfter(64 * 1024, Duration::from_secs(60))
        } else {
            Fault::Pass
        }
    });
    let proxy = Proxy::start(registry.addr, Duration::ZERO, rule);
    (registry, proxy)
}

/// Sends the build and waits until it is pulling and has received bytes.
fn start_stalled_build(client: &mut LspClient, context: &Path, token: &str) -> i64 {
    let id = client.send_request("workspace/executeCommand", build_params(context, token, Value::Null));
    client.wait_for("$/progress", |params| {
        params["token"] == token
            && params["value"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("pull 0/1 images, ") && !m.starts_with("pull 0/1 images, 0 B"))
    });
    id
}

#[test]
fn cancelling_mid_pull_leaves_registry_consistent() {
    let work = tempfile::tempdir().unwrap();
    let (_registry, proxy) = stalled_registry(work.path());
    let image = format!("{}/demo/big:v1", proxy.host());
    let mut client = client();

    // From the progress UI: window/workDoneProgress/cancel.
    let context = context_with_image(work.path(), "by-progress", &image);
    let id = start_stalled_build(&mut client, &context, "cancel-1");
    let second = build(&mut client, build_params(&context, "cancel-1b", Value::Null));
    assert!(second["error"]["message"].as_str().unwrap().contains("is being built already"), "{second}");
    client.notify("window/workDoneProgress/cancel", json!({"token": "cancel-1"}));
    let response = client.response(id, Duration::from_secs(20)).expect("the cancelled build answers at once");
    assert_eq!(response["error"]["code"], -32800, "{response}");
    let values = progress_until_end(&mut client, "cancel-1");
    assert_eq!(values.last().unwrap()["message"], "cancelled");
    assert_registry_consistent(&context);
    assert!(!context.join("app.oci").exists() && !context.join("by-progress.oci").exists());

    // From the request: $/cancelRequest.
    let context = context_with_image(work.path(), "by-request", &image);
    let id = start_stalled_build(&mut client, &context, "cancel-2");
    client.notify("$/cancelRequest", json!({"id": id}));
    let response = client.response(id, Duration::from_secs(20)).expect("the cancelled request answers");
    assert_eq!(response["error"]["code"], -32800, "{response}");
    // The pipeline stops behind the response; the progress ends when it has.
    let values = progress_until_end(&mut client, "cancel-2");
    assert_eq!(values.last().unwrap()["message"], "cancelled");
    assert_registry_consistent(&context);
    client.shutdown_and_exit();
}

#[test]
fn a_pull_failure_is_a_diagnostic_on_the_image_line_until_a_build_succeeds() {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(&work.path().join("storage"), None);
    let context = context_with_image(work.path(), "context", &format!("{}/demo/missing:v1", registry.host()));
    let manifest_uri = file_uri(&context.join("manifests/app.yaml"));
    let mut client = client();

    let response = build(&mut client, build_params(&context, "fail-1", Value::Null));
    let message = response["error"]["message"].as_str().unwrap_or_else(|| panic!("the build must fail: {response}"));
    assert!(message.starts_with("build failed: ") && message.contains("demo/missing:v1"), "{message}");
    let published = client.diagnostics(&manifest_uri, None);
    let diagnostics = published["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{published}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["source"], "kubefile-ls build");
    assert_eq!(diagnostic["severity"], 1);
    assert_eq!(
        diagnostic["range"],
        support::range(
            (7, 6),
            (7, 6 + "image: ".len() as u32 + format!("{}/demo/missing:v1", registry.host()).len() as u32)
        )
    );
    assert!(diagnostic["message"].as_str().unwrap().contains("cannot pull"), "{diagnostic}");
    let values = progress_until_end(&mut client, "fail-1");
    assert!(values.last().unwrap()["message"].as_str().unwrap().starts_with("failed: "), "{values:#?}");

    // The image exists now: the next build succeeds and clears the diagnostic.
    push_image(&registry, work.path(), "demo/missing", "v1", &[&Layer::new("late", 10_000)]);
    let response = build(&mut client, build_params(&context, "fail-2", Value::Null));
    assert!(response.get("result").is_some(), "{response}");
    let cleared = client.diagnostics(&manifest_uri, None);
    assert_eq!(cleared["diagnostics"], json!([]), "{cleared}");
    client.shutdown_and_exit();
}

#[test]
fn build_is_advertised_and_offered_as_a_lens_and_a_source_action() {
    let work = tempfile::tempdir().unwrap();
    let context = context_with_image(work.path(), "context", "nginx:1.25");
    let uri = file_uri(&context.join("Kubefile"));
    let mut client = LspClient::spawn();
    let initialized = client.initialize(support::editor_client(), Value::Null);
    let capabilities = &initialized["capabilities"];
    assert!(capabilities["executeCommandProvider"]["commands"].as_array().unwrap().contains(&json!("kubefile.build")));
    assert_eq!(capabilities["executeCommandProvider"]["workDoneProgress"], true);
    assert!(capabilities["codeActionProvider"]["codeActionKinds"].as_array().unwrap().contains(&json!("source")));
    client.open(&uri, "kubefile", 1, KUBEFILE);
    let build_command = json!({"title": "Build image", "command": "kubefile.build", "arguments": [uri]});

    let lenses = client.request("textDocument/codeLens", json!({"textDocument": {"uri": uri}}));
    let lens = lenses
        .as_array()
        .unwrap()
        .iter()
        .find(|lens| lens["command"]["command"] == "kubefile.build")
        .unwrap_or_else(|| panic!("{lenses}"));
    assert_eq!(lens["range"], support::range((0, 0), (0, 12)), "above FROM: {lens}");

    // Anywhere in the file, when source actions are asked for (or the user asks for any action).
    for (line, only) in [(3, json!(["source"])), (1, Value::Null)] {
        let mut context = json!({"diagnostics": []});
        if !only.is_null() {
            context["only"] = only;
        }
        let actions = client.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": support::range((line, 2), (line, 2)), "context": context}),
        );
        let action = actions
            .as_array()
            .unwrap()
            .iter()
            .find(|action| action["title"] == "Build image")
            .unwrap_or_else(|| panic!("{actions}"));
        assert_eq!(action["kind"], "source");
        assert_eq!(action["command"], build_command);
    }
    let automatic = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": support::range((1, 0), (1, 0)), "context": {"diagnostics": [], "triggerKind": 2}}),
    );
    assert!(
        automatic.as_array().unwrap().iter().all(|action| action["title"] != "Build image"),
        "not as the cursor moves: {automatic}"
    );
    let quick_fixes = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": support::range((1, 0), (1, 0)), "context": {"diagnostics": [], "only": ["quickfix"]}}),
    );
    assert!(quick_fixes.as_array().unwrap().iter().all(|action| action["title"] != "Build image"), "{quick_fixes}");

    // The options are checked before anything runs.
    let typo = client.request_raw(
        "workspace/executeCommand",
        json!({"command": "kubefile.build", "arguments": [uri, {"tag": "x"}]}),
    );
    assert_eq!(typo["error"]["code"], -32602, "{typo}");
    assert!(typo["error"]["message"].as_str().unwrap().contains("unknown field `tag`"), "{typo}");
    client.shutdown_and_exit();
}

#[test]
fn a_missing_copy_source_is_a_diagnostic_on_the_copy_and_progress_gets_a_server_token() {
    let work = tempfile::tempdir().unwrap();
    // Without the save, `registry/` is never created: the assembly cannot COPY it.
    let context = context_with_image(work.path(), "context", "nginx:1.25");
    let uri = file_uri(&context.join("Kubefile"));
    let mut client = client();
    client.open(&uri, "kubefile", 1, KUBEFILE);
    let analysed = client.diagnostics(&uri, Some(1));
    let requests_before = client.server_requests.len();

    // No workDoneToken: the server asks the client for one.
    let id = client.send_request(
        "workspace/executeCommand",
        json!({"command": "kubefile.build", "arguments": [uri, {"saveImage": false}]}),
    );
    let response = client.response(id, BUILD_TIMEOUT).expect("the build answers");
    assert!(response["error"]["message"].as_str().unwrap().contains("COPY registry"), "{response}");
    let (method, params) = &client.server_requests[requests_before];
    assert_eq!(method, "window/workDoneProgress/create");
    let token = params["token"].as_str().unwrap().to_owned();
    let values = progress_until_end(&mut client, &token);
    assert_eq!(values[0]["kind"], "begin");
    // The pipeline's warnings reach the editor's log as warnings (type 2), not the server's stderr.
    client.wait_for("window/logMessage", |params| {
        params["type"] == 2 && params["message"].as_str().is_some_and(|m| m.contains("save-image is disabled"))
    });

    // On the COPY, next to what the analysis found, which stays.
    let published = client.wait_for("textDocument/publishDiagnostics", |params| {
        params["uri"] == uri
            && params["diagnostics"].as_array().unwrap().iter().any(|d| d["source"] == "kubefile-ls build")
    });
    let diagnostics = published["diagnostics"].as_array().unwrap();
    let copy = diagnostics.iter().find(|d| d["source"] == "kubefile-ls build").unwrap();
    assert_eq!(copy["range"]["start"], support::position(2, 0), "{copy}");
    assert!(copy["message"].as_str().unwrap().contains("no such file or directory"), "{copy}");
    assert_eq!(diagnostics.len(), analysed["diagnostics"].as_array().unwrap().len() + 1, "{published}");

    // An edit re-publishes the analysis with the build's diagnostic still there.
    client.change(&uri, 2, (4, 0), (4, 0), "\n");
    let republished = client.diagnostics(&uri, Some(2));
    assert!(
        republished["diagnostics"].as_array().unwrap().iter().any(|d| d["source"] == "kubefile-ls build"),
        "{republished}"
    );
    client.shutdown_and_exit();
}

#[test]
fn a_chart_helm_cannot_render_is_a_diagnostic_on_its_chart_yaml() {
    let work = tempfile::tempdir().unwrap();
    let context = context_with_image(work.path(), "context", "nginx:1.25");
    let chart = context.join("charts/broken");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: broken\nversion: 0.1.0\n").unwrap();
    fs::write(chart.join("templates/pod.yaml"), "{{ fail \"the chart refuses to render\" }}\n").unwrap();
    let mut client = LspClient::spawn();
    let mut capabilities = support::push_client();
    capabilities["window"] = json!({"workDoneProgress": true});
    client.initialize(capabilities, json!({"helm": {"path": context_fixtures::helm()}}));

    let response = build(&mut client, build_params(&context, "chart-1", Value::Null));
    assert!(response["error"]["message"].as_str().unwrap().contains("helm cannot render chart"), "{response}");
    let published = client.diagnostics(&file_uri(&chart.join("Chart.yaml")), None);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(diagnostic["source"], "kubefile-ls build");
    assert_eq!(diagnostic["range"], support::range((0, 0), (0, 14)), "{diagnostic}");
    assert!(diagnostic["message"].as_str().unwrap().contains("the chart refuses to render"), "{diagnostic}");
    client.shutdown_and_exit();
}
