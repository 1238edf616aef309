//! `invalid-escape-directive`: `# escape=x` with a value other than `\` or `` ` ``. BuildKit and
//! buildah refuse the file ("invalid escape token ... does not match ` or \").

use super::{Diagnostic, RuleContext, Severity};
use crate::analysis::model::ItemKind;

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (name, value, value_range, _) in directives(cx) {
        if name != "escape" || value == "\\" || value == "`" {
            continue;
        }
        out.push(
            Diagnostic::new(
                "invalid-escape-directive",
                Severity::Error,
                value_range.clone(),
                format!("invalid escape character `{value}`: the escape directive takes `\\` or `` ` ``"),
            )
            .with_replacement("Change to `\\`", value_range.clone(), "\\")
            .with_replacement("Change to `` ` ``", value_range, "`"),
        );
    }
}

/// The parser directives at the top of the file: (lower-case name, trimmed value, value range,
/// directive range).
pub(super) fn directives(cx: &RuleContext<'_, '_>) -> Vec<(String, String, std::ops::Range<usize>, std::ops::Range<usize>)> {
    let mut found = Vec::new();
    for item in cx.outline.items.iter().filter(|item| item.kind == ItemKind::Directive) {
        let text = &cx.file.text()[item.start..item.end];
        let Some(hash) = text.find('#') else { continue };
        let Some(equals) = text.find('=') else { continue };
        let name = text[hash + 1..equals].trim().to_ascii_lowercase();
        let raw = &text[equals + 1..];
        let value = raw.trim();
        let start = item.start + equals + 1 + (raw.len() - raw.trim_start().len());
        found.push((name, value.to_string(), start..start + value.len(), item.start..item.end));
    }
    found
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_other_escape_characters() {
        expect![[r#"
            1:10-1:12 error[invalid-escape-directive] invalid escape character `\\`: the escape directive takes `\` or `` ` ``
        "#]]
        .assert_eq(&check("invalid-escape-directive", "# escape=\\\\\nFROM scratch\n"));
        expect![[r#"
            1:12-1:13 error[invalid-escape-directive] invalid escape character `x`: the escape directive takes `\` or `` ` ``
        "#]]
        .assert_eq(&check("invalid-escape-directive", "# Escape = x \nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_on_valid_escapes_or_comments() {
        expect![[""]].assert_eq(&check("invalid-escape-directive", "# escape=`\nFROM scratch\n"));
        expect![[""]].assert_eq(&check("invalid-escape-directive", "# syntax=docker/dockerfile:1\n# escape=\\\nFROM scratch\n"));
        expect![[""]].assert_eq(&check("invalid-escape-directive", "FROM scratch\n# escape=x\n"));
    }

    #[test]
    fn quick_fix_uses_backslash() {
        expect![[r#"
            Change to `\`
            # escape=\
            FROM scratch
        "#]]
        .assert_eq(&fix("invalid-escape-directive", "# escape=x\nFROM scratch\n"));
    }
}
