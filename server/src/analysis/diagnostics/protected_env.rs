//! `protected-env`: ENV that sets a `SEALOS_SYS*` variable sealos owns (§2.4.2).
//!
//! Type-aware: `SEALOS_SYS_KUBE_VERSION`, `SEALOS_SYS_SEALOS_VERSION` and `SEALOS_SYS_RUN_MODE`
//! are overwritten by sealos for every rootfs image and never reach others; the CRI and image
//! endpoints are legitimately defined by rootfs (and patch) images; any other `SEALOS_SYS*` key is
//! reserved.

use super::{Diagnostic, RuleContext, Severity};
use crate::{
    analysis::model::ItemKind,
    sealos::{env, ImageType},
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let (image_type, _) = cx.outline.image_type();
    let Some(stage) = cx.outline.final_stage() else { return };
    let env = stage.items.iter().filter(|item| item.kind == ItemKind::Env);
    for (item, definition) in env.flat_map(|item| item.definitions.iter().map(move |definition| (item, definition))) {
        let (name, key) = (definition.name.as_str(), definition.key);
        if !name.starts_with(env::SYSTEM_PREFIX) {
            continue;
        }
        let message = if env::OVERWRITTEN.contains(&name) {
            format!("sealos sets `{name}` itself at `sealos run` (from the rootfs image and the host); this ENV has no effect")
        } else if env::ROOTFS_ENDPOINTS.contains(&name) {
            if matches!(image_type, Some(ImageType::Rootfs | ImageType::Patch)) {
                continue;
            }
            format!("only rootfs images define `{name}`; in an application image it overrides the cluster's {name}. Remove it, or declare `LABEL sealos.io.type=rootfs`")
        } else {
            format!("the `SEALOS_SYS` prefix is reserved for sealos: `{name}` is dropped from Clusterfile env and may be overwritten; rename the variable")
        };
        out.push(Diagnostic::new("protected-env", Severity::Error, item.range(key), message));
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_overwritten_keys_in_any_image() {
        expect![[r#"
            3:5-3:28 error[protected-env] sealos sets `SEALOS_SYS_KUBE_VERSION` itself at `sealos run` (from the rootfs image and the host); this ENV has no effect
        "#]]
        .assert_eq(&check("protected-env", "FROM scratch\nLABEL sealos.io.type=rootfs\nENV SEALOS_SYS_KUBE_VERSION=v1.27.7\n"));
    }

    #[test]
    fn fires_on_endpoint_in_application_and_reserved_prefix() {
        expect![[r#"
            2:5-2:28 error[protected-env] only rootfs images define `SEALOS_SYS_CRI_ENDPOINT`; in an application image it overrides the cluster's SEALOS_SYS_CRI_ENDPOINT. Remove it, or declare `LABEL sealos.io.type=rootfs`
            3:5-3:20 error[protected-env] the `SEALOS_SYS` prefix is reserved for sealos: `SEALOS_SYSTEM_X` is dropped from Clusterfile env and may be overwritten; rename the variable
        "#]]
        .assert_eq(&check("protected-env", "FROM scratch\nENV SEALOS_SYS_CRI_ENDPOINT=/run/x.sock\nENV SEALOS_SYSTEM_X=1\n"));
    }

    #[test]
    fn does_not_fire_on_rootfs_endpoints() {
        expect![[""]].assert_eq(&check(
            "protected-env",
            "FROM scratch\nLABEL sealos.io.type=patch\nENV SEALOS_SYS_CRI_ENDPOINT=/var/run/containerd/containerd.sock SEALOS_SYS_IMAGE_ENDPOINT=/var/run/image-cri-shim.sock\n",
        ));
    }
}
