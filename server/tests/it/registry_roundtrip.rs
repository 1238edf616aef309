//! Saving into `registry/` against a real docker-registry, then proving the layout by serving
//! the saved directory with a fresh docker-registry and reading every image back with skopeo.

use crate::support_registry;

use std::{path::Path, sync::Arc, time::Duration};

use kubefile_ls::registry::{
    self, layout, AuthSource, CancellationToken, ImageError, ImageRequest, SaveError, SaveEvent,
    SaveOptions, SaveReport,
};
use support_registry::{
    descriptor_digest, pass_all, skopeo_copy, skopeo_manifest_digest, Layer, OciLayout, Proxy,
    Registry,
};

/// What the fixture registry holds.
struct Fixtures {
    app_a: String,
    app_b: String,
    docker: String,
    multi_index: String,
    multi_amd64: String,
    multi_arm64: String,
    multi_arm7: String,
}

/// Pushes: two OCI images sharing two base layers, a Docker v2 schema 2 image, and a
/// three-platform OCI index whose instances share a base layer.
fn push_fixtures(work: &Path, registry: &str) -> Fixtures {
    let base1 = Layer::new("base1", 300_000);
    let base2 = Layer::new("base2", 120_000);
    let a1 = Layer::new("a1", 40_000);
    let b1 = Layer::new("b1", 40_000);
    let d1 = Layer::new("d1", 40_000);
    let (m_amd, m_arm64, m_arm) = (
        Layer::new("m-amd64", 30_000),
        Layer::new("m-arm64", 30_000),
        Layer::new("m-arm", 30_000),
    );
    let mut oci = OciLayout::new(&work.join("layout"));
    let app_a = oci.image("amd64", None, &[&base1, &base2, &a1]);
    let app_b = oci.image("amd64", None, &[&base1, &base2, &b1]);
    let docker = oci.image("amd64", None, &[&base1, &d1]);
    let amd = oci.image("amd64", None, &[&base1, &m_amd]);
    let arm64 = oci.image("arm64", Some("v8"), &[&base1, &m_arm64]);
    let arm = oci.image("arm", Some("v7"), &[&base1, &m_arm]);
    let index = oci.index(&[amd.clone(), arm64.clone(), arm.clone()]);
    oci.tag("app-a", &app_a);
    oci.tag("app-b", &app_b);
    oci.tag("docker", &docker);
    oci.tag("multi", &index);
    oci.finish();
    let layout = oci.dir.display().to_string();
    skopeo_copy(
        &format!("oci:{layout}:app-a"),
        &format!("docker://{registry}/fix/app-a:v1"),
        &[],
    );
    skopeo_copy(
        &format!("oci:{layout}:app-b"),
        &format!("docker://{registry}/fix/app-b:v1"),
        &[],
    );
    skopeo_copy(
        &format!("oci:{layout}:docker"),
        &format!("docker://{registry}/fix/docker:v1"),
        &["--format", "v2s2"],
    );
    skopeo_copy(
        &format!("oci:{layout}:multi"),
        &format!("docker://{registry}/fix/multi:v1"),
        &["--all"],
    );
    let fixtures = Fixtures {
        app_a: descriptor_digest(&app_a),
        app_b: descriptor_digest(&app_b),
        docker: skopeo_manifest_digest(&format!("{registry}/fix/docker:v1")),
        multi_index: descriptor_digest(&index),
        multi_amd64: descriptor_digest(&amd),
        multi_arm64: descriptor_digest(&arm64),
        multi_arm7: descriptor_digest(&arm),
    };
    // skopeo keeps OCI manifests byte for byte; the v2s2 one is converted.
    assert_eq!(
        skopeo_manifest_digest(&format!("{registry}/fix/app-a:v1")),
        fixtures.app_a
    );
    assert_eq!(
        skopeo_manifest_digest(&format!("{registry}/fix/multi:v1")),
        fixtures.multi_index
    );
    assert_ne!(
        fixtures.docker,
        descriptor_digest(&docker),
        "pushed as Docker v2s2"
    );
    fixtures
}

fn options(platform: &str) -> SaveOptions {
    SaveOptions {
        platform: platform.parse().unwrap(),
        auth: AuthSource::Anonymous,
        sync: false,
        ..SaveOptions::default()
    }
}

