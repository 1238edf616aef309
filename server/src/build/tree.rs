//! The file tree of a stage as the build sees it: what its base layers and its COPY/ADD steps
//! put where. Contents stay where they are (context files, base-image layer blobs) until a layer
//! is written.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{self, Read},
    path::{Path, PathBuf},
};

/// Where a regular file's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Disk(PathBuf),
    /// A file inside a tar layer (plain or compressed).
    Layer { blob: PathBuf, path: String },
    Memory(std::sync::Arc<[u8]>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File { content: Content, size: u64 },
    Symlink(String),
    /// A hard link to another path of the same layer (kept from archives and base layers).
    Hardlink(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    /// Permission bits (and setuid/setgid/sticky).
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// Seconds since the epoch.
    pub mtime: u64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir)
    }
}

/// Paths are relative to the image root, `/`-separated, without leading or trailing `/`.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    pub entries: BTreeMap<String, Entry>,
}

impl Tree {
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn is_dir(&self, path: &str) -> bool {
        path.is_empty() || self.get(path).is_some_and(Entry::is_dir)
    }

    /// Entries strictly below `dir` (all of them for the root).
    pub fn below<'a>(&'a self, dir: &'a str) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        self.entries.range(prefix.clone()..).take_while(move |(path, _)| path.starts_with(&prefix))
    }

    /// Adds or replaces an entry; replacing a directory by a non-directory drops what was below.
    pub fn insert(&mut self, path: String, entry: Entry) {
        if !entry.is_dir() && self.is_dir(&path) {
            let below: Vec<String> = self.below(&path).map(|(p, _)| p.clone()).collect();
            for p in below {
                self.entries.remove(&p);
            }
        }
        self.entries.insert(path, entry);
    }

    /// Applies one layer tar (OCI whiteouts included) on top of the tree. File contents are
    /// referenced in the blob, or read into memory with `load` (for archives ADD unpacks).
    pub fn apply_layer(&mut self, blob: &Path, load: bool) -> io::Result<()> {
        let mut archive = tar::Archive::new(open_archive(blob)?);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let header = entry.header();
            let raw = entry.path()?.to_string_lossy().into_owned();
            let Some(path) = normalize_archive_path(&raw) else { continue };
            let (parent, name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
            if name == ".wh..wh..opq" {
                let below: Vec<String> = self.below(parent).map(|(p, _)| p.clone()).collect();
                for p in below {
                    self.entries.remove(&p);
                }
                continue;
            }
            if let Some(hidden) = name.strip_prefix(".wh.") {
                let target = if parent.is_empty() { hidden.to_owned() } else { format!("{parent}/{hidden}") };
                let below: Vec<String> = self.below(&target).map(|(p, _)| p.clone()).collect();
                for p in below {
                    self.entries.remove(&p);
                }
                self.entries.remove(&target);
                continue;
            }
            let kind = match header.entry_type() {
                tar::EntryType::Directory => Kind::Dir,
                tar::EntryType::Symlink => Kind::Symlink(entry.link_name()?.map(|l| l.to_string_lossy().into_owned()).unwrap_or_default()),
                tar::EntryType::Link => match entry.link_name()?.and_then(|l| normalize_archive_path(&l.to_string_lossy())) {
                    Some(target) => Kind::Hardlink(target),
                    None => continue,
                },
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = header.size()?;
                    let content = if load {
                        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                        entry.read_to_end(&mut bytes)?;
                        Content::Memory(bytes.into())
                    } else {
                        Content::Layer { blob: blob.to_owned(), path: raw.clone() }
                    };
                    Kind::File { content, size }
                }
                _ => continue,
            };
            let header = entry.header();
            let entry = Entry {
                kind,
                mode: header.mode()? & 0o7777,
                uid: header.uid()?,
                gid: header.gid()?,
                mtime: header.mtime()?,
            };
            self.insert(path, entry);
        }
        Ok(())
    }
}

