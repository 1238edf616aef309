//! `duplicate-stage-name`: two stages with the same name (compared case-insensitively, as BuildKit
//! does; BuildKit's DuplicateStageName, hadolint DL3024): `COPY --from=name` and `FROM name` then
//! name two stages, and which one is used depends on the builder.

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (index, stage) in cx.outline.stages.iter().enumerate() {
        let (Some(name), Some(alias)) = (&stage.from_detail.name, stage.from_detail.alias) else { continue };
        if name.is_empty() || name.contains('$') {
            continue;
        }
        let lower = stage.from_detail.lower_name.as_deref().unwrap_or_default();
        let first = cx.outline.stages_named(lower).first().copied().unwrap_or(index);
        if first < index {
            let line = cx.file.line_index().line_of(cx.outline.stages[first].from.start) + 1;
            out.push(Diagnostic::new(
                "duplicate-stage-name",
                Severity::Warning,
                stage.from.range(alias),
                format!(
                    "stage name `{name}` is already used on line {line}: `COPY --from={lower}` and `FROM {lower}` become ambiguous; rename one of them"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_reused_name_ignoring_case() {
        expect![[r#"
            2:16-2:21 warning[duplicate-stage-name] stage name `Build` is already used on line 1: `COPY --from=build` and `FROM build` become ambiguous; rename one of them
        "#]]
        .assert_eq(&check("duplicate-stage-name", "FROM alpine AS build\nFROM alpine AS Build\nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_on_distinct_names() {
        expect![[""]].assert_eq(&check("duplicate-stage-name", "FROM alpine AS a\nFROM alpine AS b\nFROM scratch\n"));
    }
}
