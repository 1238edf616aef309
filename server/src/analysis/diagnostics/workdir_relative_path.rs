//! `workdir-relative-path`: a relative WORKDIR before any absolute one in the stage (BuildKit's
//! WorkdirRelativePath, hadolint DL3000). It resolves against the base image's working directory,
//! so the result changes when the base image does.

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    // Whether each stage ends with an absolute WORKDIR set, for stages built FROM an earlier one.
    let mut absolute_at_end: Vec<bool> = Vec::new();
    for (index, stage) in cx.outline.stages.iter().enumerate() {
        let base = stage.from_detail.base.to_lowercase();
        let named = cx.outline.stages_named(&base);
        let base_stage = named[..named.partition_point(|&earlier| earlier < index)].last();
        let mut absolute = base_stage.is_some_and(|&earlier| absolute_at_end[earlier]);
        for instruction in stage.items {
            let Some(workdir) = &instruction.workdir else { continue };
            let (path, path_range) = (&workdir.literal, instruction.range(workdir.span));
            if path.contains('$') || is_absolute(path) {
                absolute = true;
                continue;
            }
            if absolute {
                continue;
            }
            let mut diagnostic = Diagnostic::new(
                "workdir-relative-path",
                Severity::Warning,
                path_range.clone(),
                format!(
                    "relative WORKDIR `{path}` resolves against the base image's working directory: use an absolute path"
                ),
            );
            if stage.is_scratch() {
                // A scratch stage starts in `/`, so the absolute path means the same.
                let absolute_path = format!("/{}", cx.file.text()[path_range.clone()].trim_start_matches("./"));
                diagnostic = diagnostic.with_replacement(format!("Change to `{absolute_path}`"), path_range, absolute_path);
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
