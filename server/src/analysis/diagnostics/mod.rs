//! The diagnostics engine: every rule is one file in this folder, a pure function of the parsed
//! file, the build context facts and the configuration. `diagnostics()` runs them all, then
//! applies suppression comments and severity overrides.

mod bootstrap_label_on_application;
mod cmd_path_not_copied;
mod copy_from_own_stage;
mod copy_source_not_found;
mod duplicate_directive;
mod duplicate_flag;
mod duplicate_instruction;
mod duplicate_stage_name;
mod empty_continuation_line;
mod expose_invalid_port;
mod flag_missing_value;
mod flag_unexpected_value;
mod from_as_casing;
mod ignored_instruction;
mod instruction_casing;
mod invalid_escape_directive;
mod invalid_label_value;
mod json_in_single_quotes;
mod legacy_env_format;
mod maintainer_deprecated;
mod missing_argument;
mod missing_from;
mod missing_registry_copy;
mod multiple_build_files;
mod protected_env;
mod registry_copy;
mod rootfs_missing_label;
mod run_on_scratch;
mod split_exec_form;
mod stage_name_casing;
mod suppression;
mod syntax_error;
mod undefined_variable;
mod unescaped_dollar_in_label;
mod unknown_flag;
mod unknown_instruction;
mod unknown_label;
mod unknown_stage;
mod validity;
mod workdir_relative_path;

pub use suppression::{code_of_build_check, ignore_fix};

use std::cell::OnceCell;

use crate::syntax::{
    ast::{Flag, Instruction, InstructionParts},
    SourceFile, TextRange,
};

use super::{
    copies::{self, ContextCopy},
    facts::ContextFacts,
    model::{Item, ItemKind, Outline},
    Config,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
            Severity::Hint => "hint",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub new_text: String,
}

/// A quick fix: edits to this file that resolve the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<TextEdit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// Stable kebab-case code, documented in docs/diagnostics.md.
    pub code: &'static str,
    pub message: String,
    pub fixes: Vec<Fix>,
    /// The finding is about code that has no effect (rendered faded by editors).
    pub unnecessary: bool,
}

impl Diagnostic {
    pub fn new(code: &'static str, severity: Severity, range: TextRange, message: impl Into<String>) -> Diagnostic {
        Diagnostic { range, severity, code, message: message.into(), fixes: Vec::new(), unnecessary: false }
    }

    pub fn with_fix(mut self, title: impl Into<String>, edits: Vec<TextEdit>) -> Diagnostic {
        self.fixes.push(Fix { title: title.into(), edits });
        self
    }

    pub fn with_replacement(self, title: impl Into<String>, range: TextRange, new_text: impl Into<String>) -> Diagnostic {
        self.with_fix(title, vec![TextEdit { range, new_text: new_text.into() }])
    }

    /// The diagnostic with every offset moved from an item starting at `from` to one starting
    /// at `to` (wrapping arithmetic: a fix may reach before its item).
    fn moved(mut self, from: usize, to: usize) -> Diagnostic {
        let shift = |range: &TextRange| {
            range.start.wrapping_sub(from).wrapping_add(to)..range.end.wrapping_sub(from).wrapping_add(to)
        };
        self.range = shift(&self.range);
        for edit in self.fixes.iter_mut().flat_map(|fix| fix.edits.iter_mut()) {
            edit.range = shift(&edit.range);
        }
        self
    }
}

/// What the rules about one instruction read: the instruction and nothing around it, so their
/// findings can be kept while other instructions are edited.
pub(crate) struct InstructionContext<'a, 't> {
    pub file: &'t SourceFile,
    /// The top-level instruction.
    pub instruction: Instruction<'t>,
    /// The instruction, and for ONBUILD its trigger right after it: BuildKit validates a trigger
    /// like a top-level instruction.
    pub validated: &'a [InstructionParts<'t>],
    pub config: &'a Config,
}

