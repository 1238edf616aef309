//! `unknown-stage`: `COPY --from=x` where `x` is meant as a stage but names no earlier stage.
//! buildah only looks at the stages before the current one and otherwise pulls an image named
//! `x`, so a later stage, a typo of a stage name, or a stage index out of range fails the build.
//! A value that may be an image (`nginx`, `alpine:3`, `quay.io/x/y`) is never reported.

use super::{did_you_mean, Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let stages = &cx.outline.stages;
    for (index, stage) in stages.iter().enumerate() {
        for instruction in stage.items {
            let Some((value, span)) = instruction.copy_from.as_deref() else { continue };
            if value.is_empty() || value.contains('$') {
                continue;
            }
            let range = instruction.range(*span);
            if let Ok(number) = value.parse::<usize>() {
                if number > index {
                    out.push(Diagnostic::new(
                        "unknown-stage",
                        Severity::Warning,
                        range,
                        format!(
                            "there is no stage {number} before this one (stages are numbered from 0; this is stage {index}): buildah fails to find it"
                        ),
                    ));
                }
                continue;
            }
            let named = cx.outline.stages_named(&value.to_lowercase());
            if named.first().is_some_and(|&first| first <= index) {
                continue;
            }
            if let Some(&later) = named.first() {
                let line = cx.file.line_index().line_of(stages[later].from.start) + 1;
                out.push(Diagnostic::new(
                    "unknown-stage",
                    Severity::Warning,
                    range,
                    format!(
                        "stage `{value}` is defined later (line {line}): `COPY --from` can only use an earlier stage, buildah would pull an image named `{value}`; move that stage up"
                    ),
                ));
                continue;
            }
            if value.contains(['/', ':', '@', '.']) {
                continue;
            }
            let earlier = stages[..index].iter().filter_map(|s| s.from_detail.name.as_deref());
            if let Some(suggestion) = did_you_mean(value, earlier) {
                out.push(
                    Diagnostic::new(
                        "unknown-stage",
                        Severity::Warning,
                        range.clone(),
                        format!(
                            "no stage is named `{value}`: did you mean `{suggestion}`? (buildah would pull an image named `{value}`)"
                        ),
                    )
                    .with_replacement(format!("Change to `{suggestion}`"), range, suggestion),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_typo_later_stage_and_index_out_of_range() {
        expect![[r#"
            3:13-3:20 warning[unknown-stage] no stage is named `buidler`: did you mean `builder`? (buildah would pull an image named `buidler`)
            4:13-4:17 warning[unknown-stage] stage `late` is defined later (line 5): `COPY --from` can only use an earlier stage, buildah would pull an image named `late`; move that stage up
            6:13-6:14 warning[unknown-stage] there is no stage 5 before this one (stages are numbered from 0; this is stage 2): buildah fails to find it
        "#]]
        .assert_eq(&check(
            "unknown-stage",
            "FROM alpine AS builder\nFROM scratch\nCOPY --from=buidler /a /a\nCOPY --from=late /b /b\nFROM alpine AS late\nCOPY --from=5 /c /c\n",
        ));
    }

    #[test]
    fn does_not_fire_on_stages_images_or_variables() {
        expect![[""]].assert_eq(&check(
            "unknown-stage",
            "FROM alpine AS builder\nFROM scratch\nCOPY --from=Builder /a /a\nCOPY --from=0 /a /a\nCOPY --from=nginx /x /x\nCOPY --from=quay.io/a/b:1 /y /y\nCOPY --from=${STAGE} /z /z\n",
        ));
    }

    #[test]
    fn quick_fix_uses_the_stage_name() {
        expect![[r#"
            Change to `builder`
            FROM alpine AS builder
            FROM scratch
            COPY --from=builder /a /a
        "#]]
        .assert_eq(&fix("unknown-stage", "FROM alpine AS builder\nFROM scratch\nCOPY --from=buidler /a /a\n"));
    }
}
