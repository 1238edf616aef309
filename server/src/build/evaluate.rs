//! Runs a build file's instructions the way buildah v1.30 (imagebuilder) does, without touching
//! the disk: each stage's final config and the file operations (COPY/ADD) it performs, in order.
//! Base-image configs come from a caller-supplied lookup, so this stays pure and testable.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{
    config::{Healthcheck, ImageConfig, DEFAULT_PATH_ENV},
    instruction::{split, Args, RawInstruction},
    words::{process_word, process_words},
    BuildError,
};
use crate::{registry::Platform, syntax::TextRange};

/// Inputs that come from the command line rather than the build file.
#[derive(Debug, Clone, Default)]
pub struct BuildInputs {
    /// `--build-arg NAME=value`.
    pub build_args: BTreeMap<String, String>,
    /// `--env NAME=value`: an ENV instruction right after each FROM.
    pub env: Vec<(String, String)>,
    /// `--label key=value`: a LABEL instruction at the end of each stage.
    pub labels: Vec<(String, String)>,
    /// The platform built for (TARGET* args); the host's when `None`.
    pub platform: Option<Platform>,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image to pull, as written after substitution.
    Image(String),
}

/// A COPY or ADD, with every word substituted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOp {
    /// ADD (archives are unpacked, URLs are refused).
    pub add: bool,
    /// `--from`: a stage name or index, or an image.
    pub from: Option<String>,
    pub sources: Vec<String>,
    /// Absolute; a trailing `/` is kept because it makes the destination a directory.
    pub dest: String,
    pub chown: Option<String>,
    pub chmod: Option<u32>,
    pub original: String,
    pub range: TextRange,
    /// The build file it is in (index into the concatenated files).
    pub file: usize,
}

/// One history entry of the image; `layer` tells whether it produced one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryStep {
    pub created_by: String,
    /// Index into the stage's `copies`.
    pub copy: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct StagePlan {
    pub index: usize,
    pub name: Option<String>,
    pub base: Base,
    pub config: ImageConfig,
    pub copies: Vec<CopyOp>,
    pub history: Vec<HistoryStep>,
}

/// The stages a build needs (the last stage and what it depends on), in file order, and the
/// warnings buildah would print.
#[derive(Debug, Clone)]
pub struct Plan {
    pub stages: Vec<StagePlan>,
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn final_stage(&self) -> &StagePlan {
        self.stages.last().expect("a plan has at least one stage")
    }

    pub fn stage(&self, index: usize) -> Option<&StagePlan> {
        self.stages.iter().find(|stage| stage.index == index)
    }
}

/// Proxy variables buildah lets through without an ARG line.
const BUILTIN_ALLOWED_ARGS: [&str; 8] = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy"];

