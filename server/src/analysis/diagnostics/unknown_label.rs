//! `unknown-label`: a LABEL key sealos does not read, most often a typo of one it does.
//!
//! Keys of other tools' namespaces (`org.opencontainers.image.*`, any dotted or `domain/` key)
//! and the Docker conventions in `CONVENTIONAL` are left alone; a key in a sealos namespace that
//! sealos does not define is always reported.

use crate::syntax::NodeKind as _;
use super::{did_you_mean, Diagnostic, InstructionContext, Severity};
use crate::sealos::labels;

/// Bare keys that Docker tooling and image authors use by convention.
const CONVENTIONAL: &[&str] = &["maintainer", "description", "summary", "vendor", "authors", "url", "license", "name", "release"];

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instruction = cx.instruction;
    if instruction.node.kind_name() != "label_instruction" {
        return;
    }
    for pair in cx.top().pairs() {
        let Some(key_node) = pair.key_node() else { continue };
        let key = pair.key(cx.file);
        if key.contains('$') || labels::find(&key).is_some() || cx.config.allowed_labels.contains(&key) {
            continue;
        }
        let sealos_namespace = labels::in_sealos_namespace(&key);
        if !sealos_namespace && (labels::in_foreign_namespace(&key) || CONVENTIONAL.contains(&key.as_str())) {
            continue;
        }
        let range = key_node.byte_range();
        let suggestion = did_you_mean(&key, labels::KEYS.iter().map(|label| label.key));
        let diagnostic = match suggestion {
            Some(known) => Diagnostic::new(
                "unknown-label",
                Severity::Warning,
                range.clone(),
                format!("sealos does not read the label `{key}`: did you mean `{known}`?"),
            )
            .with_replacement(format!("Change to `{known}`"), range, known),
            None if sealos_namespace => Diagnostic::new(
                "unknown-label",
                Severity::Warning,
                range,
                format!("`{key}` is not a sealos label; sealos reads sealos.io.type, sealos.io.version and sealos.io.distribution (or their apps.sealos.io/ forms)"),
            ),
            None => Diagnostic::new(
                "unknown-label",
                Severity::Warning,
                range,
                format!("sealos does not read the label `{key}`; use a namespaced key (e.g. `org.opencontainers.image.{key}`) or add it to `allowedLabels`"),
            ),
        };
        out.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::{
        diagnostics::fixture::{check, check_with, fix},
        Config,
    };

    #[test]
    fn fires_on_typo_of_sealos_key() {
        expect![[r#"
            2:7-2:20 warning[unknown-label] sealos does not read the label `sealos.io.typ`: did you mean `sealos.io.type`?
            3:7-3:13 warning[unknown-label] sealos does not read the label `vesion`: did you mean `version`?
        "#]]
        .assert_eq(&check("unknown-label", "FROM scratch\nLABEL sealos.io.typ=rootfs\nLABEL vesion=v1.27.7\n"));
    }

    #[test]
    fn fires_on_unknown_key_in_sealos_namespace() {
        expect![[r#"
            2:7-2:28 warning[unknown-label] `apps.sealos.io/foobar` is not a sealos label; sealos reads sealos.io.type, sealos.io.version and sealos.io.distribution (or their apps.sealos.io/ forms)
        "#]]
        .assert_eq(&check("unknown-label", "FROM scratch\nLABEL apps.sealos.io/foobar=1\n"));
    }

    #[test]
    fn does_not_fire_on_known_foreign_or_allowed_keys() {
        let text = "FROM scratch\nLABEL sealos.io.type=\"patch\" apps.sealos.io/type=patch org.opencontainers.image.authors=me \
                    com.example.team=x maintainer=labring image=\"ghcr.io/labring/lvscare:latest\" team=infra\n";
        let config = Config { allowed_labels: vec!["team".into()], ..Config::default() };
        expect![[""]].assert_eq(&check_with("unknown-label", text, &config));
    }

    #[test]
    fn quick_fix_renames_key() {
        expect![[r#"
            Change to `sealos.io.type`
            FROM scratch
            LABEL sealos.io.type=rootfs
        "#]]
        .assert_eq(&fix("unknown-label", "FROM scratch\nLABEL sealos.io.typ=rootfs\n"));
    }
}
