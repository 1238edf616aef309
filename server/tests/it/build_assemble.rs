//! The native assembler on small contexts, read back from the written OCI layout: COPY/ADD
//! destination rules, the ignore file, `--chown`/`--chmod`, ADD of local tar archives (gzip, bzip2,
//! xz, zstd), multi-stage `COPY --from`, escapes out of the context, reproducible digests and
//! atomic output.

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    os::unix::fs::{symlink, PermissionsExt},
    path::{Path, PathBuf},
};

use kubefile_ls::{
    build::{
        assemble::{assemble, AssembleRequest, AssembledImage},
        base::Offline,
        evaluate::BuildInputs,
        BuildError,
    },
    registry::{CancellationToken, Platform},
};
use serde_json::Value;

/// `path → (kind, mode, uid:gid, content)` of every layer entry, later layers winning.
type Listing = BTreeMap<String, (char, u32, String, String)>;

fn write(root: &Path, relative: &str, content: &str) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn build(context: &Path, kubefile: &str, output: &Path, timestamp: Option<u64>) -> Result<AssembledImage, BuildError> {
    fs::write(context.join("Kubefile"), kubefile).unwrap();
    let request = AssembleRequest {
        context: context.to_owned(),
        build_files: vec![context.join("Kubefile")],
        inputs: BuildInputs::default(),
        timestamp,
        output: output.to_owned(),
        ref_names: vec!["v1".into()],
        platform: Platform::new("linux", "amd64", None),
    };
    assemble(&request, &mut Offline, &|_| {}, &CancellationToken::new())
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
}

fn manifest(layout: &Path) -> Value {
    let index: Value = serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    serde_json::from_slice(&fs::read(blob(layout, index["manifests"][0]["digest"].as_str().unwrap())).unwrap()).unwrap()
}

fn listing(layout: &Path) -> Listing {
    let mut out = Listing::new();
    for layer in manifest(layout)["layers"].as_array().unwrap() {
        let file = fs::File::open(blob(layout, layer["digest"].as_str().unwrap())).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let path = entry.path().unwrap().display().to_string().trim_end_matches('/').to_owned();
            let kind = match header.entry_type() {
                tar::EntryType::Directory => 'd',
                tar::EntryType::Symlink => 'l',
                _ => 'f',
            };
            let content = if kind == 'l' {
                entry.link_name().unwrap().unwrap().display().to_string()
            } else {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                String::from_utf8_lossy(&bytes).into_owned()
            };
            let owner = format!("{}:{}", header.uid().unwrap(), header.gid().unwrap());
            out.insert(path, (kind, header.mode().unwrap() & 0o7777, owner, content));
        }
    }
    out
}

fn paths(listing: &Listing) -> Vec<&str> {
    listing.keys().map(String::as_str).collect()
}

fn context_with_files() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "manifests/app.yaml", "image: nginx\n");
    write(root, "manifests/nested/b.yaml", "b\n");
    write(root, "charts/app/Chart.yaml", "name: app\n");
    write(root, "charts/app/values.yaml", "x: 1\n");
    write(root, "opt/tool", "#!/bin/sh\n");
    fs::set_permissions(root.join("opt/tool"), fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "a.txt", "a\n");
    write(root, "b.txt", "b\n");
    dir
}

#[test]
fn copy_destination_rules() {
    let context = context_with_files();
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("image.oci");
    let kubefile = "FROM scratch\n\
        COPY manifests manifests\n\
        COPY a.txt /single\n\
        COPY a.txt /dir/\n\
        COPY *.txt /globbed/\n\
        WORKDIR /work\n\
        COPY opt .\n\
        COPY charts/app/Chart.yaml relative/chart.yaml\n";
    build(context.path(), kubefile, &layout, Some(0)).unwrap();
    let tree = listing(&layout);
    assert_eq!(
        paths(&tree),
        [
            "dir", "dir/a.txt", "globbed", "globbed/a.txt", "globbed/b.txt", "manifests", "manifests/app.yaml", "manifests/nested",
            "manifests/nested/b.yaml", "single", "work", "work/relative", "work/relative/chart.yaml", "work/tool",
        ]
    );
    assert_eq!(tree["single"].3, "a\n");
    assert_eq!(tree["work/tool"].1, 0o755, "modes are kept");
    assert_eq!(tree["manifests/app.yaml"].2, "0:0", "context files are owned by root");
    assert_eq!(manifest(&layout)["layers"].as_array().unwrap().len(), 6, "one layer per COPY");
}

#[test]
fn several_sources_need_a_directory_destination() {
    let context = context_with_files();
    let out = tempfile::tempdir().unwrap();
    let kubefile = "FROM scratch\nCOPY a.txt /x\nCOPY a.txt b.txt /x\n";
    let error = build(context.path(), kubefile, &out.path().join("i.oci"), Some(0)).unwrap_err();
    assert!(error.to_string().contains("adding multiple sources to non-directory destination /x"), "{error}");
}