/// Evaluates the instructions of one or more concatenated build files.
/// `base_config` returns the config of an image named in FROM.
pub fn evaluate(
    instructions: &[RawInstruction],
    inputs: &BuildInputs,
    base_config: &mut dyn FnMut(&str) -> Result<ImageConfig, BuildError>,
) -> Result<Plan, BuildError> {
    let first_from = instructions.iter().position(|i| i.command == "from").ok_or(BuildError::NoFrom)?;
    let mut warnings = Vec::new();
    let builtin = builtin_args(inputs.platform.as_ref());
    let heading = heading_args(&instructions[..first_from], inputs, &builtin)?;
    if let Some(other) = instructions[..first_from].iter().find(|i| i.command != "arg") {
        return Err(at(other, "no build stage in current context".into()));
    }

    let mut stage_lines: Vec<&[RawInstruction]> = Vec::new();
    let mut start = first_from;
    for (i, instruction) in instructions.iter().enumerate().skip(first_from + 1) {
        if instruction.command == "from" {
            stage_lines.push(&instructions[start..i]);
            start = i;
        }
    }
    stage_lines.push(&instructions[start..]);

    let heads: Vec<StageHead> = stage_lines.iter().map(|lines| stage_head(&lines[0], &heading)).collect::<Result<_, _>>()?;
    let needed = needed_stages(&stage_lines, &heads, inputs, &heading);

    let mut stages: Vec<StagePlan> = Vec::new();
    let mut used_args: HashSet<String> = HashSet::new();
    for (index, lines) in stage_lines.iter().enumerate() {
        if !needed.contains(&index) {
            continue;
        }
        let head = &heads[index];
        let base = match stage_by_name(&heads[..index], &head.base) {
            Some(earlier) => Base::Stage(earlier),
            None if head.base.eq_ignore_ascii_case("scratch") => Base::Scratch,
            None => Base::Image(head.base.clone()),
        };
        let config = match &base {
            Base::Scratch => ImageConfig::default(),
            Base::Stage(earlier) => {
                stages.iter().find(|s| s.index == *earlier).map(|s| s.config.clone()).unwrap_or_default()
            }
            Base::Image(image) => base_config(image)?,
        };
        let mut builder = StageBuilder::new(config, inputs, &heading, &builtin);
        let mut history = Vec::new();
        let mut copies = Vec::new();
        let injected_env = injected("ENV", &inputs.env, &lines[0]);
        let injected_labels = injected("LABEL", &inputs.labels, &lines[lines.len() - 1]);
        let body = injected_env.iter().chain(&lines[1..]).chain(injected_labels.iter());
        for instruction in body {
            let copy = builder.run(instruction, &mut copies)?;
            history.push(HistoryStep { created_by: created_by(instruction), copy });
        }
        warnings.append(&mut builder.warnings);
        used_args.extend(builder.declared);
        stages.push(StagePlan { index, name: head.name.clone(), base, config: builder.config, copies, history });
    }
    used_args.extend(heading.keys().cloned());
    let unused: Vec<&str> = inputs.build_args.keys().filter(|k| !used_args.contains(*k)).map(String::as_str).collect();
    if !unused.is_empty() {
        warnings.push(format!("one or more build args were not consumed: {unused:?}"));
    }
    Ok(Plan { stages, warnings })
}

fn at(instruction: &RawInstruction, message: String) -> BuildError {
    BuildError::Instruction { file: instruction.file, range: instruction.range.clone(), message }
}

fn created_by(instruction: &RawInstruction) -> String {
    format!("/bin/sh -c #(nop) {}", instruction.original)
}

/// `ENV "k"="v" ...` / `LABEL ...` built the way buildah builds them from its flags (`%q`).
fn injected(keyword: &str, pairs: &[(String, String)], at: &RawInstruction) -> Option<RawInstruction> {
    if pairs.is_empty() {
        return None;
    }
    let mut line = keyword.to_owned();
    for (key, value) in pairs {
        line.push_str(&format!(" {}={}", go_quote(key), go_quote(value)));
    }
    let mut instruction = split(&line, '\\', at.range.start..at.range.start).ok()?;
    instruction.file = at.file;
    Some(instruction)
}

