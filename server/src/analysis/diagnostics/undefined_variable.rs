//! `undefined-variable`: a variable nothing defines.
//!
//! In CMD/ENTRYPOINT, sealos expands `$(X)`, `${X}` and `$X` from the image ENV (plus, for rootfs
//! and patch images, the rootfs keys and built-ins); an unknown X is rewritten to `$(X)` and the
//! node's shell runs it as a command (§2.4.3). Elsewhere buildah expands `$X`/`${X}` from ARG/ENV
//! at build time and an unknown X becomes an empty string.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{did_you_mean, Diagnostic, RuleContext, Severity, TextEdit};
use crate::{
    analysis::variables::{self, Definition},
    sealos::{
        env,
        labels::{self, LabelRole},
        ImageType,
    },
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    check_run_time(cx, out);
    check_build_time(cx, out);
}

fn check_run_time(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(stage) = cx.model.final_stage() else { return };
    let (image_type, _) = cx.model.image_type();
    let rootfs_env = matches!(image_type, Some(ImageType::Rootfs | ImageType::Patch));
    // The env of a base image other than scratch (or a known rootfs) cannot be seen from here.
    if !stage.is_scratch() && !rootfs_env {
        return;
    }
    let image_env = variables::image_env(cx.model);
    let mut known: Vec<&str> = image_env.iter().map(|def| def.name.as_str()).collect();
    known.extend(cx.config.known_variables.iter().map(String::as_str));
    if rootfs_env {
        known.extend(env::ROOTFS_KEYS.iter().map(|key| key.name));
        known.extend(env::BUILTINS);
    }
    for instruction in &stage.instructions {
        if !matches!(instruction.node.kind_name(), "cmd_instruction" | "entrypoint_instruction") {
            continue;
        }
        let mut uses = Vec::new();
        collect_uses(instruction.node, &mut uses);
        for use_node in uses {
            let Some(name_node) = use_node.child_by_field_name("name") else { continue };
            let name = cx.file.node_text(name_node);
            if known.contains(&name) {
                continue;
            }
            let text = cx.file.node_text(use_node);
            let mut diagnostic = Diagnostic::new(
                "undefined-variable",
                Severity::Warning,
                use_node.byte_range(),
                run_time_message(name, text, &known, cx.model.file.text()),
            );
            if let Some(suggestion) = did_you_mean(name, known.iter().copied()) {
                diagnostic = diagnostic.with_replacement(format!("Change to `{suggestion}`"), name_node.byte_range(), suggestion);
            }
            let insert_at = env_insertion_point(cx, &image_env);
            diagnostic = diagnostic
                .with_fix(
                    format!("Add `ENV {name}=`"),
                    vec![TextEdit { range: insert_at..insert_at, new_text: format!("\nENV {name}=${{{name}:-\"\"}}") }],
                )
                .with_fix(
                    format!("Escape as `${text}`"),
                    vec![TextEdit { range: use_node.start_byte()..use_node.start_byte(), new_text: "$".into() }],
                );
            out.push(diagnostic);
        }
    }
}

fn run_time_message(name: &str, text: &str, known: &[&str], _source: &str) -> String {
    let hint = match did_you_mean(name, known.iter().copied()) {
        Some(suggestion) => format!("did you mean `{suggestion}`? "),
        None => String::new(),
    };
    format!(
        "`{text}` is not defined by an ENV of this image: sealos leaves it as `$({name})` and the shell runs `{name}` as a command. {hint}Define it with ENV (overridable with `sealos run -e {name}=...`) or write `${text}` for a literal"
    )
}

/// After the last ENV of the final stage, or after its FROM line.
fn env_insertion_point(cx: &RuleContext<'_, '_>, image_env: &[Definition<'_>]) -> usize {
    let anchor = image_env
        .last()
        .map(|def| def.instruction.node)
        .or_else(|| cx.model.final_stage().map(|stage| stage.from.node))
        .map_or(0, |node| node.end_byte());
    let text = cx.file.text();
    text[anchor..].find('\n').map_or(text.len(), |i| anchor + i)
}

fn collect_uses<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    if matches!(node.kind_name(), "template_variable" | "expansion") {
        out.push(node);
        return;
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        collect_uses(child, out);
    }
}

/// Instructions whose words buildah expands at build time.
const EXPANDED_AT_BUILD: &[&str] = &[
    "env_instruction", "label_instruction", "copy_instruction", "add_instruction", "workdir_instruction",
    "user_instruction", "expose_instruction", "volume_instruction", "stopsignal_instruction", "arg_instruction",
];

