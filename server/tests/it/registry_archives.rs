//! `images/skopeo/tar.txt` archives saved into `registry/`: the archives are made by skopeo
//! from a real docker-registry (`docker-archive:` and `oci-archive:`), loaded by
//! `kubefile-ls save`, and the saved directory is served by a fresh docker-registry that skopeo
//! reads every image back from.

use crate::support_registry;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use kubefile_ls::{
    context::images::ArchiveTransport,
    registry::{self, layout, ArchiveRequest, AuthSource, CancellationToken, ImageError, SaveError, SaveOptions},
};
use serde_json::Value;
use support_registry::{descriptor_digest, skopeo_copy, skopeo_manifest_digest, Layer, OciLayout, Registry};

struct Source {
    registry: Registry,
    /// The single-platform OCI image `fix/app:v1`: manifest, config and layers.
    app: String,
    app_config: String,
    app_layers: Vec<Layer>,
    multi_arm64: String,
}

fn push_source(work: &Path) -> Source {
    let registry = Registry::start(&work.join("source"), None);
    let base = Layer::new("archive-base", 200_000);
    let top = Layer::new("archive-top", 50_000);
    let (amd, arm) = (Layer::new("archive-amd64", 20_000), Layer::new("archive-arm64", 20_000));
    let mut oci = OciLayout::new(&work.join("layout"));
    let app = oci.image("amd64", None, &[&base, &top]);
    let multi_amd = oci.image("amd64", None, &[&base, &amd]);
    let multi_arm = oci.image("arm64", Some("v8"), &[&base, &arm]);
    let index = oci.index(&[multi_amd, multi_arm.clone()]);
    oci.tag("app", &app);
    oci.tag("multi", &index);
    oci.finish();
    let layout = oci.dir.display().to_string();
    let host = registry.host();
    skopeo_copy(&format!("oci:{layout}:app"), &format!("docker://{host}/fix/app:v1"), &[]);
    skopeo_copy(&format!("oci:{layout}:multi"), &format!("docker://{host}/fix/multi:v1"), &["--all"]);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(oci.dir.join("blobs/sha256").join(&descriptor_digest(&app)[7..])).unwrap())
            .unwrap();
    Source {
        app: descriptor_digest(&app),
        app_config: manifest["config"]["digest"].as_str().unwrap().to_owned(),
        app_layers: vec![base, top],
        multi_arm64: descriptor_digest(&multi_arm),
        registry,
    }
}

