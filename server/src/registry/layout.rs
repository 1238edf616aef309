//! The Docker distribution registry's filesystem layout (distribution 2.8/3
//! `registry/storage/paths.go`), as `sealos build` leaves it in `<context>/registry`:
//!
//! ```text
//! docker/registry/v2/blobs/sha256/<hh>/<hex>/data                          config, layer and manifest bytes
//! docker/registry/v2/repositories/<repo>/_layers/sha256/<hex>/link         one per config and layer
//! docker/registry/v2/repositories/<repo>/_manifests/revisions/sha256/<hex>/link
//! docker/registry/v2/repositories/<repo>/_manifests/tags/<tag>/current/link
//! docker/registry/v2/repositories/<repo>/_manifests/tags/<tag>/index/sha256/<hex>/link
//! ```
//!
//! A `link` holds `sha256:<hex>` with no newline.
//!
//! Every file is written to a temporary file in `<registry>/.kubefile-ls-tmp/` (same file system)
//! and renamed into place, so a reader never sees a partial file. Callers write blob data before
//! the links that name it, so an interrupted save never leaves a link to missing data.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use sha2::{Digest as _, Sha256};

/// The directory (inside the registry directory) that holds partial downloads and temporary
/// files while a save runs. Removed when it ends, whatever the outcome.
pub const TEMP_DIR_NAME: &str = ".kubefile-ls-tmp";

const LOCK_FILE_NAME: &str = "lock";

/// A validated `sha256:<64 lowercase hex>` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(String);

