//! Saving images into a build context's `registry/` directory in the Docker distribution
//! registry's on-disk layout, as `sealos build` (and `sealos registry save`) do, so that a
//! registry started on the directory serves them.
//!
//! Unlike sealos (one copy at a time behind a mutex, shared layers fetched again for every
//! image), [`save`] pulls `max_pull_procs` images at once, fetches each blob once per run even
//! when many images share it, skips blobs already in `registry/`, and resumes interrupted
//! downloads. Every blob and manifest is checked against its digest and size before it is
//! renamed into place, and link files are written last, so a killed save never leaves a link
//! to missing or partial data.
//!
//! [`save_with_archives`] also loads `images/skopeo/tar.txt` archives (`archive`), verified the
//! same way. Temporary files live in `registry/` only while a save runs.
//!
//! The library has no terminal or editor types: progress is a stream of [`SaveEvent`]s given
//! to a callback, and cancellation is a [`CancellationToken`].

mod archive;
mod auth;
mod error;
mod fetch;
pub mod layout;
mod manifest;
mod platform;
mod report;
mod transport;

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::Path,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use futures_util::{future::Shared, FutureExt as _, StreamExt as _};
use oci_client::Reference;
use tokio::sync::OnceCell;

pub use archive::ArchiveRequest;
pub use auth::{AuthSource, Secret};
pub use error::{ImageError, ImageFailure, SaveError};
pub use layout::Sha256Digest;
pub use platform::{InvalidPlatform, Platform};
pub use report::{BlobOutcome, SaveEvent, SaveReport, SavedImage};
pub use tokio_util::sync::CancellationToken;

use auth::Credential;
use layout::Layout;
use manifest::{Descriptor, Instance, Manifest};

// The build's `docker://` push (`build::output`) reaches registries exactly as the save does.
pub(crate) use auth::CredentialStore;
pub(crate) use transport::{ClientSettings, RegistryClient, Retrier};

use crate::context::reference::{archive_destination_path, registry_path};

/// One image to save, written as sealos lists it (`nginx:1.25`,
/// `quay.io/cilium/cilium:v1.12.0`, `repo@sha256:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRequest {
    pub image: String,
}

impl ImageRequest {
    pub fn new(image: impl Into<String>) -> Self {
        Self {
            image: image.into(),
        }
    }
}

impl From<&str> for ImageRequest {
    fn from(image: &str) -> Self {
        Self::new(image)
    }
}

/// Retries of requests that failed for a transient reason (5xx, 429, timeouts, broken
/// connections, a short or corrupted body once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff with ±25 % jitter, capped at `max_backoff` (+25 %).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = f64::from(nanos % 1000) / 1000.0 * 0.5 - 0.25;
        base.mul_f64(1.0 + jitter)
    }
}

/// How to save.
#[derive(Debug, Clone)]
pub struct SaveOptions {
    /// The platform whose image is kept from a manifest list (default: linux/<host arch>).
    pub platform: Platform,
    /// More platforms to keep besides `platform` (`--platform` given several times). With
    /// several platforms a manifest list is stored whole (its digest unchanged) with the image of
    /// each of them, and the tag names the list; the other platforms' images are not stored.
    pub extra_platforms: Vec<Platform>,
    /// Keep whole manifest lists and every instance (`--all`).
    pub all_platforms: bool,
    /// Images pulled at the same time (`--max-pull-procs`, default 5).
    pub max_pull_procs: usize,
    /// Blobs of one image downloaded at the same time (default 4).
    pub blob_concurrency: usize,
    pub auth: AuthSource,
    /// `host:port` of registries reached without TLS verification, or over plain HTTP when
    /// they do not speak TLS. Loopback registries always use plain HTTP.
    pub insecure_registries: Vec<String>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
    /// `fsync` blob and manifest data before renaming it into place (survives power loss).
    pub sync: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        Self {
            platform: Platform::host(),
            extra_platforms: Vec::new(),
            all_platforms: false,
            max_pull_procs: 5,
            blob_concurrency: 4,
            auth: AuthSource::Default,
            insecure_registries: Vec::new(),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            sync: true,
        }
    }
}

impl SaveOptions {
    /// `platform` and `extra_platforms`, without repeats.
    pub fn platforms(&self) -> Vec<&Platform> {
        let mut platforms = vec![&self.platform];
        for platform in &self.extra_platforms {
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }
        platforms
    }

    /// Whether a manifest list is stored (and tagged) rather than one platform's image.
    fn keeps_whole_list(&self) -> bool {
        self.all_platforms || self.platforms().len() > 1
    }
}

