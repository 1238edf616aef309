//! `workspace/executeCommand` `kubefile.build`: runs [`crate::build::pipeline`] (the pipeline of
//! `kubefile-ls build`) for one Kubefile, in a task of its own, and renders its events for the
//! editor: `$/progress` (begin, a report per stage, end), `window/logMessage` lines, the result
//! by `window/showMessage` and as the command's value, and failures located in context files
//! (an image that cannot be pulled, a missing COPY source, a chart helm cannot render) as
//! diagnostics of those files.
//!
//! Cancellation: `window/workDoneProgress/cancel` for the build's token, or `$/cancelRequest`
//! (which drops the request's future). Either cancels the pipeline's token; the pipeline stops
//! at its next check and the save never leaves `registry/` inconsistent. The task then still
//! ends the progress and logs the outcome.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    str::FromStr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use dashmap::DashMap;
use indicatif::HumanBytes;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tower_lsp_server::{
    jsonrpc::{Error, ErrorCode, Result},
    ls_types::{self as lsp, notification, Uri},
};

use super::{contexts, convert, session::Session};
use crate::{
    analysis::{docs::Locale, Severity},
    build::{
        options::{image_name, parse_destination, BuildFlags, Destination},
        pipeline::{self, PipelineFailure, PipelineOptions, PipelineReport},
        BuildError, BuildEvent,
    },
    context::images::{ExtractError, ImageSource},
    registry::{CancellationToken, SaveEvent},
    syntax::SourceFile,
};

/// `kubefile.build` [uri, options?]: builds the image of the Kubefile at `uri` (its directory
/// is the build context). `options` is an object with the optional members of
/// [`BuildCommandOptions`].
pub const BUILD: &str = "kubefile.build";

/// `source` of the diagnostics a build publishes, so they read apart from the analysis's.
const SOURCE: &str = "kubefile-ls build";

/// Progress reports while bytes stream in are sent at most this often.
const REPORT_INTERVAL: Duration = Duration::from_millis(200);

/// Builds in flight and the diagnostics the last build published.
#[derive(Default)]
pub struct Builds {
    /// Cancel tokens of running builds by progress token (as JSON text).
    running: DashMap<String, CancellationToken>,
    /// Per file URI, what the last build published there.
    published: Mutex<HashMap<Uri, Vec<lsp::Diagnostic>>>,
    /// Numbers the progress tokens the server creates itself.
    next_token: AtomicU64,
    /// Contexts being built: two builds would write the same `registry/` and output.
    contexts: DashMap<PathBuf, ()>,
}

/// A context claimed by a build until its task ends (after a cancellation too).
struct ContextClaim {
    session: Arc<Session>,
    dir: PathBuf,
}

impl Drop for ContextClaim {
    fn drop(&mut self) {
        self.session.builds.contexts.remove(&self.dir);
    }
}

impl Builds {
    /// The build diagnostics of `uri`: the ordinary publisher adds them to the analysis's.
    pub fn diagnostics(&self, uri: &Uri) -> Vec<lsp::Diagnostic> {
        self.published.lock().expect("build diagnostics lock").get(uri).cloned().unwrap_or_default()
    }
}

/// The second argument of `kubefile.build`; every member is optional and means what the
/// `kubefile-ls build` flag of the same name means.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct BuildCommandOptions {
    /// `-t`: the first names the image.
    tags: Vec<String>,
    /// `--save-image` (default true).
    save_image: Option<bool>,
    /// `--platform OS/ARCH[/VARIANT]`.
    platform: Option<String>,
    /// `--build-arg`, as `{NAME: value}`.
    build_args: BTreeMap<String, String>,
    /// `--label`, as `{key: value}`.
    labels: BTreeMap<String, String>,
    /// `--env`, as `{NAME: value}`.
    envs: BTreeMap<String, String>,
    /// `--output oci:DIR[:TAG]`; a relative DIR is in the context [default: CONTEXT/<name>.oci].
    output: Option<String>,
    /// `--timestamp` (seconds since the epoch).
    timestamp: Option<u64>,
    /// `--max-pull-procs` (default 5).
    max_pull_procs: Option<usize>,
    /// `--all`: every platform of the saved images.
    all: bool,
    /// `--tls-verify` (default true).
    tls_verify: Option<bool>,
    /// `--insecure-registry HOST:PORT`.
    insecure_registries: Vec<String>,
    /// `--authfile`.
    authfile: Option<PathBuf>,
}