#[test]
fn ignore_file_hides_paths_and_exceptions_restore_them() {
    let context = context_with_files();
    write(context.path(), ".dockerignore", "charts/app/values.yaml\nmanifests/**\n!manifests/app.yaml\n");
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("i.oci");
    build(context.path(), "FROM scratch\nCOPY . /\n", &layout, Some(0)).unwrap();
    let tree = listing(&layout);
    assert!(tree.contains_key("charts/app/Chart.yaml"));
    assert!(!tree.contains_key("charts/app/values.yaml"));
    assert!(tree.contains_key("manifests/app.yaml"));
    assert!(!tree.contains_key("manifests/nested/b.yaml"));
    let error = build(context.path(), "FROM scratch\nCOPY charts/app/values.yaml /v\n", &layout, Some(0)).unwrap_err();
    assert!(error.to_string().contains("excluded by .dockerignore"), "{error}");
}

#[test]
fn chown_chmod_and_add_archive() {
    let context = context_with_files();
    let archive_path = context.path().join("bundle.tar.gz");
    {
        let gz = flate2::write::GzEncoder::new(fs::File::create(&archive_path).unwrap(), flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o600);
        header.set_uid(7);
        header.set_gid(8);
        tar.append_data(&mut header, "inside/file", &b"abc"[..]).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("i.oci");
    let kubefile = "FROM scratch\nCOPY --chown=1000:2000 --chmod=640 manifests /m/\nADD bundle.tar.gz /unpacked/\nCOPY bundle.tar.gz /kept/\n";
    build(context.path(), kubefile, &layout, Some(0)).unwrap();
    let tree = listing(&layout);
    assert_eq!((tree["m/app.yaml"].1, tree["m/app.yaml"].2.as_str()), (0o640, "1000:2000"));
    assert_eq!((tree["m/nested"].1, tree["m/nested"].2.as_str()), (0o640, "1000:2000"));
    assert_eq!(tree["unpacked/inside/file"], ('f', 0o600, "7:8".to_owned(), "abc".to_owned()));
    assert!(tree.contains_key("kept/bundle.tar.gz"), "COPY never unpacks");
}

/// A tar with one file, `inside/<name>`.
fn tar_with(name: &str, content: &[u8]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o640);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    tar.append_data(&mut header, format!("inside/{name}"), content).unwrap();
    tar.into_inner().unwrap()
}

#[test]
fn add_unpacks_bzip2_xz_and_zstd_archives_by_content() {
    let context = context_with_files();
    let compress = |encoder: &mut dyn std::io::Write, bytes: &[u8]| encoder.write_all(bytes).unwrap();
    let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    compress(&mut bz, &tar_with("bz", b"bzip2"));
    fs::write(context.path().join("a.tar.bz2"), bz.finish().unwrap()).unwrap();
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    compress(&mut xz, &tar_with("xz", b"xz"));
    // No extension: buildah goes by the content, not the name.
    fs::write(context.path().join("xz-archive"), xz.finish().unwrap()).unwrap();
    // Two zstd frames (as `pzstd` writes): the tar continues in the second one.
    let tar = tar_with("zst", &[b'z'; 3000]);
    let mut zst = ruzstd::encoding::compress_to_vec(&tar[..1024], ruzstd::encoding::CompressionLevel::Fastest);
    zst.extend(ruzstd::encoding::compress_to_vec(&tar[1024..], ruzstd::encoding::CompressionLevel::Fastest));
    fs::write(context.path().join("a.tar.zst"), zst).unwrap();
    // Compressed, but not a tar: copied as it is.
    let mut not_tar = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    compress(&mut not_tar, b"just text\n");
    fs::write(context.path().join("notes.bz2"), not_tar.finish().unwrap()).unwrap();

    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("i.oci");
    let kubefile = "FROM scratch\nADD a.tar.bz2 xz-archive a.tar.zst notes.bz2 /x/\n";
    build(context.path(), kubefile, &layout, Some(0)).unwrap();
    let tree = listing(&layout);
    assert_eq!(paths(&tree), ["x", "x/inside", "x/inside/bz", "x/inside/xz", "x/inside/zst", "x/notes.bz2"]);
    assert_eq!(tree["x/inside/bz"], ('f', 0o640, "0:0".to_owned(), "bzip2".to_owned()));
    assert_eq!(tree["x/inside/xz"].3, "xz");
    assert_eq!(tree["x/inside/zst"].3.len(), 3000);
}

#[test]
fn multi_stage_copy_from() {
    let context = context_with_files();
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("i.oci");
    let kubefile = "FROM scratch AS files\nCOPY manifests /src/\nENV STAGE=files\n\
        FROM scratch\nCOPY --from=files /src/nested /from-stage\nCOPY --from=0 /src/app.yaml /app.yaml\n";
    let image = build(context.path(), kubefile, &layout, Some(0)).unwrap();
    assert_eq!(paths(&listing(&layout)), ["app.yaml", "from-stage", "from-stage/b.yaml"]);
    assert_eq!(image.config.env_value("STAGE"), None, "a stage's ENV stays in its stage");
    assert_eq!(image.layers, 2, "only the final stage's layers");
}