impl<'a, 't> InstructionContext<'a, 't> {
    /// The instructions of `validated` that have flags, with their flags (most have none).
    pub fn flagged(&self) -> impl Iterator<Item = (&'a Instruction<'t>, &'a Vec<Flag<'t>>)> {
        self.validated.iter().filter(|validated| !validated.flags.is_empty()).map(|validated| (&validated.instruction, &validated.flags))
    }

    /// The top-level instruction, with its children.
    pub fn top(&self) -> &'a InstructionParts<'t> {
        &self.validated[0]
    }
}

/// What the rules about the whole file read: the outline of every top-level node, the context
/// facts (absent for an unsaved buffer or when the context is unknown) and the configuration.
pub(crate) struct RuleContext<'a, 't> {
    pub file: &'t SourceFile,
    pub outline: &'a Outline<'a>,
    pub facts: Option<&'a ContextFacts>,
    pub config: &'a Config,
    /// The final stage's COPY/ADD from the context, resolved when a rule first needs them.
    context_copies: OnceCell<Vec<ContextCopy<'a>>>,
}

impl<'a> RuleContext<'a, '_> {
    /// [`copies::outline_context_copies`] of this file, resolved once per run.
    pub fn context_copies(&self) -> &[ContextCopy<'a>] {
        self.context_copies.get_or_init(|| copies::outline_context_copies(self.file, self.outline))
    }
}

type InstructionRule = fn(&InstructionContext<'_, '_>, &mut Vec<Diagnostic>);
type Rule = fn(&RuleContext<'_, '_>, &mut Vec<Diagnostic>);

/// Rules about one instruction that hold for any Dockerfile.
const BUILD_INSTRUCTION_RULES: &[InstructionRule] = &[
    unknown_instruction::check,
    unknown_flag::check,
    flag_missing_value::check,
    flag_unexpected_value::check,
    duplicate_flag::check,
    json_in_single_quotes::check,
    empty_continuation_line::check,
    from_as_casing::check,
    maintainer_deprecated::check,
    legacy_env_format::check,
    expose_invalid_port::check,
    missing_argument::check,
];

/// Rules about one instruction and what sealos does with it.
const SEALOS_INSTRUCTION_RULES: &[InstructionRule] =
    &[unknown_label::check, split_exec_form::check, unescaped_dollar_in_label::check];

/// Rules across instructions that hold for any Dockerfile.
const BUILD_RULES: &[Rule] = &[
    missing_from::check,
    run_on_scratch::check,
    duplicate_instruction::check,
    copy_source_not_found::check,
    multiple_build_files::check,
    invalid_escape_directive::check,
    duplicate_directive::check,
    instruction_casing::check,
    stage_name_casing::check,
    duplicate_stage_name::check,
    unknown_stage::check,
    copy_from_own_stage::check,
    workdir_relative_path::check,
];

/// Rules across instructions about what sealos does with the image.
const SEALOS_RULES: &[Rule] = &[
    invalid_label_value::check,
    protected_env::check,
    missing_registry_copy::check,
    registry_copy::check,
    cmd_path_not_copied::check,
    undefined_variable::check,
    rootfs_missing_label::check,
    bootstrap_label_on_application::check,
    ignored_instruction::check,
];

/// How a file is read: as a Kubefile (sealos rules apply) or as a plain Dockerfile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Kubefile,
    Dockerfile,
}

/// All diagnostics for a file, sorted by position, after suppression comments and severity
/// overrides have been applied.
pub fn diagnostics(file: &SourceFile, context: Option<&ContextFacts>, config: &Config) -> Vec<Diagnostic> {
    diagnostics_for(file, FileKind::Kubefile, context, config)
}

pub fn diagnostics_for(file: &SourceFile, kind: FileKind, context: Option<&ContextFacts>, config: &Config) -> Vec<Diagnostic> {
    DiagnosticsCache::default().diagnostics_for(file, kind, context, config)
}

