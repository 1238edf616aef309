//! `images/skopeo/tar.txt` archives loaded into `registry/` (sealos `registry_tars_save.go`): a
//! `docker save` archive or an OCI image layout in a tar file, stored under the line's
//! destination exactly like a pulled image.
//!
//! The archive is read in place, never extracted. Every blob is verified while it is copied into
//! a temporary file of the registry directory, which is then renamed into place: against its name
//! (`blobs/sha256/<hex>`, `<hex>.json`) and size, and for `docker save` layers against the
//! config's `diff_ids`. Links are written last, as for pulls.
//!
//! One difference from containers/image: `docker save` layers are stored as they are in the
//! archive (uncompressed tars, media type `application/vnd.docker.image.rootfs.diff.tar`)
//! instead of being recompressed with gzip. Their digests are then the config's `diff_ids`
//! (reproducible; a recompression's are not), and buildah compresses `registry/` inside the
//! cluster image's own layer anyway.

use std::{
    collections::HashMap,
    fmt,
    fs::File,
    io::{self, Read, Write},
    os::unix::fs::FileExt as _,
    path::{Component, Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::{
    error::ImageError,
    layout::Sha256Digest,
    manifest::{self, Descriptor, Manifest, DOCKER_MANIFEST},
    report::{BlobOutcome, SaveEvent, SavedImage},
    instances_to_load, Chosen, Engine, Fetched,
};
use crate::context::images::{Archive, ArchiveTransport};

/// One archive to load.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchiveRequest {
    pub transport: ArchiveTransport,
    /// The archive file.
    pub path: PathBuf,
    /// The repository path in `registry/`, with an optional tag, as written after `@` in
    /// `tar.txt` (`calico/cni:v3.20.0`; `:latest` when no tag is given).
    pub destination: String,
}

impl ArchiveRequest {
    /// The request for a `tar.txt` line of the context at `root`.
    pub fn from_context(root: &Path, archive: &Archive) -> Self {
        Self { transport: archive.transport, path: root.join(&archive.path), destination: archive.destination.clone() }
    }
}

/// `docker-archive:<path>@<destination>`, as in `tar.txt`.
impl fmt::Display for ArchiveRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}@{}", self.transport.name(), self.path.display(), self.destination)
    }
}

const MANIFEST_JSON: &str = "manifest.json";
const INDEX_JSON: &str = "index.json";
const MAX_CONFIG_SIZE: u64 = 32 << 20;
const COPY_CHUNK: usize = 1 << 20;
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Where an archive lands.
pub(crate) struct ArchiveTarget {
    /// Position in the report.
    pub index: usize,
    pub request: ArchiveRequest,
    /// The request as text, for events and failures.
    pub label: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `library/app:v1`.
    pub destination: String,
}

/// Loads one archive into the registry directory (blocking: run it off the async workers).
pub(crate) fn import(engine: &Engine, target: &ArchiveTarget) -> Result<SavedImage, ImageError> {
    let fail = |message: String| ImageError::Archive { archive: target.request.path.clone(), message };
    (engine.emit)(SaveEvent::ImageStarted { image: target.label.clone(), destination: target.destination.clone() });
    let tar = TarFile::open(&target.request.path).map_err(|e| fail(e.to_string()))?;
    let source = tar.path.display().to_string();
    let loaded = match target.request.transport {
        ArchiveTransport::DockerArchive => docker_archive(engine, &tar, target)?,
        ArchiveTransport::OciArchive => oci_archive(engine, &tar, target, &source)?,
    };
    (engine.emit)(SaveEvent::ImageResolved {
        image: target.label.clone(),
        manifest_digest: loaded.chosen.named.to_string(),
        platforms: loaded.chosen.platforms.clone(),
        blobs: loaded.blobs.len(),
        bytes: loaded.blobs.iter().map(|(descriptor, _)| descriptor.size).sum(),
    });
    for (descriptor, member) in &loaded.blobs {
        if engine.cancel.is_cancelled() {
            return Err(ImageError::Cancelled);
        }
        let outcome = if engine.layout.blob_present(&descriptor.digest, descriptor.size) {
            BlobOutcome::Present
        } else {
            copy_verified(engine, &tar, *member, descriptor).map_err(|e| match e {
                CopyError::Io(error) => fail(error.to_string()),
                CopyError::Invalid(message) => fail(message),
                CopyError::Cancelled => ImageError::Cancelled,
            })?;
            (engine.emit)(SaveEvent::BlobProgress {
                image: target.label.clone(),
                digest: descriptor.digest.to_string(),
                bytes: descriptor.size,
                size: descriptor.size,
            });
            BlobOutcome::Downloaded
        };
        (engine.emit)(SaveEvent::BlobDone {
            image: target.label.clone(),
            digest: descriptor.digest.to_string(),
            size: descriptor.size,
            outcome,
        });
    }
    engine.write_links(&target.repository, target.tag.as_deref(), &loaded.chosen)?;
    let media_type = loaded.chosen.media_type().to_owned();
    Ok(SavedImage {
        image: target.label.clone(),
        source: format!("{}:{source}", target.request.transport.name()),
        destination: target.destination.clone(),
        manifest_digest: loaded.chosen.named.to_string(),
        media_type,
        platforms: loaded.chosen.platforms,
    })
}