impl Sha256Digest {
    /// Accepts only `sha256:` followed by exactly 64 lowercase hex digits.
    pub fn parse(digest: &str) -> Option<Self> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(digest.to_owned()))
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub(crate) fn from_hasher(hasher: Sha256) -> Self {
        let hash = hasher.finalize();
        let mut s = String::with_capacity(71);
        s.push_str("sha256:");
        for byte in hash.iter() {
            s.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            s.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
        }
        Self(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hex(&self) -> &str {
        &self.0[7..]
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Paths and atomic writes inside one registry directory.
#[derive(Debug)]
pub struct Layout {
    root: PathBuf,
    v2: PathBuf,
    temp: PathBuf,
    counter: AtomicU64,
}

impl Layout {
    /// `root` is the directory distribution uses as `storage.filesystem.rootdirectory`
    /// (`<context>/registry`).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
            v2: root.join("docker/registry/v2"),
            temp: root.join(TEMP_DIR_NAME),
            counter: AtomicU64::new(0),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn temp_dir(&self) -> &Path {
        &self.temp
    }

    /// Creates the temporary directory and takes an exclusive lock on it, so that two saves
    /// never write into one registry directory at once. The lock lasts as long as the file.
    pub fn lock(&self) -> io::Result<Option<File>> {
        fs::create_dir_all(&self.temp)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.temp.join(LOCK_FILE_NAME))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(error)) => Err(error),
        }
    }

    pub fn blob_path(&self, digest: &Sha256Digest) -> PathBuf {
        let hex = digest.hex();
        self.v2
            .join("blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    pub fn repository_path(&self, repository: &str) -> PathBuf {
        self.v2.join("repositories").join(repository)
    }

    pub fn layer_link_path(&self, repository: &str, digest: &Sha256Digest) -> PathBuf {
        self.repository_path(repository)
            .join("_layers/sha256")
            .join(digest.hex())
            .join("link")
    }

    pub fn revision_link_path(&self, repository: &str, digest: &Sha256Digest) -> PathBuf {
        self.repository_path(repository)
            .join("_manifests/revisions/sha256")
            .join(digest.hex())
            .join("link")
    }

    pub fn tag_current_link_path(&self, repository: &str, tag: &str) -> PathBuf {
        self.repository_path(repository)
            .join("_manifests/tags")
            .join(tag)
            .join("current/link")
    }

    pub fn tag_index_link_path(
        &self,
        repository: &str,
        tag: &str,
        digest: &Sha256Digest,
    ) -> PathBuf {
        self.repository_path(repository)
            .join("_manifests/tags")
            .join(tag)
            .join("index/sha256")
            .join(digest.hex())
            .join("link")
    }

    /// Where a partial download of `digest` is kept between runs.
    pub fn partial_blob_path(&self, digest: &Sha256Digest) -> PathBuf {
        self.temp.join(format!("{}.partial", digest.hex()))
    }

    /// Whether the blob is stored with the expected size. Blob data only ever appears through
    /// [`Layout::commit_blob`] after verification, so the size check is enough to trust it.
    pub fn blob_present(&self, digest: &Sha256Digest, size: u64) -> bool {
        fs::metadata(self.blob_path(digest)).is_ok_and(|m| m.is_file() && m.len() == size)
    }

    /// A fresh temporary file name in the temporary directory.
    pub fn temp_file(&self, kind: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.temp.join(format!("{kind}-{}-{n}", std::process::id()))
    }

    /// Moves a verified temporary file to the blob's place.
    pub fn commit_blob(&self, temp: &Path, digest: &Sha256Digest) -> io::Result<()> {
        rename_into_place(temp, &self.blob_path(digest))
    }

    /// Writes small verified content (a manifest) as blob data, unless already present.
    pub fn write_blob_bytes(
        &self,
        digest: &Sha256Digest,
        bytes: &[u8],
        sync: bool,
    ) -> io::Result<()> {
        if self.blob_present(digest, bytes.len() as u64) {
            return Ok(());
        }
        let temp = self.temp_file("manifest");
        write_file(&temp, bytes, sync)?;
        self.commit_blob(&temp, digest)
    }

    /// Writes `sha256:<hex>` to `path` atomically, unless it already says so.
    pub fn write_link(&self, path: &Path, digest: &Sha256Digest) -> io::Result<()> {
        if fs::read(path).is_ok_and(|content| content == digest.as_str().as_bytes()) {
            return Ok(());
        }
        let temp = self.temp_file("link");
        write_file(&temp, digest.as_str().as_bytes(), false)?;
        rename_into_place(&temp, path)
    }

    /// Reads a stored blob if it is present and matches its digest (used to reuse manifests
    /// saved by an earlier run instead of fetching them again).
    pub fn read_verified_blob(&self, digest: &Sha256Digest, max_size: u64) -> Option<Vec<u8>> {
        let path = self.blob_path(digest);
        let meta = fs::metadata(&path).ok()?;
        if !meta.is_file() || meta.len() > max_size {
            return None;
        }
        let bytes = fs::read(&path).ok()?;
        (Sha256Digest::of(&bytes) == *digest).then_some(bytes)
    }
}

fn write_file(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    if sync {
        file.sync_data()?;
    }
    Ok(())
}

fn rename_into_place(temp: &Path, target: &Path) -> io::Result<()> {
    if let Some(parent) = target.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::rename(temp, target)
}

/// One manifest reachable through a tag or a revision link of a saved repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredManifest {
    pub repository: String,
    /// `Some(tag)` for a tag's current link, `None` for a revision.
    pub tag: Option<String>,
    pub digest: String,
}

/// What [`check`] found in a registry directory.
#[derive(Debug, Default)]
pub struct LayoutCheck {
    /// Every tag (`repo:tag` → digest) and every revision.
    pub manifests: Vec<StoredManifest>,
    /// Number of link files read.
    pub links: usize,
    /// Number of blobs in `blobs/`.
    pub blobs: usize,
    /// Problems: links to missing blob data, malformed links, blobs whose content does not
    /// match their digest (only with `verify_content`).
    pub problems: Vec<String>,
}