async fn run_save(
    requests: &[String],
    dir: &Path,
    options: &SaveOptions,
) -> (Result<SaveReport, SaveError>, Vec<SaveEvent>) {
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = events.clone();
    let requests: Vec<ImageRequest> = requests
        .iter()
        .map(|r| ImageRequest::new(r.as_str()))
        .collect();
    let result = registry::save(
        &requests,
        dir,
        options,
        move |e| sink.lock().unwrap().push(e),
        CancellationToken::new(),
    )
    .await;
    let events = events.lock().unwrap().clone();
    (result, events)
}

fn assert_layout_sound(registry_dir: &Path) -> layout::LayoutCheck {
    let check = layout::check(registry_dir, true).unwrap();
    assert!(
        check.problems.is_empty(),
        "layout problems: {:#?}",
        check.problems
    );
    check
}

/// skopeo reads `image` from the fresh registry: manifest digest and a full copy of every blob.
fn assert_served(
    fresh: &Registry,
    image: &str,
    expected_digest: &str,
    work: &Path,
    copy_args: &[&str],
) {
    let full = format!("{}/{image}", fresh.host());
    assert_eq!(
        skopeo_manifest_digest(&full),
        expected_digest,
        "manifest digest of {image} served from the saved registry/"
    );
    let out = work.join(format!("out-{}", image.replace(['/', ':', '@'], "_")));
    skopeo_copy(
        &format!("docker://{full}"),
        &format!("oci:{}:x", out.display()),
        copy_args,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn saved_images_are_served_by_a_fresh_registry_and_shared_blobs_are_fetched_once() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host());
    // Everything goes through a counting proxy, so that every request can be checked.
    let proxy = Proxy::start(source.addr, Duration::ZERO, pass_all());
    let host = proxy.host();
    let requests = vec![
        format!("{host}/fix/app-a:v1"),
        format!("{host}/fix/app-b:v1"),
        format!("{host}/fix/docker:v1"),
        format!("{host}/fix/multi:v1"),
        format!("{host}/fix/app-a@{}", fixtures.app_a),
        format!("{host}/fix/multi@{}", fixtures.multi_index),
    ];
    let context = work.path().join("context");
    let registry_dir = context.join("registry");

    let (result, events) = run_save(&requests, &registry_dir, &options("linux/amd64")).await;
    let report = result
        .unwrap_or_else(|e| panic!("save failed: {e}: {:#?}", e.report().map(|r| &r.failures)));
    let destinations: Vec<(&str, &str)> = report
        .images
        .iter()
        .map(|i| (i.destination.as_str(), i.manifest_digest.as_str()))
        .collect();
    let app_a_by_digest = format!("fix/app-a@{}", fixtures.app_a);
    let multi_by_digest = format!("fix/multi@{}", fixtures.multi_index);
    assert_eq!(
        destinations,
        vec![
            ("fix/app-a:v1", fixtures.app_a.as_str()),
            ("fix/app-b:v1", fixtures.app_b.as_str()),
            ("fix/docker:v1", fixtures.docker.as_str()),
            ("fix/multi:v1", fixtures.multi_amd64.as_str()),
            (app_a_by_digest.as_str(), fixtures.app_a.as_str()),
            (multi_by_digest.as_str(), fixtures.multi_index.as_str()),
        ]
    );
    assert_eq!(report.images[3].platforms, vec!["linux/amd64".to_owned()]);
    assert_eq!(
        report.images[2].media_type,
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        report.images[0].media_type,
        "application/vnd.oci.image.manifest.v1+json"
    );
    // 4 configs (app-a, app-b, docker, multi/amd64) + 6 layers (base1, base2, a1, b1, d1, m-amd64).
    assert_eq!(report.blobs_downloaded, 10, "{report:#?}");
    for (digest, gets) in proxy.blob_gets() {
        assert_eq!(gets.len(), 1, "blob {digest} fetched {} times", gets.len());
    }
    assert!(report.blobs_shared > 0, "{report:#?}");
    // One `/v2/` probe per registry, plus oci-client's check before each manifest request; blob
    // requests go straight to the blob.
    let pings = proxy.log().iter().filter(|e| e.path == "/v2/").count();
    assert!(
        pings <= report.manifests_fetched + 1,
        "{pings} pings for {} manifests",
        report.manifests_fetched
    );
    assert!(events.iter().any(|e| matches!(
        e,
        SaveEvent::BlobDone {
            outcome: registry::BlobOutcome::Shared,
            ..
        }
    )));
    assert!(events.iter().any(|e| matches!(
        e,
        SaveEvent::Finished {
            saved: 6,
            failed: 0,
            ..
        }
    )));
    assert!(
        !registry_dir.join(layout::TEMP_DIR_NAME).exists(),
        "temporary directory removed after success"
    );
    let check = assert_layout_sound(&registry_dir);
    assert!(check
        .manifests
        .iter()
        .any(|m| m.tag.as_deref() == Some("v1") && m.repository == "fix/multi"));

    // The proof: distribution itself serves the directory we wrote.
    let fresh = Registry::start(&registry_dir, None);
    assert_served(&fresh, "fix/app-a:v1", &fixtures.app_a, work.path(), &[]);
    assert_served(&fresh, "fix/app-b:v1", &fixtures.app_b, work.path(), &[]);
    assert_served(&fresh, "fix/docker:v1", &fixtures.docker, work.path(), &[]);
    assert_served(
        &fresh,
        "fix/multi:v1",
        &fixtures.multi_amd64,
        work.path(),
        &[],
    );
    assert_served(&fresh, &app_a_by_digest, &fixtures.app_a, work.path(), &[]);
    assert_served(
        &fresh,
        &multi_by_digest,
        &fixtures.multi_index,
        work.path(),
        &["--override-os", "linux", "--override-arch", "amd64"],
    );
    drop(fresh);

    // A second run finds every blob in place: nothing is downloaded again, and manifests named
    // by digest are read back from disk (only the four tags are asked for).
    proxy.clear_log();
    let (result, _) = run_save(&requests, &registry_dir, &options("linux/amd64")).await;
    let again = result.unwrap();
    assert_eq!(again.blobs_downloaded, 0);
    assert_eq!(again.bytes_downloaded, 0);
    assert_eq!(again.manifests_fetched, 4, "{again:#?}");
    assert!(proxy.blob_gets().is_empty(), "{:#?}", proxy.log());
    assert_layout_sound(&registry_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn all_keeps_the_index_and_platform_selects_an_instance() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host());
    let host = source.host();

    // --all: the tag names the index, every instance is stored.
    let all_dir = work.path().join("all/registry");
    let mut all = options("linux/amd64");
    all.all_platforms = true;
    let (result, _) = run_save(&[format!("{host}/fix/multi:v1")], &all_dir, &all).await;
    let report = result.unwrap();
    assert_eq!(report.images[0].manifest_digest, fixtures.multi_index);
    assert_eq!(
        report.images[0].platforms,
        vec!["linux/amd64", "linux/arm64/v8", "linux/arm/v7"]
    );
    assert_eq!(
        report.images[0].media_type,
        "application/vnd.oci.image.index.v1+json"
    );
    assert_layout_sound(&all_dir);
    let fresh = Registry::start(&all_dir, None);
    assert_served(
        &fresh,
        "fix/multi:v1",
        &fixtures.multi_index,
        work.path(),
        &["--all"],
    );
    for instance in [
        &fixtures.multi_amd64,
        &fixtures.multi_arm64,
        &fixtures.multi_arm7,
    ] {
        assert_eq!(
            skopeo_manifest_digest(&format!("{}/fix/multi@{instance}", fresh.host())),
            *instance
        );
    }
    drop(fresh);

    // --platform linux/arm/v7 picks that instance; the tag names it.
    let arm_dir = work.path().join("arm/registry");
    let (result, _) = run_save(
        &[format!("{host}/fix/multi:v1")],
        &arm_dir,
        &options("linux/arm/v7"),
    )
    .await;
    assert_eq!(
        result.unwrap().images[0].manifest_digest,
        fixtures.multi_arm7
    );
    let fresh = Registry::start(&arm_dir, None);
    assert_served(
        &fresh,
        "fix/multi:v1",
        &fixtures.multi_arm7,
        work.path(),
        &["--override-arch", "arm", "--override-variant", "v7"],
    );
    drop(fresh);

    // A platform the list lacks, a missing tag and a missing repository: clear errors that name
    // the image and the registry; the other image is still saved.
    let dir = work.path().join("errors/registry");
    let requests = vec![
        format!("{host}/fix/multi:v1"),
        format!("{host}/fix/app-a:nope"),
        format!("{host}/fix/app-b:v1"),
        format!("{host}/nothing/here:v1"),
    ];
    let (result, _) = run_save(&requests, &dir, &options("linux/s390x")).await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("expected an incomplete save: {result:?}")
    };
    assert_eq!(report.images.len(), 1);
    assert_eq!(report.images[0].destination, "fix/app-b:v1");
    let messages: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(
        matches!(
            report.failures[0].error,
            ImageError::NoMatchingPlatform { .. }
        ),
        "{messages:#?}"
    );
    assert!(
        messages[0].contains(&format!("cannot save {host}/fix/multi:v1")),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].contains("linux/s390x") && messages[0].contains("linux/arm/v7"),
        "{}",
        messages[0]
    );
    assert!(
        matches!(report.failures[1].error, ImageError::NotFound { .. }),
        "{messages:#?}"
    );
    assert!(
        messages[1].contains(&host) && messages[1].contains("fix/app-a:nope"),
        "{}",
        messages[1]
    );
    assert!(
        matches!(report.failures[2].error, ImageError::NotFound { .. }),
        "{messages:#?}"
    );
    assert_layout_sound(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn references_are_stored_under_sealos_paths() {
    // No registry needed: sealos-invalid references fail before any request, local transports
    // are reported as unsupported, and nothing is written.
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("registry");
    let requests = vec![
        "a:1".to_owned(),
        "docker-daemon:nginx:1".to_owned(),
        "UPPER:1".to_owned(),
    ];
    let (result, _) = run_save(&requests, &dir, &options("linux/amd64")).await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("{result:?}")
    };
    assert_eq!(report.failures.len(), 3);
    let text: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(
        text[1].contains("docker-daemon:") && text[1].contains("cannot read"),
        "{text:#?}"
    );
    let check = layout::check(&dir, false).unwrap();
    assert_eq!((check.blobs, check.links), (0, 0));
}

