//! Assembling the image: evaluate the build files, run each COPY/ADD of the stages the final
//! image needs, write one layer per COPY/ADD, then the config, manifest and index.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use oci_spec::image::{
    Arch, Descriptor, Digest, History, HistoryBuilder, ImageConfigurationBuilder, ImageManifestBuilder, MediaType, Os, RootFsBuilder,
};

use super::{
    base::{BaseImage, ImageSource},
    config::ImageConfig,
    copy::{self, Clock, Source},
    evaluate::{self, Base, BuildInputs, Plan, StagePlan},
    instruction::{self, RawInstruction},
    layer::write_layer,
    layout::LayoutWriter,
    tree::Tree,
    BuildError, BuildEvent,
};
use crate::{
    context::ignore::ContextIgnore,
    registry::{layout::TEMP_DIR_NAME, CancellationToken, Platform},
    syntax::SourceFile,
};

#[derive(Debug, Clone)]
pub struct AssembleRequest {
    pub context: PathBuf,
    /// Concatenated in order, as buildah does with several `-f` (or several default files).
    pub build_files: Vec<PathBuf>,
    pub inputs: BuildInputs,
    /// `--timestamp`: creation time and the mtime of every file in the new layers.
    pub timestamp: Option<u64>,
    /// The OCI layout directory.
    pub output: PathBuf,
    /// `org.opencontainers.image.ref.name` values in the index.
    pub ref_names: Vec<String>,
    pub platform: Platform,
}

#[derive(Debug, Clone)]
pub struct AssembledImage {
    pub output: PathBuf,
    pub manifest_digest: String,
    pub config_digest: String,
    /// Manifest, config and layers.
    pub size: u64,
    pub layers: usize,
    pub config: ImageConfig,
    pub warnings: Vec<String>,
}

/// A layer of the image being assembled.
#[derive(Debug, Clone)]
struct LayerRecord {
    digest: String,
    size: u64,
    diff_id: String,
    media_type: MediaType,
}

#[derive(Default, Clone)]
struct StageState {
    tree: Option<Tree>,
    layers: Vec<LayerRecord>,
    history: Vec<History>,
}

/// Reads and splits the build files into one instruction list.
pub fn read_instructions(files: &[PathBuf]) -> Result<Vec<RawInstruction>, BuildError> {
    let mut all = Vec::new();
    for (index, path) in files.iter().enumerate() {
        let bytes = fs::read(path).map_err(|e| BuildError::Io(format!("cannot read {}: {e}", path.display())))?;
        if bytes.is_empty() {
            return Err(BuildError::Invalid(format!("no contents in {:?}", path.display().to_string())));
        }
        let file = SourceFile::parse(&String::from_utf8_lossy(&bytes));
        let instructions = instruction::instructions(&file)
            .map_err(|e| BuildError::InFile { file: path.clone(), range: e.range, message: e.message })?;
        all.extend(instructions.into_iter().map(|instruction| RawInstruction { file: index, ..instruction }));
    }
    Ok(all)
}

