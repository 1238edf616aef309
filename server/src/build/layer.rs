//! Writing one layer: a gzip-compressed tar of the entries a COPY/ADD added, in path order, so
//! the same inputs always give the same bytes (and the same digests).

use std::{
    collections::BTreeMap,
    fs::{self, File},
    io::{self, BufWriter, Write},
    path::Path,
};

use sha2::{Digest as _, Sha256};

use super::{
    gzip::{incompressible, probe_sample, LayerGzip},
    tree::{read_layer_file, Content, Entry, Kind},
};

/// A blob written into the image layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// `sha256:…` of the compressed bytes.
    pub digest: String,
    pub size: u64,
    /// `sha256:…` of the uncompressed tar.
    pub diff_id: String,
    /// Entries in the layer.
    pub entries: usize,
}

/// Hashes everything written through it.
struct Hashing<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub fn hex(hasher: Sha256) -> String {
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes the layer into `blobs` (the layout's `blobs/sha256`) under its digest.
pub fn write_layer(entries: &BTreeMap<String, Entry>, blobs: &Path) -> io::Result<LayerBlob> {
    let temp = blobs.join(format!(".layer-{}.tmp", std::process::id()));
    let file = BufWriter::new(File::create(&temp)?);
    let compressed = Hashing { inner: file, hasher: Sha256::new(), written: 0 };
    // Level 1 for what is deflated: the layers are written once per build and higher levels were
    // ~5x slower (10 vs 55 MB/s measured) for little gain; already-compressed files are stored.
    let gzip = LayerGzip::new(compressed, flate2::Compression::fast())?;
    let uncompressed = Hashing { inner: gzip, hasher: Sha256::new(), written: 0 };
    let mut builder = tar::Builder::new(uncompressed);
    builder.mode(tar::HeaderMode::Complete);
    for (path, entry) in entries {
        append(&mut builder, path, entry)?;
    }
    let uncompressed = builder.into_inner()?;
    let diff_id = format!("sha256:{}", hex(uncompressed.hasher));
    let mut compressed = uncompressed.inner.finish()?;
    compressed.flush()?;
    let size = compressed.written;
    let digest_hex = hex(compressed.hasher);
    drop(compressed.inner.into_inner().map_err(|e| e.into_error())?);
    fs::rename(&temp, blobs.join(&digest_hex))?;
    Ok(LayerBlob { digest: format!("sha256:{digest_hex}"), size, diff_id, entries: entries.len() })
}

type LayerTar<W> = tar::Builder<Hashing<LayerGzip<W>>>;

fn append<W: Write>(builder: &mut LayerTar<W>, path: &str, entry: &Entry) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(entry.mode);
    header.set_uid(entry.uid);
    header.set_gid(entry.gid);
    header.set_mtime(entry.mtime);
    match &entry.kind {
        Kind::Dir => {
            header.set_entry_type(tar::EntryType::Directory);
            header.set_size(0);
            builder.append_data(&mut header, format!("{path}/"), io::empty())
        }
        Kind::Symlink(target) => {
            header.set_entry_type(tar::EntryType::Symlink);
            header.set_size(0);
            builder.append_link(&mut header, path, target)
        }
        Kind::Hardlink(target) => {
            header.set_entry_type(tar::EntryType::Link);
            header.set_size(0);
            builder.append_link(&mut header, path, target)
        }
        Kind::File { content, size } => {
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(*size);
            match content {
                Content::Disk(disk) => {
                    let mut file = File::open(disk)?;
                    // A file that changed size since it was listed would corrupt the tar.
                    let actual = file.metadata()?.len();
                    if actual != *size {
                        return Err(io::Error::other(format!("{} changed while the image was being built", disk.display())));
                    }
                    let start = probe_sample(&mut file)?;
                    let store = incompressible(&start, *size);
                    let data = io::Read::chain(start.as_slice(), io::BufReader::with_capacity(256 * 1024, file));
                    append_file(builder, &mut header, path, data, store)
                }
                Content::Layer { blob, path: inner } => {
                    let bytes = read_layer_file(blob, inner)?;
                    append_file(builder, &mut header, path, bytes.as_slice(), incompressible(&bytes, *size))
                }
                Content::Memory(bytes) => append_file(builder, &mut header, path, &bytes[..], incompressible(bytes, *size)),
            }
        }
    }
}

/// Appends a regular file, its bytes in stored blocks when they are compressed already.
fn append_file<W: Write>(builder: &mut LayerTar<W>, header: &mut tar::Header, path: &str, data: impl io::Read, store: bool) -> io::Result<()> {
    if store {
        builder.get_mut().inner.store()?;
    }
    builder.append_data(header, path, data)?;
    builder.get_mut().inner.deflate()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_entries_same_digest_and_readable_tar() {
        let temp = tempfile::tempdir().unwrap();
        let source = temp.path().join("file");
        fs::write(&source, b"hello").unwrap();
        let entries: BTreeMap<String, Entry> = [
            ("etc".to_string(), Entry { kind: Kind::Dir, mode: 0o755, uid: 0, gid: 0, mtime: 7 }),
            ("etc/file".to_string(), Entry { kind: Kind::File { content: Content::Disk(source), size: 5 }, mode: 0o640, uid: 1, gid: 2, mtime: 7 }),
            ("etc/link".to_string(), Entry { kind: Kind::Symlink("file".into()), mode: 0o777, uid: 0, gid: 0, mtime: 7 }),
        ]
        .into();
        let blobs = temp.path().join("blobs");
        fs::create_dir(&blobs).unwrap();
        let first = write_layer(&entries, &blobs).unwrap();
        let second = write_layer(&entries, &blobs).unwrap();
        assert_eq!(first, second);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(File::open(blobs.join(&first.digest[7..])).unwrap()));
        let listed: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.header().mode().unwrap(), e.header().uid().unwrap())
            })
            .collect();
        assert_eq!(listed, [("etc/".into(), 0o755, 0), ("etc/file".into(), 0o640, 1), ("etc/link".into(), 0o777, 0)]);
    }
}