/// `skopeo inspect --raw` of an image served by `registry`.
fn raw_manifest(registry: &Registry, image: &str) -> Value {
    let output = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/{image}", registry.host()))
        .output()
        .unwrap();
    assert!(output.status.success(), "skopeo inspect {image}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn assert_layout_sound(dir: &Path) {
    let check = layout::check(dir, true).unwrap();
    assert!(check.problems.is_empty(), "{:#?}", check.problems);
}

/// A build context whose `tar.txt` lists the three archives skopeo made.
fn archive_context(work: &Path, source: &Source) -> PathBuf {
    let context = work.join("context");
    let skopeo_dir = context.join("images/skopeo");
    std::fs::create_dir_all(&skopeo_dir).unwrap();
    let host = source.registry.host();
    skopeo_copy(
        &format!("docker://{host}/fix/app:v1"),
        &format!("docker-archive:{}:fix/app:v1", skopeo_dir.join("app-docker.tar").display()),
        &[],
    );
    skopeo_copy(&format!("docker://{host}/fix/app:v1"), &format!("oci-archive:{}", skopeo_dir.join("app-oci.tar").display()), &[]);
    skopeo_copy(
        &format!("docker://{host}/fix/multi:v1"),
        &format!("oci-archive:{}", skopeo_dir.join("multi.tar").display()),
        &["--all"],
    );
    std::fs::write(
        skopeo_dir.join("tar.txt"),
        "docker-archive:app-docker.tar@library/app-docker:v1\noci-archive:app-oci.tar@library/app-oci\n\noci-archive:sub/../multi.tar@fix/multi:v1\n",
    )
    .unwrap();
    std::fs::write(context.join("Kubefile"), "FROM scratch\nCOPY registry registry\n").unwrap();
    context
}

#[test]
fn tar_txt_archives_are_saved_and_served_by_a_fresh_registry() {
    let work = tempfile::tempdir().unwrap();
    let source = push_source(work.path());
    let context = archive_context(work.path(), &source);

    let output = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
        .arg("save")
        .arg(&context)
        .args(["--platform", "linux/arm64"])
        .env("HOME", work.path())
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DOCKER_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "save failed: {stderr}");
    assert!(stderr.contains("saved library/app-docker:v1"), "{stderr}");

    let dir = context.join("registry");
    assert_layout_sound(&dir);
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());
    let fresh = Registry::start(&dir, None);

    // oci-archive: the manifest is kept byte for byte; no tag in tar.txt means `latest`.
    assert_eq!(skopeo_manifest_digest(&format!("{}/library/app-oci:latest", fresh.host())), source.app);
    // docker-archive: the config is kept, the layers are the uncompressed tars of the archive,
    // so their digests are the config's diff_ids.
    let manifest = raw_manifest(&fresh, "library/app-docker:v1");
    assert_eq!(manifest["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(manifest["config"]["digest"], source.app_config.as_str());
    let layers: Vec<&str> = manifest["layers"].as_array().unwrap().iter().map(|l| l["digest"].as_str().unwrap()).collect();
    let diff_ids: Vec<&str> = source.app_layers.iter().map(|l| l.diff_id.as_str()).collect();
    assert_eq!(layers, diff_ids);
    // The oci-archive of a list keeps the --platform image, as a pull does.
    assert_eq!(skopeo_manifest_digest(&format!("{}/fix/multi:v1", fresh.host())), source.multi_arm64);
    for image in ["library/app-docker:v1", "library/app-oci:latest"] {
        let out = work.path().join(format!("out-{}", image.replace(['/', ':'], "_")));
        skopeo_copy(&format!("docker://{}/{image}", fresh.host()), &format!("oci:{}:x", out.display()), &[]);
    }
    skopeo_copy(
        &format!("docker://{}/fix/multi:v1", fresh.host()),
        &format!("oci:{}:x", work.path().join("out-multi").display()),
        &["--override-arch", "arm64"],
    );
}

/// Flips one byte of `needle` inside the file.
fn corrupt(path: &Path, needle: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(needle.len()).position(|w| w == needle).expect("content in the archive");
    bytes[at + needle.len() / 2] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_archives_are_refused_and_nothing_becomes_visible() {
    let work = tempfile::tempdir().unwrap();
    let source = push_source(work.path());
    let context = archive_context(work.path(), &source);
    let skopeo_dir = context.join("images/skopeo");
    let top = &source.app_layers[1].gz;
    let needle = &top[top.len() / 2..top.len() / 2 + 64];
    corrupt(&skopeo_dir.join("app-oci.tar"), needle);
    corrupt(&skopeo_dir.join("app-docker.tar"), needle);

    let dir = context.join("registry");
    let requests = [
        ArchiveRequest {
            transport: ArchiveTransport::OciArchive,
            path: skopeo_dir.join("app-oci.tar"),
            destination: "library/app-oci:v1".into(),
        },
        ArchiveRequest {
            transport: ArchiveTransport::DockerArchive,
            path: skopeo_dir.join("app-docker.tar"),
            destination: "library/app-docker:v1".into(),
        },
        ArchiveRequest {
            transport: ArchiveTransport::OciArchive,
            path: skopeo_dir.join("missing.tar"),
            destination: "library/missing:v1".into(),
        },
    ];
    let options = SaveOptions { auth: AuthSource::Anonymous, sync: false, ..SaveOptions::default() };
    let result = registry::save_with_archives(&[], &requests, &dir, &options, |_| {}, CancellationToken::new()).await;
    let Err(SaveError::Incomplete(report)) = result else { panic!("expected failures: {result:?}") };
    assert!(report.images.is_empty());
    let messages: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:#?}");
    assert!(report.failures.iter().all(|f| matches!(f.error, ImageError::Archive { .. })), "{messages:#?}");
    assert!(messages[0].contains("app-oci.tar") && messages[0].contains("hashes to"), "{}", messages[0]);
    // The docker layer's digest is its diff_id: the flipped byte is caught the same way.
    assert!(messages[1].contains("app-docker.tar") && messages[1].contains("hashes to"), "{}", messages[1]);
    assert!(messages[2].contains("missing.tar") && messages[2].contains("No such file"), "{}", messages[2]);
    assert_layout_sound(&dir);
    let check = layout::check(&dir, false).unwrap();
    assert!(check.manifests.iter().all(|m| m.tag.is_none()), "{:#?}", check.manifests);
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());
}
