//! The images `sealos build` saves into `registry/` before buildah runs, found exactly the way
//! sealos finds them (`pkg/sreg/buildimage`), with the place each one comes from.
//!
//! Sources: rendered `charts/`, `manifests/`, `images/shim/` (merged into one sorted set and
//! filtered by `.sealignore`) and `images/skopeo/tar.txt` (kept apart, never filtered).

mod charts;
mod helm;
mod lines;
mod manifests;
mod sealignore;
mod shim;
mod tar_list;

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
    io,
    path::{Path, PathBuf},
};

use serde::Serialize;

use super::{
    reference::{archive_destination_path, registry_path, Escaped, ReferenceError, RegistryPath},
    BuildContext,
};
pub use manifests::{image_lines, is_manifest, ImageLine};
pub use tar_list::archive_path;

use helm::Helm;
use sealignore::SealIgnore;
use tar_list::TarList;

/// How to extract.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// The helm binary; `None` looks for `helm` on `PATH`.
    pub helm: Option<PathBuf>,
    /// Render `charts/` with helm. Without it the scan is fast but chart images are missing.
    pub render_charts: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self { helm: None, render_charts: true }
    }
}

/// Which extraction source an image comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageSource {
    Chart,
    Manifest,
    Shim,
    Tar,
}

/// One place an image is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    /// The image as sealos lists it: normalised for charts and manifests, as written for shim
    /// lines, the destination for `tar.txt` lines.
    pub image: String,
    /// Where it lands in `registry/` (`library/nginx:1.25`); `None` when sealos cannot save it.
    pub registry_path: Option<String>,
    pub source: ImageSource,
    /// Relative to the context root. For charts: `charts/<entry>/<template path in the chart>`.
    pub file: PathBuf,
    /// 1-based. For charts: the line in the template's rendered output.
    pub line: u32,
    /// The `Chart.yaml` name of the chart that rendered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
}

/// An `image:` line sealos ignores because the text after it is not a valid reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub source: ImageSource,
    pub file: PathBuf,
    pub line: u32,
    /// The text sealos tried to parse.
    pub text: String,
    #[serde(serialize_with = "as_display")]
    pub reason: ReferenceError,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chart: Option<String>,
}

/// How an `images/skopeo/tar.txt` archive is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArchiveTransport {
    /// `docker save` format: `manifest.json`, a config and one tar per layer.
    DockerArchive,
    /// An OCI image layout in a tar file.
    OciArchive,
}

impl ArchiveTransport {
    /// The prefix written in `tar.txt`: `docker-archive` or `oci-archive`.
    pub fn name(self) -> &'static str {
        match self {
            Self::DockerArchive => "docker-archive",
            Self::OciArchive => "oci-archive",
        }
    }
}

/// One `images/skopeo/tar.txt` line: an image archive sealos loads into `registry/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archive {
    pub transport: ArchiveTransport,
    /// The archive file, relative to the context root (`images/skopeo/<path>`, cleaned).
    pub path: PathBuf,
    /// The repository (and tag) written after `@`, e.g. `calico/cni:v3.20.0`.
    pub destination: String,
    /// 1-based line in `tar.txt`.
    pub line: u32,
}

/// An image left out by `.sealignore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredImage {
    #[serde(flatten)]
    pub image: ImageRef,
    /// The `.sealignore` line that names it.
    pub sealignore_line: u32,
}

/// Images from different sources that land on the same `registry/` path: the last one saved
/// overwrites the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collision {
    pub registry_path: String,
    /// Every occurrence of the colliding images.
    pub images: Vec<ImageRef>,
}

/// A chart found in `charts/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChartInfo {
    /// `charts/<entry>`.
    pub path: PathBuf,
    /// `name` from `Chart.yaml` (`None` if unreadable, or for an archive without helm).
    pub name: Option<String>,
    /// `charts/<name>.values.yaml` when it exists: sealos overlays it.
    pub values_file: Option<PathBuf>,
    /// Whether helm rendered it, i.e. its images are in the index.
    pub rendered: bool,
}

/// Everything the extraction found.
#[derive(Debug, Default)]
pub struct ImageIndex {
    /// Every occurrence of every image sealos saves, sorted by image (the order of sealos's
    /// sorted set), then by source and place.
    pub images: Vec<ImageRef>,
    pub skipped: Vec<Skipped>,
    pub ignored: Vec<IgnoredImage>,
    pub collisions: Vec<Collision>,
    pub charts: Vec<ChartInfo>,
    /// `charts/*.values.yaml` files that match no chart's `Chart.yaml` name.
    pub orphan_values_files: Vec<PathBuf>,
    /// The archives of `images/skopeo/tar.txt` (their destinations are in `images` too), in
    /// file order. Lines refused in `errors` are left out, except a missing archive.
    pub archives: Vec<Archive>,
    /// Problems that make `sealos build` fail (or that kept this tool from finding images).
    pub errors: Vec<ExtractError>,
}

