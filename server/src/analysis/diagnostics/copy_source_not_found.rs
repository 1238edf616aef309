//! `copy-source-not-found`: a COPY/ADD source that is not in the build context.

use super::{Diagnostic, RuleContext, Severity};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(facts) = cx.facts else { return };
    let images_saved = !facts.images.is_empty() || facts.has_registry_dir();
    for copy in cx.context_copies() {
        for source in &copy.sources {
            let Some(path) = source.path.as_deref() else { continue };
            if path.contains("://") || (path == "registry" && images_saved) || exists(facts, path) {
                continue;
            }
            if path == "registry" {
                // registry-copy-without-images explains this case.
                continue;
            }
            let (severity, detail) = if path == ".." || path.starts_with("../") {
                (Severity::Error, "it is outside the build context, which buildah refuses".to_string())
            } else if facts.has_init_script() {
                (Severity::Hint, "it must be created by init.sh before `sealos build`".to_string())
            } else {
                (Severity::Warning, "buildah fails with \"no such file or directory\"".to_string())
            };
            out.push(Diagnostic::new(
                "copy-source-not-found",
                severity,
                source.range.clone(),
                format!("`{path}` does not exist in the build context: {detail}"),
            ));
        }
    }
}

fn exists(facts: &crate::analysis::ContextFacts, path: &str) -> bool {
    if !path.contains(['*', '?', '[']) {
        return facts.exists(path);
    }
    match globset::GlobBuilder::new(path).literal_separator(true).build() {
        Ok(glob) => {
            let matcher = glob.compile_matcher();
            facts.entries.iter().any(|entry| matcher.is_match(entry))
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_missing_source() {
        expect![[r#"
            2:6-2:12 warning[copy-source-not-found] `charts` does not exist in the build context: buildah fails with "no such file or directory"
            3:6-3:12 error[copy-source-not-found] `../etc` does not exist in the build context: it is outside the build context, which buildah refuses
        "#]]
        .assert_eq(&check("copy-source-not-found", "//- /Kubefile\nFROM scratch\nCOPY charts charts\nCOPY ../etc etc\n//- /opt/x\n"));
    }

    #[test]
    fn is_a_hint_when_init_sh_exists() {
        expect![[r#"
            2:6-2:12 hint[copy-source-not-found] `charts` does not exist in the build context: it must be created by init.sh before `sealos build`
        "#]]
        .assert_eq(&check("copy-source-not-found", "//- /Kubefile\nFROM scratch\nCOPY charts charts\n//- /init.sh\nhelm pull\n"));
    }

    #[test]
    fn does_not_fire_on_existing_globs_registry_or_other_stages() {
        expect![[""]].assert_eq(&check(
            "copy-source-not-found",
            "//- /Kubefile\nFROM busybox AS b\nFROM scratch\nCOPY opt/*.sh ./opt/\nCOPY --from=b /bin/sh /sh\nCOPY registry registry\nCOPY . .\n//- /opt/a.sh\necho\n//- /images/shim/list\nnginx\n",
        ));
    }

    #[test]
    fn does_not_fire_on_add_of_a_url() {
        expect![[""]].assert_eq(&check(
            "copy-source-not-found",
            "//- /Kubefile\nFROM alpine\nADD https://github.com/a/b/releases/latest/download/tool /usr/local/bin/\n//- /opt/\n",
        ));
    }
}
