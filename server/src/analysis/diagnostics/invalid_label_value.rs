//! `invalid-label-value`: a value sealos rejects or silently ignores (§2.2).

use super::{did_you_mean, Diagnostic, RuleContext, Severity};
use crate::sealos::{
    labels::{self, LabelRole, API_VERSIONS, DISTRIBUTIONS},
    ImageType,
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let (image_type, _) = cx.outline.image_type();
    for (item, label) in cx.outline.labels() {
        let Some(known) = labels::find(&label.key) else { continue };
        let Some(value_span) = label.value_span else { continue };
        let value_range = item.range(value_span);
        // A build-time variable is resolved by buildah; its value cannot be checked here.
        if label.value.contains('$') {
            continue;
        }
        let value = label.value.as_str();
        let allowed: Vec<&str> = match known.role {
            LabelRole::Type => ImageType::ALL.iter().map(|t| t.as_str()).collect(),
            LabelRole::ApiVersion if image_type == Some(ImageType::Rootfs) => API_VERSIONS.to_vec(),
            LabelRole::Distribution => DISTRIBUTIONS.to_vec(),
            LabelRole::KubeVersion if image_type == Some(ImageType::Rootfs) => {
                if !is_kube_version(value) {
                    out.push(Diagnostic::new(
                        "invalid-label-value",
                        Severity::Error,
                        value_range,
                        format!("`version` of a rootfs image must be a Kubernetes version like v1.27.7, not `{value}`: sealos parses it as semver"),
                    ));
                }
                continue;
            }
            _ => continue,
        };
        if allowed.contains(&value) {
            continue;
        }
        let consequence = match known.role {
            LabelRole::Type => "sealos will mount the image but never copy its files or run its CMD",
            LabelRole::ApiVersion => "`sealos run` fails with \"can't apply rootfs type images\"",
            _ => "`sealos run` fails with \"unsupported distribution\"",
        };
        let mut diagnostic = Diagnostic::new(
            "invalid-label-value",
            Severity::Error,
            value_range.clone(),
            format!("`{}` must be one of {}, not `{value}`: {consequence}", label.key, allowed.join(", ")),
        );
        if let Some(suggestion) = did_you_mean(value, allowed.iter().copied()) {
            diagnostic = diagnostic.with_replacement(format!("Change to `{suggestion}`"), value_range, format!("\"{suggestion}\""));
        }
        out.push(diagnostic);
    }
}

/// `vMAJOR.MINOR.PATCH` with an optional pre-release or build suffix.
fn is_kube_version(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('v') else { return false };
    let core = rest.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_wrong_case_type() {
        expect![[r#"
            2:22-2:30 error[invalid-label-value] `sealos.io.type` must be one of rootfs, application, patch, not `Rootfs`: sealos will mount the image but never copy its files or run its CMD
        "#]]
        .assert_eq(&check("invalid-label-value", "FROM scratch\nLABEL sealos.io.type=\"Rootfs\"\n"));
    }

    #[test]
    fn fires_on_rootfs_version_labels() {
        expect![[r#"
            2:47-2:54 error[invalid-label-value] `sealos.io.version` must be one of v1beta1, v1beta2, not `v1beta3`: `sealos run` fails with "can't apply rootfs type images"
            2:63-2:69 error[invalid-label-value] `version` of a rootfs image must be a Kubernetes version like v1.27.7, not `1.27.7`: sealos parses it as semver
            2:93-2:96 error[invalid-label-value] `sealos.io.distribution` must be one of kubernetes, kubeadm, k3s, not `k8s`: `sealos run` fails with "unsupported distribution"
        "#]]
        .assert_eq(&check(
            "invalid-label-value",
            "FROM scratch\nLABEL sealos.io.type=rootfs sealos.io.version=v1beta3 version=1.27.7 sealos.io.distribution=k8s vip=x\n",
        ));
    }

    #[test]
    fn does_not_fire_on_valid_values_or_variables() {
        expect![[""]].assert_eq(&check(
            "invalid-label-value",
            "FROM scratch\nARG T=patch\nLABEL sealos.io.type=rootfs sealos.io.version=v1beta1 version=v1.27.7 vip=\\$defaultVIP\nLABEL apps.sealos.io/type=${T}\n",
        ));
    }

    #[test]
    fn quick_fix_uses_closest_value() {
        expect![[r#"
            Change to `rootfs`
            FROM scratch
            LABEL sealos.io.type="rootfs"
        "#]]
        .assert_eq(&fix("invalid-label-value", "FROM scratch\nLABEL sealos.io.type=Rootfs\n"));
    }
}