/// What a build needs besides the pipeline's options: where the Kubefile is, what to call the image.
struct Plan {
    kubefile: PathBuf,
    context: PathBuf,
    image: String,
    tags: Vec<String>,
    options: PipelineOptions,
}

fn invalid(message: impl std::fmt::Display) -> Error {
    Error::invalid_params(format!("{BUILD}: {message}"))
}

fn plan(session: &Session, arguments: &[Value]) -> Result<Plan> {
    let uri = arguments
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the first argument must be the URI of a Kubefile"))?;
    let uri = Uri::from_str(uri).map_err(|error| invalid(format!("`{uri}` is not a URI: {error}")))?;
    let kubefile =
        contexts::file_path(&uri).ok_or_else(|| invalid(format!("`{}` is not a local file", uri.as_str())))?;
    if !kubefile.is_file() {
        return Err(invalid(format!("{} does not exist (save it first)", kubefile.display())));
    }
    let context = kubefile
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| invalid(format!("{} has no directory", kubefile.display())))?;
    let flags: BuildCommandOptions = match arguments.get(1) {
        None | Some(Value::Null) => BuildCommandOptions::default(),
        Some(value) => serde_json::from_value(value.clone()).map_err(|error| invalid(format!("options: {error}")))?,
    };
    let image = image_name(&flags.tags, &context);
    let (layout, layout_tag) = match &flags.output {
        None => (context.join(format!("{image}.oci")), None),
        Some(text) => match parse_destination(text).map_err(invalid)? {
            Destination::Layout { dir, tag } => (context.join(dir), tag),
            Destination::Archive { .. } | Destination::Registry(_) => return Err(invalid(format!(
                "output {text}: the editor command writes OCI layouts only (oci:DIR[:TAG]); `kubefile-ls build` also pushes and writes archives"
            ))),
        },
    };
    let defaults = BuildFlags::new(context.clone());
    let build_flags = BuildFlags {
        files: vec![kubefile.clone()],
        tags: flags.tags.clone(),
        save_image: flags.save_image.unwrap_or(defaults.save_image),
        max_pull_procs: flags.max_pull_procs.unwrap_or(defaults.max_pull_procs),
        all: flags.all,
        platform: flags.platform.clone(),
        labels: flags.labels.into_iter().collect(),
        envs: flags.envs.into_iter().collect(),
        build_args: flags.build_args,
        timestamp: flags.timestamp,
        authfile: flags.authfile,
        tls_verify: flags.tls_verify.unwrap_or(defaults.tls_verify),
        insecure_registries: flags.insecure_registries,
        helm: session.config.helm_path(),
        layout,
        layout_tag,
        ..defaults
    };
    let options = build_flags.pipeline_options((*session.config.current()).clone()).map_err(invalid)?;
    Ok(Plan { kubefile, context, image, tags: flags.tags, options })
}

/// The "Build image" code action (kind `source`, offered anywhere in a Kubefile).
pub fn code_action(uri: &Uri, locale: Locale) -> lsp::CodeAction {
    let title = match locale {
        Locale::En => "Build image",
        Locale::ZhCn => "构建镜像",
    };
    lsp::CodeAction {
        title: title.to_owned(),
        kind: Some(lsp::CodeActionKind::SOURCE),
        command: Some(lsp::Command {
            title: title.to_owned(),
            command: BUILD.to_owned(),
            arguments: Some(vec![Value::String(uri.as_str().to_owned())]),
        }),
        ..lsp::CodeAction::default()
    }
}

/// Cancels the build when the request's future is dropped (`$/cancelRequest`); forgets its token.
struct RunningBuild {
    session: Arc<Session>,
    key: Option<String>,
    cancel: CancellationToken,
}

impl Drop for RunningBuild {
    fn drop(&mut self) {
        self.cancel.cancel();
        if let Some(key) = &self.key {
            self.session.builds.running.remove(key);
        }
    }
}

fn token_key(token: &lsp::ProgressToken) -> String {
    serde_json::to_string(token).unwrap_or_default()
}

