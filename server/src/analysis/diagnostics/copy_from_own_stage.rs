//! `copy-from-own-stage`: `COPY --from=x` inside the stage named (or numbered) `x` (hadolint
//! DL3023). A stage cannot copy from itself: BuildKit reports a circular dependency and buildah,
//! which only looks at earlier stages, pulls an image named `x` instead.

use crate::syntax::NodeKind as _;
use super::{Diagnostic, RuleContext, Severity};
use crate::syntax::ast;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (index, stage) in cx.model.stages.iter().enumerate() {
        for instruction in &stage.instructions {
            if instruction.node.kind_name() != "copy_instruction" {
                continue;
            }
            let Some(value_node) = instruction.flag(cx.file, "from").and_then(|flag| flag.value_node()) else { continue };
            let value = ast::literal_text(cx.file, value_node);
            let own_index = value.parse::<usize>().is_ok_and(|number| number == index);
            let own_name = stage.name.as_deref().is_some_and(|name| !name.is_empty() && name.eq_ignore_ascii_case(&value));
            if own_index || own_name {
                out.push(Diagnostic::new(
                    "copy-from-own-stage",
                    Severity::Error,
                    value_node.byte_range(),
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