impl ImageIndex {
    /// sealos's merged image list: each chart, manifest and shim image once, sorted.
    pub fn image_list(&self) -> Vec<&str> {
        let mut list: Vec<&str> = self
            .images
            .iter()
            .filter(|image| image.source != ImageSource::Tar)
            .map(|image| image.image.as_str())
            .collect();
        list.dedup();
        list
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}:{line}: `{}` cannot be saved into registry/: {reason}", file.display(), Escaped(image))]
    InvalidImage { image: String, file: PathBuf, line: u32, reason: ReferenceError },
    #[error("{}:{line}: invalid image format: `{}` has no `@<repository>` destination", file.display(), Escaped(text))]
    TarLineWithoutDestination { file: PathBuf, line: u32, text: String },
    #[error("{}:{line}: invalid image format: `{}` must start with docker-archive: or oci-archive:", file.display(), Escaped(text))]
    TarLineTransport { file: PathBuf, line: u32, text: String },
    #[error("{}:{line}: `{}` contains a control character (shown escaped); kubefile-ls refuses the line", file.display(), Escaped(text))]
    TarLineControlCharacter { file: PathBuf, line: u32, text: String },
    #[error("{}:{line}: the archive {} does not exist", file.display(), archive.display())]
    MissingArchive { file: PathBuf, line: u32, archive: PathBuf },
    #[error(
        "{}:{line}: the archive {} is outside the build context{}; only files inside the context can be saved into registry/",
        file.display(), archive.display(), target.as_ref().map_or_else(String::new, |t| format!(" (it leads to {})", t.display()))
    )]
    ArchiveOutsideContext { file: PathBuf, line: u32, archive: PathBuf, target: Option<PathBuf> },
    #[error(
        "chart {}: {} is a symlink to {}, outside the build context; kubefile-ls does not render charts that read files from outside the context",
        chart.display(), link.display(), target.display()
    )]
    ChartSymlinkOutsideContext { chart: PathBuf, link: PathBuf, target: PathBuf },
    #[error(
        "charts/ holds {charts} chart(s) to render, but {}; install Helm 3 with scripts/install-helm.sh and put it on PATH or configure its path",
        .explicit.as_ref().map_or_else(|| "no `helm` was found on PATH".to_owned(), |p| format!("there is no helm binary at {}", p.display()))
    )]
    HelmNotFound { charts: usize, explicit: Option<PathBuf> },
    #[error("cannot run helm ({}): {source}", helm.display())]
    HelmFailed { helm: PathBuf, source: io::Error },
    #[error("helm cannot render chart {}: {message}", chart.display())]
    ChartRender { chart: PathBuf, message: String },
}

impl ExtractError {
    fn read(root: &Path, path: &Path, source: io::Error) -> Self {
        Self::Read { path: relative(root, path), source }
    }
}

/// Finds every image of the context, the way `sealos build` does.
pub fn extract(context: &BuildContext, options: &ExtractOptions) -> ImageIndex {
    let root = context.root();
    let mut errors = Vec::new();
    let helm = if options.render_charts { start_helm(root, options, &mut errors) } else { None };

    let chart_scan = charts::scan(root, helm.as_ref());
    let mut scan = chart_scan.scan;
    scan.merge(manifests::scan(root));
    scan.merge(shim::scan(root));
    let TarList { scan: tar, archives } = tar_list::scan(root);
    errors.append(&mut scan.errors);

    let sealignore = SealIgnore::load(root).unwrap_or_else(|error| {
        errors.push(error);
        None
    });
    // Each distinct image's registry path is worked out once; `saved_as[i]` indexes it.
    let mut slot_of: HashMap<&str, usize> = HashMap::new();
    let mut saved: Vec<Result<RegistryPath, ReferenceError>> = Vec::new();
    let saved_as: Vec<usize> = scan
        .found
        .iter()
        .map(|found| {
            *slot_of.entry(&found.image).or_insert_with(|| {
                saved.push(registry_path(&found.image));
                saved.len() - 1
            })
        })
        .collect();
    drop(slot_of);
    let mut images = Vec::new();
    let mut ignored = Vec::new();
    let mut sources: Vec<Option<Cow<str>>> = Vec::new();
    for (found, slot) in scan.found.into_iter().zip(saved_as) {
        let saved = &saved[slot];
        let sealignore_line = sealignore.as_ref().and_then(|s| s.line_of(&found.image));
        let path = saved.as_ref().map(|s| s.path.clone()).map_err(Clone::clone);
        let image = found.into_image_ref(path, &mut errors, sealignore_line.is_none());
        match sealignore_line {
            Some(sealignore_line) => ignored.push(IgnoredImage { image, sealignore_line }),
            None => {
                sources.push(saved.as_ref().ok().map(|s| Cow::Borrowed(s.pulled_from.as_str())));
                images.push(image);
            }
        }
    }
    errors.extend(tar.errors);
    for found in tar.found {
        sources.push(Some(Cow::Owned(format!("{}:{}", found.file.display(), found.line))));
        let path = archive_destination_path(&found.image);
        images.push(found.into_image_ref(path, &mut errors, true));
    }

    let collisions = collisions(&images, &sources);
    images.sort_by(sealos_order);
    images.dedup();
    ignored.sort_by(|a, b| sealos_order(&a.image, &b.image));
    ImageIndex {
        images,
        skipped: scan.skipped,
        ignored,
        collisions,
        charts: chart_scan.charts,
        orphan_values_files: chart_scan.orphan_values_files,
        archives,
        errors,
    }
}

