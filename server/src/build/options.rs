//! The flags of `sealos build` as data, and what they mean for the pipeline. `kubefile-ls build`
//! (from its command line) and the editor's `kubefile.build` (from its JSON options) both fill a
//! [`BuildFlags`] and call [`BuildFlags::pipeline_options`], so a flag means the same in both.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use super::{
    assemble::AssembleRequest,
    base::RegistryImages,
    buildah::BuildahOptions,
    evaluate::BuildInputs,
    pipeline::{Engine, PipelineOptions},
};
use crate::{
    analysis::Config,
    context::{images::ExtractOptions, reference::Reference, BuildContext},
    registry::{AuthSource, InvalidPlatform, Platform, SaveOptions},
};

/// Who assembles the image once `registry/` is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineChoice {
    /// In-process: no daemon, no container runtime, no RUN.
    #[default]
    Native,
    /// `buildah bud` (vfs storage, chroot isolation), for build files that RUN.
    Buildah,
}

/// `sealos build`'s flags (same names and meaning), plus where the OCI layout goes.
#[derive(Debug, Clone)]
pub struct BuildFlags {
    pub context: PathBuf,
    /// `-f`, concatenated in order; empty: every one of Sealfile, Kubefile, Dockerfile,
    /// Containerfile in the context, as sealos finds them.
    pub files: Vec<PathBuf>,
    /// `-t`: the first names the image.
    pub tags: Vec<String>,
    pub save_image: bool,
    pub max_pull_procs: usize,
    /// `--all`: every platform of the saved images.
    pub all: bool,
    /// `--platform OS/ARCH[/VARIANT]` [default: the host's].
    pub platform: Option<String>,
    pub labels: Vec<(String, String)>,
    pub envs: Vec<(String, String)>,
    pub build_args: BTreeMap<String, String>,
    pub timestamp: Option<u64>,
    pub authfile: Option<PathBuf>,
    pub tls_verify: bool,
    pub insecure_registries: Vec<String>,
    /// Helm binary for charts/ [default: helm on PATH].
    pub helm: Option<PathBuf>,
    pub engine: EngineChoice,
    /// The OCI layout directory the image is written to.
    pub layout: PathBuf,
    /// The image's name in the layout (`oci:DIR:TAG`); `None`: the tags, or `latest`.
    pub layout_tag: Option<String>,
}

impl BuildFlags {
    /// sealos's defaults for a context; the layout is `<name>.oci` in the current directory.
    pub fn new(context: PathBuf) -> Self {
        Self {
            layout: PathBuf::from(format!("{}.oci", image_name(&[], &context))),
            context,
            files: Vec::new(),
            tags: Vec::new(),
            save_image: true,
            max_pull_procs: SaveOptions::default().max_pull_procs,
            all: false,
            platform: None,
            labels: Vec::new(),
            envs: Vec::new(),
            build_args: BTreeMap::new(),
            timestamp: None,
            authfile: None,
            tls_verify: true,
            insecure_registries: Vec::new(),
            helm: None,
            engine: EngineChoice::Native,
            layout_tag: None,
        }
    }

    /// The pipeline's options, or why the flags cannot be used (a message naming the flag).
    pub fn pipeline_options(&self, config: Config) -> Result<PipelineOptions, String> {
        if !self.context.is_dir() {
            return Err(format!("{} is not a directory", self.context.display()));
        }
        let platform = match &self.platform {
            None => Platform::host(),
            Some(p) if p.contains(',') => return Err(format!("--platform {p}: one platform per build (sealos builds one arch per invocation)")),
            Some(p) => p.parse().map_err(|e: InvalidPlatform| format!("--platform {p}: {e}"))?,
        };
        if self.max_pull_procs == 0 {
            return Err("--max-pull-procs must be at least 1".into());
        }
        for tag in &self.tags {
            Reference::parse_normalized(tag).map_err(|e| format!("tag {tag}: {e}"))?;
        }
        let files = build_files(&self.context, &self.files)?;
        let ref_names = match &self.layout_tag {
            Some(tag) => vec![tag.clone()],
            None if self.tags.is_empty() => vec!["latest".to_owned()],
            None => self.tags.clone(),
        };
        let save = SaveOptions {
            platform: platform.clone(),
            all_platforms: self.all,
            max_pull_procs: self.max_pull_procs,
            auth: self.authfile.clone().map_or(AuthSource::Default, AuthSource::File),
            insecure_registries: self.insecure_registries.clone(),
            ..SaveOptions::default()
        };
        let engine = match self.engine {
            EngineChoice::Native => Engine::Native,
            EngineChoice::Buildah => Engine::Buildah(Box::new(BuildahOptions {
                files: files.clone(),
                tags: self.tags.clone(),
                build_args: assignments(self.build_args.iter()),
                labels: assignments(self.labels.iter().map(|(k, v)| (k, v))),
                envs: assignments(self.envs.iter().map(|(k, v)| (k, v))),
                platform: self.platform.clone(),
                timestamp: self.timestamp.and_then(|t| i64::try_from(t).ok()),
                authfile: self.authfile.clone(),
                tls_verify: self.tls_verify,
                layout_tag: ref_names[0].clone(),
                ..BuildahOptions::default()
            })),
        };
        let assemble = AssembleRequest {
            context: self.context.clone(),
            build_files: files,
            inputs: BuildInputs {
                build_args: self.build_args.clone(),
                env: self.envs.clone(),
                labels: self.labels.clone(),
                platform: Some(platform.clone()),
            },
            timestamp: self.timestamp,
            output: self.layout.clone(),
            ref_names,
            platform,
        };
        Ok(PipelineOptions {
            assemble,
            engine,
            tls_verify: self.tls_verify,
            save_image: self.save_image,
            save,
            extract: ExtractOptions { helm: self.helm.clone(), ..ExtractOptions::default() },
            base_cache: RegistryImages::default_cache(),
            config,
        })
    }
}