/// `window/workDoneProgress/cancel`: stops the build reporting to `token`, if one is running.
pub fn cancel(session: &Session, token: &lsp::ProgressToken) {
    if let Some(running) = session.builds.running.get(&token_key(token)) {
        tracing::info!("build cancelled by the client ({})", token_key(token));
        running.cancel();
    }
}

pub async fn execute(session: &Arc<Session>, params: lsp::ExecuteCommandParams) -> Result<Value> {
    let plan = plan(session, &params.arguments)?;
    if session.builds.contexts.insert(plan.context.clone(), ()).is_some() {
        return Err(Error {
            code: ErrorCode::ServerError(-32803),
            message: format!("{} is being built already; wait for that build or cancel it", plan.context.display()).into(),
            data: None,
        });
    }
    let claim = ContextClaim { session: session.clone(), dir: plan.context.clone() };
    let token = match params.work_done_progress_params.work_done_token {
        Some(token) => Some(token),
        None if session.negotiated().work_done_progress => {
            let number = session.builds.next_token.fetch_add(1, Ordering::Relaxed);
            let token = lsp::ProgressToken::String(format!("kubefile-ls/build/{number}"));
            match session.client.create_work_done_progress(token.clone()).await {
                Ok(()) => Some(token),
                Err(error) => {
                    tracing::warn!("window/workDoneProgress/create failed: {error}");
                    None
                }
            }
        }
        None => None,
    };
    let cancel = CancellationToken::new();
    let key = token.as_ref().map(token_key);
    if let Some(key) = &key {
        session.builds.running.insert(key.clone(), cancel.clone());
    }
    let _running = RunningBuild { session: session.clone(), key, cancel: cancel.clone() };
    let task = tokio::spawn({
        let session = session.clone();
        async move {
            let _claim = claim;
            run(session, plan, token, cancel).await
        }
    });
    task.await.unwrap_or_else(|error| {
        tracing::error!("the build task failed: {error}");
        Err(Error::internal_error())
    })
}

/// Runs the pipeline and renders everything it reports; the command's response.
async fn run(
    session: Arc<Session>,
    plan: Plan,
    token: Option<lsp::ProgressToken>,
    cancel: CancellationToken,
) -> Result<Value> {
    let started = Instant::now();
    let progress = Progress { session: session.clone(), token };
    progress.begin(&format!("Building {}", plan.image), &format!("checking {}", plan.kubefile.display())).await;
    log(
        &session,
        lsp::MessageType::INFO,
        format!("kubefile-ls: building {} in {}", plan.image, plan.context.display()),
    )
    .await;

    let (sender, mut events) = mpsc::unbounded_channel();
    let emit: Arc<dyn Fn(BuildEvent) + Send + Sync> = Arc::new(move |event| {
        let _ = sender.send(event);
    });
    let mut pipeline = tokio::spawn(pipeline::run(plan.options.clone(), emit, cancel));
    let mut stages = Stages::default();
    let mut flush = tokio::time::interval(REPORT_INTERVAL);
    let outcome = loop {
        tokio::select! {
            biased;
            Some(event) = events.recv() => stages.event(&session, &progress, &event).await,
            _ = flush.tick() => stages.flush(&progress).await,
            outcome = &mut pipeline => {
                // The pipeline is done, so every event is queued: render them before the end.
                while let Ok(event) = events.try_recv() {
                    stages.event(&session, &progress, &event).await;
                }
                break outcome;
            }
        }
    };
    let outcome = outcome.unwrap_or_else(|error| {
        Err(PipelineFailure { error: BuildError::Io(format!("the build task failed: {error}")), findings: Vec::new() })
    });
    let seconds = started.elapsed().as_secs_f64();
    match outcome {
        Ok(report) => {
            publish_located(&session, Vec::new()).await;
            let result = success(&plan, &report, seconds);
            let summary = format!(
                "Built {} ({}, {}) in {seconds:.1} s: {}",
                result["image"].as_str().unwrap_or_default(),
                report.manifest_digest,
                HumanBytes(result["size"].as_u64().unwrap_or(0)),
                report.output.display()
            );
            progress.end(&summary).await;
            log(&session, lsp::MessageType::INFO, format!("kubefile-ls: {summary}")).await;
            session.show_message(lsp::MessageType::INFO, summary);
            Ok(result)
        }
        Err(failure) if matches!(failure.error, BuildError::Cancelled) => {
            progress.end("cancelled").await;
            log(&session, lsp::MessageType::INFO, format!("kubefile-ls: the build of {} was cancelled", plan.image))
                .await;
            Err(Error { code: ErrorCode::RequestCancelled, message: "build cancelled".into(), data: None })
        }
        Err(failure) => {
            let located = locate(&session, &plan, &failure, &stages.failed_images).await;
            let message = failure.error.to_string();
            progress.end(&format!("failed: {message}")).await;
            log(
                &session,
                lsp::MessageType::ERROR,
                format!("kubefile-ls: the build of {} failed: {message}", plan.image),
            )
            .await;
            let errors: Vec<String> = failure
                .findings
                .iter()
                .filter(|finding| finding.severity == Severity::Error)
                .map(ToString::to_string)
                .collect();
            for error in &errors {
                log(&session, lsp::MessageType::ERROR, error.clone()).await;
            }
            publish_located(&session, located).await;
            // -32803: RequestFailed (LSP 3.17), the request was valid but the build did not succeed.
            Err(Error {
                code: ErrorCode::ServerError(-32803),
                message: format!("build failed: {message}").into(),
                data: Some(json!({ "errors": errors })),
            })
        }
    }
}

