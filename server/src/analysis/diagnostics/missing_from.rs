//! `missing-from`: no FROM, or an instruction other than ARG before the first FROM.

use super::{Diagnostic, RuleContext, Severity, TextEdit};
use crate::analysis::model::{Item, ItemKind};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instructions: Vec<&Item> = cx.outline.instructions().collect();
    if instructions.is_empty() {
        return;
    }
    let Some(first_from) = instructions.iter().position(|i| i.kind == ItemKind::From) else {
        let range = instructions[0].start..instructions[0].end;
        out.push(
            Diagnostic::new("missing-from", Severity::Error, range, "the Kubefile has no FROM: add `FROM scratch` first")
                .with_fix("Add `FROM scratch`", vec![TextEdit { range: 0..0, new_text: "FROM scratch\n".into() }]),
        );
        return;
    };
    for instruction in &instructions[..first_from] {
        if matches!(instruction.kind, ItemKind::Arg | ItemKind::Unknown) {
            continue;
        }
        let keyword = instruction.keyword_name(cx.file);
        let range = instruction.keyword_range();
        out.push(Diagnostic::new(
            "missing-from",
            Severity::Error,
            range,
            format!("{keyword} before the first FROM: only ARG may come before FROM"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_without_from() {
        expect![[r#"
            1:1-1:9 error[missing-from] the Kubefile has no FROM: add `FROM scratch` first
        "#]]
        .assert_eq(&check("missing-from", "COPY . .\nCMD [\"bash x.sh\"]\n"));
    }

    #[test]
    fn fires_on_instruction_before_from() {
        expect![[r#"
            2:1-2:4 error[missing-from] ENV before the first FROM: only ARG may come before FROM
        "#]]
        .assert_eq(&check("missing-from", "ARG V=1\nENV A=1\nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_on_arg_then_from() {
        expect![[""]].assert_eq(&check("missing-from", "# c\nARG BASE=scratch\nFROM ${BASE}\n"));
    }

    #[test]
    fn quick_fix_adds_from_scratch() {
        expect![[r#"
            Add `FROM scratch`
            FROM scratch
            COPY . .
        "#]]
        .assert_eq(&fix("missing-from", "COPY . .\n"));
    }
}
