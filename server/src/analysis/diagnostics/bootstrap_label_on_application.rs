//! `bootstrap-label-on-application`: `init`, `check`, `clean`, ... on an application or patch
//! image. Bootstrap labels merge across every image of the cluster and the last one wins, so an
//! application that carries one replaces the rootfs image's cluster bootstrap (§2.2).

use super::{Diagnostic, RuleContext, Severity};
use crate::sealos::{
    labels::{self, LabelRole},
    ImageType,
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let (Some(image_type @ (ImageType::Application | ImageType::Patch)), _) = cx.outline.image_type() else { return };
    for (item, label) in cx.outline.labels() {
        if labels::find(&label.key).is_some_and(|known| known.role == LabelRole::Bootstrap) {
            out.push(Diagnostic::new(
                "bootstrap-label-on-application",
                Severity::Warning,
                item.range(label.key_span),
                format!(
                    "`{}` is a cluster bootstrap label; on an {} image it replaces the rootfs image's `{}` for the whole cluster (the last image wins)",
                    label.key,
                    image_type.as_str(),
                    label.key
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
    fn fires_on_application_image() {
        expect![[r#"
            2:7-2:11 warning[bootstrap-label-on-application] `init` is a cluster bootstrap label; on an application image it replaces the rootfs image's `init` for the whole cluster (the last image wins)
        "#]]
        .assert_eq(&check("bootstrap-label-on-application", "FROM scratch\nLABEL init=\"bash init.sh\"\n"));
    }

    #[test]
    fn does_not_fire_on_rootfs() {
        expect![[""]].assert_eq(&check(
            "bootstrap-label-on-application",
            "FROM scratch\nLABEL sealos.io.type=rootfs init=\"bash init.sh\"\n",
        ));
    }
}