/// `a/./b/../c` → `a/c`, relative to a root (context or archive); `None` when it climbs out of it.
pub fn clean_relative(raw: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

/// `./a/b/` → `a/b`; entries that would land outside the root, or on it, are dropped.
pub fn normalize_archive_path(raw: &str) -> Option<String> {
    clean_relative(raw).filter(|path| !path.is_empty())
}

/// The compressions a tar may come in: what buildah's ADD unpacks (containers/storage's
/// `DecompressStream`) and what image layers use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Compression {
    /// The longest magic number below.
    pub const MAGIC_LEN: usize = 6;

    /// The compression whose magic number `start` begins with.
    pub fn detect(start: &[u8]) -> Option<Self> {
        const MAGIC: [(&[u8], Compression); 4] = [
            (&[0x1f, 0x8b, 0x08], Compression::Gzip),
            (b"BZh", Compression::Bzip2),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], Compression::Xz),
            (&[0x28, 0xb5, 0x2f, 0xfd], Compression::Zstd),
        ];
        MAGIC.iter().find(|(magic, _)| start.starts_with(magic)).map(|(_, compression)| *compression)
    }
}

/// A reader over a tar that may be compressed (detected by its magic number, not its name).
pub fn open_archive(path: &Path) -> io::Result<Box<dyn Read>> {
    let mut file = File::open(path)?;
    let mut start = Vec::with_capacity(Compression::MAGIC_LEN);
    file.by_ref().take(Compression::MAGIC_LEN as u64).read_to_end(&mut start)?;
    let compression = Compression::detect(&start);
    let reader = io::BufReader::new(io::Read::chain(io::Cursor::new(start), file));
    Ok(match compression {
        None => Box::new(reader),
        Some(Compression::Gzip) => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Some(Compression::Bzip2) => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        Some(Compression::Xz) => Box::new(liblzma::read::XzDecoder::new_multi_decoder(reader)),
        Some(Compression::Zstd) => Box::new(ZstdFrames::new(reader)?),
    })
}

/// A zstd stream of one or more frames (`pzstd` and `zstd -T` write several), decoded in turn.
struct ZstdFrames<R: io::BufRead> {
    frame: Option<ruzstd::decoding::StreamingDecoder<R, ruzstd::decoding::FrameDecoder>>,
}

impl<R: io::BufRead> ZstdFrames<R> {
    fn new(reader: R) -> io::Result<Self> {
        let frame = ruzstd::decoding::StreamingDecoder::new(reader).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        Ok(Self { frame: Some(frame) })
    }
}

impl<R: io::BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while let Some(frame) = &mut self.frame {
            let read = frame.read(buf)?;
            if read > 0 || buf.is_empty() {
                return Ok(read);
            }
            let mut rest = self.frame.take().expect("a frame is being read").into_inner();
            if !rest.fill_buf()?.is_empty() {
                *self = Self::new(rest)?;
            }
        }
        Ok(0)
    }
}

/// The bytes of a file stored in a layer.
pub fn read_layer_file(blob: &Path, wanted: &str) -> io::Result<Vec<u8>> {
    let mut archive = tar::Archive::new(open_archive(blob)?);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if entry.path()?.to_string_lossy() == wanted {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            return Ok(bytes);
        }
    }
    Err(io::Error::new(io::ErrorKind::NotFound, format!("{wanted} is not in layer {}", blob.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Entry {
        Entry { kind: Kind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 0 }
    }

    #[test]
    fn whiteouts_remove_paths() {
        let temp = tempfile::tempdir().unwrap();
        let blob = temp.path().join("layer.tar");
        let mut builder = tar::Builder::new(File::create(&blob).unwrap());
        for path in ["etc/.wh.old", "opt/.wh..wh..opq"] {
            let mut header = tar::Header::new_gnu();
            header.set_size(0);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, path, io::empty()).unwrap();
        }
        builder.finish().unwrap();
        drop(builder);
        let mut tree = Tree::default();
        for path in ["etc", "etc/old", "etc/old/x", "etc/keep", "opt", "opt/a"] {
            tree.insert(path.into(), dir());
        }
        tree.apply_layer(&blob, false).unwrap();
        let left: Vec<&String> = tree.entries.keys().collect();
        assert_eq!(left, ["etc", "etc/keep", "opt"]);
    }

    #[test]
    fn archive_paths_are_confined() {
        assert_eq!(normalize_archive_path("./a/b/").as_deref(), Some("a/b"));
        assert_eq!(normalize_archive_path("../x"), None);
        assert_eq!(normalize_archive_path("a/../../x"), None);
        assert_eq!(normalize_archive_path("/abs/y").as_deref(), Some("abs/y"));
    }
}
