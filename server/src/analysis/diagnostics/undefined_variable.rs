//! `undefined-variable`: a variable nothing defines.
//!
//! In CMD/ENTRYPOINT, sealos expands `$(X)`, `${X}` and `$X` from the image ENV (plus, for rootfs
//! and patch images, the rootfs keys and built-ins); an unknown X is rewritten to `$(X)` and the
//! node's shell runs it as a command (§2.4.3). Elsewhere buildah expands `$X`/`${X}` from ARG/ENV
//! at build time and an unknown X becomes an empty string.

use std::collections::HashSet;

use super::{did_you_mean, Diagnostic, RuleContext, Severity, TextEdit};
use crate::{
    analysis::model::{Item, ItemKind},
    sealos::{env, ImageType},
    syntax::line_index::line_content_end,
};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    check_run_time(cx, out);
    check_build_time(cx, out);
}

fn check_run_time(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let Some(stage) = cx.outline.final_stage() else { return };
    let (image_type, _) = cx.outline.image_type();
    let rootfs_env = matches!(image_type, Some(ImageType::Rootfs | ImageType::Patch));
    // The env of a base image other than scratch (or a known rootfs) cannot be seen from here.
    if !stage.is_scratch() && !rootfs_env {
        return;
    }
    let image_env: Vec<&Item> = stage.items.iter().filter(|item| item.kind == ItemKind::Env).collect();
    let mut known: Vec<&str> =
        image_env.iter().flat_map(|item| item.definitions.iter().map(|definition| definition.name.as_str())).collect();
    known.extend(cx.config.known_variables.iter().map(String::as_str));
    if rootfs_env {
        known.extend(env::ROOTFS_KEYS.iter().map(|key| key.name));
        known.extend(env::BUILTINS);
    }
    let defined: HashSet<&str> = known.iter().copied().collect();
    for instruction in stage.items.iter().filter(|item| matches!(item.kind, ItemKind::Cmd | ItemKind::Entrypoint)) {
        for used in &instruction.uses {
            let name = instruction.text(cx.file, used.name);
            if defined.contains(name) {
                continue;
            }
            let text = instruction.text(cx.file, used.span);
            let range = instruction.range(used.span);
            let suggestion = did_you_mean(name, known.iter().copied());
            let mut diagnostic =
                Diagnostic::new("undefined-variable", Severity::Warning, range.clone(), run_time_message(name, text, suggestion));
            if let Some(suggestion) = suggestion {
                diagnostic = diagnostic.with_replacement(format!("Change to `{suggestion}`"), instruction.range(used.name), suggestion);
            }
            let insert_at = env_insertion_point(cx, image_env.last().copied().unwrap_or(stage.from));
            diagnostic = diagnostic
                .with_fix(
                    format!("Add `ENV {name}=`"),
                    vec![TextEdit { range: insert_at..insert_at, new_text: format!("\nENV {name}=${{{name}:-\"\"}}") }],
                )
                .with_fix(
                    format!("Escape as `${text}`"),
                    vec![TextEdit { range: range.start..range.start, new_text: "$".into() }],
                );
            out.push(diagnostic);
        }
    }
}

fn run_time_message(name: &str, text: &str, suggestion: Option<&str>) -> String {
    let hint = match suggestion {
        Some(suggestion) => format!("did you mean `{suggestion}`? "),
        None => String::new(),
    };
    format!(
        "`{text}` is not defined by an ENV of this image: sealos leaves it as `$({name})` and the shell runs `{name}` as a command. {hint}Define it with ENV (overridable with `sealos run -e {name}=...`) or write `${text}` for a literal"
    )
}

/// At the end of the line of `anchor` (the last ENV of the final stage, or its FROM).
fn env_insertion_point(cx: &RuleContext<'_, '_>, anchor: &Item) -> usize {
    line_content_end(cx.file.text(), anchor.end)
}

fn check_build_time(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for stage in &cx.outline.stages {
        // A base image brings its own ENV, invisible here.
        if !stage.is_scratch() {
            continue;
        }
        // The ARG/ENV names of the stage above the current instruction, in order and as a set.
        let mut visible: Vec<&str> = Vec::new();
        let mut defined: HashSet<&str> = HashSet::new();
        for instruction in stage.instructions() {
            if instruction.kind.expanded_at_build() {
                for used in &instruction.uses {
                    let name = instruction.text(cx.file, used.name);
                    if used.handles_unset
                        || defined.contains(name)
                        || env::PREDEFINED_ARGS.contains(&name)
                        || cx.config.known_variables.iter().any(|known| known == name)
                    {
                        continue;
                    }
                    let text = instruction.text(cx.file, used.span);
                    let range = instruction.range(used.span);
                    let mut diagnostic = Diagnostic::new(
                        "undefined-variable",
                        Severity::Warning,
                        range.clone(),
                        format!("`{text}` is not defined by an ARG or ENV above: buildah replaces it with an empty string. Declare `ARG {name}`, give a default with `${{{name}:-...}}`, or write `\\{text}` for a literal"),
                    );
                    if let Some(suggestion) = did_you_mean(name, visible.iter().copied()) {
                        diagnostic =
                            diagnostic.with_replacement(format!("Change to `{suggestion}`"), instruction.range(used.name), suggestion);
                    }
                    diagnostic = diagnostic.with_fix(
                        format!("Escape as `\\{text}`"),
                        vec![TextEdit { range: range.start..range.start, new_text: "\\".into() }],
                    );
                    out.push(diagnostic);
                }
            }
            if matches!(instruction.kind, ItemKind::Env | ItemKind::Arg) {
                for definition in &instruction.definitions {
                    visible.push(&definition.name);
                    defined.insert(&definition.name);
                }
            }
        }
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
