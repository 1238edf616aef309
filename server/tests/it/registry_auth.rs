//! Credentials against real registries: docker-registry with htpasswd (HTTP Basic) and with
//! bearer tokens from a token service (the Docker Hub scheme). A missing or wrong credential is
//! a clear 401 naming the image, the registry and where credentials were looked for; passwords
//! never appear in any output.

use crate::support_registry;

use std::{
    path::Path,
    process::{Command, Output},
    sync::atomic::Ordering,
};

use base64::Engine as _;
use kubefile_ls::registry::{
    self, AuthSource, CancellationToken, ImageError, ImageRequest, SaveError, SaveOptions,
};
use support_registry::{
    descriptor_digest, htpasswd_file, skopeo_copy, skopeo_manifest_digest, Layer, OciLayout,
    Registry, TokenServer,
};

const USER: &str = "kube";
const PASSWORD: &str = "s3cret-Passw0rd";

/// Pushes `fix/app:v1` (two layers) with credentials; returns its manifest digest.
fn push_app(work: &Path, registry: &str) -> String {
    let mut oci = OciLayout::new(&work.join("layout"));
    let app = oci.image(
        "amd64",
        None,
        &[&Layer::new("base1", 100_000), &Layer::new("b1", 20_000)],
    );
    oci.tag("app", &app);
    oci.finish();
    let creds = format!("{USER}:{PASSWORD}");
    skopeo_copy(
        &format!("oci:{}:app", oci.dir.display()),
        &format!("docker://{registry}/fix/app:v1"),
        &["--dest-creds", &creds],
    );
    descriptor_digest(&app)
}

fn auth_json(registry: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
    format!(r#"{{"auths":{{"{registry}":{{"auth":"{auth}"}}}}}}"#)
}

/// `kubefile-ls save` that reads no credentials of the developer running the tests.
fn cli_save(context: &Path, image: &str, args: &[&str], home: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"));
    command
        .arg("save")
        .arg(context)
        .args(["--platform", "linux/amd64", "--image", image])
        .args(args);
    command
        .env("HOME", home)
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("XDG_CONFIG_HOME");
    command.output().unwrap()
}

#[test]
fn basic_auth_credentials_are_used_and_never_printed() {
    let work = tempfile::tempdir().unwrap();
    let htpasswd = htpasswd_file(work.path(), USER, PASSWORD);
    let source = Registry::start(&work.path().join("source"), Some(&htpasswd));
    let digest = push_app(work.path(), &source.host());
    let host = source.host();
    let image = format!("{host}/fix/app:v1");
    let context = work.path().join("context");
    std::fs::create_dir_all(&context).unwrap();
    let empty_home = work.path().join("empty-home");
    std::fs::create_dir_all(&empty_home).unwrap();

    // No credentials anywhere: 401, naming the image, the registry and the missing login.
    let output = cli_save(&context, &image, &[], &empty_home);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot save {image}")), "{stderr}");
    assert!(
        stderr.contains("401") && stderr.contains(&format!("no credentials for {host}")),
        "{stderr}"
    );

    // Wrong password from --authfile: rejected, user and file named, password never shown.
    let wrong = work.path().join("wrong.json");
    std::fs::write(&wrong, auth_json(&host, "not-the-password")).unwrap();
    let output = cli_save(
        &context,
        &image,
        &["--authfile", wrong.to_str().unwrap()],
        &empty_home,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("were rejected")
            && stderr.contains("user `kube`")
            && stderr.contains("wrong.json"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-the-password"), "{stderr}");

    // Right password in --authfile (containers auth.json).
    let right = work.path().join("auth.json");
    std::fs::write(&right, auth_json(&host, PASSWORD)).unwrap();
    let output = cli_save(
        &context,
        &image,
        &["--authfile", right.to_str().unwrap()],
        &empty_home,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains(PASSWORD), "{stderr}");

    // Right password in ~/.docker/config.json, found without any flag; JSON events on stdout.
    let docker_home = work.path().join("docker-home");
    std::fs::create_dir_all(docker_home.join(".docker")).unwrap();
    std::fs::write(
        docker_home.join(".docker/config.json"),
        auth_json(&host, PASSWORD),
    )
    .unwrap();
    std::fs::remove_dir_all(context.join("registry")).unwrap();
    let output = cli_save(&context, &image, &["--format", "json"], &docker_home);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!stdout.contains(PASSWORD));
    assert!(
        stdout
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "JSON lines: {stdout}"
    );
    assert!(stdout.contains(r#""event":"finished""#), "{stdout}");

    let fresh = Registry::start(&context.join("registry"), None);
    assert_eq!(
        skopeo_manifest_digest(&format!("{}/fix/app:v1", fresh.host())),
        digest
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bearer_tokens_are_fetched_with_credentials_and_anonymously() {
    let work = tempfile::tempdir().unwrap();
    let tokens = TokenServer::start(work.path(), USER, PASSWORD);
    let source = Registry::start_with_tokens(&work.path().join("source"), &tokens);
    let digest = push_app(work.path(), &source.host());
    let host = source.host();
    let requests = [ImageRequest::new(format!("{host}/fix/app:v1"))];
    let requests = &requests;
    let save = |auth: AuthSource, dir: std::path::PathBuf| {
        let options = SaveOptions {
            platform: "linux/amd64".parse().unwrap(),
            auth,
            sync: false,
            ..SaveOptions::default()
        };
        async move { registry::save(requests, &dir, &options, |_| {}, CancellationToken::new()).await }
    };

    // Anonymous, and the token service wants a login: a clear 401.
    let refused_before = tokens.refused.load(Ordering::SeqCst);
    let result = save(
        AuthSource::Anonymous,
        work.path().join("anonymous/registry"),
    )
    .await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("{result:?}")
    };
    assert!(
        matches!(report.failures[0].error, ImageError::Unauthorized { .. }),
        "{:?}",
        report.failures
    );
    assert!(report.failures[0].to_string().contains(&host));
    assert!(tokens.refused.load(Ordering::SeqCst) > refused_before);

    // A wrong password: the token service refuses, and says so.
    let wrong = work.path().join("wrong.json");
    std::fs::write(&wrong, auth_json(&host, "nope-nope")).unwrap();
    let result = save(AuthSource::File(wrong), work.path().join("wrong/registry")).await;
    let Err(SaveError::Incomplete(report)) = result else {
        panic!("{result:?}")
    };
    let message = report.failures[0].to_string();
    assert!(
        message.contains("were rejected") && message.contains("token service"),
        "{message}"
    );
    assert!(!message.contains("nope-nope"), "{message}");

    // With the password: a token per repository, and the image is saved.
    let right = work.path().join("auth.json");
    std::fs::write(&right, auth_json(&host, PASSWORD)).unwrap();
    let issued_before = tokens.issued.load(Ordering::SeqCst);
    let dir = work.path().join("right/registry");
    let report = save(AuthSource::File(right), dir.clone()).await.unwrap();
    assert_eq!(report.images[0].manifest_digest, digest);
    assert!(tokens.issued.load(Ordering::SeqCst) > issued_before);

    // Anonymous pulls allowed (like public images on Docker Hub): an anonymous token works.
    tokens.allow_anonymous_pull.store(true, Ordering::SeqCst);
    let report = save(AuthSource::Anonymous, work.path().join("public/registry"))
        .await
        .unwrap();
    assert_eq!(report.images[0].manifest_digest, digest);

    let fresh = Registry::start(&dir, None);
    assert_eq!(
        skopeo_manifest_digest(&format!("{}/fix/app:v1", fresh.host())),
        digest
    );
}
