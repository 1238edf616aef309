//! `flag-missing-value`: a flag that needs a value written without one. BuildKit's flag parser
//! (shared by buildah) fails with "Missing a value on flag: x" for `--chown` (no `=`) and for a
//! boolean flag written `--link=` (an `=` with nothing after it).

use super::{Diagnostic, InstructionContext, Severity, TextEdit};
use crate::sealos::instructions::{flags_of, FlagValue};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (instruction, flags) in cx.flagged() {
        let keyword = instruction.keyword(cx.file);
        for flag in flags {
            let Some(name_node) = flag.name_node() else { continue };
            let name = cx.file.node_text(name_node);
            let Some(known) = flags_of(keyword).find(|known| known.name == name) else { continue };
            let has_value = flag.value_node().is_some();
            let range = flag.node.byte_range();
            match known.value {
                // A value comes after `=`: only a flag without one may lack the `=`.
                FlagValue::Required if !has_value && !flag.has_equals() => out.push(Diagnostic::new(
                    "flag-missing-value",
                    Severity::Error,
                    range,
                    format!("`--{name}` needs a value (`--{name}=...`): buildah fails with \"Missing a value on flag: {name}\""),
                )),
                FlagValue::Optional if flag.has_equals() && !has_value => {
                    // `--link=`: drop the `=` to mean true.
                    let equals = name_node.end_byte()..flag.node.end_byte();
                    out.push(
                        Diagnostic::new(
                            "flag-missing-value",
                            Severity::Error,
                            range,
                            format!(
                                "`--{name}=` has no value: write `--{name}`, `--{name}=true` or `--{name}=false` (buildah fails with \"Missing a value on flag: {name}\")"
                            ),
                        )
                        .with_fix(format!("Change to `--{name}`"), vec![TextEdit { range: equals, new_text: String::new() }]),
                    );
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_value_flag_without_equals_and_boolean_with_empty_value() {
        expect![[r#"
            2:6-2:13 error[flag-missing-value] `--chown` needs a value (`--chown=...`): buildah fails with "Missing a value on flag: chown"
            3:6-3:13 error[flag-missing-value] `--link=` has no value: write `--link`, `--link=true` or `--link=false` (buildah fails with "Missing a value on flag: link")
            4:13-4:22 error[flag-missing-value] `--retries` needs a value (`--retries=...`): buildah fails with "Missing a value on flag: retries"
        "#]]
        .assert_eq(&check(
            "flag-missing-value",
            "FROM scratch\nCOPY --chown a b\nCOPY --link= a b\nHEALTHCHECK --retries CMD true\n",
        ));
    }

    #[test]
    fn does_not_fire_on_values_or_bare_booleans() {
        // `--chown=` is accepted by BuildKit (an empty string value).
        expect![[""]].assert_eq(&check(
            "flag-missing-value",
            "FROM --platform=linux/amd64 scratch\nCOPY --chown= --link a b\nADD --unpack=true a b\nCOPY --foo a b\n",
        ));
    }

    #[test]
    fn quick_fix_drops_the_equals_sign() {
        expect![[r#"
            Change to `--link`
            FROM scratch
            COPY --link a b
        "#]]
        .assert_eq(&fix("flag-missing-value", "FROM scratch\nCOPY --link= a b\n"));
    }
}