/// The images of a manifest list that a save keeps: every one with `--all`, otherwise the best
/// match for each platform. `source` names the registry or archive for the error.
fn select_instances<'a>(
    options: &SaveOptions,
    instances: &'a [Instance],
    source: &str,
) -> Result<Vec<&'a Instance>, ImageError> {
    if options.all_platforms {
        return Ok(instances.iter().collect());
    }
    let mut chosen: Vec<&Instance> = Vec::new();
    for wanted in options.platforms() {
        let best = instances
            .iter()
            .enumerate()
            .filter_map(|(i, instance)| {
                wanted
                    .rank(&instance.os, &instance.architecture, instance.variant.as_deref())
                    .map(|rank| (rank, i, instance))
            })
            .min_by_key(|(rank, i, _)| (*rank, *i))
            .map(|(_, _, instance)| instance)
            .ok_or_else(|| ImageError::NoMatchingPlatform {
                registry: source.to_owned(),
                wanted: wanted.to_string(),
                available: instances
                    .iter()
                    .map(Instance::platform_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !chosen.iter().any(|c| c.descriptor.digest == best.descriptor.digest) {
            chosen.push(best);
        }
    }
    Ok(chosen)
}

/// The instances of `top` (what a reference names) that a save stores: none when `top` is an
/// image manifest, the platforms [`select_instances`] keeps when it is a manifest list.
fn instances_to_load(options: &SaveOptions, top: &Fetched, source: &str) -> Result<Vec<Instance>, ImageError> {
    match &top.manifest {
        Manifest::Image { .. } => Ok(Vec::new()),
        Manifest::Index { instances, .. } => {
            Ok(select_instances(options, instances, source)?.into_iter().cloned().collect())
        }
    }
}

/// The manifests a save stores for one image, whether pulled or loaded from an archive.
struct Chosen {
    /// The image manifests: the one the reference names, or one per chosen platform.
    images: Vec<Fetched>,
    /// The manifest list, when it is stored too.
    index: Option<Fetched>,
    /// What the tag names.
    named: Sha256Digest,
    /// The chosen platforms (empty for an image manifest).
    platforms: Vec<String>,
}

/// A chosen instance of a manifest list is a manifest list itself, which is not supported.
struct NestedList {
    media_type: String,
}

impl Chosen {
    /// `loaded` is the manifest of each instance [`instances_to_load`] returned for `top`, in
    /// its order. `keep_list` stores the manifest list and has the tag name it; otherwise the
    /// tag names the first chosen image.
    fn new(top: Fetched, loaded: Vec<(Instance, Fetched)>, keep_list: bool) -> Result<Self, NestedList> {
        if let Manifest::Image { .. } = top.manifest {
            let named = top.digest.clone();
            return Ok(Self { images: vec![top], index: None, named, platforms: Vec::new() });
        }
        let mut images = Vec::with_capacity(loaded.len());
        let mut platforms = Vec::with_capacity(loaded.len());
        for (instance, child) in loaded {
            if let Manifest::Index { .. } = child.manifest {
                return Err(NestedList { media_type: child.manifest.media_type().to_owned() });
            }
            platforms.push(instance.platform_string());
            images.push(child);
        }
        let (index, named) = if keep_list {
            let named = top.digest.clone();
            (Some(top), named)
        } else {
            let named = images[0].digest.clone();
            (None, named)
        };
        Ok(Self { images, index, named, platforms })
    }

    /// The configs and layers of the images, each digest once, in order.
    fn blobs(&self) -> Vec<&Descriptor> {
        let mut seen = HashSet::new();
        self.images
            .iter()
            .filter_map(|image| match &image.manifest {
                Manifest::Image { config, layers, .. } => Some(std::iter::once(config).chain(layers)),
                Manifest::Index { .. } => None,
            })
            .flatten()
            .filter(|descriptor| seen.insert(&descriptor.digest))
            .collect()
    }

    /// The media type of what the tag names.
    fn media_type(&self) -> &str {
        self.index.as_ref().unwrap_or(&self.images[0]).manifest.media_type()
    }
}

pub(crate) type Emit = dyn Fn(SaveEvent) + Send + Sync;

#[derive(Default)]
pub(crate) struct Stats {
    pub bytes_downloaded: AtomicU64,
    pub blobs_downloaded: AtomicUsize,
    pub blobs_present: AtomicUsize,
    pub blobs_shared: AtomicUsize,
    pub manifests_fetched: AtomicUsize,
    pub retries: AtomicUsize,
}

type CredentialLookup = Result<Option<Credential>, String>;

type BlobFuture = Shared<futures_util::future::BoxFuture<'static, Result<(), ImageError>>>;

/// State shared by every task of one save.
pub(crate) struct Engine {
    pub layout: Layout,
    pub options: SaveOptions,
    pub emit: Arc<Emit>,
    pub cancel: CancellationToken,
    pub stats: Stats,
    credentials: CredentialStore,
    /// (registry, repository) → what the auth files hold.
    credential_cache: Mutex<HashMap<(String, String), CredentialLookup>>,
    clients: Mutex<HashMap<String, Arc<OnceCell<Arc<RegistryClient>>>>>,
    blobs: Mutex<HashMap<Sha256Digest, BlobFuture>>,
}

/// A resolved request.
struct Target {
    index: usize,
    image: String,
    /// `docker.io/library/nginx:1.25`.
    source: String,
    reference: Reference,
    /// Normalised registry domain (`docker.io`).
    registry: String,
    /// Repository in `registry/` (`library/nginx`).
    repository: String,
    tag: Option<String>,
    digest: Option<Sha256Digest>,
    /// `library/nginx:1.25` or `library/nginx@sha256:…`.
    destination: String,
}

/// A manifest fetched (or read back from `registry/`) and verified.
struct Fetched {
    bytes: Vec<u8>,
    digest: Sha256Digest,
    manifest: Manifest,
}

/// Saves `images` into `registry_dir` (a context's `registry/`), in the layout distribution
/// 2.8/3 uses for `storage.filesystem.rootdirectory = registry_dir`.
///
/// Returns the report when every image was saved, [`SaveError::Incomplete`] (with the report)
/// when some were not, [`SaveError::Cancelled`] when `cancel` fired. Needs a multi-threaded
/// tokio runtime; dropping the future cancels the work it started. However it ends, it leaves
/// nothing but complete, verified content in `registry_dir`.
pub async fn save(
    images: &[ImageRequest],
    registry_dir: &Path,
    options: &SaveOptions,
    progress: impl Fn(SaveEvent) + Send + Sync + 'static,
    cancel: CancellationToken,
) -> Result<SaveReport, SaveError> {
    save_with_archives(images, &[], registry_dir, options, progress, cancel).await
}

/// [`save`], plus `images/skopeo/tar.txt` archives loaded into `registry_dir` like pulled
/// images. Archives come after images in the report. An archive whose destination is also an
/// image's wins, as with sealos (which loads archives after pulling).
pub async fn save_with_archives(
    images: &[ImageRequest],
    archives: &[ArchiveRequest],
    registry_dir: &Path,
    options: &SaveOptions,
    progress: impl Fn(SaveEvent) + Send + Sync + 'static,
    cancel: CancellationToken,
) -> Result<SaveReport, SaveError> {
    let started = Instant::now();
    // reqwest is built without a default crypto provider (no aws-lc); ring it is.
    let _ = rustls::crypto::ring::default_provider().install_default();
    if options.max_pull_procs == 0 {
        return Err(SaveError::InvalidOption(
            "--max-pull-procs must be at least 1".into(),
        ));
    }
    if options.retry.attempts == 0 {
        return Err(SaveError::InvalidOption(
            "retry attempts must be at least 1".into(),
        ));
    }
    let credentials = CredentialStore::load(&options.auth)?;
    fs::create_dir_all(registry_dir).map_err(|e| SaveError::Layout {
        path: registry_dir.to_owned(),
        message: e.to_string(),
    })?;
    let layout = Layout::new(registry_dir);
    let temp_dir = match layout.lock() {
        Ok(Some(lock)) => TempDirGuard {
            path: layout.temp_dir().to_owned(),
            lock: Some(lock),
        },
        Ok(None) => {
            return Err(SaveError::Locked {
                registry: registry_dir.to_owned(),
                lock: layout.temp_dir().join("lock"),
            })
        }
        Err(e) => {
            return Err(SaveError::Layout {
                path: layout.temp_dir().to_owned(),
                message: e.to_string(),
            })
        }
    };

    let emit: Arc<Emit> = Arc::new(progress);
    let mut report = SaveReport::default();
    for warning in &credentials.warnings {
        report.warnings.push(warning.clone());
        emit(SaveEvent::Warning {
            message: warning.clone(),
        });
    }
    let (mut targets, mut failures, mut warnings) = resolve(images);
    let (archive_targets, archive_failures) = resolve_archives(archives, images.len());
    failures.extend(archive_failures);
    targets.retain(|target| match archive_targets.iter().find(|a| a.destination == target.destination) {
        Some(archive) => {
            warnings.push(format!(
                "{} and {} are both stored as {} in registry/; the archive wins, as with sealos",
                target.image, archive.label, target.destination
            ));
            false
        }
        None => true,
    });
    for warning in warnings {
        emit(SaveEvent::Warning {
            message: warning.clone(),
        });
        report.warnings.push(warning);
    }
    let mut results: Vec<(usize, Result<SavedImage, ImageFailure>)> = failures
        .into_iter()
        .map(|failure| {
            emit(SaveEvent::ImageFailed {
                image: failure.1.image.clone(),
                error: failure.1.error.to_string(),
            });
            (failure.0, Err(failure.1))
        })
        .collect();

    let token = cancel.child_token();
    let _stop_tasks_when_dropped = token.clone().drop_guard();
    let engine = Arc::new(Engine {
        layout,
        options: options.clone(),
        emit: emit.clone(),
        cancel: token.clone(),
        stats: Stats::default(),
        credentials,
        credential_cache: Mutex::default(),
        clients: Mutex::default(),
        blobs: Mutex::default(),
    });
    emit(SaveEvent::Started {
        images: targets.len() + archive_targets.len(),
        platform: options
            .platforms()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
        all_platforms: options.all_platforms,
        max_pull_procs: options.max_pull_procs,
    });

    let pulls = targets.into_iter().map(|target| {
        let engine = engine.clone();
        let target = Arc::new(target);
        // Spawned when `buffer_unordered` first polls it: that is what limits the pulls.
        async move {
            let handle = tokio::spawn({
                let target = target.clone();
                async move { engine.save_image(target).await }
            });
            let result = handle.await.unwrap_or_else(|e| {
                Err(ImageError::Network {
                    registry: target.registry.clone(),
                    what: target.source.clone(),
                    message: format!("internal error: {e}"),
                })
            });
            (target.index, target.image.clone(), result)
        }
        .boxed()
    });
    let loads = archive_targets.into_iter().map(|target| {
        let engine = engine.clone();
        async move {
            let (index, label, path) = (target.index, target.label.clone(), target.request.path.clone());
            let result = tokio::task::spawn_blocking(move || archive::import(&engine, &target))
                .await
                .unwrap_or_else(|e| {
                    Err(ImageError::Archive {
                        archive: path,
                        message: format!("internal error: {e}"),
                    })
                });
            (index, label, result)
        }
        .boxed()
    });
    // Collected first: a stream over the closures above would not be `Send` for every lifetime
    // (callers spawn the save future).
    let jobs: Vec<Job> = pulls.chain(loads).collect();
    let saved: Vec<(usize, Result<SavedImage, ImageFailure>)> = futures_util::stream::iter(jobs)
        .buffer_unordered(options.max_pull_procs)
        .map(|(index, image, result)| {
            let result = match result {
                Ok(saved) => {
                    emit(SaveEvent::ImageDone {
                        image: saved.image.clone(),
                        destination: saved.destination.clone(),
                        manifest_digest: saved.manifest_digest.clone(),
                    });
                    Ok(saved)
                }
                Err(error) => {
                    let failure = ImageFailure { image, error };
                    if failure.error != ImageError::Cancelled {
                        emit(SaveEvent::ImageFailed {
                            image: failure.image.clone(),
                            error: failure.error.to_string(),
                        });
                    }
                    Err(failure)
                }
            };
            (index, result)
        })
        .collect()
        .await;
    // Nothing runs on: downloads no image waits for any more stop before the cleanup below.
    token.cancel();
    results.extend(saved);
    results.sort_by_key(|(index, _)| *index);
    for (_, result) in results {
        match result {
            Ok(saved) => report.images.push(saved),
            Err(failure) => report.failures.push(failure),
        }
    }

    let stats = &engine.stats;
    report.blobs_downloaded = stats.blobs_downloaded.load(Ordering::Relaxed);
    report.bytes_downloaded = stats.bytes_downloaded.load(Ordering::Relaxed);
    report.blobs_present = stats.blobs_present.load(Ordering::Relaxed);
    report.blobs_shared = stats.blobs_shared.load(Ordering::Relaxed);
    report.manifests_fetched = stats.manifests_fetched.load(Ordering::Relaxed);
    report.retries = stats.retries.load(Ordering::Relaxed);
    report.elapsed = started.elapsed();

    let cancelled = cancel.is_cancelled();
    if let Err(e) = temp_dir.remove() {
        let message = format!("cannot remove {}: {e}", engine.layout.temp_dir().display());
        emit(SaveEvent::Warning {
            message: message.clone(),
        });
        report.warnings.push(message);
    }
    emit(SaveEvent::Finished {
        saved: report.images.len(),
        failed: report.failures.len(),
        blobs_downloaded: report.blobs_downloaded,
        bytes_downloaded: report.bytes_downloaded,
        blobs_present: report.blobs_present,
        blobs_shared: report.blobs_shared,
        elapsed_ms: report.elapsed.as_millis() as u64,
    });
    if cancelled {
        Err(SaveError::Cancelled(Box::new(report)))
    } else if report.is_complete() {
        Ok(report)
    } else {
        Err(SaveError::Incomplete(Box::new(report)))
    }
}

/// One image pull or archive load: its place in the report, the request as text, the outcome.
type Job = futures_util::future::BoxFuture<'static, (usize, String, Result<SavedImage, ImageError>)>;

/// The registry directory's lock, and the temporary directory it lives in. The directory is
/// removed when the save ends, however it ends (returned, failed, cancelled, future dropped):
/// `registry/` is copied into the cluster image, so nothing unfinished may stay there. A killed
/// process cannot remove it; the next save then continues the partial downloads it finds, and
/// removes it.
struct TempDirGuard {
    path: std::path::PathBuf,
    lock: Option<fs::File>,
}

impl TempDirGuard {
    /// Removes the directory (lock file included) while still holding the lock.
    fn remove(mut self) -> std::io::Result<()> {
        let result = remove_dir(&self.path);
        self.lock = None;
        result
    }
}

impl Drop for TempDirGuard {
    fn drop(&mut self) {
        if self.lock.take().is_some() {
            let _ = remove_dir(&self.path);
        }
    }
}

fn remove_dir(path: &Path) -> std::io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Archive requests with their place in `registry/` (the path sealos gives
/// `127.0.0.1:<port>/<destination>`). `first_index` orders them after the images.
fn resolve_archives(
    archives: &[ArchiveRequest],
    first_index: usize,
) -> (Vec<archive::ArchiveTarget>, Vec<(usize, ImageFailure)>) {
    let mut targets: Vec<archive::ArchiveTarget> = Vec::new();
    let mut failures = Vec::new();
    for (offset, request) in archives.iter().enumerate() {
        let label = request.to_string();
        let index = first_index + offset;
        let destination = match archive_destination_path(&request.destination) {
            Ok(destination) if !destination.contains('@') => destination,
            Ok(_) => {
                failures.push((
                    index,
                    ImageFailure {
                        image: label,
                        error: ImageError::Archive {
                            archive: request.path.clone(),
                            message: "the destination names a digest; an archive is stored under a tag".into(),
                        },
                    },
                ));
                continue;
            }
            Err(error) => {
                failures.push((
                    index,
                    ImageFailure {
                        image: label,
                        error: error.into(),
                    },
                ));
                continue;
            }
        };
        let (repository, tag) = destination
            .rsplit_once(':')
            .map_or((destination.clone(), None), |(repo, tag)| (repo.to_owned(), Some(tag.to_owned())));
        // The same destination twice: the later line wins, as its copy runs last.
        targets.retain(|target| target.destination != destination);
        targets.push(archive::ArchiveTarget {
            index,
            request: request.clone(),
            label,
            repository,
            tag,
            destination,
        });
    }
    (targets, failures)
}

type Resolved = (Vec<Target>, Vec<(usize, ImageFailure)>, Vec<String>);

/// Turns requests into targets: sealos's registry path, duplicates merged, and for two images
/// stored at the same place the later one kept (sealos saves both; the last write wins).
fn resolve(images: &[ImageRequest]) -> Resolved {
    let mut targets: Vec<Target> = Vec::new();
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    let mut by_destination: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    for (index, request) in images.iter().enumerate() {
        let image = request.image.trim().to_owned();
        if !seen.insert(image.clone()) {
            continue;
        }
        let fail = |error: ImageError| {
            (
                index,
                ImageFailure {
                    image: image.clone(),
                    error,
                },
            )
        };
        let path = match registry_path(&image) {
            Ok(path) => path,
            Err(error) => {
                failures.push(fail(error.into()));
                continue;
            }
        };
        if path.pulled_from.starts_with("docker-daemon:") {
            failures.push(fail(ImageError::UnsupportedTransport {
                transport: "docker-daemon:",
                store: "Docker engine",
            }));
            continue;
        }
        if path.pulled_from.starts_with("containers-storage:") {
            failures.push(fail(ImageError::UnsupportedTransport {
                transport: "containers-storage:",
                store: "containers storage (podman/buildah)",
            }));
            continue;
        }
        let reference: Reference = match path.pulled_from.parse() {
            Ok(reference) => reference,
            Err(e) => {
                failures.push(fail(ImageError::Source {
                    source_ref: path.pulled_from.clone(),
                    message: format!("{e}"),
                }));
                continue;
            }
        };
        let registry = path
            .pulled_from
            .split_once('/')
            .map_or("", |(domain, _)| domain)
            .to_owned();
        let (repository, tag, digest) = match path.path.split_once('@') {
            Some((repository, digest)) => {
                (repository.to_owned(), None, Sha256Digest::parse(digest))
            }
            None => match path.path.rsplit_once(':') {
                Some((repository, tag)) => (repository.to_owned(), Some(tag.to_owned()), None),
                None => (path.path.clone(), Some("latest".to_owned()), None),
            },
        };
        if path.path.contains('@') && digest.is_none() {
            failures.push(fail(ImageError::Source {
                source_ref: path.pulled_from.clone(),
                message: "only sha256 digests can be stored".into(),
            }));
            continue;
        }
        let target = Target {
            index,
            image: image.clone(),
            source: path.pulled_from.clone(),
            reference,
            registry,
            repository,
            tag,
            digest,
            destination: path.path.clone(),
        };
        match by_destination.get(&target.destination) {
            Some(&existing) if targets[existing].source == target.source => {}
            Some(&existing) => {
                warnings.push(format!(
                    "{} and {} are both stored as {} in registry/; {} (listed later) wins, as with sealos",
                    targets[existing].image, target.image, target.destination, target.image
                ));
                targets[existing] = target;
            }
            None => {
                by_destination.insert(target.destination.clone(), targets.len());
                targets.push(target);
            }
        }
    }
    (targets, failures, warnings)
}

impl Engine {
    pub(crate) fn retrier<'a>(&'a self, image: &'a str) -> Retrier<'a> {
        Retrier {
            policy: &self.options.retry,
            cancel: &self.cancel,
            emit: &*self.emit,
            image,
            retries: &self.stats.retries,
        }
    }

    async fn client_for(
        self: &Arc<Self>,
        target: &Target,
    ) -> Result<Arc<RegistryClient>, ImageError> {
        let key = (target.registry.clone(), target.repository.clone());
        let cached = self
            .credential_cache
            .lock()
            .expect("lock poisoned")
            .get(&key)
            .cloned();
        let credential = match cached {
            Some(credential) => credential,
            None => {
                let engine = self.clone();
                let (registry, repository) = key.clone();
                // Credential helpers are programs; keep them off the async workers.
                let found = tokio::task::spawn_blocking(move || {
                    engine.credentials.lookup(&registry, &repository)
                })
                .await
                .unwrap_or_else(|e| Err(format!("credential lookup failed: {e}")));
                self.credential_cache
                    .lock()
                    .expect("lock poisoned")
                    .insert(key, found.clone());
                found
            }
        }
        .map_err(|message| ImageError::Credentials {
            registry: target.registry.clone(),
            message,
        })?;
        let client_key = format!(
            "{}\n{}",
            target.registry,
            credential
                .as_ref()
                .map(|c| format!("{}\n{}", c.username, c.origin))
                .unwrap_or_default()
        );
        let cell = self
            .clients
            .lock()
            .expect("lock poisoned")
            .entry(client_key)
            .or_default()
            .clone();
        let client = cell
            .get_or_init(|| async {
                let insecure = self
                    .options
                    .insecure_registries
                    .iter()
                    .any(|r| r == &target.registry || r == target.reference.resolve_registry());
                let settings = ClientSettings {
                    insecure,
                    connect_timeout: self.options.connect_timeout,
                    read_timeout: self.options.read_timeout,
                };
                let searched = self
                    .credentials
                    .searched()
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                let client = RegistryClient::connect(
                    &target.registry,
                    &target.reference,
                    credential,
                    searched,
                    &settings,
                )
                .await;
                if client.plain_http && insecure {
                    (self.emit)(SaveEvent::Warning {
                        message: format!(
                            "{} does not speak TLS; using plain HTTP (--insecure-registry)",
                            client.name
                        ),
                    });
                }
                Arc::new(client)
            })
            .await;
        Ok(client.clone())
    }

    async fn save_image(self: Arc<Self>, target: Arc<Target>) -> Result<SavedImage, ImageError> {
        (self.emit)(SaveEvent::ImageStarted {
            image: target.image.clone(),
            destination: target.destination.clone(),
        });
        let client = self.client_for(&target).await?;
        let retrier = self.retrier(&target.image);
        client.authenticate(&target.reference, &retrier).await?;
        let top = self
            .fetch_manifest(
                &client,
                &target,
                &target.reference,
                target.digest.as_ref(),
                None,
            )
            .await?;

        let mut loaded = Vec::new();
        for instance in instances_to_load(&self.options, &top, &client.name)? {
            let child_ref = target
                .reference
                .clone_with_digest(instance.descriptor.digest.to_string());
            let child = self
                .fetch_manifest(
                    &client,
                    &target,
                    &child_ref,
                    Some(&instance.descriptor.digest),
                    Some(instance.descriptor.size),
                )
                .await?;
            loaded.push((instance, child));
        }
        // A tag names the platform's image unless the whole list is kept; a digest always names
        // what it names, so the list is stored with the chosen instances.
        let keep_list = self.options.keeps_whole_list() || target.digest.is_some();
        let chosen = Chosen::new(top, loaded, keep_list).map_err(|nested| ImageError::Manifest {
            registry: client.name.clone(),
            error: manifest::ManifestError::MediaType(format!(
                "{} (a manifest list inside a manifest list)",
                nested.media_type
            )),
        })?;
        let blobs: Vec<Descriptor> = chosen.blobs().into_iter().cloned().collect();
        (self.emit)(SaveEvent::ImageResolved {
            image: target.image.clone(),
            manifest_digest: chosen.named.to_string(),
            platforms: chosen.platforms.clone(),
            blobs: blobs.len(),
            bytes: blobs.iter().map(|b| b.size).sum(),
        });

        let mut downloads = futures_util::stream::iter(blobs)
            .map(|descriptor| {
                self.clone()
                    .blob(client.clone(), target.clone(), descriptor)
            })
            .buffer_unordered(self.options.blob_concurrency.max(1));
        let mut first_error = None;
        while let Some(result) = downloads.next().await {
            if let Err(error) = result {
                // Stop at the first failure; shared downloads go on for the images that need them.
                first_error = Some(error);
                break;
            }
        }
        drop(downloads);
        if let Some(error) = first_error {
            return Err(error);
        }
        if self.cancel.is_cancelled() {
            return Err(ImageError::Cancelled);
        }

        let media_type = chosen.media_type().to_owned();
        let engine = self.clone();
        let target2 = target.clone();
        let chosen = tokio::task::spawn_blocking(move || {
            engine
                .write_links(&target2.repository, target2.tag.as_deref(), &chosen)
                .map(|()| chosen)
        })
        .await
        .unwrap_or_else(|e| {
            Err(ImageError::Io {
                path: self.layout.root().to_owned(),
                message: format!("internal error: {e}"),
            })
        })?;

        Ok(SavedImage {
            image: target.image.clone(),
            source: target.source.clone(),
            destination: target.destination.clone(),
            manifest_digest: chosen.named.to_string(),
            media_type,
            platforms: chosen.platforms,
        })
    }

    /// Fetches a manifest (by tag or digest) and verifies it. A manifest named by digest that
    /// an earlier run already stored is read back from `registry/` instead.
    async fn fetch_manifest(
        &self,
        client: &RegistryClient,
        target: &Target,
        reference: &Reference,
        digest: Option<&Sha256Digest>,
        size: Option<u64>,
    ) -> Result<Fetched, ImageError> {
        let registry = client.name.clone();
        let what = match digest {
            Some(d) => format!("manifest {} of {}", d, reference.repository()),
            None => format!(
                "manifest {}:{}",
                reference.repository(),
                reference.tag().unwrap_or("latest")
            ),
        };
        let parse = |bytes: Vec<u8>, digest: Sha256Digest| {
            let manifest = manifest::parse(&bytes).map_err(|error| ImageError::Manifest {
                registry: registry.clone(),
                error,
            })?;
            Ok(Fetched {
                bytes,
                digest,
                manifest,
            })
        };
        if let Some(expected) = digest {
            if let Some(bytes) = self
                .layout
                .read_verified_blob(expected, manifest::MAX_MANIFEST_SIZE)
            {
                if size.is_none_or(|s| s == bytes.len() as u64) {
                    return parse(bytes, expected.clone());
                }
            }
        }
        let retrier = self.retrier(&target.image);
        let (bytes, _) = retrier
            .run(client, &what, |_| {
                client
                    .client
                    .pull_manifest_raw(reference, &client.auth, &manifest::ACCEPTED)
            })
            .await?;
        self.stats.manifests_fetched.fetch_add(1, Ordering::Relaxed);
        if bytes.len() as u64 > manifest::MAX_MANIFEST_SIZE {
            return Err(ImageError::SizeMismatch {
                registry,
                what,
                expected: manifest::MAX_MANIFEST_SIZE,
                actual: bytes.len() as u64,
            });
        }
        let actual = Sha256Digest::of(&bytes);
        if let Some(expected) = digest {
            if actual != *expected {
                return Err(ImageError::DigestMismatch {
                    registry,
                    what,
                    expected: expected.to_string(),
                    actual: actual.to_string(),
                });
            }
        }
        if let Some(size) = size {
            if size != bytes.len() as u64 {
                return Err(ImageError::SizeMismatch {
                    registry,
                    what,
                    expected: size,
                    actual: bytes.len() as u64,
                });
            }
        }
        parse(bytes.to_vec(), actual)
    }

    /// Makes one blob of an image available: already in `registry/`, being downloaded for
    /// another image (wait for it), or downloaded now, once.
    async fn blob(
        self: Arc<Self>,
        client: Arc<RegistryClient>,
        target: Arc<Target>,
        descriptor: Descriptor,
    ) -> Result<(), ImageError> {
        let (future, outcome) = {
            let mut blobs = self.blobs.lock().expect("lock poisoned");
            if let Some(future) = blobs.get(&descriptor.digest) {
                (Some(future.clone()), BlobOutcome::Shared)
            } else if self
                .layout
                .blob_present(&descriptor.digest, descriptor.size)
            {
                (None, BlobOutcome::Present)
            } else {
                let job = fetch::BlobJob {
                    engine: self.clone(),
                    client,
                    reference: target.reference.clone(),
                    digest: descriptor.digest.clone(),
                    size: descriptor.size,
                    image: target.image.clone(),
                };
                let engine = self.clone();
                let registry = target.registry.clone();
                let future = tokio::spawn(fetch::download(job))
                    .map(move |joined| {
                        let result = joined.unwrap_or_else(|e| {
                            Err(ImageError::Network {
                                registry,
                                what: "a blob".into(),
                                message: format!("internal error: {e}"),
                            })
                        });
                        if result.is_ok() {
                            engine
                                .stats
                                .blobs_downloaded
                                .fetch_add(1, Ordering::Relaxed);
                        }
                        result.map(|_| ())
                    })
                    .boxed()
                    .shared();
                blobs.insert(descriptor.digest.clone(), future.clone());
                (Some(future), BlobOutcome::Downloaded)
            }
        };
        if let Some(future) = future {
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return Err(ImageError::Cancelled),
                result = future => result?,
            }
        }
        match outcome {
            BlobOutcome::Present => self.stats.blobs_present.fetch_add(1, Ordering::Relaxed),
            BlobOutcome::Shared => self.stats.blobs_shared.fetch_add(1, Ordering::Relaxed),
            BlobOutcome::Downloaded => 0,
        };
        (self.emit)(SaveEvent::BlobDone {
            image: target.image.clone(),
            digest: descriptor.digest.to_string(),
            size: descriptor.size,
            outcome,
        });
        Ok(())
    }

    /// Writes manifests and links once every blob is in place: layer links, manifest data and
    /// revision links, then the index, and the tag last.
    fn write_links(&self, repository: &str, tag: Option<&str>, chosen: &Chosen) -> Result<(), ImageError> {
        let Chosen { images, index, named, .. } = chosen;
        let layout = &self.layout;
        let sync = self.options.sync;
        let io = |path: std::path::PathBuf| move |e: std::io::Error| ImageError::io(path, &e);
        for image in images {
            if let Manifest::Image { config, layers, .. } = &image.manifest {
                for descriptor in std::iter::once(config).chain(layers) {
                    let link = layout.layer_link_path(repository, &descriptor.digest);
                    layout
                        .write_link(&link, &descriptor.digest)
                        .map_err(io(link))?;
                }
            }
            layout
                .write_blob_bytes(&image.digest, &image.bytes, sync)
                .map_err(io(layout.blob_path(&image.digest)))?;
            let link = layout.revision_link_path(repository, &image.digest);
            layout.write_link(&link, &image.digest).map_err(io(link))?;
        }
        if let Some(index) = index {
            layout
                .write_blob_bytes(&index.digest, &index.bytes, sync)
                .map_err(io(layout.blob_path(&index.digest)))?;
            let link = layout.revision_link_path(repository, &index.digest);
            layout.write_link(&link, &index.digest).map_err(io(link))?;
        }
        if let Some(tag) = tag {
            let link = layout.tag_index_link_path(repository, tag, named);
            layout.write_link(&link, named).map_err(io(link))?;
            let link = layout.tag_current_link_path(repository, tag);
            layout.write_link(&link, named).map_err(io(link))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_to_sealos_paths_and_collisions_keep_the_last() {
        let requests: Vec<ImageRequest> = [
            "nginx:1.25",
            "docker.io/library/nginx:1.25",
            "quay.io/library/nginx:1.25",
            "registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097",
            "Bad:Ref",
            "docker-daemon:foo:1",
            "nginx:1.25",
        ]
        .into_iter()
        .map(ImageRequest::from)
        .collect();
        let (targets, failures, warnings) = resolve(&requests);
        let destinations: Vec<(&str, &str)> = targets
            .iter()
            .map(|t| (t.image.as_str(), t.destination.as_str()))
            .collect();
        assert_eq!(
            destinations,
            vec![
                ("quay.io/library/nginx:1.25", "library/nginx:1.25"),
                (
                    "registry.k8s.io/pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097",
                    "pause@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097"
                ),
            ]
        );
        assert_eq!(targets[0].registry, "quay.io");
        assert_eq!(targets[0].tag.as_deref(), Some("1.25"));
        assert_eq!(targets[1].repository, "pause");
        assert!(targets[1].digest.is_some() && targets[1].tag.is_none());
        assert_eq!(failures.len(), 2);
        assert!(matches!(
            failures[1].1.error,
            ImageError::UnsupportedTransport { .. }
        ));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("quay.io/library/nginx:1.25 (listed later) wins"),
            "{warnings:?}"
        );
    }
}