/// Helm is needed only when there are charts; its absence is then an error.
fn start_helm(root: &Path, options: &ExtractOptions, errors: &mut Vec<ExtractError>) -> Option<Helm> {
    let charts = charts::count(root);
    if charts == 0 {
        return None;
    }
    let Some(binary) = Helm::locate(options.helm.as_deref()) else {
        errors.push(ExtractError::HelmNotFound { charts, explicit: options.helm.clone() });
        return None;
    };
    Helm::new(binary.clone()).map_err(|source| errors.push(ExtractError::HelmFailed { helm: binary, source })).ok()
}

/// Groups images by registry path; a group is a collision when its images are pulled from
/// more than one source (`nginx` and `docker.io/library/nginx:latest` are the same source).
fn collisions(images: &[ImageRef], sources: &[Option<Cow<str>>]) -> Vec<Collision> {
    let placed = || {
        images.iter().zip(sources).filter_map(|(image, source)| Some((image, image.registry_path.as_deref()?, source.as_deref()?)))
    };
    // A large context names hundreds of thousands of images, almost none of them colliding:
    // first the paths with a second source, then only their images are cloned.
    let mut first_source: HashMap<&str, (&str, bool)> = HashMap::with_capacity(images.len());
    for (_, path, source) in placed() {
        let (first, collides) = first_source.entry(path).or_insert((source, false));
        *collides |= *first != source;
    }
    let mut groups: BTreeMap<&str, Vec<ImageRef>> =
        first_source.into_iter().filter(|(_, (_, collides))| *collides).map(|(path, _)| (path, Vec::new())).collect();
    if groups.is_empty() {
        return Vec::new();
    }
    for (image, path, _) in placed() {
        if let Some(group) = groups.get_mut(path) {
            group.push(image.clone());
        }
    }
    groups
        .into_iter()
        .map(|(path, mut group)| {
            group.sort_by(sealos_order);
            Collision { registry_path: path.to_owned(), images: group }
        })
        .collect()
}

/// By image string, as sealos's sorted set orders them, then by where the image is named.
fn sealos_order(a: &ImageRef, b: &ImageRef) -> std::cmp::Ordering {
    (&a.image, a.source, &a.file, a.line).cmp(&(&b.image, b.source, &b.file, b.line))
}

/// An image as a source reports it, before its registry path is known.
struct Found {
    image: String,
    source: ImageSource,
    file: PathBuf,
    line: u32,
    chart: Option<String>,
}

impl Found {
    /// `report` is false for images `.sealignore` removes: sealos never tries to save them.
    fn into_image_ref(
        self,
        registry_path: Result<String, ReferenceError>,
        errors: &mut Vec<ExtractError>,
        report: bool,
    ) -> ImageRef {
        let registry_path = match registry_path {
            Ok(path) => Some(path),
            Err(reason) => {
                if report {
                    errors.push(ExtractError::InvalidImage {
                        image: self.image.clone(),
                        file: self.file.clone(),
                        line: self.line,
                        reason,
                    });
                }
                None
            }
        };
        ImageRef {
            image: self.image,
            registry_path,
            source: self.source,
            file: self.file,
            line: self.line,
            chart: self.chart,
        }
    }
}

/// What one source found.
#[derive(Default)]
struct Scan {
    found: Vec<Found>,
    skipped: Vec<Skipped>,
    errors: Vec<ExtractError>,
}