/// What an archive holds for the destination, verified except for the blobs still to copy.
struct Loaded {
    chosen: Chosen,
    /// Configs and layers with the archive member holding each (each digest once).
    blobs: Vec<(Descriptor, Member)>,
}

#[derive(Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct DockerConfig {
    rootfs: DockerRootfs,
}

#[derive(Deserialize)]
struct DockerRootfs {
    diff_ids: Vec<String>,
}

#[derive(Serialize)]
struct DockerManifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: DescriptorJson<'a>,
    layers: Vec<DescriptorJson<'a>>,
}

#[derive(Serialize)]
struct DescriptorJson<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    size: u64,
    digest: &'a str,
}

/// `docker save` format: `manifest.json` names the config and the layer tars.
fn docker_archive(engine: &Engine, tar: &TarFile, target: &ArchiveTarget) -> Result<Loaded, ImageError> {
    let fail = |message: String| ImageError::Archive { archive: target.request.path.clone(), message };
    let listing = tar.read_small(MANIFEST_JSON, manifest::MAX_MANIFEST_SIZE).map_err(&fail)?;
    let entries: Vec<DockerEntry> = serde_json::from_slice(&listing)
        .map_err(|e| fail(format!("{MANIFEST_JSON} is not a docker-archive manifest: {e}")))?;
    let [entry] = entries.as_slice() else {
        return Err(fail(format!(
            "it holds {} images; sealos loads archives that hold exactly one",
            entries.len()
        )));
    };
    let config = tar.read_small(&entry.config, MAX_CONFIG_SIZE).map_err(&fail)?;
    let config_digest = Sha256Digest::of(&config);
    check_named(&entry.config, &config_digest).map_err(&fail)?;
    let diff_ids: Vec<Sha256Digest> = serde_json::from_slice::<DockerConfig>(&config)
        .map_err(|e| fail(format!("the image config {} cannot be read: {e}", entry.config)))?
        .rootfs
        .diff_ids
        .iter()
        .map(|id| Sha256Digest::parse(id).ok_or_else(|| fail(format!("the config names the layer `{id}`, which is not a sha256 digest"))))
        .collect::<Result<_, _>>()?;
    if diff_ids.len() != entry.layers.len() {
        return Err(fail(format!(
            "the config lists {} layers but {MANIFEST_JSON} {}",
            diff_ids.len(),
            entry.layers.len()
        )));
    }

    let mut layers = Vec::new();
    let mut blobs: Vec<(Descriptor, Member)> = Vec::new();
    for (name, diff_id) in entry.layers.iter().zip(&diff_ids) {
        let member = tar.member(name).map_err(&fail)?;
        let compressed = tar.starts_with_gzip_magic(member).map_err(|e| fail(e.to_string()))?;
        let descriptor = if compressed {
            let (digest, content_id) = hash_layer(tar, member).map_err(|e| fail(e.to_string()))?;
            if content_id != *diff_id {
                return Err(fail(format!("the layer {name} holds {content_id}, but the config expects {diff_id}")));
            }
            Descriptor { media_type: DOCKER_LAYER_GZIP.to_owned(), digest, size: member.size }
        } else {
            // Verified while copied: an uncompressed layer's digest is its diff_id.
            Descriptor { media_type: DOCKER_LAYER.to_owned(), digest: diff_id.clone(), size: member.size }
        };
        check_named(name, &descriptor.digest).map_err(&fail)?;
        if !blobs.iter().any(|(known, _)| known.digest == descriptor.digest) {
            blobs.push((descriptor.clone(), member));
        }
        layers.push(descriptor);
    }

    let config_descriptor =
        Descriptor { media_type: DOCKER_CONFIG.to_owned(), digest: config_digest, size: config.len() as u64 };
    engine
        .layout
        .write_blob_bytes(&config_descriptor.digest, &config, engine.options.sync)
        .map_err(|e| ImageError::io(engine.layout.blob_path(&config_descriptor.digest), &e))?;
    let bytes = serde_json::to_vec(&DockerManifest {
        schema_version: 2,
        media_type: DOCKER_MANIFEST,
        config: json_descriptor(&config_descriptor),
        layers: layers.iter().map(json_descriptor).collect(),
    })
    .expect("plain data serialises");
    let digest = Sha256Digest::of(&bytes);
    let manifest = Manifest::Image { media_type: DOCKER_MANIFEST.to_owned(), config: config_descriptor, layers };
    let chosen = Chosen {
        images: vec![Fetched { bytes, digest: digest.clone(), manifest }],
        index: None,
        named: digest,
        platforms: Vec::new(),
    };
    Ok(Loaded { chosen, blobs })
}

