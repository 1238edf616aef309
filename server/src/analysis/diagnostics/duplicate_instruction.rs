//! `duplicate-instruction`: more than one CMD or ENTRYPOINT in a stage; only the last one counts.

use super::{Diagnostic, RuleContext, Severity};
use crate::analysis::model::ItemKind;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for stage in &cx.outline.stages {
        for kind in [ItemKind::Cmd, ItemKind::Entrypoint] {
            let all: Vec<_> = stage.items.iter().filter(|i| i.kind == kind).collect();
            let Some((last, earlier)) = all.split_last() else { continue };
            for instruction in earlier {
                let keyword = instruction.keyword_name(cx.file);
                let line = cx.file.line_index().line_of(last.start) + 1;
                let mut diagnostic = Diagnostic::new(
                    "duplicate-instruction",
                    Severity::Warning,
                    instruction.start..instruction.end,
                    format!(
                        "only the last {keyword} of a stage is kept (line {line}); sealos runs a JSON {keyword} \
                         element by element, so put every command in one {keyword} array"
                    ),
                );
                diagnostic.unnecessary = true;
                out.push(diagnostic);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_two_cmds() {
        expect![[r#"
            2:1-2:18 warning[duplicate-instruction] only the last CMD of a stage is kept (line 3); sealos runs a JSON CMD element by element, so put every command in one CMD array
        "#]]
        .assert_eq(&check("duplicate-instruction", "FROM scratch\nCMD [\"bash a.sh\"]\nCMD [\"bash b.sh\"]\n"));
    }

    #[test]
    fn does_not_fire_across_stages() {
        expect![[""]].assert_eq(&check("duplicate-instruction", "FROM a\nCMD x\nFROM scratch\nCMD [\"bash b.sh\"]\n"));
    }
}
