//! `legacy-env-format`: `ENV key value` / `LABEL key value`, the legacy form without `=`
//! (BuildKit's LegacyKeyValueFormat). It still works, and the corpus uses it, so this is
//! information only: the `key=value` form can set several keys and does not swallow the rest
//! of the line into one value by surprise.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{Diagnostic, InstructionContext, Severity};
use crate::syntax::SourceFile;

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        let instruction = validated.instruction;
        if !matches!(instruction.node.kind_name(), "env_instruction" | "label_instruction") {
            continue;
        }
        let keyword = instruction.keyword(cx.file);
        for pair in validated.pairs() {
            if !pair.is_legacy() {
                continue;
            }
            let (Some(key), Some(value)) = (pair.key_node(), pair.value_node()) else { continue };
            let key_text = cx.file.node_text(key);
            let mut diagnostic = Diagnostic::new(
                "legacy-env-format",
                Severity::Information,
                pair.node.byte_range(),
                format!("`{keyword} {key_text} value` is the legacy form: write `{keyword} {key_text}=value`"),
            );
            if let Some(new_value) = equals_form_value(cx.file, value) {
                let replacement = format!("{key_text}={new_value}");
                diagnostic =
                    diagnostic.with_replacement(format!("Change to `{keyword} {replacement}`"), pair.node.byte_range(), replacement);
            }
            out.push(diagnostic);
        }
    }
}

/// The value written so that `key=<it>` means what the legacy form meant: as is when it has no
/// unquoted blanks, in double quotes when it is plain text and expansions; `None` when quoting
/// would need more care than a quick fix should take.
fn equals_form_value(file: &SourceFile, value: Node<'_>) -> Option<String> {
    let text = file.text();
    let mut quoted = Vec::new();
    let mut continuations = Vec::new();
    let mut cursor = value.walk();
    for child in value.children(&mut cursor) {
        match child.kind_name() {
            "double_quoted_string" | "single_quoted_string" => quoted.push(child.byte_range()),
            "line_continuation" => continuations.push(child.byte_range()),
            _ => {}
        }
    }
    let outside = |i: usize| !quoted.iter().chain(&continuations).any(|r| r.contains(&i));
    let raw = &text[value.byte_range()];
    let unquoted_blank = value.byte_range().any(|i| outside(i) && matches!(text.as_bytes()[i], b' ' | b'\t'));
    if !unquoted_blank {
        return Some(raw.to_string());
    }
    let plain = quoted.is_empty()
        && value.byte_range().all(|i| !outside(i) || !matches!(text.as_bytes()[i], b'\\' | b'`' | b'"' | b'\''));
    plain.then(|| format!("\"{raw}\""))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_legacy_env_and_label() {
        expect![[r#"
            2:5-2:16 information[legacy-env-format] `ENV NAME value` is the legacy form: write `ENV NAME=value`
            3:7-3:12 information[legacy-env-format] `LABEL a value` is the legacy form: write `LABEL a=value`
        "#]]
        .assert_eq(&check("legacy-env-format", "FROM scratch\nENV NAME my app\nLABEL a \"b\"\n"));
    }

    #[test]
    fn does_not_fire_on_equals_form() {
        expect![[""]].assert_eq(&check("legacy-env-format", "FROM scratch\nENV NAME=\"my app\" B=1\nLABEL a=b\nARG X\n"));
    }

    #[test]
    fn quick_fix_quotes_when_needed() {
        expect![[r#"
            Change to `ENV NAME="my $APP"`
            FROM scratch
            ENV NAME="my $APP"
        "#]]
        .assert_eq(&fix("legacy-env-format", "FROM scratch\nENV NAME my $APP\n"));
        expect![[r#"
            Change to `ENV NAME="a b"`
            FROM scratch
            ENV NAME="a b"
        "#]]
        .assert_eq(&fix("legacy-env-format", "FROM scratch\nENV NAME \"a b\"\n"));
        expect!["no fix"]
        .assert_eq(&fix("legacy-env-format", "FROM scratch\nENV NAME a \"b c\"\n"));
    }
}
