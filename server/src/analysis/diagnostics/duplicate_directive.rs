//! `duplicate-directive`: a parser directive (`escape`, `syntax`, `check`) given twice at the top
//! of the file. BuildKit refuses the file ("only one escape parser directive can be used").

use super::{invalid_escape_directive::directives, validity, Diagnostic, RuleContext, Severity, TextEdit};

pub(super) fn check(cx: &RuleContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (name, _, _, range) in directives(cx) {
        if let Some((_, line)) = seen.iter().find(|(seen, _)| *seen == name) {
            let line_range = validity::full_line(cx.file, range.start);
            out.push(
                Diagnostic::new(
                    "duplicate-directive",
                    Severity::Error,
                    range,
                    format!("the `{name}` directive is already set on line {line}: BuildKit fails with \"only one {name} parser directive can be used\""),
                )
                .with_fix("Remove this directive", vec![TextEdit { range: line_range, new_text: String::new() }]),
            );
        } else {
            let line = cx.file.line_index().line_of(range.start) + 1;
            seen.push((name, line));
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_repeated_directive() {
        expect![[r#"
            2:1-2:11 error[duplicate-directive] the `escape` directive is already set on line 1: BuildKit fails with "only one escape parser directive can be used"
        "#]]
        .assert_eq(&check("duplicate-directive", "# escape=`\n# ESCAPE=`\nFROM scratch\n"));
    }

    #[test]
    fn does_not_fire_on_different_directives_or_later_comments() {
        expect![[""]].assert_eq(&check(
            "duplicate-directive",
            "# syntax=docker/dockerfile:1\n# escape=\\\n# check=skip=all\nFROM scratch\n# escape=`\n",
        ));
    }

    #[test]
    fn quick_fix_removes_the_line() {
        expect![[r#"
            Remove this directive
            # syntax=a
            FROM scratch
        "#]]
        .assert_eq(&fix("duplicate-directive", "# syntax=a\n# syntax=b\nFROM scratch\n"));
    }
}
