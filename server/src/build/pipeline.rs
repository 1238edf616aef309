//! The whole `sealos build` pipeline in a better order: diagnostics first (an error stops the
//! build before anything is pulled; sealos only notices a syntax error after every pull), then
//! image extraction, the save into `registry/`, and the assembly.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use super::{
    assemble::{assemble, AssembleRequest, AssembledImage},
    base::{registry_host, RegistryImages},
    buildah::{self, BuildahOptions},
    BuildError, BuildEvent,
};
use crate::{
    analysis::{diagnostics_for, Config, Severity},
    context::{
        self,
        images::{self, ExtractOptions, ImageSource},
        BuildContext,
    },
    registry::{self, CancellationToken, ImageRequest, SaveError, SaveOptions, SaveReport},
    syntax::{PositionEncoding, SourceFile},
    workspace,
};

/// What assembles the image once `registry/` is filled.
#[derive(Debug, Clone)]
pub enum Engine {
    Native,
    /// `buildah bud` (for RUN), writing into the same OCI layout destination.
    Buildah(Box<BuildahOptions>),
}

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    /// The build (context, files, flags, output layout); `engine` decides who runs it.
    pub assemble: AssembleRequest,
    pub engine: Engine,
    /// `--tls-verify=false`: every registry pulled from is reached without certificate checks.
    pub tls_verify: bool,
    /// `--save-image` (default true in sealos).
    pub save_image: bool,
    pub save: SaveOptions,
    pub extract: ExtractOptions,
    /// Where base images are cached.
    pub base_cache: PathBuf,
    pub config: Config,
}

/// A diagnostic of a build file, positioned for printing (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub line: u32,
    pub column: u32,
    pub code: &'static str,
    pub message: String,
    pub severity: Severity,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {} [{}]", self.path.display(), self.line, self.column, self.message, self.code)
    }
}

#[derive(Debug)]
pub struct PipelineReport {
    /// The OCI layout written.
    pub output: PathBuf,
    pub manifest_digest: String,
    /// Details of a native assembly (`None` with buildah).
    pub assembled: Option<AssembledImage>,
    pub saved: Option<SaveReport>,
    pub findings: Vec<Finding>,
}

/// Failure of the pipeline, with the diagnostics found (the reason when the build file has errors).
#[derive(Debug)]
pub struct PipelineFailure {
    pub error: BuildError,
    pub findings: Vec<Finding>,
}

/// The diagnostics engine over the build files, as `kubefile-ls check` reports them.
pub fn check(context: &Path, files: &[PathBuf], config: &Config) -> Result<Vec<Finding>, BuildError> {
    let facts = context::facts::collect(context);
    let mut findings = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| BuildError::Io(format!("cannot read {}: {e}", path.display())))?;
        let file = SourceFile::parse(&String::from_utf8_lossy(&bytes));
        let kind = workspace::file_kind(path, &facts, &file);
        for diagnostic in diagnostics_for(&file, kind, Some(&facts), config) {
            let position = file.line_index().line_col(file.text(), diagnostic.range.start, PositionEncoding::Utf8);
            findings.push(Finding {
                path: path.clone(),
                line: position.line + 1,
                column: position.col + 1,
                code: diagnostic.code,
                message: diagnostic.message,
                severity: diagnostic.severity,
            });
        }
    }
    Ok(findings)
}

pub async fn run(
    options: PipelineOptions,
    emit: Arc<dyn Fn(BuildEvent) + Send + Sync>,
    cancel: CancellationToken,
) -> Result<PipelineReport, PipelineFailure> {
    let request = &options.assemble;
    emit(BuildEvent::Phase { name: "check".into() });
    let findings = check(&request.context, &request.build_files, &options.config).map_err(|error| PipelineFailure { error, findings: Vec::new() })?;
    let fail = |error: BuildError| PipelineFailure { error, findings: findings.clone() };
    let errors = findings.iter().filter(|f| f.severity == Severity::Error).count();
    for finding in findings.iter().filter(|f| f.severity == Severity::Warning) {
        emit(BuildEvent::Warning { message: finding.to_string() });
    }
    if errors > 0 {
        return Err(fail(BuildError::Diagnostics { count: errors }));
    }

    let mut saved = None;
    if options.save_image {
        emit(BuildEvent::Phase { name: "extract".into() });
        let context = BuildContext::new(&request.context);
        let extract_options = options.extract.clone();
        let index = tokio::task::spawn_blocking(move || images::extract(&context, &extract_options))
            .await
            .map_err(|e| fail(BuildError::Extract(e.to_string())))?;
        let mut problems: Vec<String> = index.errors.iter().map(ToString::to_string).collect();
        for image in index.images.iter().filter(|i| i.source == ImageSource::Tar) {
            problems.push(format!("{}:{}: images/skopeo/tar.txt archives are not saved by kubefile-ls yet ({})", image.file.display(), image.line, image.image));
        }
        if !problems.is_empty() {
            return Err(fail(BuildError::Extract(problems.join("\n"))));
        }
        let requests: Vec<ImageRequest> = index.image_list().into_iter().map(ImageRequest::new).collect();
        emit(BuildEvent::ImagesFound { count: requests.len() });
        if !requests.is_empty() {
            emit(BuildEvent::Phase { name: "save".into() });
            let sink = emit.clone();
            let mut save = options.save.clone();
            if !options.tls_verify {
                save.insecure_registries.extend(requests.iter().filter_map(|r| registry_host(&r.image)));
            }
            let report = registry::save(&requests, &request.context.join("registry"), &save, move |event| sink(BuildEvent::Save(event)), cancel.clone())
                .await
                .map_err(|error| {
                    fail(match error {
                        SaveError::Cancelled(_) => BuildError::Cancelled,
                        SaveError::Incomplete(report) => {
                            BuildError::Save(report.failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))
                        }
                        other => BuildError::Save(other.to_string()),
                    })
                })?;
            saved = Some(report);
        }
    } else {
        emit(BuildEvent::Warning { message: "save-image is disabled, skip pulling images".into() });
    }

    emit(BuildEvent::Phase { name: "assemble".into() });
    let request = options.assemble.clone();
    let sink = emit.clone();
    let (output, manifest_digest, assembled) = match options.engine.clone() {
        Engine::Native => {
            let runtime = tokio::runtime::Handle::current();
            let save = options.save.clone();
            let cache = options.base_cache.clone();
            let assemble_cancel = cancel.clone();
            let tls_verify = options.tls_verify;
            let image = tokio::task::spawn_blocking(move || {
                let mut images = RegistryImages::new(cache, save, runtime, assemble_cancel.clone(), sink.clone());
                images.insecure_all = !tls_verify;
                assemble(&request, &mut images, &|event| sink(event), &assemble_cancel)
            })
            .await
            .map_err(|e| fail(BuildError::Io(e.to_string())))?
            .map_err(fail)?;
            (image.output.clone(), image.manifest_digest.clone(), Some(image))
        }
        Engine::Buildah(buildah_options) => {
            let report = tokio::task::spawn_blocking(move || {
                buildah::build(&request.context, buildah_options.as_ref(), &request.output, &mut |line| sink(BuildEvent::Log { line: line.to_owned() }))
            })
            .await
            .map_err(|e| fail(BuildError::Io(e.to_string())))?
            .map_err(|e| fail(BuildError::Buildah(e.to_string())))?;
            (options.assemble.output.clone(), report.manifest_digest, None)
        }
    };
    Ok(PipelineReport { output, manifest_digest, assembled, saved, findings })
}
