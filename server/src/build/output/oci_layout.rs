//! Reading an OCI image layout directory (image-spec `image-layout.md`): `oci-layout`,
//! `index.json` and `blobs/<alg>/<hex>`, as the assembler and `buildah push oci:` write it.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use oci_spec::image::ANNOTATION_REF_NAME;
use serde::Deserialize;

use super::OutputError;
use crate::registry::Sha256Digest;

const IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// A manifest, config or layer reference.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Index {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageManifest {
    #[serde(default)]
    media_type: Option<String>,
    config: Descriptor,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

/// One image of a layout: its manifest bytes (pushed unchanged, so the digest stays the same)
/// and the blobs the manifest names.
#[derive(Debug)]
pub struct LayoutImage {
    pub manifest: Vec<u8>,
    pub manifest_media_type: String,
    pub manifest_digest: Sha256Digest,
    /// The config first, then the layers in manifest order.
    pub blobs: Vec<Blob>,
}

#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: Sha256Digest,
    pub size: u64,
    pub path: PathBuf,
}

/// Checks that `layout` looks like an OCI image layout (`oci-layout` and a parsable
/// `index.json`), without reading blobs.
pub fn check_layout(layout: &Path) -> Result<(), OutputError> {
    read_index(layout).map(|_| ())
}

fn read_index(layout: &Path) -> Result<Index, OutputError> {
    let not_a_layout = |message: String| OutputError::Layout {
        path: layout.to_owned(),
        message,
    };
    let marker = layout.join("oci-layout");
    if !marker.is_file() {
        return Err(not_a_layout(
            "not an OCI image layout (no `oci-layout` file)".into(),
        ));
    }
    let text = fs::read(layout.join("index.json"))
        .map_err(|e| not_a_layout(format!("cannot read index.json: {e}")))?;
    serde_json::from_slice(&text).map_err(|e| not_a_layout(format!("invalid index.json: {e}")))
}

/// The image tagged `tag` in `layout` (the `org.opencontainers.image.ref.name` annotation), or
/// the only image when `tag` is `None` — the rules of skopeo's `oci:DIR[:TAG]`. Blob sizes are
/// checked against the manifest; contents are checked by the consumer (the registry verifies
/// digests on upload).
pub fn read_image(layout: &Path, tag: Option<&str>) -> Result<LayoutImage, OutputError> {
    let index = read_index(layout)?;
    let names = || {
        let names: Vec<&str> = index
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str))
            .collect();
        if names.is_empty() {
            "no tagged images".to_owned()
        } else {
            format!("tags: {}", names.join(", "))
        }
    };
    let descriptor = match tag {
        Some(tag) => index
            .manifests
            .iter()
            .find(|d| d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) == Some(tag))
            .ok_or_else(|| OutputError::Layout {
                path: layout.to_owned(),
                message: format!("no image tagged `{tag}` ({})", names()),
            })?,
        None => match index.manifests.as_slice() {
            [only] => only,
            [] => {
                return Err(OutputError::Layout {
                    path: layout.to_owned(),
                    message: "index.json lists no image".into(),
                })
            }
            _ => {
                return Err(OutputError::Layout {
                    path: layout.to_owned(),
                    message: format!(
                        "index.json lists {} images; name one ({})",
                        index.manifests.len(),
                        names()
                    ),
                })
            }
        },
    };
    let manifest_blob = blob(layout, descriptor)?;
    let manifest =
        fs::read(&manifest_blob.path).map_err(|e| OutputError::io(&manifest_blob.path, &e))?;
    if Sha256Digest::of(&manifest) != manifest_blob.digest {
        return Err(OutputError::Layout {
            path: manifest_blob.path,
            message: format!(
                "the manifest does not match its digest {}",
                descriptor.digest
            ),
        });
    }
    let parsed: ImageManifest =
        serde_json::from_slice(&manifest).map_err(|e| OutputError::Layout {
            path: manifest_blob.path.clone(),
            message: format!("not an image manifest: {e}"),
        })?;
    let media_type = [
        Some(descriptor.media_type.as_str()),
        parsed.media_type.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find(|t| !t.is_empty())
    .unwrap_or(IMAGE_MANIFEST)
    .to_owned();
    if media_type != IMAGE_MANIFEST && media_type != DOCKER_MANIFEST {
        return Err(OutputError::Layout {
            path: manifest_blob.path,
            message: format!(
                "`{media_type}` is not a single-image manifest; only image manifests can be pushed"
            ),
        });
    }
    let blobs = std::iter::once(&parsed.config)
        .chain(&parsed.layers)
        .map(|d| blob(layout, d))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LayoutImage {
        manifest,
        manifest_media_type: media_type,
        manifest_digest: manifest_blob.digest,
        blobs,
    })
}

/// The file of a blob, which must exist with the size the descriptor gives.
fn blob(layout: &Path, descriptor: &Descriptor) -> Result<Blob, OutputError> {
    let digest = Sha256Digest::parse(&descriptor.digest).ok_or_else(|| OutputError::Layout {
        path: layout.to_owned(),
        message: format!(
            "unsupported digest `{}` (only sha256 is supported)",
            descriptor.digest
        ),
    })?;
    let path = layout.join("blobs/sha256").join(digest.hex());
    let metadata = fs::metadata(&path).map_err(|e| OutputError::Layout {
        path: layout.to_owned(),
        message: format!("blob {digest} is missing: {e}"),
    })?;
    if !metadata.is_file() || metadata.len() != descriptor.size {
        return Err(OutputError::Layout {
            path: path.clone(),
            message: format!(
                "blob {digest} has {} bytes, the manifest says {}",
                metadata.len(),
                descriptor.size
            ),
        });
    }
    Ok(Blob {
        digest,
        size: descriptor.size,
        path,
    })
}
