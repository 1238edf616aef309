//! `workdir-relative-path`: a relative WORKDIR before any absolute one in the stage (BuildKit's
//! WorkdirRelativePath, hadolint DL3000). It resolves against the base image's working directory,
//! so the result changes when the base image does.

use crate::syntax::NodeKind as _;
use super::{Diagnostic, RuleContext, Severity};
use crate::syntax::ast;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    // Whether each stage ends with an absolute WORKDIR set, for stages built FROM an earlier one.
    let mut absolute_at_end: Vec<bool> = Vec::new();
    let lowered: Vec<Option<String>> = cx.model.stages.iter().map(|s| s.name.as_deref().map(str::to_lowercase)).collect();
    for (index, stage) in cx.model.stages.iter().enumerate() {
        let base = stage.base.to_lowercase();
        let mut absolute = lowered[..index]
            .iter()
            .zip(&absolute_at_end)
            .rev()
            .find(|(name, _)| name.as_deref() == Some(base.as_str()))
            .is_some_and(|(_, set)| *set);
        for instruction in &stage.instructions {
            if instruction.node.kind_name() != "workdir_instruction" {
                continue;
            }
            let Some(path_node) = instruction.paths().next() else { continue };
            let path = ast::literal_text(cx.file, path_node);
            if path.contains('$') || is_absolute(&path) {
                absolute = true;
                continue;
            }
            if absolute {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                "workdir-relative-path",
                Severity::Warning,
                path_node.byte_range(),
                format!(
                    "relative WORKDIR `{path}` resolves against the base image's working directory: use an absolute path"
                ),
            );
            if stage.is_scratch() {
                // A scratch stage starts in `/`, so the absolute path means the same.
                let absolute_path = format!("/{}", cx.file.node_text(path_node).trim_start_matches("./"));
                diagnostic = diagnostic.with_replacement(
                    format!("Change to `{absolute_path}`"),
                    path_node.byte_range(),
                    absolute_path,
                );
            }
            out.push(diagnostic);
        }
        absolute_at_end.push(absolute);
    }
}

fn is_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' && matches!(bytes[2], b'/' | b'\\'))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_relative_workdir_before_an_absolute_one() {
        expect![[r#"
            2:9-2:12 warning[workdir-relative-path] relative WORKDIR `app` resolves against the base image's working directory: use an absolute path
        "#]]
        .assert_eq(&check("workdir-relative-path", "FROM alpine\nWORKDIR app\nWORKDIR /srv\nWORKDIR data\n"));
    }

    #[test]
    fn does_not_fire_after_absolute_workdir_or_on_variables() {
        expect![[""]].assert_eq(&check(
            "workdir-relative-path",
            "FROM alpine AS base\nWORKDIR /app\nFROM base\nWORKDIR sub\nFROM alpine\nWORKDIR $HOME\nWORKDIR x\n",
        ));
    }

    #[test]
    fn quick_fix_on_scratch_makes_it_absolute() {
        expect![[r#"
            Change to `/opt`
            FROM scratch
            WORKDIR /opt
        "#]]
        .assert_eq(&fix("workdir-relative-path", "FROM scratch\nWORKDIR ./opt\n"));
    }
}
