//! `rootfs-missing-label`: a rootfs image without the labels `sealos run` needs to create a
//! cluster: `sealos.io.version`, `version` and `vip` (§2.2, §3.2).

use super::{Diagnostic, RuleContext, Severity};
use crate::{
    analysis::model::{Outline, TypeSource},
    sealos::ImageType,
};

const REQUIRED: &[(&[&str], &str)] = &[
    (&["sealos.io.version", "apps.sealos.io/version"], "\"can't apply rootfs type images and version  not [v1beta1 v1beta2]\""),
    (&["version"], "\"cluster image kubernetes version cannot be empty\""),
    (&["vip"], "lvscare fails with \"vip and mster not allow empty\""),
];

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    // An inherited rootfs type comes with the base image's labels, which are not visible here.
    let (Some(ImageType::Rootfs), TypeSource::Label) = cx.outline.image_type() else { return };
    let labels = cx.outline.labels();
    let Some((type_item, type_label)) =
        labels.iter().rev().find(|(_, l)| l.key == "sealos.io.type" || l.key == "apps.sealos.io/type")
    else {
        return;
    };
    for (keys, failure) in REQUIRED {
        if Outline::label_value(&labels, keys).is_none() {
            out.push(Diagnostic::new(
                "rootfs-missing-label",
                Severity::Error,
                type_item.range(type_label.key_span),
                format!(
                    "a rootfs image needs the label `{}` (or `--label {}=...` at build time); without it `sealos run` fails: {failure}",
                    keys[0], keys[0]
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
    fn fires_for_each_missing_label() {
        expect![[r#"
            2:7-2:21 error[rootfs-missing-label] a rootfs image needs the label `version` (or `--label version=...` at build time); without it `sealos run` fails: "cluster image kubernetes version cannot be empty"
            2:7-2:21 error[rootfs-missing-label] a rootfs image needs the label `vip` (or `--label vip=...` at build time); without it `sealos run` fails: lvscare fails with "vip and mster not allow empty"
        "#]]
        .assert_eq(&check("rootfs-missing-label", "FROM scratch\nLABEL sealos.io.type=rootfs sealos.io.version=v1beta1\n"));
    }

    #[test]
    fn does_not_fire_on_complete_rootfs_or_application() {
        expect![[""]].assert_eq(&check(
            "rootfs-missing-label",
            "FROM scratch\nLABEL sealos.io.type=rootfs sealos.io.version=v1beta1 version=v1.27.7 vip=\\$defaultVIP\n",
        ));
        expect![[""]].assert_eq(&check("rootfs-missing-label", "FROM scratch\nLABEL sealos.io.type=application\n"));
    }
}