/// Where the finished image goes (`--output`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Layout { dir: PathBuf, tag: Option<String> },
    Archive { file: PathBuf, tag: Option<String> },
    Registry(String),
}

pub fn parse_destination(text: &str) -> Result<Destination, String> {
    let split_tag = |rest: &str| -> (PathBuf, Option<String>) {
        match rest.rsplit_once(':') {
            Some((path, tag)) if !tag.is_empty() && !tag.contains('/') => (PathBuf::from(path), Some(tag.to_owned())),
            _ => (PathBuf::from(rest), None),
        }
    };
    if let Some(rest) = text.strip_prefix("oci:") {
        let (dir, tag) = split_tag(rest);
        return Ok(Destination::Layout { dir, tag });
    }
    if let Some(rest) = text.strip_prefix("oci-archive:") {
        let (file, tag) = split_tag(rest);
        return Ok(Destination::Archive { file, tag });
    }
    if text.starts_with("docker://") {
        return Ok(Destination::Registry(text.to_owned()));
    }
    Err(format!("--output {text}: use oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO:TAG"))
}

/// `KEY=VALUE` arguments for buildah.
fn assignments<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> Vec<String> {
    pairs.map(|(key, value)| format!("{key}={value}")).collect()
}

/// `nginx` for `docker.io/labring/nginx:v1`; without a tag, the context directory's name.
pub fn image_name(tags: &[String], context: &Path) -> String {
    let from_tag = tags.first().map(|tag| {
        let without_digest = tag.split('@').next().unwrap_or(tag);
        let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
        last.split(':').next().unwrap_or(last).to_owned()
    });
    let from_dir = || {
        let absolute = std::fs::canonicalize(context).unwrap_or_else(|_| context.to_owned());
        absolute.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().to_lowercase())
    };
    from_tag.filter(|n| !n.is_empty()).unwrap_or_else(from_dir)
}

/// `-f` files as buildah resolves them (relative to the working directory, else the context),
/// or sealos's discovery in the context.
fn build_files(context: &Path, files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if files.is_empty() {
        return BuildContext::new(context).build_files().map_err(|e| format!("{e}: {}", context.display()));
    }
    files
        .iter()
        .map(|file| {
            let path = if file.exists() || file.is_absolute() { file.clone() } else { context.join(file) };
            if path.is_dir() {
                return Err(format!("containerfile: {:?} cannot be path to a directory", file.display().to_string()));
            }
            match std::fs::metadata(&path) {
                Ok(m) if m.len() == 0 => Err(format!("no contents in {:?}", file.display().to_string())),
                Ok(_) => Ok(path),
                Err(e) => Err(format!("{}: {e}", file.display())),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(parse_destination("oci:out/app.oci:v1").unwrap(), Destination::Layout { dir: "out/app.oci".into(), tag: Some("v1".into()) });
        assert_eq!(parse_destination("oci:app.oci").unwrap(), Destination::Layout { dir: "app.oci".into(), tag: None });
        assert_eq!(parse_destination("oci-archive:/tmp/a.tar").unwrap(), Destination::Archive { file: "/tmp/a.tar".into(), tag: None });
        assert_eq!(parse_destination("docker://localhost:5000/app:v1").unwrap(), Destination::Registry("docker://localhost:5000/app:v1".into()));
        assert!(parse_destination("dir:/x").is_err());
    }

    #[test]
    fn image_names() {
        assert_eq!(image_name(&["docker.io/labring/nginx:v1".into()], Path::new(".")), "nginx");
        assert_eq!(image_name(&["localhost:5000/app@sha256:00".into()], Path::new(".")), "app");
        assert_eq!(image_name(&[], Path::new("/no/such/My-App")), "my-app");
    }

    #[test]
    fn flags_become_pipeline_options() {
        let context = tempfile::tempdir().unwrap();
        std::fs::write(context.path().join("Kubefile"), "FROM scratch\n").unwrap();
        let mut flags = BuildFlags::new(context.path().to_owned());
        flags.tags = vec!["localhost/app:v1".into()];
        flags.build_args.insert("V".into(), "1".into());
        flags.engine = EngineChoice::Buildah;
        let options = flags.pipeline_options(Config::default()).unwrap();
        assert_eq!(options.assemble.build_files, [context.path().join("Kubefile")]);
        assert_eq!(options.assemble.ref_names, ["localhost/app:v1"]);
        let Engine::Buildah(buildah) = &options.engine else { panic!("the buildah engine was asked for") };
        assert_eq!(buildah.build_args, ["V=1"]);

        for (change, expected) in [
            (&(|f: &mut BuildFlags| f.platform = Some("linux/amd64,linux/arm64".into())) as &dyn Fn(&mut BuildFlags), "one platform per build"),
            (&|f: &mut BuildFlags| f.max_pull_procs = 0, "--max-pull-procs"),
            (&|f: &mut BuildFlags| f.tags = vec!["Bad Tag".into()], "tag Bad Tag"),
            (&|f: &mut BuildFlags| f.files = vec!["missing".into()], "missing"),
        ] {
            let mut flags = BuildFlags::new(context.path().to_owned());
            change(&mut flags);
            let error = flags.pipeline_options(Config::default()).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
    }
}