/// `kubefile-ls save CONTEXT` finds the images the way sealos does (here `images/shim` and
/// `manifests/`) and saves them into `CONTEXT/registry`.
#[test]
fn cli_saves_the_images_of_a_build_context() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host());
    let host = source.host();
    let context = work.path().join("context");
    std::fs::create_dir_all(context.join("images/shim")).unwrap();
    std::fs::create_dir_all(context.join("manifests")).unwrap();
    std::fs::write(
        context.join("Kubefile"),
        "FROM scratch\nCOPY registry registry\n",
    )
    .unwrap();
    std::fs::write(
        context.join("images/shim/images.txt"),
        format!("{host}/fix/app-a:v1\n# a comment\n{host}/fix/multi:v1\n"),
    )
    .unwrap();
    std::fs::write(
        context.join("manifests/deploy.yaml"),
        format!("spec:\n  containers:\n    - name: app\n      image: \"{host}/fix/docker:v1\"\n"),
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
        .arg("save")
        .arg(&context)
        .args(["--platform", "linux/arm64"])
        .env("HOME", work.path())
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("saved 3 image(s)"), "{stderr}");
    let check = assert_layout_sound(&context.join("registry"));
    let tags: Vec<(String, String)> = check
        .manifests
        .iter()
        .filter_map(|m| {
            m.tag
                .as_ref()
                .map(|t| (format!("{}:{t}", m.repository), m.digest.clone()))
        })
        .collect();
    assert_eq!(
        tags,
        vec![
            ("fix/app-a:v1".to_owned(), fixtures.app_a.clone()),
            ("fix/docker:v1".to_owned(), fixtures.docker.clone()),
            ("fix/multi:v1".to_owned(), fixtures.multi_arm64.clone()),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_platforms_keep_the_list_with_each_platform_image() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host());
    let dir = work.path().join("two/registry");
    let mut two = options("linux/amd64");
    two.extra_platforms = vec!["linux/arm64".parse().unwrap(), "linux/amd64".parse().unwrap()];
    let (result, _) = run_save(&[format!("{}/fix/multi:v1", source.host())], &dir, &two).await;
    let report = result.unwrap();
    assert_eq!(report.images[0].manifest_digest, fixtures.multi_index);
    assert_eq!(report.images[0].platforms, vec!["linux/amd64", "linux/arm64/v8"]);
    assert_layout_sound(&dir);
    let fresh = Registry::start(&dir, None);
    // The tag names the list; each chosen platform pulls its own image from it.
    assert_served(&fresh, "fix/multi:v1", &fixtures.multi_index, work.path(), &["--override-arch", "amd64"]);
    let arm64 = work.path().join("out-arm64");
    skopeo_copy(
        &format!("docker://{}/fix/multi:v1", fresh.host()),
        &format!("oci:{}:x", arm64.display()),
        &["--override-arch", "arm64"],
    );
    for (instance, stored) in [(&fixtures.multi_amd64, true), (&fixtures.multi_arm64, true), (&fixtures.multi_arm7, false)] {
        let status = std::process::Command::new("skopeo")
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(format!("docker://{}/fix/multi@{instance}", fresh.host()))
            .output()
            .unwrap()
            .status;
        assert_eq!(status.success(), stored, "{instance}");
    }
}