fn check_build_time(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let global = variables::global_args(cx.model);
    for stage in &cx.model.stages {
        // A base image brings its own ENV, invisible here.
        if !stage.is_scratch() {
            continue;
        }
        let definitions = variables::stage_definitions(cx.model, stage, None, &global);
        for instruction in &stage.instructions {
            if !EXPANDED_AT_BUILD.contains(&instruction.node.kind_name()) {
                continue;
            }
            let visible = variables::defined_before(&definitions, instruction.node.start_byte());
            let mut uses = Vec::new();
            collect_build_uses(cx, instruction.node, &mut uses);
            for use_node in uses {
                let Some(name_node) = use_node.child_by_field_name("name") else { continue };
                let name = cx.file.node_text(name_node);
                if use_node.child_by_field_name("operator").is_some_and(|op| handles_unset(cx.file.node_text(op)))
                    || visible.iter().any(|def| def.name == name)
                    || env::PREDEFINED_ARGS.contains(&name)
                    || cx.config.known_variables.iter().any(|known| known == name)
                {
                    continue;
                }
                let text = cx.file.node_text(use_node);
                let mut diagnostic = Diagnostic::new(
                    "undefined-variable",
                    Severity::Warning,
                    use_node.byte_range(),
                    format!("`{text}` is not defined by an ARG or ENV above: buildah replaces it with an empty string. Declare `ARG {name}`, give a default with `${{{name}:-...}}`, or write `\\{text}` for a literal"),
                );
                if let Some(suggestion) = did_you_mean(name, visible.iter().map(|def| def.name.as_str())) {
                    diagnostic = diagnostic.with_replacement(format!("Change to `{suggestion}`"), name_node.byte_range(), suggestion);
                }
                diagnostic = diagnostic.with_fix(
                    format!("Escape as `\\{text}`"),
                    vec![TextEdit { range: use_node.start_byte()..use_node.start_byte(), new_text: "\\".into() }],
                );
                out.push(diagnostic);
            }
        }
    }
}

fn handles_unset(operator: &str) -> bool {
    matches!(operator, ":-" | "-" | ":+" | "+" | ":?" | "?" | ":=" | "=")
}

/// Expansions in an instruction, leaving out label values that sealos or the node expands
/// (`unescaped-dollar-in-label` reports those).
fn collect_build_uses<'t>(cx: &RuleContext<'_, 't>, node: Node<'t>, out: &mut Vec<Node<'t>>) {
    if node.kind_name() == "expansion" {
        out.push(node);
        return;
    }
    if node.kind_name() == "key_value_pair" && node.parent().is_some_and(|p| p.kind_name() == "label_instruction") {
        let key = node.child_by_field_name("key").map(|k| crate::syntax::ast::literal_text(cx.file, k)).unwrap_or_default();
        if labels::find(&key).is_some_and(|known| matches!(known.role, LabelRole::Bootstrap | LabelRole::RenderedByRootfs)) {
            if let Some(key_node) = node.child_by_field_name("key") {
                collect_build_uses(cx, key_node, out);
            }
            return;
        }
    }
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        collect_build_uses(cx, child, out);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_template_without_env() {
        expect![[r#"
            3:23-3:34 warning[undefined-variable] `$(NAMSPACE)` is not defined by an ENV of this image: sealos leaves it as `$(NAMSPACE)` and the shell runs `NAMSPACE` as a command. did you mean `NAMESPACE`? Define it with ENV (overridable with `sealos run -e NAMSPACE=...`) or write `$$(NAMSPACE)` for a literal
            3:35-3:42 warning[undefined-variable] `${HOME}` is not defined by an ENV of this image: sealos leaves it as `$(HOME)` and the shell runs `HOME` as a command. Define it with ENV (overridable with `sealos run -e HOME=...`) or write `$${HOME}` for a literal
        "#]]
        .assert_eq(&check(
            "undefined-variable",
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"} NAMESPACE=default\nCMD [\"helm upgrade -i $(NAMSPACE) ${HOME} $(NAME)\"]\n",
        ));
    }

    #[test]
    fn fires_on_arg_only_variable_at_run_time_and_unset_build_time_variable() {
        expect![[r#"
            3:16-3:24 warning[undefined-variable] `$VERSION` is not defined by an ARG or ENV above: buildah replaces it with an empty string. Declare `ARG VERSION`, give a default with `${VERSION:-...}`, or write `\$VERSION` for a literal
            4:5-4:12 warning[undefined-variable] `$(NAME)` is not defined by an ENV of this image: sealos leaves it as `$(NAME)` and the shell runs `NAME` as a command. Define it with ENV (overridable with `sealos run -e NAME=...`) or write `$$(NAME)` for a literal
        "#]]
        .assert_eq(&check("undefined-variable", "FROM scratch\nARG NAME=x\nLABEL org.x.v=v$VERSION\nCMD $(NAME)\n"));
    }

    #[test]
    fn does_not_fire_on_defined_defaults_rootfs_keys_or_escapes() {
        expect![[""]].assert_eq(&check(
            "undefined-variable",
            "FROM scratch\nARG V=1\nENV NAME=${NAME:-\"nginx\"} CHARTS=./charts/$V\nLABEL sealos.io.type=patch init=\"x $registryDomain\"\nCOPY ${V:-x} ${NOPE:+y}\nCMD [\"helm upgrade -i $(NAME) $(CHARTS) $$(hostname) $(registryDomain) $(SEALOS_SYS_KUBE_VERSION)\"]\n",
        ));
    }

    #[test]
    fn does_not_fire_when_base_image_env_is_unknown() {
        expect![[""]].assert_eq(&check("undefined-variable", "FROM alpine\nCMD echo $HOME\n"));
    }

    #[test]
    fn quick_fixes() {
        expect![[r#"
            Change to `NAME`
            FROM scratch
            ENV NAME=x
            CMD ["helm install $(NAME)"]
        "#]]
        .assert_eq(&fix("undefined-variable", "FROM scratch\nENV NAME=x\nCMD [\"helm install $(NAMR)\"]\n"));
        expect![[r#"
            Add `ENV NAMR=`
            FROM scratch
            ENV NAMR=${NAMR:-""}
            CMD ["helm install $(NAMR)"]
        "#]]
        .assert_eq(&fix("undefined-variable", "FROM scratch\nCMD [\"helm install $(NAMR)\"]\n"));
    }
}