/// The diagnostics of successive versions of one document. Each top-level node's own findings
/// are kept with its summary; after an edit only the nodes whose text changed are analysed again
/// (the rest are found by comparing the texts, without walking the tree), then the rules across
/// instructions run over the summaries. Results are the same as [`diagnostics_for`]'s.
#[derive(Default)]
pub struct DiagnosticsCache {
    previous: Option<Analysed>,
}

/// The outline of a file and each item's own findings (ranges relative to the item start).
struct Analysed {
    file: SourceFile,
    kind: FileKind,
    /// The configuration the findings depend on.
    allowed_labels: Vec<String>,
    items: Vec<Item>,
    findings: Vec<Vec<Diagnostic>>,
}

impl DiagnosticsCache {
    pub fn diagnostics(&mut self, file: &SourceFile, context: Option<&ContextFacts>, config: &Config) -> Vec<Diagnostic> {
        self.diagnostics_for(file, FileKind::Kubefile, context, config)
    }

    pub fn diagnostics_for(
        &mut self,
        file: &SourceFile,
        kind: FileKind,
        context: Option<&ContextFacts>,
        config: &Config,
    ) -> Vec<Diagnostic> {
        let previous = self.previous.take().filter(|p| p.kind == kind && p.allowed_labels == config.allowed_labels);
        let analysed = match previous {
            Some(previous) => previous.update(file, config),
            None => Analysed::new(file, kind, config),
        };
        let found = analysed.publish(context, config);
        self.previous = Some(analysed);
        found
    }
}

impl Analysed {
    fn new(file: &SourceFile, kind: FileKind, config: &Config) -> Analysed {
        let (items, findings) = analyse_nodes(file, kind, file.top_level(), config);
        Analysed { file: file.clone(), kind, allowed_labels: config.allowed_labels.clone(), items, findings }
    }

    /// `self` brought up to `file`: the items before and after the edited text are kept (those
    /// after it moved), the ones around it are analysed again.
    fn update(mut self, file: &SourceFile, config: &Config) -> Analysed {
        let (old, new) = (self.file.text(), file.text());
        let prefix = common_prefix(old.as_bytes(), new.as_bytes());
        if prefix == old.len() && prefix == new.len() {
            self.file = file.clone();
            return self;
        }
        let suffix = common_suffix(&old.as_bytes()[prefix..], &new.as_bytes()[prefix..]);
        // Parser directives (before the first instruction) decide how the whole file is read.
        if self.items.iter().find(|item| item.kind.is_instruction()).is_none_or(|item| prefix <= item.start) {
            return Analysed::new(file, self.kind, config);
        }
        // Start at the item before the first one the edit touches: lookahead may have ended it.
        let restart = self.items.partition_point(|item| item.end < prefix).saturating_sub(1);
        let restart_at = self.items[restart].start;
        let mut cursor = file.root().walk();
        if cursor.goto_first_child_for_byte(restart_at).is_none() || cursor.node().start_byte() != restart_at {
            return Analysed::new(file, self.kind, config);
        }
        let delta = new.len() as isize - old.len() as isize;
        let walked = walk(file, self.kind, cursor, Some(&Resync { old: &self.items, edit_end: new.len() - suffix, delta }), config);
        let resumed = walked.resumed.unwrap_or(self.items.len());
        let moved = self.items.len() - resumed;
        self.items.splice(restart..resumed, walked.items);
        self.findings.splice(restart..resumed, walked.findings);
        let len = self.items.len();
        for item in &mut self.items[len - moved..] {
            item.start = item.start.wrapping_add_signed(delta);
            item.end = item.end.wrapping_add_signed(delta);
        }
        self.file = file.clone();
        self
    }

