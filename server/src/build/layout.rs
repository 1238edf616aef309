//! The OCI image layout the assembler writes (`oci-layout`, `index.json`, `blobs/sha256/`).
//! Everything is written into a temporary sibling directory that replaces the destination in
//! one rename at the end, so a failed or cancelled build never leaves a half-written image. An
//! existing layout keeps its other images (their blobs are hard-linked into the new one).

use std::{
    fs, io,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use oci_spec::image::{Descriptor, ImageIndex, ImageIndexBuilder, MediaType, ANNOTATION_REF_NAME};
use sha2::{Digest as _, Sha256};

use super::layer::hex;

pub struct LayoutWriter {
    destination: PathBuf,
    temp: PathBuf,
    /// Manifests of the existing layout that stay (other tags).
    kept: Vec<Descriptor>,
    committed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} exists and is not an OCI image layout (no readable index.json); choose another --output", .0.display())]
    NotALayout(PathBuf),
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io { path: path.to_owned(), source }
}

impl LayoutWriter {
    /// Starts a layout that will replace (or extend) `destination`.
    pub fn create(destination: &Path) -> Result<Self, LayoutError> {
        let parent = destination.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(io_at(parent))?;
        let name = destination.file_name().map_or_else(|| "image".into(), |n| n.to_string_lossy().into_owned());
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let temp = parent.join(format!(".{name}.kubefile-ls-{}-{nanos}", std::process::id()));
        let blobs = temp.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(io_at(&blobs))?;
        let mut writer = LayoutWriter { destination: destination.to_owned(), temp, kept: Vec::new(), committed: false };
        if destination.exists() {
            writer.adopt_existing()?;
        }
        Ok(writer)
    }

    /// The temporary directory being written (for excluding it from context copies).
    pub fn temp_dir(&self) -> &Path {
        &self.temp
    }

    pub fn destination(&self) -> &Path {
        &self.destination
    }

    pub fn blobs(&self) -> PathBuf {
        self.temp.join("blobs/sha256")
    }

    fn adopt_existing(&mut self) -> Result<(), LayoutError> {
        let index_path = self.destination.join("index.json");
        let empty = fs::read_dir(&self.destination).map_err(io_at(&self.destination))?.next().is_none();
        if empty {
            return Ok(());
        }
        let index = ImageIndex::from_file(&index_path).map_err(|_| LayoutError::NotALayout(self.destination.clone()))?;
        self.kept = index.manifests().clone();
        let old_blobs = self.destination.join("blobs/sha256");
        if let Ok(entries) = fs::read_dir(&old_blobs) {
            for entry in entries.flatten() {
                let target = self.blobs().join(entry.file_name());
                link_or_copy(&entry.path(), &target)?;
            }
        }
        Ok(())
    }

    /// Adds a blob that exists as a file (a base-image layer) under its digest.
    pub fn add_blob_file(&self, source: &Path, digest: &str) -> Result<(), LayoutError> {
        let target = self.blobs().join(digest.trim_start_matches("sha256:"));
        if target.exists() {
            return Ok(());
        }
        link_or_copy(source, &target)
    }

    /// Writes bytes as a blob; returns its digest and size.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<(String, u64), LayoutError> {
        let mut hasher = Sha256::new();
        hasher.update(bytes);
        let digest = hex(hasher);
        let path = self.blobs().join(&digest);
        fs::write(&path, bytes).map_err(io_at(&path))?;
        Ok((format!("sha256:{digest}"), bytes.len() as u64))
    }

    /// Writes `index.json` with the manifest under each reference name (replacing earlier images
    /// with those names) and moves the layout into place.
    pub fn commit(mut self, manifest: Descriptor, ref_names: &[String]) -> Result<PathBuf, LayoutError> {
        let mut manifests: Vec<Descriptor> = self
            .kept
            .iter()
            .filter(|d| !d.annotations().as_ref().and_then(|a| a.get(ANNOTATION_REF_NAME)).is_some_and(|name| ref_names.contains(name)))
            .cloned()
            .collect();
        for name in ref_names {
            let mut descriptor = manifest.clone();
            descriptor.set_annotations(Some([(ANNOTATION_REF_NAME.to_owned(), name.clone())].into()));
            manifests.push(descriptor);
        }
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(manifests)
            .build()
            .map_err(|e| LayoutError::Io { path: self.temp.clone(), source: io::Error::other(e.to_string()) })?;
        let index_path = self.temp.join("index.json");
        let json = index.to_string().map_err(|e| LayoutError::Io { path: index_path.clone(), source: io::Error::other(e.to_string()) })?;
        fs::write(&index_path, json).map_err(io_at(&index_path))?;
        let marker = self.temp.join("oci-layout");
        fs::write(&marker, r#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io_at(&marker))?;

        if self.destination.exists() {
            let old = PathBuf::from(format!("{}.old", self.temp.display()));
            fs::rename(&self.destination, &old).map_err(io_at(&self.destination))?;
            if let Err(source) = fs::rename(&self.temp, &self.destination) {
                let _ = fs::rename(&old, &self.destination);
                return Err(LayoutError::Io { path: self.destination.clone(), source });
            }
            let _ = fs::remove_dir_all(&old);
        } else {
            fs::rename(&self.temp, &self.destination).map_err(io_at(&self.destination))?;
        }
        self.committed = true;
        Ok(self.destination.clone())
    }
}

impl Drop for LayoutWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

fn link_or_copy(source: &Path, target: &Path) -> Result<(), LayoutError> {
    if fs::hard_link(source, target).is_ok() {
        return Ok(());
    }
    fs::copy(source, target).map(drop).map_err(io_at(source))
}
