//! `kubefile-ls build` against the real tools, no mocks: the images it writes are read by
//! `skopeo inspect`, unpacked by `umoci`, copied by `skopeo` into a `docker-registry` and
//! pulled back by `buildah from`; the same context built by `buildah bud` gives the same file
//! tree and config; the `oci-archive:` and `docker://` outputs are accepted; the bundled example
//! (examples/cluster-app) builds into an image whose `registry/` a fresh docker-registry serves.
//!
//! Tools: docker-registry, skopeo, umoci, buildah, htpasswd (`bash scripts/start-registry.sh
//! --install`) and helm for the example (`scripts/install-helm.sh`, `KUBEFILE_LS_HELM`). A test
//! whose tool is missing is skipped with a message, except under CI (`CI` set), where it fails.

use crate::support_registry;

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Command, Output},
};

use kubefile_ls::build::{
    buildah::{self, BuildahOptions},
    output::{self, PushOptions},
};
use kubefile_ls::registry::AuthSource;
use serde_json::Value;
use support_registry::{htpasswd_file, skopeo_copy, Layer, OciLayout, Registry, TokenServer};

/// True when every tool is on PATH. Otherwise skips (false) or, under CI, fails.
fn have_tools(tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| find_on_path(tool).is_none())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "build tests need {} (run `bash scripts/start-registry.sh --install`; helm: scripts/install-helm.sh)",
        missing.join(", ")
    );
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!in_ci, "{message}");
    eprintln!("skipping: {message}");
    false
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
}

/// helm from `KUBEFILE_LS_HELM` or PATH, as the other chart tests find it.
fn helm() -> Option<PathBuf> {
    std::env::var_os("KUBEFILE_LS_HELM")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .or_else(|| find_on_path("helm"))
}

fn run(command: &mut Command) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

// ---------------------------------------------------------------------------------------------
// The small context every comparison uses

const KUBEFILE: &str = r#"FROM scratch
LABEL sealos.io.type="application" app.version="1.0"
ENV NAME=${NAME:-demo} MODE=install
COPY registry registry
COPY manifests manifests
COPY bin bin
CMD ["kubectl apply -f manifests/"]
"#;

/// Writes the context: the COPY sources hold files and directories with distinct modes.
fn small_context(dir: &Path) -> PathBuf {
    let context = dir.join("context");
    let files: &[(&str, &[u8], u32)] = &[
        (
            "registry/docker/registry/v2/blobs/sha256/ab/abcd/data",
            b"blob bytes\n",
            0o644,
        ),
        (
            "manifests/app.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
            0o644,
        ),
        ("manifests/secret/token.yaml", b"kind: Secret\n", 0o600),
        ("bin/install.sh", b"#!/bin/sh\necho installing\n", 0o755),
        ("bin/tools/helper", b"#!/bin/sh\n", 0o750),
        ("bin/empty", b"", 0o644),
    ];
    for (path, content, mode) in files {
        let path = context.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
    }
    // An image layer as a registry holds it: gzip of bytes that do not compress, large enough
    // for the layer writer to store it rather than deflate it again.
    let layer = context.join("registry/docker/registry/v2/blobs/sha256/cd/cdef/data");
    fs::create_dir_all(layer.parent().unwrap()).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..300_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, &noise).unwrap();
    fs::write(&layer, gzip.finish().unwrap()).unwrap();
    fs::set_permissions(context.join("bin/tools"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(context.join("Kubefile"), KUBEFILE).unwrap();
    fs::write(context.join("README.md"), "not copied\n").unwrap();
    context
}

/// A file tree: relative path → (kind and mode, content). Directories have no content.
type FileTree = BTreeMap<String, (String, Option<Vec<u8>>)>;

fn file_tree(root: &Path) -> FileTree {
    fn walk(root: &Path, dir: &Path, tree: &mut FileTree) {
        let mut children: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap()).collect();
        children.sort_by_key(|e| e.file_name());
        for child in children {
            let path = child.path();
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let metadata = fs::symlink_metadata(&path).unwrap();
            let mode = metadata.permissions().mode() & 0o7777;
            if metadata.is_dir() {
                tree.insert(relative, (format!("dir {mode:o}"), None));
                walk(root, &path, tree);
            } else if metadata.file_type().is_symlink() {
                let target = fs::read_link(&path).unwrap();
                tree.insert(
                    relative,
                    (
                        "symlink".into(),
                        Some(target.to_string_lossy().into_owned().into_bytes()),
                    ),
                );
            } else {
                tree.insert(
                    relative,
                    (format!("file {mode:o}"), Some(fs::read(&path).unwrap())),
                );
            }
        }
    }
    let mut tree = FileTree::new();
    walk(root, root, &mut tree);
    tree
}

