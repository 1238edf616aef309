//! Parser directives (`# name=value` comments at the top of the file).

use super::Text;

pub struct DirectiveDoc {
    pub name: &'static str,
    pub doc: Text,
    /// Values offered after `# name=`.
    pub values: &'static [&'static str],
}

pub const DIRECTIVES: &[DirectiveDoc] = &[
    DirectiveDoc {
        name: "syntax",
        doc: Text::new(
            "Selects the Dockerfile frontend image for BuildKit (`docker/dockerfile:1`). buildah, and so `sealos build`, ignores it.",
            "为 BuildKit 选择 Dockerfile 前端镜像（`docker/dockerfile:1`）。buildah（也就是 `sealos build`）会忽略它。",
        ),
        values: &["docker/dockerfile:1"],
    },
    DirectiveDoc {
        name: "escape",
        doc: Text::new(
            "Sets the escape and line-continuation character: `\\` (default) or `` ` `` (handy on Windows paths).",
            "设置转义字符和续行字符：`\\`（默认）或 `` ` ``（适合 Windows 路径）。",
        ),
        values: &["\\", "`"],
    },
    DirectiveDoc {
        name: "check",
        doc: Text::new(
            "Configures BuildKit's build checks: `skip=Rule1,Rule2` (or `skip=all`) and `error=true`. kubefile-ls honours `skip` for the corresponding rules.",
            "配置 BuildKit 的构建检查：`skip=Rule1,Rule2`（或 `skip=all`）以及 `error=true`。kubefile-ls 会对相应规则遵循 `skip`。",
        ),
        values: &["skip=", "error=true"],
    },
];

/// BuildKit's build-check rules (`frontend/dockerfile/linter/ruleset.go`): the names
/// `# check=skip=` takes.
pub const BUILD_CHECKS: &[&str] = &[
    "StageNameCasing",
    "FromAsCasing",
    "NoEmptyContinuation",
    "ConsistentInstructionCasing",
    "DuplicateStageName",
    "ReservedStageName",
    "JSONArgsRecommended",
    "MaintainerDeprecated",
    "UndefinedArgInFrom",
    "WorkdirRelativePath",
    "UndefinedVar",
    "MultipleInstructionsDisallowed",
    "LegacyKeyValueFormat",
    "InvalidBaseImagePlatform",
    "RedundantTargetPlatform",
    "SecretsUsedInArgOrEnv",
    "InvalidDefaultArgInFrom",
    "FromPlatformFlagConstDisallowed",
    "CopyIgnoredFile",
    "InvalidDefinitionDescription",
    "ExposeProtoCasing",
    "ExposeInvalidFormat",
];

pub fn find(name: &str) -> Option<&'static DirectiveDoc> {
    DIRECTIVES.iter().find(|doc| doc.name.eq_ignore_ascii_case(name))
}