/// Walks a registry directory and checks that every link names a blob that exists, and with
/// `verify_content` that every blob's content matches its digest. This is what guarantees a
/// registry started on the directory never serves a dangling reference.
pub fn check(root: &Path, verify_content: bool) -> io::Result<LayoutCheck> {
    let layout = Layout::new(root);
    let mut result = LayoutCheck::default();
    let repositories = layout.v2.join("repositories");
    if repositories.is_dir() {
        walk_repositories(&layout, &repositories, &repositories, &mut result)?;
    }
    let blobs = layout.v2.join("blobs/sha256");
    if blobs.is_dir() {
        for prefix in fs::read_dir(&blobs)? {
            let prefix = prefix?;
            for entry in fs::read_dir(prefix.path())? {
                let entry = entry?;
                let data = entry.path().join("data");
                if !data.is_file() {
                    continue;
                }
                result.blobs += 1;
                if verify_content {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let expected = format!("sha256:{name}");
                    let actual = hash_file(&data)?;
                    if actual.as_str() != expected {
                        result
                            .problems
                            .push(format!("{}: content hashes to {actual}", data.display()));
                    }
                }
            }
        }
    }
    result.manifests.sort_by(|a, b| {
        (&a.repository, &a.tag, &a.digest).cmp(&(&b.repository, &b.tag, &b.digest))
    });
    Ok(result)
}

fn hash_file(path: &Path) -> io::Result<Sha256Digest> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(Sha256Digest::from_hasher(hasher))
}

fn walk_repositories(
    layout: &Layout,
    base: &Path,
    dir: &Path,
    result: &mut LayoutCheck,
) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name();
        let path = entry.path();
        match name.to_str() {
            Some("_layers") => {
                check_link_dir(layout, &path.join("sha256"), result, |_, _| {})?;
            }
            Some("_manifests") => {
                let repository = repository_name(base, dir);
                check_link_dir(
                    layout,
                    &path.join("revisions/sha256"),
                    result,
                    |_, digest| result_push(&repository, None, digest),
                )
                .map(|found| result.manifests.extend(found))?;
                let tags = path.join("tags");
                if tags.is_dir() {
                    for tag in fs::read_dir(&tags)? {
                        let tag = tag?;
                        let tag_name = tag.file_name().to_string_lossy().into_owned();
                        let current = tag.path().join("current/link");
                        if current.is_file() {
                            match read_link(&current) {
                                Some(digest) => {
                                    result.links += 1;
                                    if !layout.blob_path(&digest).is_file() {
                                        result.problems.push(format!(
                                            "{}: names {digest}, whose data is missing",
                                            current.display()
                                        ));
                                    }
                                    if !layout.revision_link_path(&repository, &digest).is_file() {
                                        result.problems.push(format!(
                                            "{}: names {digest}, which has no revision link",
                                            current.display()
                                        ));
                                    }
                                    result.manifests.push(StoredManifest {
                                        repository: repository.clone(),
                                        tag: Some(tag_name),
                                        digest: digest.to_string(),
                                    });
                                }
                                None => result
                                    .problems
                                    .push(format!("{}: malformed link", current.display())),
                            }
                        }
                        check_link_dir(
                            layout,
                            &tag.path().join("index/sha256"),
                            result,
                            |_, _| {},
                        )?;
                    }
                }
            }
            Some("_uploads") => {}
            _ => walk_repositories(layout, base, &path, result)?,
        }
    }
    Ok(())
}

fn result_push(repository: &str, tag: Option<String>, digest: &Sha256Digest) -> StoredManifest {
    StoredManifest {
        repository: repository.to_owned(),
        tag,
        digest: digest.to_string(),
    }
}

/// Checks `<dir>/<hex>/link` entries; returns what `map` builds from each valid one.
fn check_link_dir<T>(
    layout: &Layout,
    dir: &Path,
    result: &mut LayoutCheck,
    mut map: impl FnMut(&Path, &Sha256Digest) -> T,
) -> io::Result<Vec<T>>
where
    T: Sized,
{
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let link = entry.path().join("link");
        if !link.is_file() {
            continue;
        }
        result.links += 1;
        let name = entry.file_name().to_string_lossy().into_owned();
        match read_link(&link) {
            Some(digest) if digest.hex() == name => {
                if !layout.blob_path(&digest).is_file() {
                    result.problems.push(format!(
                        "{}: names {digest}, whose data is missing",
                        link.display()
                    ));
                }
                out.push(map(&link, &digest));
            }
            _ => result
                .problems
                .push(format!("{}: malformed link", link.display())),
        }
    }
    Ok(out)
}