impl Scan {
    fn merge(&mut self, other: Scan) {
        self.found.extend(other.found);
        self.skipped.extend(other.skipped);
        self.errors.extend(other.errors);
    }

    /// A source that stops at its first error yields nothing else.
    fn failed(error: ExtractError) -> Self {
        Self { errors: vec![error], ..Self::default() }
    }
}

/// Where `path` leads when it resolves (through symlinks or `..`) to a place outside `root`;
/// `None` when it stays inside or does not exist.
fn outside_context(root: &Path, path: &Path) -> Option<PathBuf> {
    let target = std::fs::canonicalize(path).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    (!target.starts_with(&root)).then_some(target)
}

fn relative(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}

fn as_display<S: serde::Serializer>(value: &impl std::fmt::Display, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn context(files: &[(&str, &str)]) -> (tempfile::TempDir, BuildContext) {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        let context = BuildContext::new(dir.path());
        (dir, context)
    }

    fn fast() -> ExtractOptions {
        ExtractOptions { helm: None, render_charts: false }
    }

    #[test]
    fn sources_are_merged_into_one_sorted_list() {
        let (_dir, ctx) = context(&[
            ("manifests/app.yaml", "image: redis:7\nimage: nginx:1.25\n"),
            ("images/shim/list", "quay.io/a/b:1\nnginx:1.25\n"),
        ]);
        let index = extract(&ctx, &fast());
        assert!(index.errors.is_empty(), "{:?}", index.errors);
        assert_eq!(
            index.image_list(),
            ["docker.io/library/nginx:1.25", "docker.io/library/redis:7", "nginx:1.25", "quay.io/a/b:1"]
        );
    }

    #[test]
    fn every_location_of_an_image_is_kept() {
        let (_dir, ctx) =
            context(&[("manifests/a.yaml", "image: nginx:1.25\n"), ("manifests/b.yaml", "x: 1\nimage: nginx:1.25\n")]);
        let index = extract(&ctx, &fast());
        let places: Vec<String> = index.images.iter().map(|i| format!("{}:{}", i.file.display(), i.line)).collect();
        assert_eq!(places, ["manifests/a.yaml:1", "manifests/b.yaml:2"]);
        assert_eq!(index.image_list(), ["docker.io/library/nginx:1.25"]);
    }

    #[test]
    fn occurrences_are_sorted_by_image_then_source_then_place() {
        let (_dir, ctx) = context(&[
            ("manifests/b.yaml", "image: docker.io/library/nginx:1\nimage: redis:7\nimage: docker.io/library/nginx:1\n"),
            ("manifests/a/z.yaml", "image: nginx:1\n"),
            ("images/shim/list", "docker.io/library/nginx:1\ndocker.io/library/nginx:1\n"),
        ]);
        let index = extract(&ctx, &fast());
        let order: Vec<String> = index
            .images
            .iter()
            .map(|i| format!("{} {:?} {}:{}", i.image, i.source, i.file.display(), i.line))
            .collect();
        assert_eq!(
            order,
            [
                "docker.io/library/nginx:1 Manifest manifests/a/z.yaml:1",
                "docker.io/library/nginx:1 Manifest manifests/b.yaml:1",
                "docker.io/library/nginx:1 Manifest manifests/b.yaml:3",
                "docker.io/library/nginx:1 Shim images/shim/list:1",
                "docker.io/library/nginx:1 Shim images/shim/list:2",
                "docker.io/library/redis:7 Manifest manifests/b.yaml:2",
            ]
        );
    }

    #[test]
    fn registry_path_is_filled_in() {
        let (_dir, ctx) = context(&[("images/shim/list", "registry.k8s.io/pause:3.9\n")]);
        assert_eq!(extract(&ctx, &fast()).images[0].registry_path.as_deref(), Some("pause:3.9"));
    }

    #[test]
    fn invalid_shim_line_is_an_error_with_its_location() {
        let (_dir, ctx) = context(&[("images/shim/list", "ok:1\nnginx:1.25 # web\n")]);
        let index = extract(&ctx, &fast());
        assert_eq!(index.errors.len(), 1);
        assert_eq!(
            index.errors[0].to_string(),
            "images/shim/list:2: `nginx:1.25 # web` cannot be saved into registry/: `nginx:1.25 # web` is not a valid image reference: the `#` comment after the reference is read as part of it"
        );
        assert_eq!(index.images.iter().find(|i| i.line == 2).unwrap().registry_path, None);
    }

    #[test]
    fn sealignore_removes_exact_matches_and_their_errors() {
        let (_dir, ctx) = context(&[
            ("images/shim/list", "nginx:1.25 # web\nredis:7\n"),
            ("manifests/a.yaml", "image: busybox:1\n"),
            (".sealignore", "busybox:1\nnginx:1.25 # web\ndocker.io/library/busybox:1\n"),
        ]);
        let index = extract(&ctx, &fast());
        assert!(index.errors.is_empty(), "{:?}", index.errors);
        assert_eq!(index.image_list(), ["redis:7"]);
        let ignored: Vec<(&str, u32)> =
            index.ignored.iter().map(|i| (i.image.image.as_str(), i.sealignore_line)).collect();
        assert_eq!(ignored, [("docker.io/library/busybox:1", 3), ("nginx:1.25 # web", 2)]);
    }

    #[test]
    fn tar_images_are_listed_apart_from_the_merged_list() {
        let (_dir, ctx) = context(&[
            ("images/skopeo/tar.txt", "docker-archive:cni.tar@calico/cni:v3.20.0\n"),
            ("images/skopeo/cni.tar", ""),
            (".sealignore", "calico/cni:v3.20.0\n"),
        ]);
        let index = extract(&ctx, &fast());
        assert!(index.image_list().is_empty());
        assert_eq!(index.images.len(), 1);
        assert_eq!(index.images[0].source, ImageSource::Tar);
        assert_eq!(index.images[0].registry_path.as_deref(), Some("calico/cni:v3.20.0"));
    }

    #[test]
    fn images_from_different_registries_with_the_same_path_collide() {
        let (_dir, ctx) = context(&[(
            "images/shim/list",
            "quay.io/calico/cni:v3\ndocker.io/calico/cni:v3\nregistry.example.com/calico/cni:v3\n",
        )]);
        let index = extract(&ctx, &fast());
        assert_eq!(index.collisions.len(), 1);
        assert_eq!(index.collisions[0].registry_path, "calico/cni:v3");
        assert_eq!(index.collisions[0].images.len(), 3);
    }

    #[test]
    fn same_image_written_differently_is_not_a_collision() {
        let (_dir, ctx) = context(&[
            ("images/shim/list", "nginx\ndocker.io/library/nginx:latest\n"),
            ("manifests/a.yaml", "image: index.docker.io/library/nginx\n"),
        ]);
        assert!(extract(&ctx, &fast()).collisions.is_empty());
    }

    #[test]
    fn tar_destination_colliding_with_a_pulled_image_is_reported() {
        let (_dir, ctx) = context(&[
            ("images/skopeo/tar.txt", "docker-archive:cni.tar@calico/cni:v3\n"),
            ("images/skopeo/cni.tar", ""),
            ("images/shim/list", "quay.io/calico/cni:v3\n"),
        ]);
        assert_eq!(extract(&ctx, &fast()).collisions.len(), 1);
    }

    #[test]
    fn skipped_manifest_lines_are_reported() {
        let (_dir, ctx) = context(&[("manifests/a.yaml", "image: ${IMG}\n")]);
        let index = extract(&ctx, &fast());
        assert!(index.images.is_empty());
        assert_eq!(index.skipped.len(), 1);
    }

    #[test]
    fn missing_helm_is_an_error_only_when_charts_must_be_rendered() {
        let (_dir, ctx) = context(&[("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n")]);
        let missing = ExtractOptions { helm: Some(PathBuf::from("/nonexistent/helm")), render_charts: true };
        let index = extract(&ctx, &missing);
        assert_eq!(
            index.errors[0].to_string(),
            "charts/ holds 1 chart(s) to render, but there is no helm binary at /nonexistent/helm; install Helm 3 with scripts/install-helm.sh and put it on PATH or configure its path"
        );
        assert!(extract(&ctx, &fast()).errors.is_empty());
        assert!(!extract(&ctx, &fast()).charts[0].rendered);
    }

    #[test]
    fn empty_context_has_nothing() {
        let (_dir, ctx) = context(&[]);
        let index = extract(&ctx, &ExtractOptions::default());
        assert!(index.images.is_empty() && index.errors.is_empty() && index.charts.is_empty());
    }

    #[test]
    fn image_ref_serialises_with_lowercase_source_and_no_empty_chart() {
        let image = ImageRef {
            image: "docker.io/library/nginx:1".into(),
            registry_path: Some("library/nginx:1".into()),
            source: ImageSource::Manifest,
            file: PathBuf::from("manifests/a.yaml"),
            line: 3,
            chart: None,
        };
        assert_eq!(
            serde_json::to_string(&image).unwrap(),
            r#"{"image":"docker.io/library/nginx:1","registry_path":"library/nginx:1","source":"manifest","file":"manifests/a.yaml","line":3}"#
        );
    }
}
