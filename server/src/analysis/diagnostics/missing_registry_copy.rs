//! `missing-registry-copy`: the context has images to save (or an existing `registry/`), but no
//! COPY/ADD puts `registry` at the image root: sealos pulls the images and never ships them.

use std::collections::BTreeMap;

use super::{Diagnostic, RuleContext, Severity, TextEdit};
use crate::{analysis::copies::ContextCopy, syntax::line_index::line_content_end};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(facts) = cx.facts else { return };
    if facts.images.is_empty() && !facts.has_registry_dir() {
        return;
    }
    let copies = cx.context_copies();
    let registry_ignored = facts.is_ignored("registry");
    if !registry_ignored && copies.iter().any(ContextCopy::ships_registry) {
        return;
    }
    let Some(stage) = cx.outline.final_stage() else { return };
    let what = describe_images(facts);
    let message = if registry_ignored {
        format!("{what}, but .dockerignore/.containerignore excludes `registry`, so the saved images never reach the image; remove `registry` from the ignore file")
    } else {
        format!("{what}, but no COPY puts `registry` at the image root: add `COPY registry registry`")
    };
    let anchor_end = copies.last().map_or(stage.from.end, |copy| copy.item.end);
    let insert_at = line_content_end(cx.file.text(), anchor_end);
    let range = stage.from.keyword_range();
    let mut diagnostic = Diagnostic::new("missing-registry-copy", Severity::Warning, range, message);
    if !registry_ignored {
        diagnostic = diagnostic.with_fix(
            "Add `COPY registry registry`",
            vec![TextEdit { range: insert_at..insert_at, new_text: "\nCOPY registry registry".into() }],
        );
    }
    out.push(diagnostic);
}

/// "3 images from manifests/app.yaml, images/shim/list will be saved into registry/".
fn describe_images(facts: &crate::analysis::ContextFacts) -> String {
    if facts.images.is_empty() {
        return "the context has a `registry/` directory".to_string();
    }
    let mut by_file: BTreeMap<&str, usize> = BTreeMap::new();
    for image in &facts.images {
        *by_file.entry(image.file.as_str()).or_default() += 1;
    }
    let distinct: std::collections::BTreeSet<&str> = facts.images.iter().map(|i| i.image.as_str()).collect();
    let count = distinct.len();
    let files: Vec<&str> = by_file.keys().copied().collect();
    let shown = if files.len() > 3 { format!("{} and {} more files", files[..3].join(", "), files.len() - 3) } else { files.join(", ") };
    format!("{count} image{} from {shown} will be saved into registry/", if count == 1 { "" } else { "s" })
}


#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    const IMAGES: &str = "//- /manifests/app.yaml\nspec:\n  containers:\n  - image: nginx:1.25\n//- /images/shim/list\ndocker.io/library/busybox:1.36\n";

    #[test]
    fn fires_when_images_are_not_copied() {
        expect![[r#"
            1:1-1:5 warning[missing-registry-copy] 2 images from images/shim/list, manifests/app.yaml will be saved into registry/, but no COPY puts `registry` at the image root: add `COPY registry registry`
        "#]]
        .assert_eq(&check("missing-registry-copy", &format!("//- /Kubefile\nFROM scratch\nCOPY manifests manifests\n{IMAGES}")));
    }

    #[test]
    fn fires_when_registry_lands_below_workdir_or_is_ignored() {
        expect![[r#"
            1:1-1:5 warning[missing-registry-copy] 2 images from images/shim/list, manifests/app.yaml will be saved into registry/, but no COPY puts `registry` at the image root: add `COPY registry registry`
        "#]]
        .assert_eq(&check("missing-registry-copy", &format!("//- /Kubefile\nFROM scratch\nWORKDIR /app\nCOPY registry registry\n{IMAGES}")));
        expect![[r#"
            1:1-1:5 warning[missing-registry-copy] 2 images from images/shim/list, manifests/app.yaml will be saved into registry/, but .dockerignore/.containerignore excludes `registry`, so the saved images never reach the image; remove `registry` from the ignore file
        "#]]
        .assert_eq(&check("missing-registry-copy", &format!("//- /Kubefile\nFROM scratch\nCOPY . .\n//- /.dockerignore\nregistry\n{IMAGES}")));
    }

    #[test]
    fn does_not_fire_on_accepted_forms() {
        for copy in ["COPY registry registry", "COPY registry ./registry", "COPY ./registry /registry/", "COPY . .", "COPY . /", "ADD registry registry"] {
            let fixture = format!("//- /Kubefile\nFROM scratch\n{copy}\n{IMAGES}");
            assert_eq!(check("missing-registry-copy", &fixture), "", "{copy}");
        }
    }

    #[test]
    fn does_not_fire_without_images() {
        expect![[""]].assert_eq(&check("missing-registry-copy", "//- /Kubefile\nFROM scratch\nCOPY opt opt\n//- /opt/x\n"));
    }

    #[test]
    fn quick_fix_inserts_after_last_copy() {
        expect![[r#"
            Add `COPY registry registry`
            FROM scratch
            COPY manifests manifests
            COPY registry registry
            CMD ["kubectl apply -f manifests"]
        "#]]
        .assert_eq(&fix(
            "missing-registry-copy",
            &format!("//- /Kubefile\nFROM scratch\nCOPY manifests manifests\nCMD [\"kubectl apply -f manifests\"]\n{IMAGES}"),
        ));
    }
}
