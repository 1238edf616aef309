//! `missing-from`: no FROM, or an instruction other than ARG before the first FROM.

use super::{did_you_mean, Diagnostic, RuleContext, Severity, TextEdit};
use crate::{
    analysis::model::{Item, ItemKind},
    sealos::instructions::INSTRUCTIONS,
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instructions: Vec<&Item> = cx.outline.instructions().collect();
    if instructions.is_empty() {
        return;
    }
    let Some(first_from) = instructions.iter().position(|i| i.kind == ItemKind::From) else {
        // A misspelled FROM (`FORM scratch`) is unknown-instruction's, whose fix corrects it; a
        // `FROM scratch` added above it would leave the typo for buildah to reject.
        let first = instructions.iter().find(|i| i.kind != ItemKind::Arg);
        if first.is_some_and(|i| i.kind == ItemKind::Unknown && is_misspelled_from(i.keyword_name(cx.file))) {
            return;
        }
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

fn is_misspelled_from(keyword: &str) -> bool {
    did_you_mean(keyword, INSTRUCTIONS.iter().copied()) == Some("FROM")
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
    fn does_not_fire_on_a_misspelled_from() {
        expect![[""]].assert_eq(&check("missing-from", "ARG V=1\nform scratch\nCOPY . .\n"));
        expect![[""]].assert_eq(&check("missing-from", "FORM scratch\n"));
    }

    #[test]
    fn fires_when_the_unknown_instruction_is_no_from() {
        expect![[r#"
            1:1-1:10 error[missing-from] the Kubefile has no FROM: add `FROM scratch` first
        "#]]
        .assert_eq(&check("missing-from", "COPYY . .\nFORM scratch\n"));
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
