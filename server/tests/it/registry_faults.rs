//! Saving through a fault-injecting proxy in front of a real docker-registry: transient errors
//! are retried, bad content is rejected and never becomes visible, a killed save resumes
//! without fetching finished blobs again, cancellation stops cleanly, and `--max-pull-procs` is
//! the real number of concurrent pulls. (Credentials: `registry_auth.rs`.)

use crate::support_registry;

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use kubefile_ls::registry::{
    self, layout, AuthSource, CancellationToken, ImageError, ImageRequest, RetryPolicy, SaveError,
    SaveEvent, SaveOptions, SaveReport,
};
use support_registry::{
    descriptor_digest, pass_all, skopeo_copy, skopeo_manifest_digest, Fault, Layer, OciLayout,
    Proxy, Registry, Rule,
};

struct Fixtures {
    /// Layer digests by name.
    layers: std::collections::HashMap<&'static str, String>,
    app_a: String,
    app_b: String,
    docker: String,
}

/// app-a = base1 + base2 + big (3 MB), app-b = base1 + base2 + b1, docker (v2s2) = base1 + d1.
fn push_fixtures(work: &Path, registry: &str, creds: Option<&str>) -> Fixtures {
    let named = [
        ("base1", Layer::new("base1", 200_000)),
        ("base2", Layer::new("base2", 100_000)),
        ("big", Layer::new("big", 3_000_000)),
        ("b1", Layer::new("b1", 20_000)),
        ("d1", Layer::new("d1", 20_000)),
    ];
    let layer = |name: &str| &named.iter().find(|(n, _)| *n == name).unwrap().1;
    let mut oci = OciLayout::new(&work.join("layout"));
    let app_a = oci.image(
        "amd64",
        None,
        &[layer("base1"), layer("base2"), layer("big")],
    );
    let app_b = oci.image(
        "amd64",
        None,
        &[layer("base1"), layer("base2"), layer("b1")],
    );
    let docker = oci.image("amd64", None, &[layer("base1"), layer("d1")]);
    oci.tag("app-a", &app_a);
    oci.tag("app-b", &app_b);
    oci.tag("docker", &docker);
    oci.finish();
    let dir = oci.dir.display().to_string();
    let mut extra = vec![];
    if let Some(creds) = creds {
        extra.extend(["--dest-creds", creds]);
    }
    skopeo_copy(
        &format!("oci:{dir}:app-a"),
        &format!("docker://{registry}/fix/app-a:v1"),
        &extra,
    );
    skopeo_copy(
        &format!("oci:{dir}:app-b"),
        &format!("docker://{registry}/fix/app-b:v1"),
        &extra,
    );
    let mut docker_extra = extra.clone();
    docker_extra.extend(["--format", "v2s2"]);
    skopeo_copy(
        &format!("oci:{dir}:docker"),
        &format!("docker://{registry}/fix/docker:v1"),
        &docker_extra,
    );
    let docker_digest = if creds.is_none() {
        skopeo_manifest_digest(&format!("{registry}/fix/docker:v1"))
    } else {
        String::new()
    };
    Fixtures {
        layers: named.iter().map(|(n, l)| (*n, l.digest.clone())).collect(),
        app_a: descriptor_digest(&app_a),
        app_b: descriptor_digest(&app_b),
        docker: docker_digest,
    }
}

fn fast_options() -> SaveOptions {
    SaveOptions {
        platform: "linux/amd64".parse().unwrap(),
        auth: AuthSource::Anonymous,
        retry: RetryPolicy {
            attempts: 4,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        },
        sync: false,
        ..SaveOptions::default()
    }
}

fn requests(host: &str) -> Vec<ImageRequest> {
    ["fix/app-a:v1", "fix/app-b:v1", "fix/docker:v1"]
        .iter()
        .map(|r| ImageRequest::new(format!("{host}/{r}")))
        .collect()
}

async fn save_collecting(
    requests: &[ImageRequest],
    dir: &Path,
    options: &SaveOptions,
    cancel: CancellationToken,
) -> (Result<SaveReport, SaveError>, Vec<SaveEvent>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let result = registry::save(
        requests,
        dir,
        options,
        move |e| sink.lock().unwrap().push(e),
        cancel,
    )
    .await;
    let events = events.lock().unwrap().clone();
    (result, events)
}

fn assert_layout_sound(dir: &Path) -> layout::LayoutCheck {
    let check = layout::check(dir, true).unwrap();
    assert!(
        check.problems.is_empty(),
        "layout problems: {:#?}",
        check.problems
    );
    check
}

fn tags(check: &layout::LayoutCheck) -> Vec<String> {
    check
        .manifests
        .iter()
        .filter_map(|m| m.tag.as_ref().map(|t| format!("{}:{t}", m.repository)))
        .collect()
}

