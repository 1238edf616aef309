//! The parts of image manifests and manifest lists a save needs: which blobs and which child
//! manifests a manifest names. The bytes themselves are stored exactly as fetched.

use serde::Deserialize;

use super::layout::Sha256Digest;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// What a save asks the registry for. Schema 1 manifests are deprecated and refused.
pub const ACCEPTED: [&str; 4] = [
    OCI_INDEX,
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    DOCKER_MANIFEST,
];

/// The largest manifest accepted (distribution's own limit is 4 MiB).
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;

#[derive(Debug, Deserialize)]
struct RawPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawDescriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: i64,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    urls: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct RawManifest {
    #[serde(rename = "schemaVersion")]
    schema_version: i64,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
}

/// A blob or manifest named by a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Sha256Digest,
    pub size: u64,
}

/// One entry of a manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub descriptor: Descriptor,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Instance {
    pub fn platform_string(&self) -> String {
        match &self.variant {
            Some(v) if !v.is_empty() => format!("{}/{}/{v}", self.os, self.architecture),
            _ => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    Image {
        media_type: String,
        config: Descriptor,
        /// Layers to copy; foreign (non-distributable) layers are left out, as registries do
        /// not hold them.
        layers: Vec<Descriptor>,
    },
    Index {
        media_type: String,
        instances: Vec<Instance>,
    },
}

impl Manifest {
    pub fn media_type(&self) -> &str {
        match self {
            Self::Image { media_type, .. } | Self::Index { media_type, .. } => media_type,
        }
    }
}

/// Why a manifest could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not valid JSON: {0}")]
    Json(String),
    #[error("schema version {0} manifests are not supported (only schema 2 / OCI)")]
    SchemaVersion(i64),
    #[error("unsupported manifest media type `{0}`")]
    MediaType(String),
    #[error("the manifest names `{0}`, which is not a sha256 digest")]
    Digest(String),
    #[error("the manifest gives a negative size for {0}")]
    Size(String),
    #[error("the manifest has neither layers nor manifests")]
    Shape,
}

fn descriptor(raw: &RawDescriptor) -> Result<Descriptor, ManifestError> {
    let digest = Sha256Digest::parse(&raw.digest)
        .ok_or_else(|| ManifestError::Digest(raw.digest.clone()))?;
    let size = u64::try_from(raw.size).map_err(|_| ManifestError::Size(raw.digest.clone()))?;
    Ok(Descriptor {
        media_type: raw.media_type.clone(),
        digest,
        size,
    })
}

fn is_foreign(raw: &RawDescriptor) -> bool {
    raw.media_type.contains(".foreign.")
        || raw.media_type.contains("nondistributable")
        || (raw.urls.as_ref().is_some_and(|u| !u.is_empty()) && raw.media_type.contains("foreign"))
}

/// Parses manifest bytes. An OCI manifest or index without `mediaType` is recognised by its
/// shape (`manifests` or `config`).
pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let raw: RawManifest =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
    if raw.schema_version != 2 {
        return Err(ManifestError::SchemaVersion(raw.schema_version));
    }
    let media_type = raw.media_type.clone().unwrap_or_default();
    let is_index = match media_type.as_str() {
        OCI_INDEX | DOCKER_MANIFEST_LIST => true,
        OCI_MANIFEST | DOCKER_MANIFEST => false,
        // OCI allows leaving mediaType out; the shape decides.
        "" => match (&raw.manifests, &raw.config) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            _ => return Err(ManifestError::Shape),
        },
        other => return Err(ManifestError::MediaType(other.to_owned())),
    };
    if is_index {
        let media_type = if media_type.is_empty() {
            OCI_INDEX.to_owned()
        } else {
            media_type
        };
        let instances = raw
            .manifests
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|entry| {
                let platform = entry.platform.as_ref();
                Ok(Instance {
                    descriptor: descriptor(entry)?,
                    os: platform.map(|p| p.os.clone()).unwrap_or_default(),
                    architecture: platform.map(|p| p.architecture.clone()).unwrap_or_default(),
                    variant: platform.and_then(|p| p.variant.clone()),
                })
            })
            .collect::<Result<_, ManifestError>>()?;
        Ok(Manifest::Index {
            media_type,
            instances,
        })
    } else {
        let media_type = if media_type.is_empty() {
            OCI_MANIFEST.to_owned()
        } else {
            media_type
        };
        let config = descriptor(raw.config.as_ref().ok_or(ManifestError::Shape)?)?;
        let layers = raw
            .layers
            .as_deref()
            .unwrap_or_default()
            .iter()
            .filter(|layer| !is_foreign(layer))
            .map(descriptor)
            .collect::<Result<_, _>>()?;
        Ok(Manifest::Image {
            media_type,
            config,
            layers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn docker_v2_manifest() {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{D1}","size":10}},
            "layers":[{{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{D2}","size":20}},
                      {{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{D2}","size":20,"urls":["https://x"]}}]}}"#
        );
        let Manifest::Image {
            config,
            layers,
            media_type,
        } = parse(json.as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(media_type, DOCKER_MANIFEST);
        assert_eq!(config.size, 10);
        assert_eq!(layers.len(), 1, "foreign layer skipped");
    }

    #[test]
    fn oci_index_without_media_type() {
        let json = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":5,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}}]}}"#
        );
        let Manifest::Index {
            instances,
            media_type,
        } = parse(json.as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(media_type, OCI_INDEX);
        assert_eq!(instances[0].platform_string(), "linux/arm/v7");
    }

    #[test]
    fn rejects_schema1_and_bad_digests() {
        assert_eq!(
            parse(br#"{"schemaVersion":1,"name":"x"}"#),
            Err(ManifestError::SchemaVersion(1))
        );
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"digest":"sha512:ab","size":1}},"layers":[]}}"#
        );
        assert!(matches!(
            parse(json.as_bytes()),
            Err(ManifestError::Digest(_))
        ));
    }
}