    /// Every diagnostic: the items' own, then the rules across instructions, with suppression
    /// comments and severity overrides applied.
    fn publish(&self, context: Option<&ContextFacts>, config: &Config) -> Vec<Diagnostic> {
        let file = &self.file;
        let outline = Outline::new(&self.items);
        let cx = RuleContext { file, outline: &outline, facts: context, config, context_copies: OnceCell::new() };
        let mut found = Vec::new();
        // A root that is itself an error is reported whole, as nothing inside it can be trusted.
        let root = file.root();
        let broken_root = root.is_error() || root.is_missing();
        if broken_root {
            syntax_error::check_node(file, root, &mut found);
        }
        for (item, findings) in self.items.iter().zip(&self.findings) {
            let kept = findings.iter().filter(|finding| !(broken_root && finding.code == syntax_error::CODE));
            found.extend(kept.map(|finding| finding.clone().moved(0, item.start)));
        }
        for rule in BUILD_RULES {
            rule(&cx, &mut found);
        }
        if self.kind == FileKind::Kubefile {
            for rule in SEALOS_RULES {
                rule(&cx, &mut found);
            }
        }
        let suppressions = suppression::Suppressions::read(&cx);
        let mut published: Vec<Diagnostic> = found
            .into_iter()
            .filter(|diagnostic| !suppressions.suppresses(&cx, diagnostic))
            .filter_map(|mut diagnostic| {
                if let Some(level) = config.severity.get(diagnostic.code) {
                    diagnostic.severity = level.severity()?;
                }
                Some(diagnostic)
            })
            .collect();
        published.sort_by(|a, b| (a.range.start, a.range.end, a.code).cmp(&(b.range.start, b.range.end, b.code)));
        published
    }
}

/// Texts are compared this many bytes at a time (one `memcmp` each), then byte by byte in the
/// chunk that differs: a byte loop over a whole file costs more than the rest of an update.
const COMPARED_CHUNK: usize = 512;

/// The length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let equal_chunks = a.chunks(COMPARED_CHUNK).zip(b.chunks(COMPARED_CHUNK)).take_while(|(x, y)| x == y).count();
    // The last chunks may be shorter (and equal).
    let start = (equal_chunks * COMPARED_CHUNK).min(a.len()).min(b.len());
    start + a[start..].iter().zip(&b[start..]).take_while(|(x, y)| x == y).count()
}

/// The length of the longest common suffix of `a` and `b`.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    let equal_chunks = a.rchunks(COMPARED_CHUNK).zip(b.rchunks(COMPARED_CHUNK)).take_while(|(x, y)| x == y).count();
    let equal = (equal_chunks * COMPARED_CHUNK).min(a.len()).min(b.len());
    let (a, b) = (&a[..a.len() - equal], &b[..b.len() - equal]);
    equal + a.iter().rev().zip(b.iter().rev()).take_while(|(x, y)| x == y).count()
}

/// Where a walk after an edit can stop: at a node that is an old item moved by the edit, after
/// which the text, and so the tree, is the same as before.
struct Resync<'o> {
    old: &'o [Item],
    /// The end of the edited text in the new file.
    edit_end: usize,
    /// How much the edit moved the text after it.
    delta: isize,
}

impl Resync<'_> {
    /// The index of the old item `node` is, when it is past the edit.
    fn resumes_at(&self, file: &SourceFile, node: tree_sitter::Node<'_>) -> Option<usize> {
        let start = node.start_byte();
        // Findings may depend on the text before the node on its line (columns in messages).
        let index = file.line_index();
        if index.line_start(index.line_of(start)) < self.edit_end {
            return None;
        }
        let old_start = start.checked_add_signed(-self.delta)?;
        let found = self.old.binary_search_by_key(&old_start, |item| item.start).ok()?;
        let old = &self.old[found];
        (old.kind == ItemKind::of(node) && old.end.wrapping_add_signed(self.delta) == node.end_byte()).then_some(found)
    }
}

