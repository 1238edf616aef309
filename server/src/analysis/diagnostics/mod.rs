//! The diagnostics engine: every rule is one file in this folder, a pure function of the parsed
//! file, the build context facts and the configuration. `diagnostics()` runs them all, then
//! applies suppression comments and severity overrides.

mod bootstrap_label_on_application;
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

use crate::syntax::{
    ast::{self, Flag, Instruction},
    SourceFile, TextRange,
};

use super::{facts::ContextFacts, model::Model, Config};

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
}

/// What the rules read: the file, its model, the context facts (absent for an unsaved buffer or
/// when the context is unknown) and the configuration.
pub(crate) struct RuleContext<'a, 't> {
    pub file: &'t SourceFile,
    /// The named top-level nodes (instructions, comments, directives), collected once: walking
    /// the root's children is the costliest walk of a big file.
    pub top_level: &'a [tree_sitter::Node<'t>],
    /// Every instruction as BuildKit validates them: the top-level ones with each ONBUILD trigger
    /// right after its ONBUILD.
    pub validated: &'a [Instruction<'t>],
    /// The instructions of `validated` that have flags, with their flags (most have none).
    pub flagged: &'a [(Instruction<'t>, Vec<Flag<'t>>)],
    pub model: &'a Model<'t>,
    pub facts: Option<&'a ContextFacts>,
    pub config: &'a Config,
}

type Rule = fn(&RuleContext<'_, '_>, &mut Vec<Diagnostic>);

/// Rules that hold for any Dockerfile.
const BUILD_RULES: &[Rule] = &[
    syntax_error::check,
    unknown_instruction::check,
    missing_from::check,
    run_on_scratch::check,
    duplicate_instruction::check,
    copy_source_not_found::check,
    multiple_build_files::check,
    invalid_escape_directive::check,
    duplicate_directive::check,
    unknown_flag::check,
    flag_missing_value::check,
    flag_unexpected_value::check,
    duplicate_flag::check,
    json_in_single_quotes::check,
    empty_continuation_line::check,
    instruction_casing::check,
    from_as_casing::check,
    stage_name_casing::check,
    duplicate_stage_name::check,
    unknown_stage::check,
    copy_from_own_stage::check,
    maintainer_deprecated::check,
    legacy_env_format::check,
    workdir_relative_path::check,
    expose_invalid_port::check,
    missing_argument::check,
];

/// Rules about what sealos does with the image.
const SEALOS_RULES: &[Rule] = &[
    unknown_label::check,
    invalid_label_value::check,
    protected_env::check,
    missing_registry_copy::check,
    registry_copy::check,
    undefined_variable::check,
    split_exec_form::check,
    unescaped_dollar_in_label::check,
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
    let top_level = ast::top_level(file);
    let model = Model::from_instructions(file, top_level.iter().copied().filter_map(Instruction::cast).collect());
    let validated = validity::with_triggers(&model.instructions);
    let flagged: Vec<(Instruction<'_>, Vec<Flag<'_>>)> = validated
        .iter()
        .map(|instruction| (*instruction, instruction.flags().collect::<Vec<_>>()))
        .filter(|(_, flags)| !flags.is_empty())
        .collect();
    let cx = RuleContext {
        file,
        top_level: &top_level,
        validated: &validated,
        flagged: &flagged,
        model: &model,
        facts: context,
        config,
    };
    let mut found = Vec::new();
    for rule in BUILD_RULES {
        rule(&cx, &mut found);
    }
    if kind == FileKind::Kubefile {
        for rule in SEALOS_RULES {
            rule(&cx, &mut found);
        }
    }
    let suppressions = suppression::Suppressions::read(&cx);
    let mut published: Vec<Diagnostic> = found
        .into_iter()
        .filter(|diagnostic| !suppressions.suppresses(&model.instructions, diagnostic))
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

/// The closest candidate within a small edit distance, for "did you mean" messages.
pub(crate) fn did_you_mean<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lowered = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(&lowered, &candidate.to_ascii_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= 1.max(candidate.len() / 4) && *distance < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
pub(crate) mod fixture;
