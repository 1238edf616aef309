//! `ignored-instruction`: instructions `sealos run` never reads (§2.1: only Env, Cmd, Entrypoint
//! and Labels matter at run time).

use super::{Diagnostic, RuleContext, Severity};
use crate::sealos::instructions::IGNORED_AT_RUN;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(stage) = cx.outline.final_stage() else { return };
    for instruction in stage.instructions() {
        let keyword = instruction.keyword_name(cx.file);
        if !IGNORED_AT_RUN.contains(&keyword) {
            continue;
        }
        let range = instruction.keyword_range();
        let mut diagnostic = Diagnostic::new(
            "ignored-instruction",
            Severity::Hint,
            range,
            format!("{keyword} has no effect at `sealos run`: sealos reads only ENV, CMD, ENTRYPOINT and LABEL from the image"),
        );
        diagnostic.unnecessary = true;
        out.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_workdir_and_expose() {
        expect![[r#"
            2:1-2:8 hint[ignored-instruction] WORKDIR has no effect at `sealos run`: sealos reads only ENV, CMD, ENTRYPOINT and LABEL from the image
            3:1-3:7 hint[ignored-instruction] EXPOSE has no effect at `sealos run`: sealos reads only ENV, CMD, ENTRYPOINT and LABEL from the image
        "#]]
        .assert_eq(&check("ignored-instruction", "FROM scratch\nWORKDIR /app\nEXPOSE 80\n"));
    }

    #[test]
    fn does_not_fire_in_build_stages_or_on_meaningful_instructions() {
        expect![[""]].assert_eq(&check("ignored-instruction", "FROM busybox AS b\nWORKDIR /x\nFROM scratch\nENV A=1\nCMD [\"bash a.sh\"]\n"));
    }
}