/// The command's result: what `window/showMessage` says, as data.
fn success(plan: &Plan, report: &PipelineReport, seconds: f64) -> Value {
    let size = report.assembled.as_ref().map_or(0, |image| image.size);
    json!({
        "image": plan.tags.first().cloned().unwrap_or_else(|| plan.image.clone()),
        "tags": plan.tags,
        "digest": report.manifest_digest,
        "size": size,
        "layers": report.assembled.as_ref().map(|image| image.layers),
        "output": report.output,
        "imagesSaved": report.saved.as_ref().map_or(0, |saved| saved.images.len()),
        "seconds": (seconds * 10.0).round() / 10.0,
    })
}

async fn log(session: &Session, typ: lsp::MessageType, message: String) {
    session.client.log_message(typ, message).await;
}

/// `$/progress` for one token; nothing when the client gave none and cannot create one.
struct Progress {
    session: Arc<Session>,
    token: Option<lsp::ProgressToken>,
}

impl Progress {
    async fn send(&self, value: lsp::WorkDoneProgress) {
        let Some(token) = &self.token else { return };
        let params = lsp::ProgressParams { token: token.clone(), value: lsp::ProgressParamsValue::WorkDone(value) };
        self.session.client.send_notification::<notification::Progress>(params).await;
    }

    async fn begin(&self, title: &str, message: &str) {
        self.send(lsp::WorkDoneProgress::Begin(lsp::WorkDoneProgressBegin {
            title: title.to_owned(),
            cancellable: Some(true),
            message: Some(message.to_owned()),
            percentage: Some(0),
        }))
        .await;
    }

    async fn report(&self, message: String, percentage: u32) {
        self.send(lsp::WorkDoneProgress::Report(lsp::WorkDoneProgressReport {
            cancellable: Some(true),
            message: Some(message),
            percentage: Some(percentage),
        }))
        .await;
    }

    async fn end(&self, message: &str) {
        self.send(lsp::WorkDoneProgress::End(lsp::WorkDoneProgressEnd { message: Some(message.to_owned()) })).await;
    }
}

/// Where the build is, for the progress messages: the stage and the pull counters.
#[derive(Default)]
struct Stages {
    percentage: u32,
    images: usize,
    images_done: usize,
    bytes: u64,
    bytes_done: u64,
    last_report: Option<Instant>,
    /// Bytes arrived since the last report (held back by [`REPORT_INTERVAL`]).
    unreported_bytes: bool,
    /// Images the save could not pull, with the reason.
    failed_images: Vec<(String, String)>,
}

impl Stages {
    /// The share of the bar each stage ends at: check 5, extract 10, save 75, assemble 95.
    fn at_least(&mut self, percentage: u32) -> u32 {
        self.percentage = self.percentage.max(percentage.min(100));
        self.percentage
    }