fn json_descriptor(descriptor: &Descriptor) -> DescriptorJson<'_> {
    DescriptorJson { media_type: &descriptor.media_type, size: descriptor.size, digest: descriptor.digest.as_str() }
}

/// An OCI image layout: `index.json` names one image (or image index) in `blobs/sha256/`.
fn oci_archive(engine: &Engine, tar: &TarFile, target: &ArchiveTarget, source: &str) -> Result<Loaded, ImageError> {
    let fail = |message: String| ImageError::Archive { archive: target.request.path.clone(), message };
    let listing = tar.read_small(INDEX_JSON, manifest::MAX_MANIFEST_SIZE).map_err(&fail)?;
    let Manifest::Index { instances, .. } =
        manifest::parse(&listing).map_err(|e| fail(format!("{INDEX_JSON} is not an OCI index: {e}")))?
    else {
        return Err(fail(format!("{INDEX_JSON} is not an OCI index")));
    };
    let [entry] = instances.as_slice() else {
        return Err(fail(format!(
            "its {INDEX_JSON} names {} images; sealos loads archives that hold exactly one",
            instances.len()
        )));
    };
    let top = read_manifest(tar, &entry.descriptor).map_err(&fail)?;
    let mut loaded = Vec::new();
    for instance in instances_to_load(&engine.options, &top, source)? {
        let child = read_manifest(tar, &instance.descriptor).map_err(&fail)?;
        loaded.push((instance, child));
    }
    let chosen = Chosen::new(top, loaded, engine.options.keeps_whole_list())
        .map_err(|_| fail("an image index inside an image index is not supported".into()))?;
    let mut blobs = Vec::new();
    for descriptor in chosen.blobs() {
        let member = tar.member(&blob_name(&descriptor.digest)).map_err(&fail)?;
        if member.size != descriptor.size {
            return Err(fail(format!(
                "the blob {} has {} bytes, but its manifest says {}",
                descriptor.digest, member.size, descriptor.size
            )));
        }
        blobs.push((descriptor.clone(), member));
    }
    Ok(Loaded { chosen, blobs })
}

