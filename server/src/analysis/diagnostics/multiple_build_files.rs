//! `multiple-build-files`: without `-f`, sealos concatenates every one of Sealfile, Kubefile,
//! Dockerfile and Containerfile in the context into one multi-stage build (§1.3).

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(facts) = cx.facts else { return };
    if facts.build_files.len() < 2 {
        return;
    }
    let Some(from) = cx.outline.stages.first() else { return };
    let range = from.from.keyword_range();
    out.push(Diagnostic::new(
        "multiple-build-files",
        Severity::Warning,
        range,
        format!(
            "the context holds {}: `sealos build` without -f concatenates them into one multi-stage build and the last file's stage becomes the image; remove the extra files or build with -f",
            facts.build_files.join(", ")
        ),
    ));
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_with_kubefile_and_dockerfile() {
        expect![[r#"
            1:1-1:5 warning[multiple-build-files] the context holds Kubefile, Dockerfile: `sealos build` without -f concatenates them into one multi-stage build and the last file's stage becomes the image; remove the extra files or build with -f
        "#]]
        .assert_eq(&check("multiple-build-files", "//- /Kubefile\nFROM scratch\n//- /Dockerfile\nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_with_one_build_file() {
        expect![[""]].assert_eq(&check("multiple-build-files", "//- /Kubefile\nFROM scratch\n//- /init.sh\necho\n"));
    }
}
