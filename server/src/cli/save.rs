//! `kubefile-ls save`: pull the images of a build context into its `registry/` directory, the
//! step `sealos build` runs before buildah (like `sealos registry save`). The work is done by
//! [`crate::registry::save`]; this only collects the images and renders the progress.

use std::{
    collections::HashMap,
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{Arc, Mutex},
    time::Duration,
};

use clap::{Args, ValueEnum};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    context::{
        images::{self, ExtractOptions},
        BuildContext,
    },
    registry::{
        self, ArchiveRequest, AuthSource, BlobOutcome, CancellationToken, ImageRequest, Platform,
        SaveError, SaveEvent, SaveOptions,
    },
};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Progress bars on a terminal, one line per event otherwise.
    Human,
    /// One JSON event per line on stdout.
    Json,
}

#[derive(Args)]
pub struct SaveArgs {
    /// The build context; images go to CONTEXT/registry.
    context: PathBuf,
    /// Platform kept from multi-platform images [default: linux/<host arch>]. Repeatable or
    /// comma-separated: with several, each platform's image is kept under the manifest list.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_delimiter = ',')]
    platform: Vec<String>,
    /// Keep whole manifest lists with every platform.
    #[arg(long)]
    all: bool,
    /// Images pulled at the same time.
    #[arg(long, value_name = "N", default_value_t = 5)]
    max_pull_procs: usize,
    /// Credentials file (containers auth.json or Docker config.json); replaces the default
    /// lookup ($REGISTRY_AUTH_FILE, containers auth.json, ~/.docker/config.json).
    #[arg(long, value_name = "FILE")]
    authfile: Option<PathBuf>,
    /// Registry reached without TLS verification, or plain HTTP if it has no TLS (repeatable).
    /// Loopback registries (127.0.0.0/8, localhost, ::1) need no flag.
    #[arg(long = "insecure-registry", value_name = "HOST:PORT")]
    insecure_registries: Vec<String>,
    /// Save these images instead of the ones found in the context (repeatable).
    #[arg(long = "image", value_name = "REF")]
    images: Vec<String>,
    /// Helm binary used to render charts/ [default: helm on PATH].
    #[arg(long, value_name = "PATH")]
    helm: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

pub fn run(args: SaveArgs) -> ExitCode {
    let options = match options_from(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("kubefile-ls save: {message}");
            return ExitCode::from(2);
        }
    };
    let (requests, archives) = match requests_from(&args) {
        Ok(requests) => requests,
        Err(messages) => {
            for message in messages {
                eprintln!("kubefile-ls save: {message}");
            }
            return ExitCode::from(1);
        }
    };
    let registry_dir = args.context.join("registry");
    if requests.is_empty() && archives.is_empty() {
        // sealos does not create registry/ when there is nothing to save.
        eprintln!(
            "kubefile-ls save: no images found in {}",
            args.context.display()
        );
        return ExitCode::SUCCESS;
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("kubefile-ls save: cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };
    let renderer = Arc::new(Mutex::new(Renderer::new(
        args.format,
        requests.len() + archives.len(),
    )));
    let sink = renderer.clone();
    let cancel = CancellationToken::new();
    let result = runtime.block_on(async {
        let on_interrupt = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        registry::save_with_archives(
            &requests,
            &archives,
            &registry_dir,
            &options,
            move |event| sink.lock().expect("renderer lock").event(&event),
            cancel.clone(),
        )
        .await
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
    let mut renderer = renderer.lock().expect("renderer lock");
    renderer.finish();
    match result {
        Ok(report) => {
            renderer.summary(&format!(
                "saved {} image(s) into {}",
                report.images.len(),
                registry_dir.display()
            ));
            ExitCode::SUCCESS
        }
        Err(SaveError::Incomplete(report)) => {
            if args.format == Format::Json {
                // The human renderers printed each failure when it happened.
                for failure in &report.failures {
                    renderer.error(&failure.to_string());
                }
            }
            renderer.summary(&format!(
                "{} of {} image(s) could not be saved into {}",
                report.failures.len(),
                report.failures.len() + report.images.len(),
                registry_dir.display()
            ));
            ExitCode::from(1)
        }
        Err(SaveError::Cancelled(report)) => {
            renderer.summary(&format!(
                "cancelled after saving {} image(s); everything in {} is complete, and a new run continues from there",
                report.images.len(),
                registry_dir.display()
            ));
            ExitCode::from(130)
        }
        Err(error) => {
            renderer.error(&error.to_string());
            ExitCode::from(1)
        }
    }
}

fn options_from(args: &SaveArgs) -> Result<SaveOptions, String> {
    let mut platforms = args
        .platform
        .iter()
        .map(|p| p.trim().parse())
        .collect::<Result<Vec<Platform>, registry::InvalidPlatform>>()
        .map_err(|e| e.to_string())?
        .into_iter();
    let platform = platforms.next().unwrap_or_else(Platform::host);
    let extra_platforms = platforms.collect();
    if args.max_pull_procs == 0 {
        return Err("--max-pull-procs must be at least 1".into());
    }
    Ok(SaveOptions {
        platform,
        extra_platforms,
        all_platforms: args.all,
        max_pull_procs: args.max_pull_procs,
        auth: args
            .authfile
            .clone()
            .map_or(AuthSource::Default, AuthSource::File),
        insecure_registries: args.insecure_registries.clone(),
        ..SaveOptions::default()
    })
}

/// `--image` values, or the images and archives `sealos build` would save from the context.
fn requests_from(args: &SaveArgs) -> Result<(Vec<ImageRequest>, Vec<ArchiveRequest>), Vec<String>> {
    if !args.images.is_empty() {
        let images = args
            .images
            .iter()
            .map(|i| ImageRequest::new(i.as_str()))
            .collect();
        return Ok((images, Vec::new()));
    }
    if !args.context.is_dir() {
        return Err(vec![format!(
            "{} is not a directory",
            args.context.display()
        )]);
    }
    let context = BuildContext::new(&args.context);
    let options = ExtractOptions {
        helm: args.helm.clone(),
        ..ExtractOptions::default()
    };
    let index = images::extract(&context, &options);
    if !index.errors.is_empty() {
        return Err(index.errors.iter().map(ToString::to_string).collect());
    }
    let images = index
        .image_list()
        .into_iter()
        .map(ImageRequest::new)
        .collect();
    let archives = index
        .archives
        .iter()
        .map(|archive| ArchiveRequest::from_context(&args.context, archive))
        .collect();
    Ok((images, archives))
}

/// Renders events: indicatif bars on a terminal, lines on stderr otherwise, JSON with `--format json`.
struct Renderer {
    format: Format,
    total: usize,
    done: usize,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    images: HashMap<String, ProgressBar>,
    bytes: u64,
}

impl Renderer {
    fn new(format: Format, total: usize) -> Self {
        let tty = format == Format::Human && std::io::stderr().is_terminal();
        let bars = tty.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} images  {msg}",
                )
                .expect("valid template"),
            );
            overall.enable_steady_tick(Duration::from_millis(100));
            Bars {
                multi,
                overall,
                images: HashMap::new(),
                bytes: 0,
            }
        });
        Self {
            format,
            total,
            done: 0,
            bars,
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.multi.println(text);
            }
            None => {
                let _ = writeln!(std::io::stderr().lock(), "{text}");
            }
        }
    }

    fn error(&self, text: &str) {
        if self.format == Format::Json {
            let _ = writeln!(std::io::stderr().lock(), "error: {text}");
        } else {
            self.line(&format!("error: {text}"));
        }
    }

    fn summary(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    fn finish(&mut self) {
        if let Some(bars) = self.bars.take() {
            for bar in bars.images.values() {
                bar.finish_and_clear();
            }
            bars.overall.finish_and_clear();
        }
    }

    fn event(&mut self, event: &SaveEvent) {
        if self.format == Format::Json {
            if let Ok(json) = serde_json::to_string(event) {
                let _ = writeln!(std::io::stdout().lock(), "{json}");
            }
            return;
        }
        if let SaveEvent::ImageDone { .. } | SaveEvent::ImageFailed { .. } = event {
            self.done += 1;
        }
        match &mut self.bars {
            Some(bars) => Self::bar_event(bars, event),
            None => self.line_event(event),
        }
    }

    fn line_event(&self, event: &SaveEvent) {
        let text = match event {
            SaveEvent::Started {
                images,
                platform,
                all_platforms,
                max_pull_procs,
            } => format!(
                "saving {images} image(s), {} at a time, platform {}",
                max_pull_procs,
                if *all_platforms {
                    "all".to_owned()
                } else {
                    platform.clone()
                }
            ),
            SaveEvent::ImageResolved {
                image,
                manifest_digest,
                blobs,
                bytes,
                ..
            } => {
                format!(
                    "{image}: {manifest_digest}, {blobs} blob(s), {}",
                    human_bytes(*bytes)
                )
            }
            SaveEvent::Retry {
                image,
                registry,
                what,
                attempt,
                delay_ms,
                reason,
            } => {
                format!(
                    "retry {attempt} in {delay_ms} ms: {image}: {what} from {registry}: {reason}"
                )
            }
            SaveEvent::ImageDone {
                destination,
                manifest_digest,
                ..
            } => {
                format!(
                    "[{}/{}] saved {destination} ({manifest_digest})",
                    self.done, self.total
                )
            }
            SaveEvent::ImageFailed { image, error } => {
                format!(
                    "[{}/{}] error: cannot save {image}: {error}",
                    self.done, self.total
                )
            }
            SaveEvent::Warning { message } => format!("warning: {message}"),
            SaveEvent::Finished { blobs_downloaded, bytes_downloaded, blobs_present, blobs_shared, elapsed_ms, .. } => {
                finished_summary(*blobs_downloaded, *bytes_downloaded, *blobs_present, *blobs_shared, *elapsed_ms)
            }
            SaveEvent::ImageStarted { .. }
            | SaveEvent::BlobProgress { .. }
            | SaveEvent::BlobDone { .. } => return,
        };
        self.line(&text);
    }

    fn bar_event(bars: &mut Bars, event: &SaveEvent) {
        let style = || {
            ProgressStyle::with_template(
                "  {prefix:40!} {bar:25} {bytes}/{total_bytes} {bytes_per_sec}",
            )
            .expect("valid template")
        };
        match event {
            SaveEvent::ImageStarted { image, destination } => {
                let bar = bars.multi.add(ProgressBar::new(0));
                bar.set_style(style());
                bar.set_prefix(destination.clone());
                bars.images.insert(image.clone(), bar);
            }
            SaveEvent::ImageResolved { image, bytes, .. } => {
                if let Some(bar) = bars.images.get(image) {
                    bar.set_length(*bytes);
                }
            }
            SaveEvent::BlobProgress { image, bytes, .. } => {
                bars.bytes += bytes;
                bars.overall.set_message(human_bytes(bars.bytes));
                if let Some(bar) = bars.images.get(image) {
                    bar.inc(*bytes);
                }
            }
            SaveEvent::BlobDone {
                image,
                size,
                outcome,
                ..
            } => {
                if *outcome != BlobOutcome::Downloaded {
                    if let Some(bar) = bars.images.get(image) {
                        bar.inc(*size);
                    }
                }
            }
            SaveEvent::ImageDone {
                image, destination, ..
            } => {
                if let Some(bar) = bars.images.remove(image) {
                    bar.finish_and_clear();
                    bars.multi.remove(&bar);
                }
                bars.overall.inc(1);
                let _ = bars.multi.println(format!("saved {destination}"));
            }
            SaveEvent::ImageFailed { image, error } => {
                if let Some(bar) = bars.images.remove(image) {
                    bar.finish_and_clear();
                    bars.multi.remove(&bar);
                }
                bars.overall.inc(1);
                let _ = bars
                    .multi
                    .println(format!("error: cannot save {image}: {error}"));
            }
            SaveEvent::Retry {
                image,
                what,
                attempt,
                reason,
                ..
            } => {
                let _ = bars
                    .multi
                    .println(format!("retry {attempt}: {image}: {what}: {reason}"));
            }
            SaveEvent::Warning { message } => {
                let _ = bars.multi.println(format!("warning: {message}"));
            }
            SaveEvent::Finished { blobs_downloaded, bytes_downloaded, blobs_present, blobs_shared, elapsed_ms, .. } => {
                let _ = bars.multi.println(finished_summary(*blobs_downloaded, *bytes_downloaded, *blobs_present, *blobs_shared, *elapsed_ms));
            }
            SaveEvent::Started { .. } => {}
        }
    }
}