fn blob_name(digest: &Sha256Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// A manifest blob of an OCI layout, verified against its descriptor.
fn read_manifest(tar: &TarFile, descriptor: &Descriptor) -> Result<Fetched, String> {
    let bytes = tar.read_small(&blob_name(&descriptor.digest), manifest::MAX_MANIFEST_SIZE)?;
    let digest = Sha256Digest::of(&bytes);
    if digest != descriptor.digest || bytes.len() as u64 != descriptor.size {
        return Err(format!(
            "the manifest {} does not match its descriptor (it hashes to {digest}, {} bytes)",
            descriptor.digest,
            bytes.len()
        ));
    }
    let manifest = manifest::parse(&bytes).map_err(|e| format!("the manifest {}: {e}", descriptor.digest))?;
    Ok(Fetched { bytes, digest, manifest })
}

/// A member named after its digest (`blobs/sha256/<hex>`, `<hex>.json`, `<hex>.tar`) must hold
/// that digest.
fn check_named(name: &str, digest: &Sha256Digest) -> Result<(), String> {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    let claimed = format!("sha256:{stem}");
    match Sha256Digest::parse(&claimed) {
        Some(claimed) if claimed != *digest => {
            Err(format!("{name} is named after {claimed} but its content hashes to {digest}"))
        }
        _ => Ok(()),
    }
}

/// The digest of a compressed layer and of its uncompressed content (its diff_id).
fn hash_layer(tar: &TarFile, member: Member) -> io::Result<(Sha256Digest, Sha256Digest)> {
    struct Hashing<R> {
        inner: R,
        hasher: Sha256,
    }
    impl<R: Read> Read for Hashing<R> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buffer)?;
            self.hasher.update(&buffer[..n]);
            Ok(n)
        }
    }
    let mut raw = Hashing { inner: tar.reader(member), hasher: Sha256::new() };
    let mut content = Sha256::new();
    let mut decoder = flate2::read::GzDecoder::new(&mut raw);
    let mut buffer = vec![0u8; COPY_CHUNK];
    loop {
        let n = decoder.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        content.update(&buffer[..n]);
    }
    drop(decoder);
    // Bytes after the gzip stream still belong to the blob.
    io::copy(&mut raw, &mut io::sink())?;
    Ok((Sha256Digest::from_hasher(raw.hasher), Sha256Digest::from_hasher(content)))
}

enum CopyError {
    Io(io::Error),
    Invalid(String),
    Cancelled,
}

/// Copies a member into a temporary file while hashing it, then renames it into place if it
/// matches `descriptor`; otherwise nothing becomes visible.
fn copy_verified(engine: &Engine, tar: &TarFile, member: Member, descriptor: &Descriptor) -> Result<(), CopyError> {
    let temp = engine.layout.temp_file("archive");
    let result = (|| {
        let mut file = File::create(&temp).map_err(CopyError::Io)?;
        let mut hasher = Sha256::new();
        let mut reader = tar.reader(member);
        let mut buffer = vec![0u8; COPY_CHUNK];
        loop {
            if engine.cancel.is_cancelled() {
                return Err(CopyError::Cancelled);
            }
            let n = reader.read(&mut buffer).map_err(CopyError::Io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            file.write_all(&buffer[..n]).map_err(CopyError::Io)?;
        }
        let digest = Sha256Digest::from_hasher(hasher);
        if digest != descriptor.digest {
            return Err(CopyError::Invalid(format!("a blob expected to be {} hashes to {digest}", descriptor.digest)));
        }
        if engine.options.sync {
            file.sync_data().map_err(CopyError::Io)?;
        }
        engine.layout.commit_blob(&temp, &descriptor.digest).map_err(CopyError::Io)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Where a regular member's data is in the archive file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Member {
    offset: u64,
    size: u64,
}

/// An uncompressed tar file with the position of every member, read with `pread`.
struct TarFile {
    path: PathBuf,
    file: File,
    members: HashMap<String, Member>,
}

impl TarFile {
    fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let mut members = HashMap::new();
        let mut links: HashMap<String, String> = HashMap::new();
        let mut archive = tar::Archive::new(&file);
        for entry in archive.entries_with_seek()? {
            let entry = entry?;
            let name = clean_member_name(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            if kind.is_file() || kind == tar::EntryType::Continuous {
                members.insert(name, Member { offset: entry.raw_file_position(), size: entry.size() });
            } else if kind.is_symlink() || kind.is_hard_link() {
                let Some(target) = entry.link_name_bytes() else { continue };
                let target = String::from_utf8_lossy(&target).into_owned();
                // A symlink is relative to its directory; a hard link names a member.
                let resolved = if kind.is_symlink() && !target.starts_with('/') {
                    let dir = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                    clean_member_name(&format!("{dir}/{target}"))
                } else {
                    clean_member_name(&target)
                };
                links.insert(name, resolved);
            }
        }
        // `docker save` links repeated layers to the first copy; follow short chains.
        for (name, mut target) in links.clone() {
            for _ in 0..8 {
                if let Some(&member) = members.get(&target) {
                    members.insert(name.clone(), member);
                    break;
                }
                match links.get(&target) {
                    Some(next) => target = next.clone(),
                    None => break,
                }
            }
        }
        Ok(Self { path: path.to_path_buf(), file, members })
    }

    fn member(&self, name: &str) -> Result<Member, String> {
        self.members.get(&clean_member_name(name)).copied().ok_or_else(|| format!("it has no file {name}"))
    }

    fn read_small(&self, name: &str, max: u64) -> Result<Vec<u8>, String> {
        let member = self.member(name)?;
        if member.size > max {
            return Err(format!("{name} is larger than {max} bytes"));
        }
        let mut bytes = vec![0u8; member.size as usize];
        self.file.read_exact_at(&mut bytes, member.offset).map_err(|e| format!("cannot read {name}: {e}"))?;
        Ok(bytes)
    }

    fn starts_with_gzip_magic(&self, member: Member) -> io::Result<bool> {
        if member.size < 2 {
            return Ok(false);
        }
        let mut magic = [0u8; 2];
        self.file.read_exact_at(&mut magic, member.offset)?;
        Ok(magic == [0x1f, 0x8b])
    }

    fn reader(&self, member: Member) -> MemberReader<'_> {
        MemberReader { file: &self.file, offset: member.offset, remaining: member.size }
    }
}

struct MemberReader<'a> {
    file: &'a File,
    offset: u64,
    remaining: u64,
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let wanted = buffer.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        if wanted == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buffer[..wanted], self.offset)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive ends inside a member"));
        }
        self.offset += n as u64;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// `./a/../b//c` → `b/c`: member names as the archive writer meant them.