/// Go's `%q` for the characters flags realistically contain.
fn go_quote(text: &str) -> String {
    let mut out = String::from('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct StageHead {
    base: String,
    name: Option<String>,
}

fn stage_head(from: &RawInstruction, heading: &BTreeMap<String, String>) -> Result<StageHead, BuildError> {
    let words = match &from.args {
        Args::Words(words) => words.clone(),
        _ => Vec::new(),
    };
    let name = match words.as_slice() {
        [_] => None,
        [base, as_word, name] if !base.is_empty() && as_word.eq_ignore_ascii_case("as") && !name.is_empty() => Some(name.clone()),
        _ => return Err(at(from, "FROM requires either one argument, or three: FROM <source> [as <name>]".into())),
    };
    if let Some(flag) = from.flags.iter().find(|f| !f.starts_with("--platform=")) {
        return Err(at(from, format!("FROM only supports the --platform flag, not {flag}")));
    }
    let env: Vec<(String, String)> = heading.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let base = process_word(&words[0], &env).map_err(|e| at(from, e.0))?;
    Ok(StageHead { base, name })
}

fn stage_by_name(earlier: &[StageHead], wanted: &str) -> Option<usize> {
    earlier.iter().rposition(|head| head.name.as_deref() == Some(wanted))
}

/// The last stage and, transitively, the stages it builds on or copies from (buildah's
/// `--skip-unused-stages`, on by default). `--from` values are substituted with the global
/// ARGs and build args, which covers the forms seen in practice.
fn needed_stages(stages: &[&[RawInstruction]], heads: &[StageHead], inputs: &BuildInputs, heading: &BTreeMap<String, String>) -> HashSet<usize> {
    let env: Vec<(String, String)> = heading.iter().chain(&inputs.build_args).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut needed = HashSet::new();
    let mut pending = vec![stages.len() - 1];
    while let Some(index) = pending.pop() {
        if !needed.insert(index) {
            continue;
        }
        let mut refs = vec![heads[index].base.clone()];
        for instruction in stages[index].iter().filter(|i| i.command == "copy") {
            for flag in &instruction.flags {
                if let Some(from) = process_word(flag, &env).ok().and_then(|f| f.strip_prefix("--from=").map(str::to_owned)) {
                    refs.push(from);
                }
            }
        }
        for reference in refs {
            if let Some(earlier) = stage_by_name(&heads[..index], &reference) {
                pending.push(earlier);
            } else if let Ok(number) = reference.parse::<usize>() {
                if number < index {
                    pending.push(number);
                }
            }
        }
    }
    needed
}

/// TARGET*/BUILD* values for a bare `ARG TARGETARCH` and friends.
fn builtin_args(target: Option<&Platform>) -> HashMap<String, String> {
    let host = Platform::host();
    let target = target.cloned().unwrap_or_else(|| host.clone());
    let mut args = HashMap::new();
    for (prefix, platform) in [("TARGET", &target), ("BUILD", &host)] {
        let variant = platform.variant.clone().unwrap_or_default();
        let mut full = format!("{}/{}", platform.os, platform.architecture);
        if !variant.is_empty() {
            full = format!("{full}/{variant}");
        }
        args.insert(format!("{prefix}PLATFORM"), full);
        args.insert(format!("{prefix}OS"), platform.os.clone());
        args.insert(format!("{prefix}ARCH"), platform.architecture.clone());
        args.insert(format!("{prefix}VARIANT"), variant);
    }
    args
}

/// ARGs before the first FROM: visible in FROM lines and as defaults of a bare ARG in a stage.
fn heading_args(lines: &[RawInstruction], inputs: &BuildInputs, builtin: &HashMap<String, String>) -> Result<BTreeMap<String, String>, BuildError> {
    let empty = BTreeMap::new();
    let mut builder = StageBuilder::new(ImageConfig::default(), inputs, &empty, builtin);
    builder.config.env.clear();
    let mut copies = Vec::new();
    for line in lines.iter().filter(|l| l.command == "arg") {
        builder.run(line, &mut copies)?;
    }
    Ok(builder.args.into_iter().filter(|(k, _)| builder.allowed.contains(k)).collect())
}

/// imagebuilder's `Builder` for one stage.
struct StageBuilder<'a> {
    config: ImageConfig,
    /// Build args with values (user args first, then ARG defaults).
    args: BTreeMap<String, String>,
    /// Args an ARG line (or the proxy list) made visible.
    allowed: HashSet<String>,
    declared: HashSet<String>,
    user_args: &'a BTreeMap<String, String>,
    heading: &'a BTreeMap<String, String>,
    builtin: &'a HashMap<String, String>,
    cmd_set: bool,
    warnings: Vec<String>,
}

impl<'a> StageBuilder<'a> {
    fn new(mut config: ImageConfig, inputs: &'a BuildInputs, heading: &'a BTreeMap<String, String>, builtin: &'a HashMap<String, String>) -> Self {
        if config.env_value("PATH").is_none() {
            let (name, value) = DEFAULT_PATH_ENV.split_once('=').expect("NAME=value");
            config.set_env(name, value);
        }
        StageBuilder {
            config,
            args: inputs.build_args.clone(),
            allowed: BUILTIN_ALLOWED_ARGS.iter().map(|s| s.to_string()).collect(),
            declared: HashSet::new(),
            user_args: &inputs.build_args,
            heading,
            builtin,
            cmd_set: false,
            warnings: Vec::new(),
        }
    }