fn read_link(path: &Path) -> Option<Sha256Digest> {
    let content = fs::read_to_string(path).ok()?;
    Sha256Digest::parse(content.trim_end())
}

fn repository_name(base: &Path, dir: &Path) -> String {
    dir.strip_prefix(base)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_validated_and_computed() {
        let d = Sha256Digest::of(b"");
        assert_eq!(
            d.as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Sha256Digest::parse(d.as_str()), Some(d.clone()));
        assert_eq!(Sha256Digest::parse("sha256:E3B0"), None);
        assert_eq!(
            Sha256Digest::parse(
                "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            ),
            None
        );
        assert_eq!(d.hex().len(), 64);
    }

    #[test]
    fn paths_follow_distribution() {
        let layout = Layout::new(Path::new("/r"));
        let d = Sha256Digest::of(b"x");
        let hex = d.hex().to_owned();
        assert_eq!(
            layout.blob_path(&d),
            PathBuf::from(format!(
                "/r/docker/registry/v2/blobs/sha256/{}/{hex}/data",
                &hex[..2]
            ))
        );
        assert_eq!(
            layout.tag_current_link_path("library/nginx", "1.25"),
            PathBuf::from("/r/docker/registry/v2/repositories/library/nginx/_manifests/tags/1.25/current/link")
        );
        assert_eq!(
            layout.tag_index_link_path("a/b", "v1", &d),
            PathBuf::from(format!(
                "/r/docker/registry/v2/repositories/a/b/_manifests/tags/v1/index/sha256/{hex}/link"
            ))
        );
        assert_eq!(
            layout.layer_link_path("a", &d),
            PathBuf::from(format!(
                "/r/docker/registry/v2/repositories/a/_layers/sha256/{hex}/link"
            ))
        );
        assert_eq!(
            layout.revision_link_path("a", &d),
            PathBuf::from(format!(
                "/r/docker/registry/v2/repositories/a/_manifests/revisions/sha256/{hex}/link"
            ))
        );
    }

    #[test]
    fn writes_are_atomic_and_check_finds_dangling_links() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let _lock = layout.lock().unwrap().expect("lock");
        assert!(
            layout.lock().unwrap().is_none(),
            "a second save must not get the lock"
        );
        let manifest = br#"{"schemaVersion":2}"#;
        let d = Sha256Digest::of(manifest);
        layout.write_blob_bytes(&d, manifest, true).unwrap();
        layout
            .write_link(&layout.revision_link_path("a/b", &d), &d)
            .unwrap();
        layout
            .write_link(&layout.tag_index_link_path("a/b", "v1", &d), &d)
            .unwrap();
        layout
            .write_link(&layout.tag_current_link_path("a/b", "v1"), &d)
            .unwrap();
        assert_eq!(
            fs::read(layout.tag_current_link_path("a/b", "v1")).unwrap(),
            d.as_str().as_bytes()
        );
        let missing = Sha256Digest::of(b"missing");
        layout
            .write_link(&layout.layer_link_path("a/b", &missing), &missing)
            .unwrap();

        let found = check(dir.path(), true).unwrap();
        assert_eq!(found.blobs, 1);
        assert_eq!(found.links, 4);
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        assert!(found.problems[0].contains("whose data is missing"));
        assert_eq!(
            found.manifests,
            vec![
                StoredManifest {
                    repository: "a/b".into(),
                    tag: None,
                    digest: d.to_string()
                },
                StoredManifest {
                    repository: "a/b".into(),
                    tag: Some("v1".into()),
                    digest: d.to_string()
                },
            ]
        );
        assert_eq!(
            layout.read_verified_blob(&d, 1 << 20).as_deref(),
            Some(&manifest[..])
        );
    }
}
