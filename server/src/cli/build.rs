//! `kubefile-ls build`: the `sealos build` pipeline (diagnostics → image extraction → save into
//! `registry/` → assembly) with `sealos build`'s flags. The work is done by
//! [`crate::build::pipeline`]; this parses flags, picks the build files and renders progress.

use std::{
    io::{IsTerminal, Write},
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use clap::{ArgAction, Args, ValueEnum};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    analysis::{Config, Severity},
    build::{
        assemble::AssembleRequest,
        base::RegistryImages,
        buildah::BuildahOptions,
        evaluate::BuildInputs,
        output::{self, PushOptions},
        pipeline::{self, Engine, PipelineOptions},
        BuildError, BuildEvent,
    },
    context::{images::ExtractOptions, BuildContext},
    registry::{AuthSource, CancellationToken, Platform, SaveEvent, SaveOptions},
};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    /// Assemble the image in-process (no daemon, no runtime; no RUN).
    Native,
    /// Delegate the assembly to `buildah bud` (vfs storage, chroot isolation).
    Buildah,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Progress bars on a terminal, one line per event otherwise.
    Human,
    /// One JSON event per line on stdout.
    Json,
}

#[derive(Args)]
pub struct BuildArgs {
    /// The build context [default: the current directory].
    context: Option<PathBuf>,
    /// Image name; the first names the image, the others are extra names (repeatable).
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    tags: Vec<String>,
    /// Build file(s), concatenated in order [default: every one of Sealfile, Kubefile,
    /// Dockerfile, Containerfile in the context, as sealos does].
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Pull the context's images into CONTEXT/registry before assembling.
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    save_image: bool,
    /// Images pulled at the same time.
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_pull_procs: usize,
    /// Save every platform of multi-platform images.
    #[arg(long)]
    all: bool,
    /// Platform of the image and of the saved images [default: linux/<host arch>].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Option<String>,
    /// Label added as a final LABEL instruction (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// ENV inserted right after FROM; the Kubefile can read it with ${KEY:-default} (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    envs: Vec<String>,
    /// Value of an ARG (repeatable).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    build_args: Vec<String>,
    /// Creation time and file times of the new layers, in seconds since the epoch (reproducible builds).
    #[arg(long, value_name = "SECONDS")]
    timestamp: Option<u64>,
    /// Credentials file (containers auth.json or Docker config.json).
    #[arg(long, value_name = "FILE")]
    authfile: Option<PathBuf>,
    /// Verify registry certificates (sealos's default is false; ours is true).
    #[arg(long, value_name = "BOOL", default_value_t = true, num_args = 0..=1, default_missing_value = "true", action = ArgAction::Set)]
    tls_verify: bool,
    /// Registry reached without TLS verification, or plain HTTP (repeatable).
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    insecure_registries: Vec<String>,
    /// Where the image goes: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO:TAG
    /// [default: oci:./<name>.oci].
    #[arg(short = 'o', long, value_name = "DEST")]
    output: Option<String>,
    #[arg(long, value_enum, default_value = "native")]
    engine: EngineChoice,
    /// Helm binary used to render charts/ [default: helm on PATH].
    #[arg(long, value_name = "PATH")]
    helm: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Where the finished image goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Destination {
    Layout { dir: PathBuf, tag: Option<String> },
    Archive { file: PathBuf, tag: Option<String> },
    Registry(String),
}

fn parse_destination(text: &str) -> Result<Destination, String> {
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

/// `nginx` for `docker.io/labring/nginx:v1`; the context directory's name without a tag.
fn image_name(tags: &[String], context: &Path) -> String {
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

fn pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, String> {
    values
        .iter()
        .map(|value| match value.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            // buildah takes a bare name from the environment.
            None if !value.is_empty() => std::env::var(value).map(|v| (value.clone(), v)).map_err(|_| format!("{flag} {value}: expected KEY=VALUE")),
            _ => Err(format!("{flag} {value}: expected KEY=VALUE")),
        })
        .collect()
}

/// `-f` files as buildah resolves them, or sealos's discovery in the context.
fn build_files(args: &BuildArgs, context: &Path) -> Result<Vec<PathBuf>, String> {
    if args.files.is_empty() {
        return BuildContext::new(context).build_files().map_err(|e| format!("{e}: {}", context.display()));
    }
    args.files
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

fn options_from(args: &BuildArgs) -> Result<(PipelineOptions, Destination), String> {
    let context = args.context.clone().unwrap_or_else(|| PathBuf::from("."));
    if !context.is_dir() {
        return Err(format!("{} is not a directory", context.display()));
    }
    let platform = match &args.platform {
        None => Platform::host(),
        Some(p) if p.contains(',') => return Err(format!("--platform {p}: one platform per build (sealos builds one arch per invocation)")),
        Some(p) => p.parse().map_err(|e: crate::registry::InvalidPlatform| e.to_string())?,
    };
    if args.max_pull_procs == 0 {
        return Err("--max-pull-procs must be at least 1".into());
    }
    for tag in &args.tags {
        crate::context::reference::Reference::parse_normalized(tag).map_err(|e| format!("tag {tag}: {e}"))?;
    }
    let files = build_files(args, &context)?;
    let name = image_name(&args.tags, &context);
    let destination = match &args.output {
        Some(text) => parse_destination(text)?,
        None => Destination::Layout { dir: PathBuf::from(format!("{name}.oci")), tag: None },
    };
    let (layout_dir, tag) = match &destination {
        Destination::Layout { dir, tag } => (dir.clone(), tag.clone()),
        Destination::Archive { tag, .. } => (scratch_layout(&name), tag.clone()),
        Destination::Registry(_) => (scratch_layout(&name), None),
    };
    let ref_names = match tag {
        Some(tag) => vec![tag],
        None if args.tags.is_empty() => vec!["latest".to_owned()],
        None => args.tags.clone(),
    };
    let build_args = pairs("--build-arg", &args.build_args)?.into_iter().collect();
    let labels = pairs("--label", &args.labels)?;
    let envs = pairs("--env", &args.envs)?;
    let auth = args.authfile.clone().map_or(AuthSource::Default, AuthSource::File);
    let save = SaveOptions {
        platform: platform.clone(),
        all_platforms: args.all,
        max_pull_procs: args.max_pull_procs,
        auth,
        insecure_registries: args.insecure_registries.clone(),
        ..SaveOptions::default()
    };
    let engine = match args.engine {
        EngineChoice::Native => Engine::Native,
        EngineChoice::Buildah => Engine::Buildah(Box::new(BuildahOptions {
            files: files.clone(),
            tags: args.tags.clone(),
            build_args: args.build_args.clone(),
            labels: args.labels.clone(),
            envs: args.envs.clone(),
            platform: args.platform.clone(),
            timestamp: args.timestamp.map(|t| t as i64),
            authfile: args.authfile.clone(),
            tls_verify: args.tls_verify,
            layout_tag: ref_names[0].clone(),
            ..BuildahOptions::default()
        })),
    };
    let assemble = AssembleRequest {
        context: context.clone(),
        build_files: files,
        inputs: BuildInputs { build_args, env: envs, labels, platform: Some(platform.clone()) },
        timestamp: args.timestamp,
        output: layout_dir,
        ref_names,
        platform,
    };
    let options = PipelineOptions {
        assemble,
        engine,
        tls_verify: args.tls_verify,
        save_image: args.save_image,
        save,
        extract: ExtractOptions { helm: args.helm.clone(), ..ExtractOptions::default() },
        base_cache: RegistryImages::default_cache(),
        config: Config::default(),
    };
    Ok((options, destination))
}

/// A private layout directory for images that go to an archive or a registry.
fn scratch_layout(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!("kubefile-ls-build-{name}-{}-{nanos}.oci", std::process::id()))
}

pub fn run(args: BuildArgs) -> ExitCode {
    let (options, destination) = match options_from(&args) {
        Ok(found) => found,
        Err(message) => {
            eprintln!("kubefile-ls build: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kubefile-ls build: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let renderer = Arc::new(Mutex::new(Renderer::new(args.format)));
    let sink = renderer.clone();
    let emit: Arc<dyn Fn(BuildEvent) + Send + Sync> = Arc::new(move |event| sink.lock().expect("renderer lock").event(&event));
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let push_options = PushOptions {
        auth: options.save.auth.clone(),
        tls_verify: args.tls_verify,
        insecure_registries: args.insecure_registries.clone(),
        ..PushOptions::default()
    };
    let layout = options.assemble.output.clone();
    let tag = options.assemble.ref_names.first().cloned();
    let result = runtime.block_on(async {
        let on_interrupt = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let report = pipeline::run(options, emit, cancel.clone()).await?;
        let written = match &destination {
            Destination::Layout { .. } => Ok(report.output.display().to_string()),
            Destination::Archive { file, .. } => {
                let written = output::write_oci_archive(&layout, file).map(|r| r.file.display().to_string());
                let _ = std::fs::remove_dir_all(&layout);
                written.map_err(|e| e.to_string())
            }
            Destination::Registry(target) => {
                let pushed = output::push(&layout, tag.as_deref(), target, &push_options).await.map(|r| r.reference);
                let _ = std::fs::remove_dir_all(&layout);
                pushed.map_err(|e| e.to_string())
            }
        };
        Ok::<_, pipeline::PipelineFailure>((report, written))
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    let mut renderer = renderer.lock().expect("renderer lock");
    renderer.finish();
    match result {
        Ok((report, Ok(written))) => {
            let size = report.assembled.as_ref().map_or_else(String::new, |image| format!(", {} layer(s), {}", image.layers, HumanBytes(image.size)));
            renderer.summary(&format!("built {written} ({}{size}) in {:.1} s", report.manifest_digest, started.elapsed().as_secs_f64()));
            ExitCode::SUCCESS
        }
        Ok((_, Err(message))) => {
            renderer.summary(&format!("error: the image was built but not written: {message}"));
            ExitCode::from(1)
        }
        Err(failure) => {
            for finding in failure.findings.iter().filter(|f| f.severity == Severity::Error) {
                renderer.summary(&format!("{finding}"));
            }
            let message = match &failure.error {
                BuildError::InFile { file, range, message } => position_message(file, range.start, message),
                other => other.to_string(),
            };
            renderer.summary(&format!("error: {message}"));
            if matches!(failure.error, BuildError::Cancelled) {
                ExitCode::from(130)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// `file:line:col: message` for an error inside a build file.
fn position_message(file: &Path, offset: usize, message: &str) -> String {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{}:{line}:{column}: {message}", file.display())
}

/// Renders build events: a spinner with the current step and pull progress on a terminal,
/// lines on stderr otherwise, JSON lines with `--format json`.
struct Renderer {
    format: Format,
    bar: Option<ProgressBar>,
    pulled: u64,
}

impl Renderer {
    fn new(format: Format) -> Self {
        let bar = (format == Format::Human && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(ProgressStyle::with_template("{spinner} [{elapsed_precise}] {prefix:10} {msg}").expect("valid template"));
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        Self { format, bar, pulled: 0 }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn summary(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn event(&mut self, event: &BuildEvent) {
        if self.format == Format::Json {
            if let Ok(json) = serde_json::to_string(event) {
                let _ = writeln!(std::io::stdout().lock(), "{json}");
            }
            return;
        }
        let status = |bar: &Option<ProgressBar>, prefix: &str, message: String| {
            if let Some(bar) = bar {
                bar.set_prefix(prefix.to_owned());
                bar.set_message(message);
            }
        };
        match event {
            BuildEvent::Phase { name } => {
                status(&self.bar, name, String::new());
                if self.bar.is_none() {
                    self.line(&format!("== {name}"));
                }
            }
            BuildEvent::ImagesFound { count } => self.line(&format!("{count} image(s) to save into registry/")),
            BuildEvent::PullingBase { image } => self.line(&format!("pulling base image {image}")),
            BuildEvent::Step { index, total, instruction, .. } => {
                let text = format!("[{index}/{total}] {instruction}");
                match &self.bar {
                    Some(bar) => bar.set_message(text),
                    None => self.line(&text),
                }
            }
            BuildEvent::LayerWritten { digest, size, entries } => {
                if self.bar.is_none() {
                    self.line(&format!("  layer {digest}: {entries} entries, {}", HumanBytes(*size)));
                }
            }
            BuildEvent::Warning { message } => self.line(&format!("warning: {message}")),
            BuildEvent::Log { line } => self.line(line),
            BuildEvent::Written { output, manifest_digest, .. } => {
                if self.bar.is_none() {
                    self.line(&format!("wrote {output} ({manifest_digest})"));
                }
            }
            BuildEvent::Save(save) => self.save_event(save),
        }
    }

    fn save_event(&mut self, event: &SaveEvent) {
        match event {
            SaveEvent::BlobProgress { bytes, .. } => {
                self.pulled += bytes;
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("{} downloaded", HumanBytes(self.pulled)));
                }
            }
            SaveEvent::ImageDone { destination, .. } => self.line(&format!("saved {destination}")),
            SaveEvent::ImageFailed { image, error } => self.line(&format!("error: cannot save {image}: {error}")),
            SaveEvent::Retry { image, what, attempt, reason, .. } => self.line(&format!("retry {attempt}: {image}: {what}: {reason}")),
            SaveEvent::Warning { message } => self.line(&format!("warning: {message}")),
            SaveEvent::Started { images, .. } => self.line(&format!("saving {images} image(s)")),
            SaveEvent::ImageStarted { .. } | SaveEvent::ImageResolved { .. } | SaveEvent::BlobDone { .. } | SaveEvent::Finished { .. } => {}
        }
    }
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
    }
}
