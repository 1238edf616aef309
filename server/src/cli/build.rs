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
        options::{self, image_name, parse_destination, BuildFlags, Destination},
        output::{self, PushOptions},
        pipeline::{self, PipelineOptions},
        BuildError, BuildEvent,
    },
    registry::{CancellationToken, SaveEvent},
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

fn options_from(args: &BuildArgs) -> Result<(PipelineOptions, Destination), String> {
    let context = args.context.clone().unwrap_or_else(|| PathBuf::from("."));
    let name = image_name(&args.tags, &context);
    let destination = match &args.output {
        Some(text) => parse_destination(text)?,
        None => Destination::Layout { dir: PathBuf::from(format!("{name}.oci")), tag: None },
    };
    let (layout, layout_tag) = match &destination {
        Destination::Layout { dir, tag } => (dir.clone(), tag.clone()),
        Destination::Archive { tag, .. } => (scratch_layout(&name), tag.clone()),
        Destination::Registry(_) => (scratch_layout(&name), None),
    };
    let flags = BuildFlags {
        files: args.files.clone(),
        tags: args.tags.clone(),
        save_image: args.save_image,
        max_pull_procs: args.max_pull_procs,
        all: args.all,
        platform: args.platform.clone(),
        labels: pairs("--label", &args.labels)?,
        envs: pairs("--env", &args.envs)?,
        build_args: pairs("--build-arg", &args.build_args)?.into_iter().collect(),
        timestamp: args.timestamp,
        authfile: args.authfile.clone(),
        tls_verify: args.tls_verify,
        insecure_registries: args.insecure_registries.clone(),
        helm: args.helm.clone(),
        engine: match args.engine {
            EngineChoice::Native => options::EngineChoice::Native,
            EngineChoice::Buildah => options::EngineChoice::Buildah,
        },
        layout,
        layout_tag,
        ..BuildFlags::new(context)
    };
    Ok((flags.pipeline_options(Config::default())?, destination))
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
