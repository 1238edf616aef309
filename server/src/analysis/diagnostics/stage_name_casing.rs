//! `stage-name-casing`: `FROM image AS Builder` (BuildKit's StageNameCasing). BuildKit lowercases
//! stage names, so `Builder` and `builder` are the same stage; writing them in lower case keeps
//! `COPY --from=` references unambiguous across builders.

use super::{Diagnostic, RuleContext, Severity, TextEdit};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for stage in &cx.outline.stages {
        let (Some(name), Some(alias)) = (&stage.from_detail.name, stage.from_detail.alias) else { continue };
        if name.contains('$') || *name == name.to_lowercase() {
            continue;
        }
        let lower = name.to_lowercase();
        let alias_range = stage.from.range(alias);
        let mut edits = vec![TextEdit { range: alias_range.clone(), new_text: cx.file.text()[alias_range.clone()].to_lowercase() }];
        // References to the stage, which BuildKit matches case-insensitively.
        for instruction in cx.outline.instructions() {
            let reference = match (&instruction.from, instruction.copy_from.as_deref()) {
                (Some(from), _) if instruction.start > stage.from.start => from.image,
                (_, Some((_, value))) => Some(*value),
                _ => None,
            };
            if let Some(span) = reference {
                let text = instruction.text(cx.file, span);
                if text.eq_ignore_ascii_case(name) {
                    edits.push(TextEdit { range: instruction.range(span), new_text: text.to_lowercase() });
                }
            }
        }
        out.push(
            Diagnostic::new(
                "stage-name-casing",
                Severity::Warning,
                alias_range,
                format!("stage name `{name}` should be lower case (`{lower}`): BuildKit lowercases stage names"),
            )
            .with_fix(format!("Rename the stage to `{lower}`"), edits),
        );
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_upper_case_stage_name() {
        expect![[r#"
            1:16-1:23 warning[stage-name-casing] stage name `Builder` should be lower case (`builder`): BuildKit lowercases stage names
        "#]]
        .assert_eq(&check("stage-name-casing", "FROM alpine AS Builder\nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_on_lower_case_or_unnamed_stages() {
        expect![[""]].assert_eq(&check("stage-name-casing", "FROM alpine AS build-1\nFROM scratch\nFROM x AS ${NAME}\n"));
    }

    #[test]
    fn quick_fix_renames_the_stage_and_its_references() {
        expect![[r#"
            Rename the stage to `builder`
            FROM alpine AS builder
            FROM builder AS next
            FROM scratch
            COPY --from=builder /a /a
        "#]]
        .assert_eq(&fix(
            "stage-name-casing",
            "FROM alpine AS Builder\nFROM Builder AS next\nFROM scratch\nCOPY --from=BUILDER /a /a\n",
        ));
    }
}