/// The last line of a save, in both the plain log and the progress-bar view.
fn finished_summary(blobs_downloaded: usize, bytes_downloaded: u64, blobs_present: usize, blobs_shared: usize, elapsed_ms: u64) -> String {
    format!(
        "{blobs_downloaded} blob(s) downloaded ({}), {blobs_present} already present, {blobs_shared} shared between images, {:.1} s",
        human_bytes(bytes_downloaded),
        elapsed_ms as f64 / 1000.0
    )
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Command {
        #[command(flatten)]
        args: SaveArgs,
    }

    fn platforms(argv: &[&str]) -> Result<Vec<String>, String> {
        let args = Command::try_parse_from(std::iter::once("save").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?
            .args;
        let options = options_from(&args)?;
        Ok(options.platforms().iter().map(ToString::to_string).collect())
    }

    #[test]
    fn platform_is_repeatable_and_takes_comma_lists_like_sealos() {
        assert_eq!(
            platforms(&["--platform", "linux/amd64,linux/arm64", "--platform", "/arm/v7", "ctx"]).unwrap(),
            ["linux/amd64", "linux/arm64", "linux/arm/v7"]
        );
        assert_eq!(platforms(&["ctx"]).unwrap(), [Platform::host().to_string()]);
        assert_eq!(
            platforms(&["--platform", "linux/amd64,amd64", "ctx"]).unwrap_err(),
            "invalid platform `amd64`: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64 or linux/arm64/v8"
        );
    }

    #[test]
    fn bytes_are_readable() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 << 20), "5.0 MiB");
    }
}
