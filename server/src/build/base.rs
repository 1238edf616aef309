//! Base images (`FROM image`, `COPY --from=image`): pulled with the same client and verification
//! as the registry save, into a content-addressed cache in the distribution layout
//! (`$XDG_CACHE_HOME/kubefile-ls/images`), then read from there: manifest, config and layers.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use oci_spec::image::{History, ImageManifest, MediaType};

use super::{config::ImageConfig, BuildError, BuildEvent};
use crate::registry::{self, layout::Layout, CancellationToken, ImageRequest, SaveError, SaveOptions, Sha256Digest};

/// A pulled image, ready to be built upon.
#[derive(Debug, Clone)]
pub struct BaseImage {
    pub reference: String,
    pub config: ImageConfig,
    pub layers: Vec<BaseLayer>,
    pub diff_ids: Vec<String>,
    pub history: Vec<History>,
}

#[derive(Debug, Clone)]
pub struct BaseLayer {
    pub blob: PathBuf,
    pub digest: String,
    pub size: u64,
    /// The OCI media type the layer is written with.
    pub media_type: MediaType,
}

/// Where images named in FROM and `COPY --from` come from.
pub trait ImageSource {
    fn fetch(&mut self, image: &str) -> Result<Arc<BaseImage>, BuildError>;
}

/// A source for builds that must not touch the network: any image is an error.
pub struct Offline;

impl ImageSource for Offline {
    fn fetch(&mut self, image: &str) -> Result<Arc<BaseImage>, BuildError> {
        Err(BuildError::Pull { image: image.to_owned(), message: "pulling base images is disabled for this build".into() })
    }
}

/// Pulls through `registry::save` into a cache directory. Must be used from a thread that may
/// block on the runtime (a `spawn_blocking` task or a plain thread).
pub struct RegistryImages {
    pub cache: PathBuf,
    pub options: SaveOptions,
    pub runtime: tokio::runtime::Handle,
    pub cancel: CancellationToken,
    pub emit: Arc<dyn Fn(BuildEvent) + Send + Sync>,
    /// `--tls-verify=false`: every base image's registry is reached without certificate checks.
    pub insecure_all: bool,
    fetched: HashMap<String, Arc<BaseImage>>,
}

impl RegistryImages {
    pub fn new(
        cache: PathBuf,
        options: SaveOptions,
        runtime: tokio::runtime::Handle,
        cancel: CancellationToken,
        emit: Arc<dyn Fn(BuildEvent) + Send + Sync>,
    ) -> Self {
        Self { cache, options, runtime, cancel, emit, insecure_all: false, fetched: HashMap::new() }
    }

    /// `$XDG_CACHE_HOME/kubefile-ls/images`, or `~/.cache/kubefile-ls/images`.
    pub fn default_cache() -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("kubefile-ls/images")
    }
}

impl ImageSource for RegistryImages {
    fn fetch(&mut self, image: &str) -> Result<Arc<BaseImage>, BuildError> {
        if let Some(found) = self.fetched.get(image) {
            return Ok(found.clone());
        }
        (self.emit)(BuildEvent::PullingBase { image: image.to_owned() });
        let emit = self.emit.clone();
        let mut options = self.options.clone();
        options.all_platforms = false;
        if self.insecure_all {
            options.insecure_registries.extend(registry_host(image));
        }
        let result = self.runtime.block_on(registry::save(
            &[ImageRequest::new(image)],
            &self.cache,
            &options,
            move |event| emit(BuildEvent::Save(event)),
            self.cancel.clone(),
        ));
        let report = match result {
            Ok(report) => report,
            Err(SaveError::Cancelled(_)) => return Err(BuildError::Cancelled),
            Err(error) => {
                let message = match error.report().and_then(|r| r.failures.first()) {
                    Some(failure) => failure.error.to_string(),
                    None => error.to_string(),
                };
                return Err(BuildError::Pull { image: image.to_owned(), message });
            }
        };
        let saved = report.images.first().ok_or_else(|| BuildError::Pull { image: image.to_owned(), message: "not saved".into() })?;
        let base = Arc::new(read_image(&self.cache, image, &saved.manifest_digest)?);
        self.fetched.insert(image.to_owned(), base.clone());
        Ok(base)
    }
}

/// The registry (`host[:port]`) an image is pulled from, as the save resolves it.
pub fn registry_host(image: &str) -> Option<String> {
    let path = crate::context::reference::registry_path(image).ok()?;
    path.pulled_from.split('/').next().map(str::to_owned)
}

/// Reads a saved image from a distribution-layout directory.
pub fn read_image(root: &Path, image: &str, manifest_digest: &str) -> Result<BaseImage, BuildError> {
    let fail = |message: String| BuildError::Pull { image: image.to_owned(), message };
    let layout = Layout::new(root);
    let blob = |digest: &str| -> Result<PathBuf, BuildError> {
        let parsed = Sha256Digest::parse(digest).ok_or_else(|| fail(format!("unsupported digest {digest}")))?;
        Ok(layout.blob_path(&parsed))
    };
    let manifest_path = blob(manifest_digest)?;
    let manifest = ImageManifest::from_file(&manifest_path).map_err(|e| fail(format!("manifest {manifest_digest}: {e}")))?;
    let config_path = blob(manifest.config().digest().as_ref())?;
    let config_bytes = fs::read(&config_path).map_err(|e| fail(format!("{}: {e}", config_path.display())))?;
    let config_json: serde_json::Value = serde_json::from_slice(&config_bytes).map_err(|e| fail(format!("image config: {e}")))?;
    let diff_ids: Vec<String> = config_json
        .pointer("/rootfs/diff_ids")
        .and_then(|v| v.as_array())
        .map(|ids| ids.iter().filter_map(|id| id.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let history: Vec<History> = config_json.get("history").and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default();
    let mut layers = Vec::new();
    for layer in manifest.layers() {
        let media_type = match layer.media_type().to_string().as_str() {
            "application/vnd.oci.image.layer.v1.tar+gzip" | "application/vnd.docker.image.rootfs.diff.tar.gzip" => MediaType::ImageLayerGzip,
            "application/vnd.oci.image.layer.v1.tar" | "application/vnd.docker.image.rootfs.diff.tar" => MediaType::ImageLayer,
            "application/vnd.oci.image.layer.v1.tar+zstd" => MediaType::ImageLayerZstd,
            other => return Err(fail(format!("layer media type {other} is not supported by the native engine; use --engine buildah"))),
        };
        let digest = layer.digest().to_string();
        layers.push(BaseLayer { blob: blob(&digest)?, digest, size: layer.size(), media_type });
    }
    if diff_ids.len() != layers.len() {
        return Err(fail(format!("config lists {} layers, manifest {}", diff_ids.len(), layers.len())));
    }
    Ok(BaseImage { reference: image.to_owned(), config: ImageConfig::from_image_json(&config_json), layers, diff_ids, history })
}