fn blob_data(dir: &Path, digest: &str) -> PathBuf {
    let hex = &digest[7..];
    dir.join("docker/registry/v2/blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .join("data")
}

fn rule(f: impl Fn(&support_registry::RequestInfo) -> Fault + Send + Sync + 'static) -> Rule {
    Arc::new(f)
}

/// A proxy in front of `source` that applies `fault` to every download of `blob` and passes
/// everything else.
fn fault_on_blob(source: &Registry, blob: &str, fault: Fault) -> Proxy {
    let blob_path = format!("/blobs/{blob}");
    Proxy::start(
        source.addr,
        Duration::ZERO,
        rule(move |r| if r.path.ends_with(&blob_path) { fault.clone() } else { Fault::Pass }),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_errors_are_retried_with_backoff() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    let base1 = fixtures.layers["base1"].clone();
    let proxy = Proxy::start(
        source.addr,
        Duration::ZERO,
        rule(move |r| {
            let first = r.seq == 0;
            if r.path.ends_with("/fix/app-a/manifests/v1") && r.seq < 2 {
                Fault::Status(500)
            } else if r.path.ends_with(&format!("/blobs/{base1}")) && first {
                Fault::Status(503)
            } else if r.path.ends_with("/fix/docker/manifests/v1") && first {
                Fault::Status(429)
            } else {
                Fault::Pass
            }
        }),
    );
    let dir = work.path().join("registry");
    let (result, events) = save_collecting(
        &requests(&proxy.host()),
        &dir,
        &fast_options(),
        CancellationToken::new(),
    )
    .await;
    let report = result.unwrap_or_else(|e| panic!("{e}: {:#?}", e.report()));
    assert_eq!(report.images.len(), 3);
    assert_eq!(report.retries, 4, "{events:#?}");
    let retries: Vec<&SaveEvent> = events
        .iter()
        .filter(|e| matches!(e, SaveEvent::Retry { .. }))
        .collect();
    assert!(
        retries
            .iter()
            .any(|e| matches!(e, SaveEvent::Retry { reason, .. } if reason.contains("HTTP 500"))),
        "{retries:#?}"
    );
    assert!(retries
        .iter()
        .any(|e| matches!(e, SaveEvent::Retry { reason, .. } if reason.contains("HTTP 503"))));
    assert!(retries
        .iter()
        .any(|e| matches!(e, SaveEvent::Retry { reason, .. } if reason.contains("HTTP 429"))));
    assert_eq!(report.images[0].manifest_digest, fixtures.app_a);
    assert_layout_sound(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn truncated_and_corrupted_content_is_rejected_and_never_visible() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    let (big, base2) = (
        fixtures.layers["big"].clone(),
        fixtures.layers["base2"].clone(),
    );
    let (big_rule, base2_rule) = (big.clone(), base2.clone());
    let proxy = Proxy::start(
        source.addr,
        Duration::ZERO,
        rule(move |r| {
            if r.path.ends_with(&format!("/blobs/{big_rule}")) {
                Fault::Truncate(100_000)
            } else if r.path.ends_with(&format!("/blobs/{base2_rule}")) && r.seq == 0 {
                // A one-off corruption is healed by one fresh download.
                Fault::Corrupt
            } else if r.path.ends_with("/fix/docker/manifests/v1") {
                Fault::Corrupt
            } else {
                Fault::Pass
            }
        }),
    );
    let host = proxy.host();
    let dir = work.path().join("registry");
    let (result, _) = save_collecting(
        &requests(&host),
        &dir,
        &fast_options(),
        CancellationToken::new(),
    )
    .await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("expected failures: {result:?}")
    };
    let saved: Vec<&str> = report
        .images
        .iter()
        .map(|i| i.destination.as_str())
        .collect();
    assert_eq!(saved, vec!["fix/app-b:v1"]);
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert_eq!(failures.len(), 2, "{failures:#?}");
    // The truncated blob: wrong size, naming image, registry and blob.
    assert!(
        matches!(
            report.failures[0].error,
            ImageError::SizeMismatch {
                expected: _,
                actual: 100_000,
                ..
            }
        ),
        "{failures:#?}"
    );
    assert!(
        failures[0].contains(&format!("cannot save {host}/fix/app-a:v1")),
        "{}",
        failures[0]
    );
    assert!(
        failures[0].contains(&host) && failures[0].contains(&big),
        "{}",
        failures[0]
    );
    // The corrupted manifest: digest mismatch.
    assert!(
        matches!(report.failures[1].error, ImageError::DigestMismatch { .. }),
        "{failures:#?}"
    );
    assert!(
        failures[1].contains("does not match its digest") && failures[1].contains("fix/docker"),
        "{}",
        failures[1]
    );

    // Nothing that failed verification is visible, and nothing visible is dangling.
    let check = assert_layout_sound(&dir);
    assert_eq!(tags(&check), vec!["fix/app-b:v1"]);
    assert!(!blob_data(&dir, &big).exists());
    assert!(
        blob_data(&dir, &base2).exists(),
        "the corrupted download was retried and verified"
    );
    assert_eq!(proxy.blob_gets()[&base2].len(), 2);
    let fresh = Registry::start(&dir, None);
    assert_eq!(
        skopeo_manifest_digest(&format!("{}/fix/app-b:v1", fresh.host())),
        fixtures.app_b
    );
    let missing = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false"])
        .arg(format!("docker://{}/fix/app-a:v1", fresh.host()))
        .output()
        .unwrap();
    assert!(!missing.status.success(), "app-a must not be visible");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancellation_stops_cleanly_and_releases_the_directory() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    let big = fixtures.layers["big"].clone();
    let proxy = fault_on_blob(&source, &big, Fault::StallAfter(1_500_000, Duration::from_secs(60)));
    let dir = work.path().join("registry");
    let cancel = CancellationToken::new();
    let requests = requests(&proxy.host());
    let task = {
        let (dir, cancel, requests) = (dir.clone(), cancel.clone(), requests.clone());
        tokio::spawn(async move { save_collecting(&requests, &dir, &fast_options(), cancel).await })
    };
    // Wait until the stalled blob is being downloaded, then cancel.
    let partial = dir
        .join(layout::TEMP_DIR_NAME)
        .join(format!("{}.partial", &big[7..]));
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(partial.exists() && proxy.blob_gets().contains_key(&big)) {
        assert!(Instant::now() < deadline, "the download never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancelled_at = Instant::now();
    cancel.cancel();
    let (result, _) = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("save stops promptly")
        .unwrap();
    assert!(cancelled_at.elapsed() < Duration::from_secs(2));
    let Err(SaveError::Cancelled(report)) = result else {
        panic!("expected cancellation: {result:?}")
    };
    assert!(report
        .images
        .iter()
        .all(|i| i.destination != "fix/app-a:v1"));
    let check = assert_layout_sound(&dir);
    assert!(!tags(&check).contains(&"fix/app-a:v1".to_owned()));
    // registry/ goes into the cluster image: the partial download and the lock are gone.
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());

    // A new save of the same directory runs, and completes.
    proxy.set_rule(pass_all());
    let (result, _) =
        save_collecting(&requests, &dir, &fast_options(), CancellationToken::new()).await;
    let report = result.unwrap();
    assert_eq!(report.images.len(), 3);
    assert_layout_sound(&dir);
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_save_leaves_no_temporary_files_and_a_new_run_completes() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    let big = fixtures.layers["big"].clone();
    // The big layer always breaks off after 1 MB: app-a fails once the retries are used up.
    let proxy = fault_on_blob(&source, &big, Fault::Truncate(1_000_000));
    let dir = work.path().join("registry");
    let requests = requests(&proxy.host());
    let (result, _) =
        save_collecting(&requests, &dir, &fast_options(), CancellationToken::new()).await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("expected a failed image: {result:?}")
    };
    assert_eq!(report.failures.len(), 1, "{report:#?}");
    assert_eq!(report.images.len(), 2);
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists(), "temporary files left in registry/");
    let leftovers: Vec<_> = walk_files(&dir)
        .into_iter()
        .filter(|path| !path.starts_with(dir.join("docker/registry/v2")))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_layout_sound(&dir);

    // Resume: the blobs of the saved images are not fetched again.
    proxy.clear_log();
    proxy.set_rule(pass_all());
    let (result, _) =
        save_collecting(&requests, &dir, &fast_options(), CancellationToken::new()).await;
    let report = result.unwrap();
    assert_eq!(report.images.len(), 3);
    let gets = proxy.blob_gets();
    assert_eq!(gets.keys().collect::<Vec<_>>(), vec![&big], "{gets:#?}");
    assert_layout_sound(&dir);
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `kubefile-ls save` killed with SIGKILL in the middle of a download, then run again.
#[test]
fn killed_save_resumes_without_fetching_finished_blobs_again() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    let big = fixtures.layers["big"].clone();
    let proxy = fault_on_blob(&source, &big, Fault::StallAfter(2_500_000, Duration::from_secs(120)));
    let context = work.path().join("context");
    std::fs::create_dir_all(&context).unwrap();
    let dir = context.join("registry");
    let host = proxy.host();
    let run = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"));
        command
            .arg("save")
            .arg(&context)
            .args(["--platform", "linux/amd64"]);
        for image in ["fix/app-a:v1", "fix/app-b:v1", "fix/docker:v1"] {
            command.args(["--image", &format!("{host}/{image}")]);
        }
        isolate_auth(&mut command, work.path());
        command.stdout(Stdio::null()).stderr(Stdio::piped());
        command
    };

    let mut child = run().spawn().unwrap();
    // Wait for every other blob to be committed and for part of the big one to be on disk.
    let partial = dir
        .join(layout::TEMP_DIR_NAME)
        .join(format!("{}.partial", &big[7..]));
    let others: Vec<String> = fixtures
        .layers
        .iter()
        .filter(|(n, _)| **n != "big")
        .map(|(_, d)| d.clone())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let others_done = others.iter().all(|d| blob_data(&dir, d).exists());
        let partial_len = std::fs::metadata(&partial).map_or(0, |m| m.len());
        // Received bytes reach the disk in batches of 1 MiB or more.
        if others_done && partial_len >= 1 << 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "save ended before it could be killed"
        );
        assert!(
            Instant::now() < deadline,
            "save did not reach the stalled blob (partial: {partial_len} bytes)"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no cleanup runs
    child.wait().unwrap();
    let kept = std::fs::metadata(&partial).unwrap().len();

    // What a killed save leaves: complete images, no link to missing data, app-a not tagged.
    let check = assert_layout_sound(&dir);
    let visible = tags(&check);
    assert!(!visible.contains(&"fix/app-a:v1".to_owned()), "{visible:?}");
    assert!(!blob_data(&dir, &big).exists());
    assert!(partial.exists());

    proxy.set_rule(pass_all());
    let output = run().output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "resumed save failed: {stderr}");

    // Every finished blob was fetched exactly once over both runs; the big one was continued
    // with a range request from where the killed run stopped.
    let gets = proxy.blob_gets();
    for digest in &others {
        assert_eq!(
            gets[digest].len(),
            1,
            "blob {digest} fetched again: {:?}",
            gets[digest]
        );
    }
    let big_gets = &gets[&big];
    assert_eq!(big_gets.len(), 2, "{big_gets:?}");
    let resumed_from: u64 = big_gets[1]
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("second request has no open range: {:?}", big_gets[1]));
    assert_eq!(
        resumed_from, kept,
        "resumed exactly where the killed run's data ends"
    );

    let check = assert_layout_sound(&dir);
    assert_eq!(
        tags(&check),
        vec!["fix/app-a:v1", "fix/app-b:v1", "fix/docker:v1"]
    );
    assert!(!dir.join(layout::TEMP_DIR_NAME).exists());
    let fresh = Registry::start(&dir, None);
    assert_eq!(
        skopeo_manifest_digest(&format!("{}/fix/app-a:v1", fresh.host())),
        fixtures.app_a
    );
    assert_eq!(
        skopeo_manifest_digest(&format!("{}/fix/docker:v1", fresh.host())),
        fixtures.docker
    );
}