    /// What substitution sees: the stage env, then the allowed args.
    fn step_env(&self) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = self
            .config
            .env
            .iter()
            .map(|e| {
                let (k, v) = e.split_once('=').unwrap_or((e, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        env.extend(self.args.iter().filter(|(k, _)| self.allowed.contains(*k)).map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    /// What COPY/ADD flags see: every build arg, overridden by the env.
    fn flag_env(&self) -> Vec<(String, String)> {
        let mut env = self.step_env();
        env.truncate(self.config.env.len());
        env.extend(self.args.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }

    fn run(&mut self, instruction: &RawInstruction, copies: &mut Vec<CopyOp>) -> Result<Option<usize>, BuildError> {
        let fail = |message: String| at(instruction, message);
        let env = self.step_env();
        let word = |text: &str| process_word(text, &env).map_err(|e| at(instruction, e.0));
        let words = |args: &Args| -> Result<Vec<String>, BuildError> {
            match args {
                Args::Words(items) | Args::Json(items) => items.iter().map(|w| word(w)).collect(),
                Args::Text(text) => Ok(vec![word(text)?]),
                _ => Ok(Vec::new()),
            }
        };
        let keyword = instruction.command.to_ascii_uppercase();
        match instruction.command.as_str() {
            "env" | "label" => {
                let Args::Pairs(pairs) = &instruction.args else {
                    return Err(fail(format!("{keyword} requires at least one argument")));
                };
                let mut resolved = Vec::new();
                for (key, value) in pairs {
                    resolved.push((word(key)?, word(value)?));
                }
                for (key, value) in resolved {
                    if instruction.command == "env" {
                        self.config.set_env(&key, &value);
                    } else {
                        self.config.labels.insert(key, value);
                    }
                }
            }
            "arg" => {
                let items = words(&instruction.args)?;
                if items.is_empty() {
                    return Err(fail("ARG requires at least one argument".into()));
                }
                for item in items {
                    let (name, value) = match item.split_once('=') {
                        Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                        None => (item.clone(), self.builtin.get(&item).cloned()),
                    };
                    self.allowed.insert(name.clone());
                    self.declared.insert(name.clone());
                    if value.is_none() {
                        if let Some(global) = self.heading.get(&name) {
                            self.args.insert(name.clone(), global.clone());
                        }
                    }
                    if let Some(value) = value {
                        if !self.user_args.contains_key(&name) {
                            self.args.insert(name, value);
                        }
                    }
                }
            }
            "copy" | "add" => {
                let add = instruction.command == "add";
                let items = words(&instruction.args)?;
                if items.len() < 2 {
                    return Err(fail(format!("{keyword} requires at least two arguments")));
                }
                let (sources, dest) = items.split_at(items.len() - 1);
                let flag_env = self.flag_env();
                let (mut chown, mut chmod, mut from) = (None, None, None);
                for flag in &instruction.flags {
                    let flag = process_word(flag, &flag_env).map_err(|e| fail(e.0))?;
                    if let Some(value) = flag.strip_prefix("--chown=") {
                        chown = Some(value.to_owned());
                    } else if let Some(value) = flag.strip_prefix("--chmod=") {
                        chmod = Some(u32::from_str_radix(value, 8).map_err(|_| fail(format!("Error parsing chmod {value}")))?);
                    } else if let (false, Some(value)) = (add, flag.strip_prefix("--from=")) {
                        from = Some(value.to_owned());
                    } else if add {
                        return Err(fail("ADD only supports the --chmod=<permissions> and the --chown=<uid:gid> flag".into()));
                    } else {
                        return Err(fail("COPY only supports the --chmod=<permissions> --chown=<uid:gid> and the --from=<image|stage> flags".into()));
                    }
                }
                copies.push(CopyOp {
                    add,
                    from,
                    sources: sources.to_vec(),
                    dest: make_absolute(&dest[0], &self.config.working_dir),
                    chown,
                    chmod,
                    original: instruction.original.clone(),
                    range: instruction.range.clone(),
                    file: instruction.file,
                });
                return Ok(Some(copies.len() - 1));
            }
            "cmd" => {
                self.config.cmd = Some(match &instruction.args {
                    Args::Json(items) => {
                        self.cmd_set |= !items.is_empty();
                        items.clone()
                    }
                    Args::Text(text) => {
                        self.cmd_set = true;
                        shell_form(text)
                    }
                    _ => shell_form(""),
                });
            }
            "entrypoint" => {
                self.config.entrypoint = match &instruction.args {
                    Args::Json(items) => Some(items.clone()),
                    Args::Text(text) => Some(shell_form(text)),
                    _ => None,
                };
                if !self.cmd_set {
                    self.config.cmd = None;
                }
            }
            "workdir" => {
                let items = words(&instruction.args)?;
                let [dir] = items.as_slice() else { return Err(fail("WORKDIR requires exactly one argument".into())) };
                self.config.working_dir = if dir.starts_with('/') { dir.clone() } else { clean_path(&format!("/{}/{dir}", self.config.working_dir)) };
            }
            "user" => {
                let items = words(&instruction.args)?;
                let [user] = items.as_slice() else { return Err(fail("USER requires exactly one argument".into())) };
                self.config.user = user.clone();
            }
            "expose" => {
                let Args::Words(items) = &instruction.args else { return Err(fail("EXPOSE requires at least one argument".into())) };
                for item in items {
                    for port in process_words(item, &env).map_err(|e| fail(e.0))? {
                        let (number, proto) = port.split_once('/').unwrap_or((&port, "tcp"));
                        let exists = self.config.exposed_ports.iter().any(|p| p.split('/').next() == Some(number));
                        if !exists {
                            self.config.exposed_ports.push(format!("{number}/{proto}"));
                        }
                    }
                }
            }
            "volume" => {
                let items = words(&instruction.args)?;
                if items.is_empty() {
                    return Err(fail("VOLUME requires at least one argument".into()));
                }
                for item in items {
                    let volume = item.trim();
                    if volume.is_empty() {
                        return Err(fail("Volume specified can not be an empty string".into()));
                    }
                    if !self.config.volumes.iter().any(|v| v == volume) {
                        self.config.volumes.push(volume.to_owned());
                    }
                }
            }
            "stopsignal" => {
                let items = words(&instruction.args)?;
                let [signal] = items.as_slice() else { return Err(fail("STOPSIGNAL requires exactly one argument".into())) };
                if !is_signal(signal) {
                    return Err(fail(format!("Invalid signal: {signal}")));
                }
                self.config.stop_signal = Some(signal.clone());
            }
            "healthcheck" => self.config.healthcheck = Some(healthcheck(instruction).map_err(fail)?),
            "shell" => match &instruction.args {
                Args::Json(items) if !items.is_empty() => self.config.shell = Some(items.clone()),
                Args::Json(_) | Args::None => return Err(fail("SHELL requires at least one argument".into())),
                _ => return Err(fail("SHELL requires the arguments to be in JSON form".into())),
            },
            "maintainer" => match &instruction.args {
                Args::Text(text) => self.config.author = Some(text.clone()),
                _ => return Err(fail("MAINTAINER requires exactly one argument".into())),
            },
            "onbuild" => {
                let Args::Trigger(trigger) = &instruction.args else { return Err(fail("ONBUILD requires at least one argument".into())) };
                let first = trigger.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                match first.as_str() {
                    "ONBUILD" => return Err(fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into())),
                    "MAINTAINER" | "FROM" => return Err(fail(format!("{first} isn't allowed as an ONBUILD trigger"))),
                    _ => self.config.on_build.push(trigger.clone()),
                }
            }
            "run" => {
                return Err(fail(
                    "RUN needs a container runtime, which the native engine does not have; build this Kubefile with `--engine buildah`".into(),
                ))
            }
            "from" => unreachable!("stages are split at FROM"),
            _ => return Err(fail(format!("Build error: Unknown instruction: \"{keyword}\""))),
        }
        Ok(None)
    }
}

fn shell_form(text: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), text.into()]
}

/// imagebuilder `makeAbsolute`: relative to WORKDIR, `.` is the WORKDIR itself (as a directory).
pub fn make_absolute(dest: &str, working_dir: &str) -> String {
    if dest == "." {
        let mut dir = if working_dir.is_empty() { "/".to_owned() } else { working_dir.to_owned() };
        if !dir.ends_with('/') {
            dir.push('/');
        }
        return dir;
    }
    if dest.starts_with('/') {
        return dest.to_owned();
    }
    let mut joined = clean_path(&format!("/{working_dir}/{dest}"));
    if dest.ends_with('/') && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

/// Go's `path.Clean` for absolute paths.
pub fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

fn healthcheck(instruction: &RawInstruction) -> Result<Healthcheck, String> {
    let Args::Health { kind, command } = &instruction.args else {
        return Err("HEALTHCHECK requires at least one argument".into());
    };
    let kind = kind.to_ascii_uppercase();
    if kind == "NONE" {
        if !matches!(**command, Args::None) {
            return Err("HEALTHCHECK NONE takes no arguments".into());
        }
        return Ok(Healthcheck { test: vec!["NONE".into()], ..Healthcheck::default() });
    }
    if kind != "CMD" {
        return Err(format!("Unknown type {kind:?} in HEALTHCHECK (try CMD)"));
    }
    let test = match &**command {
        Args::Json(items) if !items.is_empty() => [vec!["CMD".to_owned()], items.clone()].concat(),
        Args::Text(text) => vec!["CMD-SHELL".to_owned(), text.clone()],
        _ => return Err("Missing command after HEALTHCHECK CMD".into()),
    };
    let mut health = Healthcheck { test, ..Healthcheck::default() };
    for flag in &instruction.flags {
        let (name, value) = flag.trim_start_matches('-').split_once('=').unwrap_or((flag.trim_start_matches('-'), ""));
        match name {
            "interval" => health.interval = parse_duration(value)?,
            "timeout" => health.timeout = parse_duration(value)?,
            "start-period" => health.start_period = parse_duration(value)?,
            "retries" => {
                let retries: i64 = value.parse().map_err(|_| format!("invalid value {value:?} for --retries"))?;
                if retries < 1 {
                    return Err(format!("--retries must be at least 1 (not {retries})"));
                }
                health.retries = retries as u64;
            }
            _ => return Err(format!("flag provided but not defined: -{name}")),
        }
    }
    Ok(health)
}

/// Go's `time.ParseDuration` (`1m30s`, `500ms`), in nanoseconds; empty means unset.
fn parse_duration(text: &str) -> Result<u64, String> {
    if text.is_empty() || text == "0" {
        return Ok(0);
    }
    let invalid = || format!("time: invalid duration {text:?}");
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
        let number: f64 = rest[..number_end].parse().map_err(|_| invalid())?;
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(invalid()),
        };
        total += number * scale;
        rest = &rest[unit_end..];
    }
    Ok(total as u64)
}

/// moby's signal check: a number, or a known name with or without `SIG`.
fn is_signal(text: &str) -> bool {
    const NAMES: [&str; 35] = [
        "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT", "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV",
        "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "UNUSED",
    ];
    if text.parse::<u32>().is_ok() {
        return true;
    }
    let upper = text.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if NAMES.contains(&name) || name == "RTMIN" || name == "RTMAX" {
        return true;
    }
    let offset = |prefix: &str| name.strip_prefix(prefix).and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| (1..=15).contains(&n) || prefix == "RTMAX-" && n == 14);
    offset("RTMIN+") || offset("RTMAX-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{build::instruction, syntax::SourceFile};

    fn plan_with(text: &str, inputs: &BuildInputs) -> Result<Plan, BuildError> {
        let file = SourceFile::parse(text);
        let instructions = instruction::instructions(&file).unwrap();
        evaluate(&instructions, inputs, &mut |image| Err(BuildError::Pull { image: image.into(), message: "offline".into() }))
    }

    fn plan(text: &str) -> StagePlan {
        plan_with(text, &BuildInputs::default()).unwrap().final_stage().clone()
    }

    #[test]
    fn label_substitution_and_escaped_dollar() {
        let stage = plan("FROM scratch\nENV registryDomain=sealos.hub\nLABEL init=\"init-cri.sh \\$registryDomain && bash init.sh\" vip=$registryDomain other=$undefined\n");
        assert_eq!(stage.config.labels["init"], "init-cri.sh $registryDomain && bash init.sh");
        assert_eq!(stage.config.labels["vip"], "sealos.hub");
        assert_eq!(stage.config.labels["other"], "");
    }

    #[test]
    fn env_uses_values_from_before_the_line() {
        let stage = plan("FROM scratch\nENV A=1\nENV A=2 B=$A\nENV C=${NAME:-\"nginx\"}\n");
        assert_eq!(stage.config.env, [DEFAULT_PATH_ENV, "A=2", "B=1", "C=nginx"]);
    }

    #[test]
    fn cmd_and_entrypoint_forms() {
        let stage = plan("FROM scratch\nCMD helm install \\\n  x\n");
        assert_eq!(stage.config.cmd.unwrap(), ["/bin/sh", "-c", "helm install   x"]);
        let stage = plan("FROM scratch\nCMD [\"a b\"]\nENTRYPOINT [\"e\"]\n");
        assert_eq!(stage.config.cmd.unwrap(), ["a b"]);
        assert_eq!(stage.config.entrypoint.unwrap(), ["e"]);
        let stage = plan("FROM scratch\nENTRYPOINT e $X\n");
        assert_eq!(stage.config.entrypoint.unwrap(), ["/bin/sh", "-c", "e $X"]);
        assert_eq!(stage.config.cmd, None);
    }

    #[test]
    fn args_flags_env_and_labels_from_the_command_line() {
        let inputs = BuildInputs {
            build_args: [("VERSION".to_string(), "v2".to_string())].into(),
            env: vec![("defaultVIP".into(), "10.0.0.2".into())],
            labels: vec![("sealos.io.type".into(), "rootfs".into())],
            platform: Some(Platform::new("linux", "arm64", None)),
        };
        let text = "ARG BASE=scratch\nFROM $BASE\nARG VERSION=v1\nARG TARGETARCH\nENV V=$VERSION-$TARGETARCH vip=${defaultVIP:-none}\nLABEL sealos.io.type=application\n";
        let plan = plan_with(text, &inputs).unwrap();
        let stage = plan.final_stage();
        assert_eq!(stage.base, Base::Scratch);
        assert_eq!(stage.config.env_value("V"), Some("v2-arm64"));
        assert_eq!(stage.config.env_value("vip"), Some("10.0.0.2"));
        assert_eq!(stage.config.labels["sealos.io.type"], "rootfs");
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn copy_destinations_are_made_absolute() {
        let stage = plan("FROM scratch\nWORKDIR app\nCOPY --chmod=755 a b .\nCOPY c sub/\nCOPY d /abs\nWORKDIR ../x\n");
        let dests: Vec<&str> = stage.copies.iter().map(|c| c.dest.as_str()).collect();
        assert_eq!(dests, ["/app/", "/app/sub/", "/abs"]);
        assert_eq!(stage.copies[0].chmod, Some(0o755));
        assert_eq!(stage.config.working_dir, "/x");
    }

    #[test]
    fn errors_point_at_the_instruction() {
        let error = plan_with("FROM scratch\nRUN echo\n", &BuildInputs::default()).unwrap_err();
        assert!(error.to_string().contains("--engine buildah"), "{error}");
        let error = plan_with("FROM scratch\nCOPY --link a b\n", &BuildInputs::default()).unwrap_err();
        assert!(error.to_string().contains("COPY only supports"));
        let error = plan_with("FROM scratch\nLABEL a=${b-c}\n", &BuildInputs::default()).unwrap_err();
        assert!(matches!(error, BuildError::Instruction { range, .. } if range.start == 13));
    }

    #[test]
    fn unused_stages_are_skipped_and_copy_from_keeps_its_stage() {
        let text = "FROM nginx AS unused\nFROM scratch AS files\nCOPY a /a\nFROM scratch\nCOPY --from=files /a /b\n";
        let plan = plan_with(text, &BuildInputs::default()).unwrap();
        let indexes: Vec<usize> = plan.stages.iter().map(|s| s.index).collect();
        assert_eq!(indexes, [1, 2]);
    }

    #[test]
    fn healthcheck_stopsignal_expose() {
        let stage = plan("FROM scratch\nHEALTHCHECK --interval=1m30s --retries=3 CMD curl x\nSTOPSIGNAL SIGRTMIN+3\nEXPOSE 80 80/udp 443/tcp\n");
        let health = stage.config.healthcheck.unwrap();
        assert_eq!(health.test, ["CMD-SHELL", "curl x"]);
        assert_eq!(health.interval, 90_000_000_000);
        assert_eq!(health.retries, 3);
        assert_eq!(stage.config.exposed_ports, ["80/tcp", "443/tcp"]);
        assert!(plan_with("FROM scratch\nSTOPSIGNAL NOPE\n", &BuildInputs::default()).is_err());
    }
}