/// What the image must contain: the copied directories of the context, as they are.
fn expected_tree(context: &Path, copied: &[&str]) -> FileTree {
    let all = file_tree(context);
    all.into_iter()
        .filter(|(path, _)| {
            copied
                .iter()
                .any(|dir| path == dir || path.starts_with(&format!("{dir}/")))
        })
        .collect()
}

/// `umoci unpack` of `oci:layout:tag`; returns the rootfs tree.
fn unpacked_tree(layout: &Path, tag: &str, work: &Path) -> FileTree {
    let bundle = work.join(format!("bundle-{tag}"));
    run(Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg(&bundle));
    file_tree(&bundle.join("rootfs"))
}

/// The image config (the `config` object of the config blob) of `oci:layout:tag`.
fn image_config(layout: &Path, tag: &str) -> Value {
    let output = run(Command::new("skopeo")
        .args(["inspect", "--config"])
        .arg(format!("oci:{}:{tag}", layout.display())));
    json_of(&output)["config"].clone()
}

/// The fields a cluster image's behaviour depends on, with buildah's identity label removed.
fn comparable_config(config: &Value) -> Value {
    let mut labels = config["Labels"].clone();
    if let Some(labels) = labels.as_object_mut() {
        labels.remove("io.buildah.version");
    }
    serde_json::json!({
        "Env": config["Env"],
        "Cmd": config["Cmd"],
        "Entrypoint": config["Entrypoint"],
        "Labels": labels,
        "WorkingDir": config.get("WorkingDir").cloned().unwrap_or_else(|| "".into()),
        "User": config.get("User").cloned().unwrap_or_else(|| "".into()),
        "ExposedPorts": config["ExposedPorts"],
        "Volumes": config["Volumes"],
        "StopSignal": config["StopSignal"],
    })
}

/// Buildah with a private vfs store under `work`.
fn buildah_command(work: &Path) -> Command {
    let mut command = Command::new("buildah");
    command
        .args(["--storage-driver", "vfs", "--root"])
        .arg(work.join("buildah-root"))
        .arg("--runroot")
        .arg(work.join("buildah-runroot"));
    command
}

/// The image is accepted by skopeo (layout and registry), umoci and `buildah from`.
fn assert_accepted_by_tools(layout: &Path, tag: &str, context: &Path, work: &Path) {
    let inspect = skopeo_inspect(&format!("oci:{}:{tag}", layout.display()));
    assert_eq!(
        inspect["Labels"]["sealos.io.type"], "application",
        "{inspect}"
    );
    assert_eq!(
        unpacked_tree(layout, tag, work),
        expected_tree(context, &["registry", "manifests", "bin"]),
        "the unpacked image differs from the copied context files"
    );

    let storage = tempfile::tempdir().unwrap();
    let registry = Registry::start(storage.path(), None);
    let remote = format!("{}/demo/cluster-app:{tag}", registry.host());
    skopeo_copy(
        &format!("oci:{}:{tag}", layout.display()),
        &format!("docker://{remote}"),
        &[],
    );
    let remote_inspect = json_of(&run(Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .arg(format!("docker://{remote}"))));
    assert_eq!(remote_inspect["Labels"], inspect["Labels"]);
    let from = run(buildah_command(work)
        .args(["from", "--tls-verify=false"])
        .arg(format!("docker://{remote}")));
    let container = String::from_utf8_lossy(&from.stdout).trim().to_owned();
    assert!(
        !container.is_empty(),
        "buildah from printed no container name"
    );
}