    fn pull_message(&self) -> String {
        let mut message = format!("pull {}/{} images", self.images_done, self.images);
        if self.bytes > 0 {
            message.push_str(&format!(", {} of {}", HumanBytes(self.bytes_done), HumanBytes(self.bytes)));
        } else if self.bytes_done > 0 {
            message.push_str(&format!(", {}", HumanBytes(self.bytes_done)));
        }
        message
    }

    fn pull_percentage(&self) -> u32 {
        let fraction = if self.bytes > 0 {
            self.bytes_done.min(self.bytes) as f64 / self.bytes as f64
        } else if self.images > 0 {
            self.images_done as f64 / self.images as f64
        } else {
            0.0
        };
        10 + (fraction * 65.0) as u32
    }

    async fn event(&mut self, session: &Session, progress: &Progress, event: &BuildEvent) {
        let (message, percentage, line) = match event {
            BuildEvent::Phase { name } => {
                let (message, percentage) = match name.as_str() {
                    "check" => ("checking the Kubefile".to_owned(), 0),
                    "extract" => ("extracting images".to_owned(), 5),
                    "save" => ("pulling images".to_owned(), 10),
                    "assemble" => ("assembling the image".to_owned(), 75),
                    "write" => ("writing the image".to_owned(), 95),
                    other => (other.to_owned(), self.percentage),
                };
                (Some(message), percentage, Some(format!("== {name}")))
            }
            BuildEvent::ImagesFound { count } => {
                self.images = *count;
                (None, self.percentage, Some(format!("{count} image(s) to save into registry/")))
            }
            BuildEvent::PullingBase { image } => (
                Some(format!("pulling base image {image}")),
                self.percentage,
                Some(format!("pulling base image {image}")),
            ),
            BuildEvent::Step { index, total, instruction, .. } => {
                let percentage = 75 + (*index as u32 * 20) / (*total).max(1) as u32;
                (
                    Some(format!("[{index}/{total}] {instruction}")),
                    percentage,
                    Some(format!("[{index}/{total}] {instruction}")),
                )
            }
            BuildEvent::LayerWritten { digest, size, entries } => {
                (None, self.percentage, Some(format!("  layer {digest}: {entries} entries, {}", HumanBytes(*size))))
            }
            BuildEvent::Warning { message } => {
                log(session, lsp::MessageType::WARNING, format!("warning: {message}")).await;
                return;
            }
            BuildEvent::Log { line } => (None, self.percentage, Some(line.clone())),
            BuildEvent::Written { output, manifest_digest, size } => (
                Some("image written".to_owned()),
                100,
                Some(format!("wrote {output} ({manifest_digest}, {})", HumanBytes(*size))),
            ),
            BuildEvent::Save(save) => return self.save_event(session, progress, save).await,
        };
        if let Some(line) = line {
            log(session, lsp::MessageType::LOG, line).await;
        }
        let percentage = self.at_least(percentage);
        if let Some(message) = message {
            self.last_report = Some(Instant::now());
            progress.report(message, percentage).await;
        }
    }

    async fn save_event(&mut self, session: &Session, progress: &Progress, event: &SaveEvent) {
        let line = match event {
            SaveEvent::Started { images, .. } => {
                self.images = *images;
                Some(format!("saving {images} image(s)"))
            }
            SaveEvent::ImageResolved { bytes, .. } => {
                self.bytes += bytes;
                None
            }
            SaveEvent::BlobProgress { bytes, .. } => {
                self.bytes_done += bytes;
                if self.last_report.is_some_and(|last| last.elapsed() < REPORT_INTERVAL) {
                    self.unreported_bytes = true;
                    return;
                }
                None
            }
            SaveEvent::ImageDone { destination, .. } => {
                self.images_done += 1;
                Some(format!("saved {destination}"))
            }
            SaveEvent::ImageFailed { image, error } => {
                self.images_done += 1;
                self.failed_images.push((image.clone(), error.clone()));
                Some(format!("error: cannot save {image}: {error}"))
            }
            SaveEvent::Retry { image, what, attempt, reason, .. } => {
                Some(format!("retry {attempt}: {image}: {what}: {reason}"))
            }
            SaveEvent::Warning { message } => Some(format!("warning: {message}")),
            SaveEvent::ImageStarted { .. } | SaveEvent::BlobDone { .. } | SaveEvent::Finished { .. } => return,
        };
        if let Some(line) = line {
            log(session, lsp::MessageType::LOG, line).await;
        }
        self.report_pull(progress).await;
    }

