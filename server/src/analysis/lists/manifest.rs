//! `manifests/**/*.{yaml,yml,tmpl}` (sealos `ParseYamlImages`, sealos-semantics §1.5 (b)): an
//! `image:` line whose text is not a valid reference is skipped by sealos (logged, not fatal),
//! so that image never reaches `registry/`. Reported as a hint: in a `.tmpl` file or a line
//! filled in at `sealos run` that is often intended, and the build does not fail.

use crate::{
    analysis::{Diagnostic, Severity},
    context::images::image_lines,
};

const CODE: &str = "skipped-manifest-image";

/// `skipped-manifest-image` on the text sealos could not parse, with the reason. Uses the
/// extraction's own line scan, so the hint and `kubefile-ls images` always agree.
pub fn manifest_diagnostics(text: &str) -> Vec<Diagnostic> {
    image_lines(text.as_bytes())
        .into_iter()
        .filter_map(|line| {
            let reason = line.parsed.err()?;
            Some(Diagnostic::new(
                CODE,
                Severity::Hint,
                line.range,
                format!(
                    "sealos skips this image: {reason}; it is not saved into registry/ (list it in images/shim/ if the cluster needs it)"
                ),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::lists::testing::render;

    fn check(text: &str) -> String {
        render(text, &manifest_diagnostics(text))
    }

    #[test]
    fn lines_sealos_skips_are_hints_on_the_parsed_text() {
        expect![[r#"
            3:13-3:32 hint[skipped-manifest-image] sealos skips this image: `nginx:1.25 # pinned` is not a valid image reference: the `#` comment after the reference is read as part of it; it is not saved into registry/ (list it in images/shim/ if the cluster needs it)
            4:12-4:29 hint[skipped-manifest-image] sealos skips this image: `{{ .Values.tag }}` is not a valid image reference: template syntax (`{{ … }}`) is not rendered, the text is read as is; it is not saved into registry/ (list it in images/shim/ if the cluster needs it)
            5:10-5:27 hint[skipped-manifest-image] sealos skips this image: `${REGISTRY}/app:1` is not a valid image reference: variables such as `${VAR}` are not expanded, the text is read as is; it is not saved into registry/ (list it in images/shim/ if the cluster needs it)
            6:10-6:25 hint[skipped-manifest-image] sealos skips this image: uppercase letters are not allowed in repository names: `bitnami/Redis:7`; it is not saved into registry/ (list it in images/shim/ if the cluster needs it)
        "#]]
        .assert_eq(&check(
            "containers:\n  - image: nginx:1.25\n  - image: \"nginx:1.25 # pinned\"\n    image: {{ .Values.tag }}\n  image: ${REGISTRY}/app:1\n  image: bitnami/Redis:7\n",
        ));
    }

    #[test]
    fn lines_sealos_reads_or_ignores_are_not_reported() {
        expect![[""]].assert_eq(&check(
            "# image: {{ bad }}\nimage:\n  repository: nginx\nImage: Bad\n\"image\": \"x\"\nimage: quay.io/a/b:1@sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097\n",
        ));
    }
}