/// The CLI must not read the developer's own credentials.
fn isolate_auth(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_pull_procs_is_the_number_of_concurrent_pulls() {
    let work = tempfile::tempdir().unwrap();
    let source = Registry::start(&work.path().join("source"), None);
    let fixtures = push_fixtures(work.path(), &source.host(), None);
    // Six repositories with the same content.
    for i in 0..6 {
        skopeo_copy(
            &format!("docker://{}/fix/app-b:v1", source.host()),
            &format!("docker://{}/copies/c{i}:v1", source.host()),
            &[],
        );
    }
    let proxy = Proxy::start(
        source.addr,
        Duration::ZERO,
        rule(|r| {
            if r.path.contains("/manifests/") {
                Fault::Delay(Duration::from_millis(300))
            } else {
                Fault::Pass
            }
        }),
    );
    let requests: Vec<ImageRequest> = (0..6)
        .map(|i| ImageRequest::new(format!("{}/copies/c{i}:v1", proxy.host())))
        .collect();
    for (procs, expected) in [(3, 3), (1, 1)] {
        let dir = work.path().join(format!("procs-{procs}"));
        let options = SaveOptions {
            max_pull_procs: procs,
            ..fast_options()
        };
        let started = Instant::now();
        let (result, _) =
            save_collecting(&requests, &dir, &options, CancellationToken::new()).await;
        let report = result.unwrap();
        assert_eq!(report.images.len(), 6);
        assert!(report
            .images
            .iter()
            .all(|i| i.manifest_digest == fixtures.app_b));
        assert_eq!(
            proxy.max_inflight_manifests(),
            expected,
            "with --max-pull-procs {procs}"
        );
        // The three shared blobs (config and layers) are downloaded once for six images.
        assert_eq!(report.blobs_downloaded, 4);
        assert_eq!(report.blobs_shared, 20);
        let minimum = Duration::from_millis(300) * (6 / procs as u32);
        assert!(started.elapsed() >= minimum, "{:?}", started.elapsed());
        proxy.clear_log();
        proxy.reset_max_inflight();
    }
}