    async fn report_pull(&mut self, progress: &Progress) {
        let percentage = self.at_least(self.pull_percentage());
        self.last_report = Some(Instant::now());
        self.unreported_bytes = false;
        progress.report(self.pull_message(), percentage).await;
    }

    /// Reports the bytes held back, once the interval has passed.
    async fn flush(&mut self, progress: &Progress) {
        if self.unreported_bytes && self.last_report.is_none_or(|last| last.elapsed() >= REPORT_INTERVAL) {
            self.report_pull(progress).await;
        }
    }
}

// --- failures as diagnostics ------------------------------------------------------------------

/// A failure at a place in a file of the context.
struct Located {
    path: PathBuf,
    place: Place,
    message: String,
}

enum Place {
    /// 1-based; the diagnostic spans the line's text.
    Line(u32),
    /// Byte offsets in the file.
    Range(std::ops::Range<usize>),
}

/// The failures of a build that have a place: images the save could not pull (at each line
/// naming them), an instruction the assembly refused (a missing COPY source), and lines or
/// charts the extraction refused (a helm render error at the chart's `Chart.yaml`). The build
/// file's own diagnostics are left out: the analysis shows them already.
async fn locate(
    session: &Session,
    plan: &Plan,
    failure: &PipelineFailure,
    failed_images: &[(String, String)],
) -> Vec<Located> {
    let mut located = Vec::new();
    match &failure.error {
        BuildError::InFile { file, range, message } => {
            located.push(Located { path: file.clone(), place: Place::Range(range.clone()), message: message.clone() })
        }
        BuildError::Instruction { range, message, .. } => {
            // The editor builds one file, so that is the one the index names.
            located.push(Located {
                path: plan.kubefile.clone(),
                place: Place::Range(range.clone()),
                message: message.clone(),
            })
        }
        BuildError::Save(_) | BuildError::Extract(_) => {
            let rendered = session.contexts.rendered(&plan.context, session.config.helm_path()).await;
            for (image, error) in failed_images {
                for place in rendered.index.images.iter().filter(|place| &place.image == image) {
                    let message = format!("cannot pull {image}: {error}");
                    let found = match place.source {
                        ImageSource::Chart => chart_file(&plan.context, &place.file).map(|path| Located {
                            path,
                            place: Place::Line(1),
                            message: format!("{message} (rendered from {}:{})", place.file.display(), place.line),
                        }),
                        _ => Some(Located {
                            path: plan.context.join(&place.file),
                            place: Place::Line(place.line),
                            message,
                        }),
                    };
                    located.extend(found);
                }
            }
            if matches!(failure.error, BuildError::Extract(_)) {
                located.extend(rendered.index.errors.iter().filter_map(|error| extract_error(&plan.context, error)));
            }
        }
        _ => {}
    }
    located
}

/// `charts/<entry>/Chart.yaml` for a file under `charts/<entry>/`; `None` for a packaged chart
/// (an archive has no file an editor could show).
fn chart_file(context: &Path, file: &Path) -> Option<PathBuf> {
    let chart: PathBuf = file.components().take(2).collect();
    Some(context.join(chart).join("Chart.yaml")).filter(|path| path.is_file())
}

fn extract_error(context: &Path, error: &ExtractError) -> Option<Located> {
    let message = error.to_string();
    let (path, line) = match error {
        ExtractError::InvalidImage { file, line, .. }
        | ExtractError::TarLineWithoutDestination { file, line, .. }
        | ExtractError::TarLineTransport { file, line, .. }
        | ExtractError::TarLineControlCharacter { file, line, .. }
        | ExtractError::MissingArchive { file, line, .. }
        | ExtractError::ArchiveOutsideContext { file, line, .. } => (context.join(file), *line),
        ExtractError::ChartRender { chart, .. } | ExtractError::ChartSymlinkOutsideContext { chart, .. } => {
            (chart_file(context, chart)?, 1)
        }
        ExtractError::Read { .. } | ExtractError::HelmNotFound { .. } | ExtractError::HelmFailed { .. } => return None,
    };
    Some(Located { path, place: Place::Line(line), message })
}

