//! `split-exec-form`: a JSON CMD/ENTRYPOINT written as argv fragments. Sealos runs every element
//! as its own shell command (§2.5): `["bash","init.sh"]` runs `bash`, then `init.sh`.

use crate::syntax::NodeKind as _;
use super::{Diagnostic, InstructionContext, Severity};
use crate::syntax::ast;

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instruction = cx.instruction;
    if !matches!(instruction.node.kind_name(), "cmd_instruction" | "entrypoint_instruction") {
        return;
    }
    let Some(array) = cx.top().json_array() else { return };
    let elements: Vec<_> = ast::children_of_kind(array, "json_string").collect();
    let values: Vec<String> = elements.iter().map(|node| json_value(cx.file.node_text(*node))).collect();
    if !looks_split(&values) {
        return;
    }
    let keyword = instruction.keyword(cx.file);
    let joined = values.join(" ");
    let replacement = format!("[{}]", serde_json::to_string(&joined).unwrap_or_default());
    out.push(
        Diagnostic::new(
            "split-exec-form",
            Severity::Warning,
            array.byte_range(),
            format!(
                "sealos runs each element of {keyword} as a separate shell command, so this runs `{}` on its own; write the whole command as one string",
                values[0]
            ),
        )
        .with_replacement(format!("Join into `{keyword} {replacement}`"), array.byte_range(), replacement),
    );
}

/// An element that cannot be a command on its own: a flag, or a program name followed by
/// elements that are its arguments (a script, a path, a flag). Whole commands contain spaces.
fn looks_split(values: &[String]) -> bool {
    if values.len() < 2 {
        return false;
    }
    let is_fragment = |value: &String| {
        let value = value.trim();
        value.starts_with('-') || (!value.contains(' ') && !value.is_empty())
    };
    let first = values[0].trim();
    let first_is_program = !first.contains(' ') && !first.is_empty();
    first_is_program && values[1..].iter().all(is_fragment) && values[1..].iter().any(|v| looks_like_argument(v.trim()))
}

fn looks_like_argument(value: &str) -> bool {
    value.starts_with('-') || value.contains('/') || value.contains('.') || value.contains('=') || value.contains('$')
}

fn json_value(text: &str) -> String {
    // Without an escape the value is the text inside the quotes: what the fallback gives too.
    if !text.contains('\\') {
        return text.trim_matches('"').to_string();
    }
    serde_json::from_str::<String>(text).unwrap_or_else(|_| text.trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_argv_fragments() {
        expect![[r#"
            2:5-2:23 warning[split-exec-form] sealos runs each element of CMD as a separate shell command, so this runs `bash` on its own; write the whole command as one string
            3:12-3:43 warning[split-exec-form] sealos runs each element of ENTRYPOINT as a separate shell command, so this runs `kubectl` on its own; write the whole command as one string
        "#]]
        .assert_eq(&check(
            "split-exec-form",
            "FROM scratch\nCMD [\"bash\",\"init.sh\"]\nENTRYPOINT [\"kubectl\", \"apply\", \"-f\", \"x\"]\n",
        ));
    }

    #[test]
    fn does_not_fire_on_whole_commands() {
        expect![[""]].assert_eq(&check(
            "split-exec-form",
            "FROM scratch\nCMD [\"helm upgrade -i $(NAME) $(CHARTS) -n $(NAMESPACE)\"]\nCMD [\"cp opt/istioctl /usr/bin/\",\"istioctl install -y\"]\nCMD [\"bash entrypoint.sh\"]\n",
        ));
    }

    #[test]
    fn quick_fix_joins_elements() {
        expect![[r#"
            Join into `CMD ["bash init.sh"]`
            FROM scratch
            CMD ["bash init.sh"]
        "#]]
        .assert_eq(&fix("split-exec-form", "FROM scratch\nCMD [\"bash\",\"init.sh\"]\n"));
    }
}