/// Items and their own findings from a walk over top-level nodes.
struct Walked {
    items: Vec<Item>,
    findings: Vec<Vec<Diagnostic>>,
    /// The old item the walk stopped at (see [`Resync`]).
    resumed: Option<usize>,
}

/// Analyses the top-level nodes from the cursor's to the last one, or to where `resync` says the
/// old items resume.
fn walk(
    file: &SourceFile,
    kind: FileKind,
    mut cursor: tree_sitter::TreeCursor<'_>,
    resync: Option<&Resync<'_>>,
    config: &Config,
) -> Walked {
    let mut walked = Walked { items: Vec::new(), findings: Vec::new(), resumed: None };
    loop {
        let node = cursor.node();
        if is_item(node) {
            if let Some(resumed) = resync.and_then(|resync| resync.resumes_at(file, node)) {
                walked.resumed = Some(resumed);
                break;
            }
            let (item, findings) = analyse(file, kind, node, config);
            walked.items.push(item);
            walked.findings.push(findings);
        }
        if !cursor.goto_next_sibling() {
            break;
        }
    }
    walked
}

/// The items and own findings of top-level nodes. The vectors are sized exactly: they are kept
/// with the document, and doubling would leave up to half of 10,000 items' room unused.
fn analyse_nodes(file: &SourceFile, kind: FileKind, nodes: &[tree_sitter::Node<'_>], config: &Config) -> (Vec<Item>, Vec<Vec<Diagnostic>>) {
    let items = nodes.iter().copied().filter(|node| is_item(*node));
    let count = items.clone().count();
    let mut analysed = (Vec::with_capacity(count), Vec::with_capacity(count));
    analysed.extend(items.map(|node| analyse(file, kind, node, config)));
    analysed
}

/// Whether a top-level node is an item: anonymous tokens are one only when broken.
fn is_item(node: tree_sitter::Node<'_>) -> bool {
    node.is_named() || node.has_error()
}

/// A top-level node's item and its own findings, relative to the item's start.
fn analyse(file: &SourceFile, kind: FileKind, node: tree_sitter::Node<'_>, config: &Config) -> (Item, Vec<Diagnostic>) {
    let validated = Instruction::cast(node).map(validity::with_triggers).unwrap_or_default();
    let item = Item::from_parts(file, node, validated.first());
    let findings =
        own_findings(file, kind, node, &validated, config).into_iter().map(|finding| finding.moved(item.start, 0)).collect();
    (item, findings)
}

/// The findings about one top-level node alone; `validated`: [`validity::with_triggers`] of an
/// instruction, empty for another node.
fn own_findings(
    file: &SourceFile,
    kind: FileKind,
    node: tree_sitter::Node<'_>,
    validated: &[InstructionParts<'_>],
    config: &Config,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    if node.has_error() {
        syntax_error::check_node(file, node, &mut found);
    }
    let Some(top) = validated.first() else { return found };
    let cx = InstructionContext { file, instruction: top.instruction, validated, config };
    for rule in BUILD_INSTRUCTION_RULES {
        rule(&cx, &mut found);
    }
    if kind == FileKind::Kubefile {
        for rule in SEALOS_INSTRUCTION_RULES {
            rule(&cx, &mut found);
        }
    }
    found
}

/// The closest candidate within a small edit distance, for "did you mean" messages.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lowered = word.to_ascii_lowercase();
    let length = lowered.chars().count();
    candidates
        .into_iter()
        // The distance is at least the difference in length: skip the edit-distance computation
        // for candidates that cannot be close (a stage may have thousands of names to compare).
        .filter(|candidate| length.abs_diff(candidate.chars().count()) <= 1.max(candidate.len() / 4))
        .map(|candidate| (strsim::damerau_levenshtein(&lowered, &candidate.to_ascii_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= 1.max(candidate.len() / 4) && *distance < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
pub(crate) mod fixture;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule has something to say about this file, in several stages.
    const BASE: &str = "# syntax=docker/dockerfile:1\nARG BASE=scratch\nFROM ${BASE} AS Build\nENV A=1 B=$A\nRUN --mount=type=cache echo \\\n\n  done\nCOPY --from=buld x y\nCOPY --chown a b\nFROM scratch\n# kubefile-ls ignore=unknown-label\nLABEL vesion=1\nLABEL sealos.io.type=rootfs init=\"$x\"\nENV SEALOS_SYS_KUBE_VERSION=1 NAME=${NAME:-a}\nWORKDIR rel\nEXPOSE 99999\nONBUILD COPY --from=x a\nCMD [\"bash\", \"init.sh\", \"$(MISSING)\"]\nCMD ['a', 'b']\nFORM x\n";

    /// A small deterministic generator, so a failure can be replayed.
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize % n.max(1)
        }
    }

    /// A context with some of the paths the COPY lines below name, and images to save.
    fn copy_context() -> ContextFacts {
        let entries = ["opt", "opt/a", "opt/b", "srv", "srv/a", "manifests", "manifests/app.yaml"];
        ContextFacts {
            entries: entries.into_iter().map(String::from).collect(),
            images: vec![crate::analysis::ImageSource {
                image: "nginx:1.25".to_string(),
                source: "manifest",
                file: "manifests/app.yaml".to_string(),
                line: 3,
            }],
            ..ContextFacts::default()
        }
    }

    /// COPY sources and destinations resolve through global ARGs, stage ARG/ENV and WORKDIR: an
    /// edit of any of them changes the COPY diagnostics of lines it does not touch.
    #[test]
    fn cache_follows_edits_of_arg_env_workdir_and_copy() {
        let facts = copy_context();
        let config = Config::default();
        let mut cache = DiagnosticsCache::default();
        let mut text = "ARG DIR=opt\nFROM scratch\nARG DIR\nENV SUB=a\nWORKDIR /\nCOPY ${DIR}/${SUB} $DIR\nCOPY manifests manifests\n".to_string();
        let steps: &[(&str, &str, &[&str])] = &[
            ("", "", &["missing-registry-copy"]),
            ("ENV SUB=a", "ENV SUB=c", &["missing-registry-copy", "copy-source-not-found `opt/c`"]),
            ("ARG DIR=opt", "ARG DIR=srv", &["missing-registry-copy", "copy-source-not-found `srv/c`"]),
            ("ENV SUB=c", "ENV SUB=a", &["missing-registry-copy"]),
            // The bare ARG is what makes the global value visible in the stage.
            ("ARG DIR\n", "", &["missing-registry-copy"]),
            ("FROM scratch\n", "FROM scratch\nARG DIR\n", &["missing-registry-copy"]),
            ("COPY manifests manifests", "COPY registry registry", &[]),
            ("WORKDIR /", "WORKDIR /$DIR", &["missing-registry-copy"]),
            ("WORKDIR /$DIR", "WORKDIR /${DIR}/..", &[]),
            ("ENV SUB=a", "ENV SUB=$DIR", &["copy-source-not-found `srv/srv`"]),
            ("COPY ${DIR}", "COPY [\"x\", \"y\"]\nCOPY ${DIR}", &["copy-source-not-found `x`", "copy-source-not-found `srv/srv`"]),
        ];
        for (step, (from, to, expected)) in steps.iter().enumerate() {
            text = text.replacen(from, to, 1);
            let file = SourceFile::parse(&text);
            let full = diagnostics(&file, Some(&facts), &config);
            let kept = cache.diagnostics(&file, Some(&facts), &config);
            assert!(kept == full, "step {step} differs on:\n{text}\nkept: {kept:#?}\nexpected: {full:#?}");
            let copy_findings: Vec<String> = full
                .iter()
                .filter(|d| d.code.contains("registry") || d.code == "copy-source-not-found")
                .map(|d| match d.message.split('`').nth(1).filter(|_| d.code == "copy-source-not-found") {
                    Some(path) => format!("{} `{path}`", d.code),
                    None => d.code.to_string(),
                })
                .collect();
            assert_eq!(copy_findings, *expected, "step {step} on:\n{text}");
        }
    }

    #[test]
    fn cache_gives_the_same_diagnostics_as_a_full_analysis_after_random_edits_of_copy_lines() {
        let facts = copy_context();
        let config = Config::default();
        let snippets = ["ARG DIR=srv\n", "ARG SUB\n", "ENV SUB=b\n", "ENV SUB=${DIR}\n", "WORKDIR $DIR\n", "COPY $DIR/a .\n", "x", "\n", "$", "FROM scratch\n", "--from=a "];
        let mut random = Lcg(11);
        let mut cache = DiagnosticsCache::default();
        let mut text = "ARG DIR=opt\nFROM scratch\nARG DIR\nENV SUB=a\nWORKDIR /\nCOPY ${DIR}/${SUB} $DIR\nCOPY registry registry\n".to_string();
        for step in 0..300 {
            // Whole lines are what people type here: edit at line starts.
            let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
            let at = starts[random.below(starts.len())];
            if random.below(3) == 0 && at < text.len() {
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
                text.replace_range(at..end, "");
            } else {
                text.insert_str(at, snippets[random.below(snippets.len())]);
            }
            let file = SourceFile::parse(&text);
            let expected = diagnostics(&file, Some(&facts), &config);
            let kept = cache.diagnostics(&file, Some(&facts), &config);
            assert!(kept == expected, "step {step} differs on:\n{text}\nkept: {kept:#?}\nexpected: {expected:#?}");
        }
    }

    #[test]
    fn common_prefix_and_suffix_cross_chunk_boundaries() {
        for (a_len, b_len, differs_at) in [(0, 0, None), (700, 700, None), (700, 1500, None), (1500, 1500, Some(511)), (1500, 1500, Some(512)), (1500, 1024, Some(1023)), (3, 5, Some(0))] {
            let a: Vec<u8> = (0..a_len).map(|i| (i % 251) as u8).collect();
            let mut b: Vec<u8> = (0..b_len).map(|i| (i % 251) as u8).collect();
            if let Some(at) = differs_at {
                b[at] ^= 1;
            }
            let naive_prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
            assert_eq!(common_prefix(&a, &b), naive_prefix, "{a_len} {b_len} {differs_at:?}");
            let (ra, rb): (Vec<u8>, Vec<u8>) = (a.iter().rev().copied().collect(), b.iter().rev().copied().collect());
            assert_eq!(common_suffix(&ra, &rb), naive_prefix, "{a_len} {b_len} {differs_at:?} reversed");
        }
    }

    #[test]
    fn cache_gives_the_same_diagnostics_as_a_full_analysis_after_every_edit() {
        let config = Config::default();
        let snippets = ["x", " ", "\n", "\\\n", "$", "${Y}", "\"", "'", "[", "--", "FROM scratch\n", "ENV Z=$A\n", "#", "AS "];
        for kind in [FileKind::Kubefile, FileKind::Dockerfile] {
            let mut random = Lcg(7);
            let mut cache = DiagnosticsCache::default();
            let mut text = BASE.to_string();
            for step in 0..400 {
                let mut at = random.below(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                if random.below(3) == 0 && at < text.len() {
                    let mut end = (at + 1 + random.below(6)).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(at..end, "");
                } else {
                    text.insert_str(at, snippets[random.below(snippets.len())]);
                }
                let file = SourceFile::parse(&text);
                let expected = diagnostics_for(&file, kind, None, &config);
                let kept = cache.diagnostics_for(&file, kind, None, &config);
                assert!(kept == expected, "step {step} ({kind:?}) differs on:\n{text}\nkept: {kept:#?}\nexpected: {expected:#?}");
            }
        }
    }
}