fn diagnostic(file: &SourceFile, located: &Located, encoding: crate::syntax::PositionEncoding) -> lsp::Diagnostic {
    let text = file.text();
    let range = match &located.place {
        Place::Range(range) => range.start.min(text.len())..range.end.min(text.len()),
        Place::Line(line) => {
            let start = text
                .split_inclusive('\n')
                .take(line.saturating_sub(1) as usize)
                .map(str::len)
                .sum::<usize>()
                .min(text.len());
            let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            let content = &text[start..end];
            let indent = content.len() - content.trim_start().len();
            start + indent..start + content.trim_end().len()
        }
    };
    lsp::Diagnostic {
        range: convert::range(file, &range, encoding),
        severity: Some(lsp::DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_owned()),
        message: located.message.clone(),
        ..lsp::Diagnostic::default()
    }
}

/// Publishes the build's located failures, replacing (or clearing) what the last build published.
/// A document the ordinary publisher pushes to keeps its analysis's diagnostics too.
async fn publish_located(session: &Session, located: Vec<Located>) {
    let encoding = session.negotiated().encoding;
    let mut current: HashMap<Uri, Vec<lsp::Diagnostic>> = HashMap::new();
    for failure in &located {
        let Some(uri) = Uri::from_file_path(&failure.path) else { continue };
        let text = match session.documents.get(&uri) {
            Some(entry) => entry.doc.rope().to_string(),
            None => std::fs::read_to_string(&failure.path).unwrap_or_default(),
        };
        let file = SourceFile::parse(&text);
        current.entry(uri).or_default().push(diagnostic(&file, failure, encoding));
    }
    let previous =
        std::mem::replace(&mut *session.builds.published.lock().expect("build diagnostics lock"), current.clone());
    let mut uris: Vec<Uri> = previous.into_keys().filter(|uri| !current.contains_key(uri)).collect();
    uris.extend(current.keys().cloned());
    let pushed = !session.negotiated().pull_diagnostics;
    for uri in uris {
        let mut items = current.get(&uri).cloned().unwrap_or_default();
        if pushed {
            let analysed = session
                .documents
                .get(&uri)
                .and_then(|entry| entry.last.as_ref().filter(|a| a.handled).map(|a| a.lsp.clone()));
            items.extend(analysed.unwrap_or_default());
        }
        session.publish_diagnostics(&uri, &items, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        let parsed: BuildCommandOptions =
            serde_json::from_value(json!({"tags": ["a:1"], "saveImage": false, "buildArgs": {"V": "1"}})).unwrap();
        assert_eq!(parsed.tags, ["a:1"]);
        assert_eq!(parsed.save_image, Some(false));
        assert_eq!(parsed.build_args.get("V").map(String::as_str), Some("1"));
        let typo = serde_json::from_value::<BuildCommandOptions>(json!({"tag": "a"})).unwrap_err();
        assert!(typo.to_string().contains("unknown field `tag`"), "{typo}");
    }

    #[test]
    fn a_line_place_spans_the_line_text() {
        let file = SourceFile::parse("a: 1\n  image: nginx:1  \n");
        let located = Located { path: PathBuf::new(), place: Place::Line(2), message: String::new() };
        let d = diagnostic(&file, &located, crate::syntax::PositionEncoding::Utf16);
        assert_eq!((d.range.start.line, d.range.start.character, d.range.end.character), (1, 2, 16));
    }

    #[test]
    fn chart_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("charts/app/templates")).unwrap();
        std::fs::write(dir.path().join("charts/app/Chart.yaml"), "name: app\n").unwrap();
        std::fs::write(dir.path().join("charts/packed.tgz"), "").unwrap();
        assert_eq!(
            chart_file(dir.path(), Path::new("charts/app/templates/d.yaml")),
            Some(dir.path().join("charts/app/Chart.yaml"))
        );
        assert_eq!(chart_file(dir.path(), Path::new("charts/packed.tgz")), None);
    }
}