pub fn assemble(
    request: &AssembleRequest,
    images: &mut dyn ImageSource,
    emit: &dyn Fn(BuildEvent),
    cancel: &CancellationToken,
) -> Result<AssembledImage, BuildError> {
    let instructions = read_instructions(&request.build_files)?;
    let in_file = |error: BuildError| match error {
        BuildError::Instruction { file, range, message } => BuildError::InFile { file: request.build_files[file].clone(), range, message },
        other => other,
    };
    let plan = evaluate::evaluate(&instructions, &request.inputs, &mut |image| images.fetch(image).map(|base| base.config.clone()))
        .map_err(in_file)?;
    for warning in &plan.warnings {
        emit(BuildEvent::Warning { message: warning.clone() });
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let clock = Clock { fixed: request.timestamp, now };
    let writer = LayoutWriter::create(&request.output).map_err(|e| BuildError::Io(e.to_string()))?;
    let ignore = ContextIgnore::load(&request.context).map_err(|e| BuildError::Invalid(format!("{}: {e}", request.context.display())))?;
    let excluded = excluded_paths(request, &writer);

    let chain = final_chain(&plan);
    let mut states: HashMap<usize, StageState> = HashMap::new();
    let mut from_images: HashMap<String, Tree> = HashMap::new();
    for stage in &plan.stages {
        let writes_layers = chain.contains(&stage.index);
        let base_image = match &stage.base {
            Base::Image(image) => Some(images.fetch(image)?),
            _ => None,
        };
        let mut state = match (&stage.base, &base_image) {
            (Base::Stage(earlier), _) => states.get(earlier).cloned().unwrap_or_default(),
            (_, Some(base)) => base_state(base, &writer, writes_layers)?,
            _ => StageState::default(),
        };
        let needs_tree = !stage.copies.is_empty() || plan.stages.iter().any(|s| s.copies.iter().any(|c| refers_to(c.from.as_deref(), stage, &plan)));
        if needs_tree && state.tree.is_none() {
            state.tree = Some(match &base_image {
                Some(base) => image_tree(base)?,
                None => Tree::default(),
            });
        }
        let total = stage.history.len();
        for (index, step) in stage.history.iter().enumerate() {
            if cancel.is_cancelled() {
                return Err(BuildError::Cancelled);
            }
            emit(BuildEvent::Step { stage: stage.index, index: index + 1, total, instruction: step.created_by.trim_start_matches("/bin/sh -c #(nop) ").to_owned() });
            let created = rfc3339(clock.created_time());
            let Some(copy_index) = step.copy else {
                state.history.push(HistoryBuilder::default().created(created).created_by(step.created_by.clone()).empty_layer(true).build().expect("all fields optional"));
                continue;
            };
            let op = &stage.copies[copy_index];
            let source_tree = match op.from.as_deref() {
                None => None,
                Some(from) => Some(match stage_reference(from, stage, &plan) {
                    Some(earlier) => states.get(&earlier).and_then(|s| s.tree.clone()).unwrap_or_default(),
                    None => {
                        if !from_images.contains_key(from) {
                            let base = images.fetch(from)?;
                            from_images.insert(from.to_owned(), image_tree(&base)?);
                        }
                        from_images[from].clone()
                    }
                }),
            };
            let tree = state.tree.get_or_insert_with(Tree::default);
            let source = match &source_tree {
                Some(tree) => Source::Tree(tree),
                None => Source::Context { root: &request.context, ignore: &ignore, excluded: &excluded },
            };
            let entries = copy::resolve(op, &source, tree, clock).map_err(|message| in_file(BuildError::Instruction { file: op.file, range: op.range.clone(), message }))?;
            if writes_layers {
                let blob = write_layer(&entries, &writer.blobs()).map_err(|e| BuildError::Io(format!("writing a layer: {e}")))?;
                emit(BuildEvent::LayerWritten { digest: blob.digest.clone(), size: blob.size, entries: blob.entries });
                state.layers.push(LayerRecord { digest: blob.digest, size: blob.size, diff_id: blob.diff_id, media_type: MediaType::ImageLayerGzip });
                state.history.push(HistoryBuilder::default().created(created).created_by(step.created_by.clone()).build().expect("all fields optional"));
            }
            for (path, entry) in entries {
                tree.insert(path, entry);
            }
        }
        states.insert(stage.index, state);
    }

    emit(BuildEvent::Phase { name: "write".into() });
    let final_stage = plan.final_stage();
    let state = states.remove(&final_stage.index).unwrap_or_default();
    write_image(request, final_stage, state, writer, clock, plan.warnings.clone(), emit)
}

impl Clock {
    fn created_time(&self) -> u64 {
        self.fixed.unwrap_or(self.now)
    }
}

/// Paths inside the context that the build itself writes and that no COPY may pick up.
fn excluded_paths(request: &AssembleRequest, writer: &LayoutWriter) -> Vec<PathBuf> {
    let absolute = |path: &Path| -> PathBuf {
        let joined = if path.is_absolute() { path.to_owned() } else { std::env::current_dir().unwrap_or_default().join(path) };
        fs::canonicalize(&joined).unwrap_or(joined)
    };
    let context = absolute(&request.context);
    let mut excluded = vec![absolute(writer.temp_dir()), absolute(&request.output), context.join("registry").join(TEMP_DIR_NAME)];
    // Candidates are compared with paths joined onto the context as given.
    let given = request.context.clone();
    for path in excluded.clone() {
        if let Ok(rest) = path.strip_prefix(&context) {
            excluded.push(given.join(rest));
        }
    }
    excluded
}

/// The final stage and the stages it is built FROM (their layers are its layers).
fn final_chain(plan: &Plan) -> HashSet<usize> {
    let mut chain = HashSet::new();
    let mut current = Some(plan.final_stage());
    while let Some(stage) = current {
        chain.insert(stage.index);
        current = match stage.base {
            Base::Stage(earlier) => plan.stage(earlier),
            _ => None,
        };
    }
    chain
}

/// The stage a `--from` names: a stage name (the last one before `stage`) or an index.
fn stage_reference(from: &str, stage: &StagePlan, plan: &Plan) -> Option<usize> {
    let earlier = plan.stages.iter().filter(|s| s.index < stage.index);
    if let Some(found) = earlier.clone().rfind(|s| s.name.as_deref() == Some(from)) {
        return Some(found.index);
    }
    from.parse::<usize>().ok().filter(|n| earlier.clone().any(|s| s.index == *n))
}

fn refers_to(from: Option<&str>, target: &StagePlan, plan: &Plan) -> bool {
    let Some(from) = from else { return false };
    plan.stages.iter().any(|user| user.index > target.index && stage_reference(from, user, plan) == Some(target.index))
}

fn base_state(base: &Arc<BaseImage>, writer: &LayoutWriter, write: bool) -> Result<StageState, BuildError> {
    let mut state = StageState { tree: None, layers: Vec::new(), history: base.history.clone() };
    for (layer, diff_id) in base.layers.iter().zip(&base.diff_ids) {
        if write {
            writer.add_blob_file(&layer.blob, &layer.digest).map_err(|e| BuildError::Io(e.to_string()))?;
        }
        state.layers.push(LayerRecord { digest: layer.digest.clone(), size: layer.size, diff_id: diff_id.clone(), media_type: layer.media_type.clone() });
    }
    Ok(state)
}

fn image_tree(base: &BaseImage) -> Result<Tree, BuildError> {
    let mut tree = Tree::default();
    for layer in &base.layers {
        tree.apply_layer(&layer.blob, false).map_err(|e| BuildError::Pull { image: base.reference.clone(), message: format!("reading layer {}: {e}", layer.digest) })?;
    }
    Ok(tree)
}

fn write_image(
    request: &AssembleRequest,
    stage: &StagePlan,
    state: StageState,
    writer: LayoutWriter,
    clock: Clock,
    warnings: Vec<String>,
    emit: &dyn Fn(BuildEvent),
) -> Result<AssembledImage, BuildError> {
    let invalid = |e: oci_spec::OciSpecError| BuildError::Io(format!("image metadata: {e}"));
    let io = |e: super::layout::LayoutError| BuildError::Io(e.to_string());
    let platform = &request.platform;
    let rootfs = RootFsBuilder::default().typ("layers").diff_ids(state.layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()).build().map_err(invalid)?;
    let mut builder = ImageConfigurationBuilder::default()
        .created(rfc3339(clock.created_time()))
        .architecture(Arch::from(platform.architecture.as_str()))
        .os(Os::from(platform.os.as_str()))
        .config(stage.config.to_oci().map_err(invalid)?)
        .rootfs(rootfs)
        .history(state.history.clone());
    if let Some(variant) = &platform.variant {
        builder = builder.variant(variant.clone());
    }
    if let Some(author) = &stage.config.author {
        builder = builder.author(author.clone());
    }
    let configuration = builder.build().map_err(invalid)?;
    let mut json = serde_json::to_value(&configuration).map_err(|e| BuildError::Io(e.to_string()))?;
    if let Some(section) = json.get_mut("config").and_then(|c| c.as_object_mut()) {
        section.extend(stage.config.docker_extensions());
    }
    let config_bytes = serde_json::to_vec(&canonical(json)).map_err(|e| BuildError::Io(e.to_string()))?;
    let (config_digest, config_size) = writer.write_blob(&config_bytes).map_err(io)?;

    let digest = |text: &str| text.parse::<Digest>().map_err(|e| BuildError::Io(format!("digest {text}: {e}")));
    let layers: Vec<Descriptor> = state
        .layers
        .iter()
        .map(|l| Ok(Descriptor::new(l.media_type.clone(), l.size, digest(&l.digest)?)))
        .collect::<Result<_, BuildError>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(MediaType::ImageConfig, config_size, digest(&config_digest)?))
        .layers(layers)
        .build()
        .map_err(invalid)?;
    let manifest_json = serde_json::to_value(&manifest).map_err(|e| BuildError::Io(e.to_string()))?;
    let manifest_bytes = serde_json::to_vec(&canonical(manifest_json)).map_err(|e| BuildError::Io(e.to_string()))?;
    let (manifest_digest, manifest_size) = writer.write_blob(&manifest_bytes).map_err(io)?;
    let descriptor = Descriptor::new(MediaType::ImageManifest, manifest_size, digest(&manifest_digest)?);
    let output = writer.commit(descriptor, &request.ref_names).map_err(io)?;
    let size = manifest_size + config_size + state.layers.iter().map(|l| l.size).sum::<u64>();
    emit(BuildEvent::Written { output: output.display().to_string(), manifest_digest: manifest_digest.clone(), size });
    Ok(AssembledImage { output, manifest_digest, config_digest, size, layers: state.layers.len(), config: stage.config.clone(), warnings })
}

/// JSON with object keys sorted, so maps (labels) serialise the same way every time.
fn canonical(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<String, serde_json::Value> = map.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
pub fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
