//! `run-on-scratch`: RUN in a stage built FROM scratch has no shell to run in.

use super::{Diagnostic, RuleContext, Severity};
use crate::analysis::model::ItemKind;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for stage in cx.outline.stages.iter().filter(|stage| stage.is_scratch()) {
        for instruction in stage.items.iter().filter(|i| i.kind == ItemKind::Run) {
            let range = instruction.keyword_range();
            out.push(Diagnostic::new(
                "run-on-scratch",
                Severity::Error,
                range,
                "RUN in a stage FROM scratch fails: the image has no /bin/sh. Run the command in init.sh \
                 before the build, or in an earlier stage and COPY --from it",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_in_scratch_stage() {
        expect![[r#"
            2:1-2:4 error[run-on-scratch] RUN in a stage FROM scratch fails: the image has no /bin/sh. Run the command in init.sh before the build, or in an earlier stage and COPY --from it
        "#]]
        .assert_eq(&check("run-on-scratch", "FROM scratch\nRUN echo hi\n"));
    }

    #[test]
    fn does_not_fire_on_base_with_shell() {
        expect![[""]].assert_eq(&check("run-on-scratch", "FROM busybox AS b\nRUN echo hi\nFROM scratch\nCOPY --from=b /x /x\n"));
    }
}