#[test]
fn nothing_escapes_the_context() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("secret"), "secret\n").unwrap();
    let context = outer.path().join("ctx");
    fs::create_dir(&context).unwrap();
    write(&context, "dir/inside", "ok\n");
    symlink(outer.path().join("secret"), context.join("out-link")).unwrap();
    symlink("../secret", context.join("dir/relative-out")).unwrap();
    symlink("inside", context.join("dir/in-link")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("i.oci");

    let error = build(&context, "FROM scratch\nCOPY ../secret /s\n", &layout, Some(0)).unwrap_err();
    assert!(error.to_string().contains("outside the build context"), "{error}");
    let error = build(&context, "FROM scratch\nCOPY out-link /s\n", &layout, Some(0)).unwrap_err();
    assert!(error.to_string().contains("outside the build context"), "{error}");

    build(&context, "FROM scratch\nCOPY dir /d\n", &layout, Some(0)).unwrap();
    let tree = listing(&layout);
    assert_eq!(tree["d/relative-out"], ('l', 0o777, "0:0".to_owned(), "../secret".to_owned()), "symlinks are copied, not followed");
    assert_eq!(tree["d/in-link"].0, 'l');
    assert!(tree.values().all(|(_, _, _, content)| content != "secret\n"));
}

#[test]
fn same_inputs_give_the_same_digests() {
    let context = context_with_files();
    let out = tempfile::tempdir().unwrap();
    let kubefile = "FROM scratch\nLABEL a=1 b=2 c=3 d=4 e=5 f=6\nENV X=1\nCOPY . .\nCMD [\"bash init.sh\"]\n";
    let first = build(context.path(), kubefile, &out.path().join("one.oci"), Some(1_700_000_000)).unwrap();
    let second = build(context.path(), kubefile, &out.path().join("two.oci"), Some(1_700_000_000)).unwrap();
    assert_eq!(first.manifest_digest, second.manifest_digest);
    let later = build(context.path(), kubefile, &out.path().join("three.oci"), Some(1_700_000_001)).unwrap();
    assert_ne!(first.manifest_digest, later.manifest_digest, "the timestamp is part of the image");
}

#[test]
fn output_is_never_half_written() {
    let context = context_with_files();
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("image.oci");
    let error = build(context.path(), "FROM scratch\nCOPY a.txt /a\nCOPY missing /m\n", &layout, Some(0)).unwrap_err();
    assert!(error.to_string().contains("missing: no such file or directory"), "{error}");
    let left: Vec<_> = fs::read_dir(out.path()).unwrap().collect();
    assert!(left.is_empty(), "a failed build leaves nothing behind");

    // A second tag in an existing layout keeps the first image.
    build(context.path(), "FROM scratch\nCOPY a.txt /a\n", &layout, Some(0)).unwrap();
    let request = AssembleRequest {
        context: context.path().to_owned(),
        build_files: vec![context.path().join("Kubefile")],
        inputs: BuildInputs::default(),
        timestamp: Some(0),
        output: layout.clone(),
        ref_names: vec!["v2".into()],
        platform: Platform::new("linux", "amd64", None),
    };
    fs::write(context.path().join("Kubefile"), "FROM scratch\nCOPY b.txt /b\n").unwrap();
    assemble(&request, &mut Offline, &|_| {}, &CancellationToken::new()).unwrap();
    let index: Value = serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let names: Vec<&str> = index["manifests"].as_array().unwrap().iter().map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap()).collect();
    assert_eq!(names, ["v1", "v2"]);
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1, "no temporary directory is left");
}

#[test]
fn concatenated_build_files_report_errors_in_the_right_file() {
    let context = context_with_files();
    fs::write(context.path().join("Kubefile"), "FROM scratch AS first\nCOPY a.txt /a\n").unwrap();
    fs::write(context.path().join("Dockerfile"), "FROM scratch\nCOPY --from=first /a /b\nCOPY nope /c\n").unwrap();
    let out = tempfile::tempdir().unwrap();
    let request = AssembleRequest {
        context: context.path().to_owned(),
        build_files: vec![context.path().join("Kubefile"), context.path().join("Dockerfile")],
        inputs: BuildInputs::default(),
        timestamp: Some(0),
        output: out.path().join("i.oci"),
        ref_names: vec!["v1".into()],
        platform: Platform::new("linux", "amd64", None),
    };
    let error = assemble(&request, &mut Offline, &|_| {}, &CancellationToken::new()).unwrap_err();
    match error {
        BuildError::InFile { file, range, message } => {
            assert_eq!(file, context.path().join("Dockerfile"));
            assert_eq!(range.start, "FROM scratch\nCOPY --from=first /a /b\n".len());
            assert_eq!(message, "COPY nope: no such file or directory");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn output_inside_the_context_is_not_copied_into_itself() {
    let context = context_with_files();
    let layout = context.path().join("image.oci");
    build(context.path(), "FROM scratch\nCOPY . .\n", &layout, Some(0)).unwrap();
    build(context.path(), "FROM scratch\nCOPY . .\n", &layout, Some(0)).unwrap();
    assert!(listing(&layout).keys().all(|p| !p.contains("image.oci") && !p.contains("kubefile-ls")));
}
