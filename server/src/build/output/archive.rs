//! `oci-archive:FILE`: the OCI layout as one tar file, the format skopeo, podman and buildah
//! read as `oci-archive:`.

use std::{
    fs::{self, File},
    io::{self, BufWriter, Write},
    path::{Path, PathBuf},
};

use super::{oci_layout, OutputError};

/// What [`write_oci_archive`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveReport {
    pub file: PathBuf,
    /// Size of the archive in bytes.
    pub size: u64,
}

/// Writes the OCI image layout at `layout` as a tar archive at `file`.
///
/// The archive holds `oci-layout`, `index.json` and `blobs/` (every tag of the layout) with
/// sorted entries, mtime 0, owner 0:0 and modes 0644/0755, so the same layout always gives the
/// same bytes. It is written to a temporary file next to `file` and renamed over it: `file`
/// is either the old content or the complete new archive, never a partial one. Parent
/// directories are created.
pub fn write_oci_archive(layout: &Path, file: &Path) -> Result<ArchiveReport, OutputError> {
    oci_layout::check_layout(layout)?;
    let entries = layout_entries(layout)?;
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| OutputError::io(&parent, &e))?;
    refuse_archive_inside_layout(layout, &parent, file)?;
    let name = file.file_name().ok_or_else(|| OutputError::Destination {
        destination: format!("oci-archive:{}", file.display()),
        message: "the archive path names no file".into(),
    })?;
    let temp = parent.join(format!(
        ".{}.kubefile-ls-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = write_tar(&temp, layout, &entries)
        .map_err(|e| OutputError::io(&temp, &e))
        .and_then(|size| {
            fs::rename(&temp, file)
                .map(|()| size)
                .map_err(|e| OutputError::io(file, &e))
        });
    match written {
        Ok(size) => Ok(ArchiveReport {
            file: file.to_owned(),
            size,
        }),
        Err(error) => {
            let _ = fs::remove_file(&temp);
            Err(error)
        }
    }
}

/// An archive written into the layout's own `blobs/` would be archived into itself.
fn refuse_archive_inside_layout(
    layout: &Path,
    parent: &Path,
    file: &Path,
) -> Result<(), OutputError> {
    let (Ok(layout), Ok(parent)) = (layout.canonicalize(), parent.canonicalize()) else {
        return Ok(());
    };
    if parent.starts_with(&layout) {
        return Err(OutputError::Destination {
            destination: format!("oci-archive:{}", file.display()),
            message: format!(
                "the archive cannot be written inside the layout it archives ({})",
                layout.display()
            ),
        });
    }
    Ok(())
}

/// A path inside the layout, relative, with `/` separators.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    Dir(String),
    File(String),
}

impl Entry {
    fn path(&self) -> &str {
        match self {
            Self::Dir(p) | Self::File(p) => p,
        }
    }
}

/// `oci-layout`, `index.json` and everything under `blobs/`, sorted by path. Anything but
/// regular files and directories (a symlink out of the layout, a socket) is refused.
fn layout_entries(layout: &Path) -> Result<Vec<Entry>, OutputError> {
    let mut entries = vec![
        Entry::File("oci-layout".into()),
        Entry::File("index.json".into()),
    ];
    let mut pending = vec![("blobs".to_owned(), layout.join("blobs"))];
    if !pending[0].1.is_dir() {
        return Err(OutputError::Layout {
            path: layout.to_owned(),
            message: "no `blobs` directory".into(),
        });
    }
    while let Some((relative, dir)) = pending.pop() {
        entries.push(Entry::Dir(relative.clone()));
        for child in fs::read_dir(&dir).map_err(|e| OutputError::io(&dir, &e))? {
            let child = child.map_err(|e| OutputError::io(&dir, &e))?;
            let name = child.file_name();
            let name = name.to_str().ok_or_else(|| OutputError::Layout {
                path: child.path(),
                message: "file name is not UTF-8".into(),
            })?;
            let kind = child
                .file_type()
                .map_err(|e| OutputError::io(child.path(), &e))?;
            let child_relative = format!("{relative}/{name}");
            if kind.is_dir() {
                pending.push((child_relative, child.path()));
            } else if kind.is_file() {
                entries.push(Entry::File(child_relative));
            } else {
                return Err(OutputError::Layout {
                    path: child.path(),
                    message: "only regular files and directories may be in an OCI layout".into(),
                });
            }
        }
    }
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(entries)
}