fn clean_member_name(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().unwrap_or_default()),
            Component::ParentDir => {
                parts.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, &[u8])], links: &[(&str, &str)]) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut builder = tar::Builder::new(file.reopen().unwrap());
        for (name, content) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, name, *content).unwrap();
        }
        for (name, target) in links {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, name, target).unwrap();
        }
        builder.finish().unwrap();
        file
    }

    #[test]
    fn members_are_found_by_clean_name_and_symlinks_resolve() {
        let file = tar_of(&[("./a/layer.tar", b"hello"), ("manifest.json", b"[]")], &[("b/layer.tar", "../a/layer.tar")]);
        let tar = TarFile::open(file.path()).unwrap();
        assert_eq!(tar.read_small("a/layer.tar", 10).unwrap(), b"hello");
        assert_eq!(tar.read_small("b/layer.tar", 10).unwrap(), b"hello");
        assert_eq!(tar.read_small("./manifest.json", 10).unwrap(), b"[]");
        assert_eq!(tar.read_small("a/layer.tar", 2).unwrap_err(), "a/layer.tar is larger than 2 bytes");
        assert_eq!(tar.member("missing").unwrap_err(), "it has no file missing");
        let mut read = String::new();
        tar.reader(tar.member("a/layer.tar").unwrap()).read_to_string(&mut read).unwrap();
        assert_eq!(read, "hello");
    }

    #[test]
    fn members_named_after_a_digest_must_hold_it() {
        let digest = Sha256Digest::of(b"x");
        assert!(check_named(&format!("blobs/sha256/{}", digest.hex()), &digest).is_ok());
        assert!(check_named(&format!("{}.json", digest.hex()), &digest).is_ok());
        assert!(check_named("0123/layer.tar", &digest).is_ok());
        let other = Sha256Digest::of(b"y");
        assert!(check_named(&format!("{}.json", other.hex()), &digest).unwrap_err().contains("is named after"));
    }

    #[test]
    fn member_names_are_cleaned() {
        assert_eq!(clean_member_name("./a//b/../c"), "a/c");
        assert_eq!(clean_member_name("/abs/x"), "abs/x");
    }

    #[test]
    fn compressed_layer_gives_both_digests() {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"layer content").unwrap();
        let gz = encoder.finish().unwrap();
        let file = tar_of(&[("l.tar.gz", &gz)], &[]);
        let tar = TarFile::open(file.path()).unwrap();
        let member = tar.member("l.tar.gz").unwrap();
        assert!(tar.starts_with_gzip_magic(member).unwrap());
        let (digest, content) = hash_layer(&tar, member).unwrap();
        assert_eq!(digest, Sha256Digest::of(&gz));
        assert_eq!(content, Sha256Digest::of(b"layer content"));
    }
}
