//! `unescaped-dollar-in-label`: `$var` in a label that sealos (vip, image) or the node's shell
//! (init, check, clean, ...) should expand. buildah substitutes it at build time instead, usually
//! with an empty string (§2.1, §2.4.3).

use crate::syntax::NodeKind as _;
use super::{Diagnostic, InstructionContext, Severity, TextEdit};
use crate::sealos::labels::{self, LabelRole};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instruction = cx.instruction;
    if instruction.node.kind_name() != "label_instruction" {
        return;
    }
    for pair in cx.top().pairs() {
        let key = pair.key(cx.file);
        let Some(known) = labels::find(&key) else { continue };
        if !matches!(known.role, LabelRole::Bootstrap | LabelRole::RenderedByRootfs) {
            continue;
        }
        let Some(value) = pair.value_node() else { continue };
        let mut expansions = Vec::new();
        collect_expansions(value, &mut expansions);
        for expansion in expansions {
            let text = cx.file.node_text(expansion);
            let range = expansion.byte_range();
            out.push(
                Diagnostic::new(
                    "unescaped-dollar-in-label",
                    Severity::Warning,
                    range.clone(),
                    format!("buildah replaces `{text}` in `{key}` at build time (with an empty string unless an ARG/ENV above sets it); write `\\{text}` so it is expanded at `sealos run`"),
                )
                .with_fix(format!("Escape as `\\{text}`"), vec![TextEdit { range: range.start..range.start, new_text: "\\".into() }]),
            );
        }
    }
}

fn collect_expansions<'t>(node: tree_sitter::Node<'t>, out: &mut Vec<tree_sitter::Node<'t>>) {
    if node.kind_name() == "expansion" {
        out.push(node);
        return;
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        collect_expansions(child, out);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_unescaped_variables_in_bootstrap_and_vip() {
        expect![[r#"
            2:25-2:40 warning[unescaped-dollar-in-label] buildah replaces `$registryDomain` in `init` at build time (with an empty string unless an ARG/ENV above sets it); write `\$registryDomain` so it is expanded at `sealos run`
            3:12-3:25 warning[unescaped-dollar-in-label] buildah replaces `${defaultVIP}` in `vip` at build time (with an empty string unless an ARG/ENV above sets it); write `\${defaultVIP}` so it is expanded at `sealos run`
        "#]]
        .assert_eq(&check(
            "unescaped-dollar-in-label",
            "FROM scratch\nLABEL init=\"init-cri.sh $registryDomain && bash init.sh\"\nLABEL vip=\"${defaultVIP}\"\n",
        ));
    }

    #[test]
    fn does_not_fire_on_escaped_or_other_labels() {
        expect![[""]].assert_eq(&check(
            "unescaped-dollar-in-label",
            "FROM scratch\nARG V=1\nLABEL init=\"init-cri.sh \\$registryDomain \\$registryPort && bash init.sh\" vip=\"\\$defaultVIP\" org.example.v=$V\n",
        ));
    }

    #[test]
    fn quick_fix_escapes() {
        expect![[r#"
            Escape as `\$defaultVIP`
            FROM scratch
            LABEL vip=\$defaultVIP
        "#]]
        .assert_eq(&fix("unescaped-dollar-in-label", "FROM scratch\nLABEL vip=$defaultVIP\n"));
    }
}
