//! Building on a base image pulled from a real docker-registry, through the whole pipeline:
//! the base's layers, env, labels and cmd are inherited (no default PATH is added when the
//! base has one), a COPY to a directory that exists in the base lands inside it, `--chown`
//! resolves a user name from the base's /etc/passwd, and `COPY --from=<image>` reads the image.
//! Needs docker-registry and skopeo (`bash scripts/start-registry.sh --install`).

use crate::support_registry;

use std::{fs, io::Read, path::Path, sync::Arc};

use kubefile_ls::{
    analysis::Config,
    build::{
        assemble::{assemble, AssembleRequest},
        base::Offline,
        evaluate::BuildInputs,
        pipeline::{self, Engine, PipelineOptions},
        BuildEvent,
    },
    context::images::ExtractOptions,
    registry::{CancellationToken, Platform, SaveOptions},
};
use serde_json::Value;
use support_registry::{require_tools, skopeo_copy, Registry};

fn write(root: &Path, relative: &str, content: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn request(context: &Path, output: &Path) -> AssembleRequest {
    AssembleRequest {
        context: context.to_owned(),
        build_files: vec![context.join("Kubefile")],
        inputs: BuildInputs::default(),
        timestamp: Some(0),
        output: output.to_owned(),
        ref_names: vec!["v1".into()],
        platform: Platform::new("linux", "amd64", None),
    }
}

fn read_json(layout: &Path, digest: &str) -> Value {
    serde_json::from_slice(&fs::read(layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_pulled_image() {
    require_tools(&["docker-registry", "skopeo"]);
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(&work.path().join("storage"), None);

    // The base image: built by the assembler, pushed with skopeo.
    let base_context = work.path().join("base");
    write(&base_context, "etc/passwd", "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n");
    write(&base_context, "etc/os-release", "ID=base\n");
    write(
        &base_context,
        "Kubefile",
        "FROM scratch\nENV PATH=/custom/bin BASE=1\nLABEL sealos.io.type=rootfs version=v1.27.7\nCOPY etc /etc\nCMD [\"base\"]\n",
    );
    let base_layout = work.path().join("base.oci");
    assemble(&request(&base_context, &base_layout), &mut Offline, &|_| {}, &CancellationToken::new()).unwrap();
    let base_ref = format!("{}/base:v1", registry.host());
    skopeo_copy(&format!("oci:{}:v1", base_layout.display()), &format!("docker://{base_ref}"), &[]);

    let context = work.path().join("app");
    write(&context, "app.txt", "app\n");
    write(
        &context,
        "Kubefile",
        &format!(
            "FROM {base_ref}\nENV APP=${{BASE}}-x\nCOPY app.txt /etc\nCOPY --chown=app app.txt /owned\nCOPY --from={base_ref} /etc/os-release /copied\nLABEL sealos.io.type=application\n"
        ),
    );
    let output = work.path().join("app.oci");
    let options = PipelineOptions {
        assemble: request(&context, &output),
        engine: Engine::Native,
        tls_verify: true,
        save_image: false,
        save: SaveOptions { sync: false, ..SaveOptions::default() },
        extract: ExtractOptions::default(),
        base_cache: work.path().join("cache"),
        config: Config::default(),
    };
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let report = pipeline::run(options, Arc::new(move |event| sink.lock().unwrap().push(event)), CancellationToken::new())
        .await
        .unwrap_or_else(|failure| panic!("{}: {:?}", failure.error, failure.findings));
    let pulls = events.lock().unwrap().iter().filter(|e| matches!(e, BuildEvent::PullingBase { .. })).count();
    assert_eq!(pulls, 1, "the base is pulled once for FROM and COPY --from");

    let index: Value = serde_json::from_slice(&fs::read(output.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], report.manifest_digest.as_str());
    let manifest = read_json(&output, &report.manifest_digest);
    let config = read_json(&output, manifest["config"]["digest"].as_str().unwrap());
    assert_eq!(config["config"]["Env"], serde_json::json!(["PATH=/custom/bin", "BASE=1", "APP=1-x"]));
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["base"]));
    assert_eq!(config["config"]["Labels"], serde_json::json!({"sealos.io.type": "application", "version": "v1.27.7"}));
    let layers = manifest["layers"].as_array().unwrap();
    let base_index: Value = serde_json::from_slice(&fs::read(base_layout.join("index.json")).unwrap()).unwrap();
    let base_manifest = read_json(&base_layout, base_index["manifests"][0]["digest"].as_str().unwrap());
    assert_eq!(layers.len(), 4, "one base layer and three COPYs");
    assert_eq!(layers[0]["digest"], base_manifest["layers"][0]["digest"], "the base layer is reused as is");
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 4);

    let mut files = std::collections::BTreeMap::new();
    for layer in &layers[1..] {
        let file = fs::File::open(output.join("blobs/sha256").join(layer["digest"].as_str().unwrap().trim_start_matches("sha256:"))).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().display().to_string();
            let owner = (entry.header().uid().unwrap(), entry.header().gid().unwrap());
            let mut content = String::new();
            entry.read_to_string(&mut content).unwrap();
            files.insert(path, (owner, content));
        }
    }
    assert_eq!(files.keys().collect::<Vec<_>>(), ["copied", "etc/app.txt", "owned"], "/etc exists in the base, so app.txt goes inside");
    assert_eq!(files["owned"].0, (1000, 1001), "--chown=app uses the base's /etc/passwd");
    assert_eq!(files["copied"].1, "ID=base\n");
}
