//! `copy-from-own-stage`: `COPY --from=x` inside the stage named (or numbered) `x` (hadolint
//! DL3023). A stage cannot copy from itself: BuildKit reports a circular dependency and buildah,
//! which only looks at earlier stages, pulls an image named `x` instead.

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (index, stage) in cx.outline.stages.iter().enumerate() {
        for instruction in stage.items {
            let Some((value, span)) = instruction.copy_from.as_deref() else { continue };
            let own_index = value.parse::<usize>().is_ok_and(|number| number == index);
            let own_name =
                stage.from_detail.name.as_deref().is_some_and(|name| !name.is_empty() && name.eq_ignore_ascii_case(value));
            if own_index || own_name {
                out.push(Diagnostic::new(
                    "copy-from-own-stage",
                    Severity::Error,
                    instruction.range(*span),
                    format!("`COPY --from={value}` copies from the stage it is in: a stage can only copy from an earlier stage or an image"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_own_name_and_index() {
        expect![[r#"
            2:13-2:18 error[copy-from-own-stage] `COPY --from=build` copies from the stage it is in: a stage can only copy from an earlier stage or an image
            4:13-4:14 error[copy-from-own-stage] `COPY --from=1` copies from the stage it is in: a stage can only copy from an earlier stage or an image
        "#]]
        .assert_eq(&check(
            "copy-from-own-stage",
            "FROM alpine AS build\nCOPY --from=build /a /b\nFROM scratch\nCOPY --from=1 /a /b\n",
        ));
    }

    #[test]
    fn does_not_fire_on_earlier_stages() {
        expect![[""]].assert_eq(&check(
            "copy-from-own-stage",
            "FROM alpine AS build\nFROM scratch\nCOPY --from=build /a /b\nCOPY --from=0 /a /b\n",
        ));
    }
}