fn write_tar(temp: &Path, layout: &Path, entries: &[Entry]) -> io::Result<u64> {
    let out = File::create(temp)?;
    let mut builder = tar::Builder::new(BufWriter::with_capacity(1 << 20, out));
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        match entry {
            Entry::Dir(path) => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                builder.append_data(&mut header, format!("{path}/"), io::empty())?;
            }
            Entry::File(path) => {
                let mut source = File::open(layout.join(path))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o644);
                header.set_size(source.metadata()?.len());
                builder.append_data(&mut header, path, &mut source)?;
            }
        }
    }
    let mut writer = builder.into_inner()?;
    writer.flush()?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Sha256Digest;

    /// A layout with one image (config + one layer), tagged `v1`.
    fn layout(dir: &Path) -> PathBuf {
        let layout = dir.join("image");
        fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
        let blob = |bytes: &[u8]| {
            let digest = Sha256Digest::of(bytes);
            fs::write(layout.join("blobs/sha256").join(digest.hex()), bytes).unwrap();
            (digest, bytes.len())
        };
        let (config, config_size) = blob(
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        );
        let (layer, layer_size) = blob(b"not really a tar");
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":{config_size}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{layer}","size":{layer_size}}}]}}"#
        );
        let (manifest, manifest_size) = blob(manifest.as_bytes());
        fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .unwrap();
        fs::write(
            layout.join("index.json"),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest}","size":{manifest_size},"annotations":{{"org.opencontainers.image.ref.name":"v1"}}}}]}}"#
            ),
        )
        .unwrap();
        layout
    }

    fn names(archive: &Path) -> Vec<(String, u32, u64)> {
        let mut reader = tar::Archive::new(File::open(archive).unwrap());
        reader
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let header = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    header.mode().unwrap(),
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn archive_holds_the_layout_sorted_and_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path());
        let first = dir.path().join("out/a.tar");
        let report = write_oci_archive(&layout, &first).unwrap();
        assert_eq!(report.size, fs::metadata(&first).unwrap().len());
        let entries = names(&first);
        let paths: Vec<&str> = entries.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(&paths[..3], ["blobs/", "blobs/sha256/", paths[2]]);
        assert!(paths.contains(&"index.json") && paths.contains(&"oci-layout"));
        assert_eq!(paths.len(), 7, "{paths:?}");
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert!(entries
            .iter()
            .all(|(_, mode, mtime)| *mtime == 0 && (*mode == 0o644 || *mode == 0o755)));

        let second = dir.path().join("b.tar");
        write_oci_archive(&layout, &second).unwrap();
        assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
        // No temporary file is left next to the archive.
        assert_eq!(fs::read_dir(dir.path().join("out")).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_archive_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path());
        let file = dir.path().join("a.tar");
        fs::write(&file, "old").unwrap();
        fs::remove_file(layout.join("index.json")).unwrap();
        let error = write_oci_archive(&layout, &file).unwrap_err();
        assert!(error.to_string().contains("index.json"), "{error}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "old");
    }

    #[test]
    fn symlinks_and_self_archives_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let layout = layout(dir.path());
        let error = write_oci_archive(&layout, &layout.join("blobs/x.tar")).unwrap_err();
        assert!(error.to_string().contains("inside the layout"), "{error}");
        std::os::unix::fs::symlink("/etc/passwd", layout.join("blobs/sha256/link")).unwrap();
        let error = write_oci_archive(&layout, &dir.path().join("a.tar")).unwrap_err();
        assert!(error.to_string().contains("only regular files"), "{error}");
        assert!(!dir.path().join("a.tar").exists());
    }

    #[test]
    fn not_a_layout() {
        let dir = tempfile::tempdir().unwrap();
        let error = write_oci_archive(dir.path(), &dir.path().join("../x.tar")).unwrap_err();
        assert!(
            error.to_string().contains("not an OCI image layout"),
            "{error}"
        );
    }
}