/// `kubefile-ls build ARGS`.
fn kubefile_ls(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
        .arg("build")
        .args(args)
        .output()
        .expect("run kubefile-ls build")
}

fn kubefile_ls_ok(args: &[&str]) -> Output {
    let output = kubefile_ls(args);
    assert!(
        output.status.success(),
        "kubefile-ls build {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// An auth.json that gives `user:password` for `host`.
fn write_authfile(path: &Path, host: &str, user: &str, password: &str) {
    let auth = base64_encode(&format!("{user}:{password}"));
    fs::write(
        path,
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
}

/// `skopeo inspect` (`--raw`: the manifest as stored) of `host/repo:tag` in a registry that
/// wants credentials.
fn skopeo_inspect_remote(reference: &str, creds: &str, raw: bool) -> Output {
    let mut command = Command::new("skopeo");
    command.arg("inspect");
    if raw {
        command.arg("--raw");
    }
    run(command
        .args(["--tls-verify=false", "--creds", creds])
        .arg(format!("docker://{reference}")))
}

/// `skopeo inspect TRANSPORT:REFERENCE` as JSON.
fn skopeo_inspect(image: &str) -> Value {
    json_of(&run(Command::new("skopeo").arg("inspect").arg(image)))
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test path")
}

/// `--engine buildah` without our CLI: `buildah::build` into a layout; `step` is an instruction
/// buildah's log must show.
fn buildah_layout(context: &Path, work: &Path, tag: &str, step: &str) -> PathBuf {
    let layout = work.join("buildah.oci");
    let options = BuildahOptions {
        tags: vec![format!("localhost/cluster-app:{tag}")],
        layout_tag: tag.into(),
        timestamp: Some(0),
        ..BuildahOptions::default()
    };
    let mut log = Vec::new();
    buildah::build(context, &options, &layout, &mut |line| {
        log.push(line.to_owned())
    })
    .unwrap_or_else(|e| panic!("buildah engine failed: {e}\n{}", log.join("\n")));
    assert!(log.iter().any(|l| l.contains(step)), "{log:?}");
    layout
}

/// `kubefile-ls build --timestamp 0` into `WORK/ours.oci:v1`, to compare with [`buildah_layout`].
fn our_layout(context: &Path, work: &Path) -> PathBuf {
    let layout = work.join("ours.oci");
    kubefile_ls_ok(&[
        "--save-image=false",
        "--timestamp",
        "0",
        "--output",
        &format!("oci:{}:v1", path_str(&layout)),
        path_str(context),
    ]);
    layout
}

/// The `v1` images of both layouts unpack to the same files; returns that tree.
fn assert_same_trees(ours: &Path, theirs: &Path, work: &Path) -> FileTree {
    let our_tree = unpacked_tree(ours, "v1", &work.join("ours"));
    assert_eq!(
        our_tree,
        unpacked_tree(theirs, "v1", &work.join("theirs")),
        "file trees differ"
    );
    our_tree
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn native_build_is_accepted_by_skopeo_umoci_registry_and_buildah() {
    if !have_tools(&["skopeo", "umoci", "docker-registry", "buildah"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    let layout = work.path().join("ours.oci");
    kubefile_ls_ok(&[
        "--save-image=false",
        "-t",
        "localhost/cluster-app:v1",
        "--output",
        &format!("oci:{}:v1", path_str(&layout)),
        path_str(&context),
    ]);
    assert_accepted_by_tools(&layout, "v1", &context, work.path());
}

#[test]
fn buildah_engine_image_is_accepted_by_the_same_tools() {
    if !have_tools(&["skopeo", "umoci", "docker-registry", "buildah"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    let layout = work.path().join("buildah-engine.oci");
    let output = kubefile_ls_ok(&[
        "--save-image=false",
        "--engine",
        "buildah",
        "-t",
        "localhost/cluster-app:v1",
        "--output",
        &format!("oci:{}:v1", path_str(&layout)),
        path_str(&context),
    ]);
    let printed = String::from_utf8_lossy(&output.stderr);
    assert!(
        printed.contains("COPY registry registry"),
        "buildah's steps are shown: {printed}"
    );
    assert_accepted_by_tools(&layout, "v1", &context, work.path());
}

#[test]
fn native_and_buildah_builds_agree_on_files_and_config() {
    if !have_tools(&["skopeo", "umoci", "buildah"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    let theirs = buildah_layout(&context, work.path(), "v1", "COPY registry registry");
    let ours = our_layout(&context, work.path());
    assert_same_trees(&ours, &theirs, work.path());
    assert_eq!(
        comparable_config(&image_config(&ours, "v1")),
        comparable_config(&image_config(&theirs, "v1")),
        "configs differ"
    );
}

/// A tar of `dir/file` (mode 640) and `dir/link` → `file`, compressed as `compress` does.
fn compressed_tar(path: &Path, compress: impl FnOnce(Vec<u8>) -> Vec<u8>) {
    let mut tar = tar::Builder::new(Vec::new());
    let header = |mode: u32, size: u64| {
        let mut header = tar::Header::new_gnu();
        header.set_mode(mode);
        header.set_size(size);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header
    };
    tar.append_data(&mut header(0o640, 6), "dir/file", &b"inside"[..])
        .unwrap();
    let mut link = header(0o777, 0);
    link.set_entry_type(tar::EntryType::Symlink);
    tar.append_link(&mut link, "dir/link", "file").unwrap();
    fs::write(path, compress(tar.into_inner().unwrap())).unwrap();
}

#[test]
fn add_of_compressed_archives_matches_buildah() {
    use std::io::Write as _;
    if !have_tools(&["skopeo", "umoci", "buildah"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = work.path().join("context");
    fs::create_dir(&context).unwrap();
    let bzip2 = |bytes: Vec<u8>| {
        let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        encoder.finish().unwrap()
    };
    compressed_tar(&context.join("a.tar.bz2"), bzip2);
    compressed_tar(&context.join("a.tar.xz"), |bytes| {
        let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
        encoder.write_all(&bytes).unwrap();
        encoder.finish().unwrap()
    });
    compressed_tar(&context.join("a.tar.zst"), |bytes| {
        ruzstd::encoding::compress_to_vec(&bytes[..], ruzstd::encoding::CompressionLevel::Fastest)
    });
    compressed_tar(&context.join("a.tgz"), |bytes| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&bytes).unwrap();
        encoder.finish().unwrap()
    });
    compressed_tar(&context.join("plain.tar"), |bytes| bytes);
    fs::write(context.join("notes.bz2"), bzip2(b"not a tar\n".to_vec())).unwrap();
    fs::write(
        context.join("Kubefile"),
        "FROM scratch\nADD a.tar.bz2 /bz/\nADD a.tar.xz /xz/\nADD a.tar.zst /zst/\nADD a.tgz plain.tar /both/\nADD notes.bz2 /kept/\n",
    )
    .unwrap();
    let theirs = buildah_layout(&context, work.path(), "v1", "ADD notes.bz2 /kept/");
    let our_tree = assert_same_trees(&our_layout(&context, work.path()), &theirs, work.path());
    assert!(
        our_tree.contains_key("zst/dir/link") && our_tree.contains_key("kept/notes.bz2"),
        "{our_tree:?}"
    );
}

#[test]
fn oci_archive_output_is_read_by_skopeo() {
    if !have_tools(&["skopeo", "buildah"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    // The library function on a buildah-written layout…
    let layout = buildah_layout(&context, work.path(), "v1", "COPY registry registry");
    let archive = work.path().join("out/from-buildah.tar");
    output::write_oci_archive(&layout, &archive).unwrap();
    let inspect = skopeo_inspect(&format!("oci-archive:{}", archive.display()));
    assert_eq!(inspect["Labels"]["app.version"], "1.0", "{inspect}");

    // …and the CLI's `--output oci-archive:FILE`.
    let ours = work.path().join("ours.tar");
    kubefile_ls_ok(&[
        "--save-image=false",
        "-t",
        "localhost/cluster-app:v2",
        "--output",
        &format!("oci-archive:{}", path_str(&ours)),
        path_str(&context),
    ]);
    let inspect = skopeo_inspect(&format!("oci-archive:{}", ours.display()));
    assert_eq!(inspect["Labels"]["app.version"], "1.0", "{inspect}");
    assert_eq!(
        inspect["Env"].as_array().map(Vec::len),
        Some(3),
        "{inspect}"
    );
}

#[test]
fn push_to_a_registry_with_credentials() {
    if !have_tools(&["skopeo", "docker-registry", "buildah", "htpasswd"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    let layout = buildah_layout(&context, work.path(), "v1", "COPY registry registry");
    let storage = work.path().join("storage");
    let htpasswd = htpasswd_file(work.path(), "builder", "s3cret-pass");
    let registry = Registry::start(&storage, Some(&htpasswd));
    let authfile = work.path().join("auth.json");
    let write_auth =
        |password: &str| write_authfile(&authfile, &registry.host(), "builder", password);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = PushOptions {
        auth: AuthSource::File(authfile.clone()),
        ..PushOptions::default()
    };
    let destination = format!("docker://{}/demo/cluster-app:v1", registry.host());

    write_auth("wrong-password");
    let error = runtime
        .block_on(output::push(&layout, Some("v1"), &destination, &options))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("401") && error.contains("rejected"),
        "{error}"
    );
    assert!(!error.contains("wrong-password"), "{error}");

    write_auth("s3cret-pass");
    let report = runtime
        .block_on(output::push(&layout, Some("v1"), &destination, &options))
        .unwrap();
    assert_eq!(report.blobs_present, 0);
    assert_eq!(report.blobs_uploaded, 2, "{report:?}");
    let raw = skopeo_inspect_remote(
        &format!("{}/demo/cluster-app:v1", registry.host()),
        "builder:s3cret-pass",
        true,
    );
    assert_eq!(
        support_registry::sha256(&raw.stdout),
        report.manifest_digest
    );
    // A second push finds every blob in place and uploads none.
    let again = runtime
        .block_on(output::push(&layout, Some("v1"), &destination, &options))
        .unwrap();
    assert_eq!((again.blobs_uploaded, again.blobs_present), (0, 2));

    // The CLI's `--output docker://…` with the same authfile.
    let output = kubefile_ls_ok(&[
        "--save-image=false",
        "--authfile",
        path_str(&authfile),
        "--output",
        &format!("docker://{}/demo/ours:v1", registry.host()),
        path_str(&context),
    ]);
    let printed = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    assert!(!printed.contains("s3cret-pass"), "{printed}");
    let inspect = json_of(&skopeo_inspect_remote(
        &format!("{}/demo/ours:v1", registry.host()),
        "builder:s3cret-pass",
        false,
    ));
    assert_eq!(
        inspect["Labels"]["sealos.io.type"], "application",
        "{inspect}"
    );
}

#[test]
fn push_through_a_token_service() {
    if !have_tools(&["skopeo", "docker-registry", "buildah", "openssl"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let context = small_context(work.path());
    let layout = buildah_layout(&context, work.path(), "v1", "COPY registry registry");
    let tokens = TokenServer::start(work.path(), "builder", "token-pass");
    let registry = Registry::start_with_tokens(&work.path().join("storage"), &tokens);
    let authfile = work.path().join("auth.json");
    write_authfile(&authfile, &registry.host(), "builder", "token-pass");
    let options = PushOptions {
        auth: AuthSource::File(authfile),
        ..PushOptions::default()
    };
    let report = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(output::push(
            &layout,
            None,
            &format!("{}/team/app:v1", registry.host()),
            &options,
        ))
        .unwrap();
    assert_eq!(report.reference, format!("{}/team/app:v1", registry.host()));
    let raw = skopeo_inspect_remote(
        &format!("{}/team/app:v1", registry.host()),
        "builder:token-pass",
        true,
    );
    assert_eq!(
        support_registry::sha256(&raw.stdout),
        report.manifest_digest
    );
}

#[test]
fn push_errors_are_clear() {
    let work = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let push = |layout: &Path, tag: Option<&str>, destination: &str| {
        runtime
            .block_on(output::push(
                layout,
                tag,
                destination,
                &PushOptions::default(),
            ))
            .unwrap_err()
            .to_string()
    };
    let error = push(work.path(), None, "docker://127.0.0.1:1/x:v1");
    assert!(error.contains("not an OCI image layout"), "{error}");

    let mut layout = OciLayout::new(&work.path().join("layout"));
    let image = layout.image("amd64", None, &[&Layer::new("a", 1000)]);
    layout.tag("v1", &image);
    layout.finish();
    let error = push(&layout.dir, Some("v2"), "docker://127.0.0.1:1/x:v1");
    assert!(error.contains("no image tagged `v2` (tags: v1)"), "{error}");
    let error = push(&layout.dir, Some("v1"), "docker://Bad/x");
    assert!(error.contains("invalid destination"), "{error}");
    // Nothing listens on port 1: the message names the registry and what was being sent.
    let error = push(&layout.dir, Some("v1"), "docker://127.0.0.1:1/x:v1");
    assert!(error.contains("127.0.0.1:1"), "{error}");
}

#[test]
fn bundled_example_builds_into_a_self_contained_image() {
    if !have_tools(&["skopeo", "umoci", "docker-registry"]) {
        return;
    }
    let Some(helm) = helm() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the example test needs helm (KUBEFILE_LS_HELM)"
        );
        eprintln!("skipping: helm not found (scripts/install-helm.sh, KUBEFILE_LS_HELM)");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // The images the example names, pushed to a registry standing in for 127.0.0.1:5055.
    let source_storage = work.path().join("source");
    let source = Registry::start(&source_storage, None);
    let mut fixtures = OciLayout::new(&work.path().join("fixtures"));
    let images = [
        "demo/web:1.0",
        "demo/init:1.0",
        "demo/worker:1.0",
        "demo/migrate:1.0",
    ];
    for (i, image) in images.iter().enumerate() {
        let descriptor = fixtures.image("amd64", None, &[&Layer::new(image, 2_000 + i)]);
        fixtures.tag(image.split(':').next().unwrap(), &descriptor);
    }
    fixtures.finish();
    for image in images {
        skopeo_copy(
            &format!(
                "oci:{}:{}",
                fixtures.dir.display(),
                image.split(':').next().unwrap()
            ),
            &format!("docker://{}/{image}", source.host()),
            &[],
        );
    }
    let context = work.path().join("cluster-app");
    copy_example(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/cluster-app"),
        &context,
        &source.host(),
    );
    let layout = work.path().join("cluster-app.oci");
    kubefile_ls_ok(&[
        "--helm",
        path_str(&helm),
        "-t",
        "localhost/cluster-app:v1",
        "--output",
        &format!("oci:{}:v1", path_str(&layout)),
        path_str(&context),
    ]);
    drop(source);

    // The saved registry/ serves every image on its own.
    let saved = Registry::start(&context.join("registry"), None);
    for image in images {
        let inspect = json_of(&run(Command::new("skopeo")
            .args(["inspect", "--tls-verify=false"])
            .arg(format!("docker://{}/{image}", saved.host()))));
        assert_eq!(inspect["Architecture"], "amd64", "{image}: {inspect}");
    }
    // The image holds that registry/ next to the manifests and charts.
    let tree = unpacked_tree(&layout, "v1", work.path());
    for path in [
        "manifests/web.yaml",
        "charts/worker/Chart.yaml",
        "registry/docker/registry/v2/repositories/demo/web/_manifests/tags/1.0/current/link",
    ] {
        assert!(tree.contains_key(path), "{path} missing from the image");
    }
    let inspect = skopeo_inspect(&format!("oci:{}:v1", layout.display()));
    assert_eq!(
        inspect["Labels"]["sealos.io.type"], "application",
        "{inspect}"
    );
}

/// Copies the example, pointing its image references at `registry` instead of 127.0.0.1:5055.
fn copy_example(from: &Path, to: &Path, registry: &str) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_example(&entry.path(), &target, registry);
        } else {
            fs::create_dir_all(to).unwrap();
            let text = fs::read_to_string(entry.path()).unwrap();
            fs::write(&target, text.replace("127.0.0.1:5055", registry)).unwrap();
        }
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
