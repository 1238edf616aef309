//! `registry-copy-without-images`: `COPY registry ...` when the context has no image sources and
//! no `registry/`: sealos creates `registry/` only when it saved images, so the COPY fails.

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(facts) = cx.facts else { return };
    if facts.has_registry_dir() || !facts.images.is_empty() || has_charts(facts) {
        return;
    }
    for copy in cx.context_copies() {
        for source in &copy.sources {
            if source.path.as_deref() != Some("registry") {
                continue;
            }
            // init.sh usually downloads charts and writes image lists before the build.
            let (severity, hint) = if facts.has_init_script() {
                (Severity::Hint, " unless init.sh creates them before the build")
            } else {
                (Severity::Error, "")
            };
            out.push(Diagnostic::new(
                "registry-copy-without-images",
                severity,
                source.range.clone(),
                format!("the context has no charts/, manifests with images, images/shim lists or images/skopeo/tar.txt{hint}, so sealos saves no images and creates no `registry/`: this COPY fails"),
            ));
        }
    }
}

/// A chart may render images; only helm knows, so any chart counts as an image source.
fn has_charts(facts: &crate::analysis::ContextFacts) -> bool {
    facts.entries.range("charts/".to_string()..).next().is_some_and(|entry| entry.starts_with("charts/"))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_without_image_sources() {
        expect![[r#"
            2:6-2:14 error[registry-copy-without-images] the context has no charts/, manifests with images, images/shim lists or images/skopeo/tar.txt, so sealos saves no images and creates no `registry/`: this COPY fails
        "#]]
        .assert_eq(&check("registry-copy-without-images", "//- /Kubefile\nFROM scratch\nCOPY registry registry\n//- /opt/x\n"));
    }

    #[test]
    fn is_a_hint_when_init_sh_may_create_sources() {
        expect![[r#"
            2:6-2:14 hint[registry-copy-without-images] the context has no charts/, manifests with images, images/shim lists or images/skopeo/tar.txt unless init.sh creates them before the build, so sealos saves no images and creates no `registry/`: this COPY fails
        "#]]
        .assert_eq(&check("registry-copy-without-images", "//- /Kubefile\nFROM scratch\nCOPY registry registry\n//- /init.sh\nhelm pull x\n"));
    }

    #[test]
    fn does_not_fire_with_images_or_charts() {
        expect![[""]].assert_eq(&check(
            "registry-copy-without-images",
            "//- /Kubefile\nFROM scratch\nCOPY registry registry\n//- /images/shim/list\nnginx:1.25\n",
        ));
        expect![[""]].assert_eq(&check(
            "registry-copy-without-images",
            "//- /Kubefile\nFROM scratch\nCOPY registry registry\n//- /charts/app/Chart.yaml\nname: app\n",
        ));
    }
}
