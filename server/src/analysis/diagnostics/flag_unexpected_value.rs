//! `flag-unexpected-value`: a value where the flag takes none, or a boolean flag (`--link`,
//! `--parents`, `--keep-git-dir`, `--unpack`) with a value other than `true`/`false`. BuildKit's
//! flag parser fails with "Expecting boolean value for flag x, not: y".

use super::{Diagnostic, InstructionContext, Severity, TextEdit};
use crate::sealos::instructions::{flags_of, FlagValue};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (instruction, flags) in cx.flagged() {
        let keyword = instruction.keyword(cx.file);
        for flag in flags {
            let (Some(name_node), Some(value_node)) = (flag.name_node(), flag.value_node()) else { continue };
            let name = cx.file.node_text(name_node);
            let value = cx.file.node_text(value_node);
            let Some(known) = flags_of(keyword).find(|known| known.name == name) else { continue };
            let message = match known.value {
                FlagValue::None => format!("`--{name}` takes no value: write `--{name}`"),
                FlagValue::Optional if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") => format!(
                    "`--{name}` is a boolean flag: write `--{name}`, `--{name}=true` or `--{name}=false` (buildah fails with \"Expecting boolean value for flag {name}, not: {value}\")"
                ),
                _ => continue,
            };
            let remove = name_node.end_byte()..flag.node.end_byte();
            out.push(
                Diagnostic::new("flag-unexpected-value", Severity::Error, value_node.byte_range(), message)
                    .with_fix(format!("Change to `--{name}`"), vec![TextEdit { range: remove, new_text: String::new() }]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_non_boolean_value() {
        expect![[r#"
            2:13-2:16 error[flag-unexpected-value] `--link` is a boolean flag: write `--link`, `--link=true` or `--link=false` (buildah fails with "Expecting boolean value for flag link, not: yes")
            3:16-3:17 error[flag-unexpected-value] `--parents` is a boolean flag: write `--parents`, `--parents=true` or `--parents=false` (buildah fails with "Expecting boolean value for flag parents, not: 1")
        "#]]
        .assert_eq(&check("flag-unexpected-value", "FROM scratch\nCOPY --link=yes a b\nCOPY --parents=1 a b\n"));
    }

    #[test]
    fn does_not_fire_on_booleans_and_value_flags() {
        expect![[""]].assert_eq(&check(
            "flag-unexpected-value",
            "FROM scratch\nCOPY --link=TRUE --parents=false --chown=1:1 a b\nADD --keep-git-dir a b\n",
        ));
    }

    #[test]
    fn quick_fix_keeps_the_bare_flag() {
        expect![[r#"
            Change to `--link`
            FROM scratch
            COPY --link a b
        "#]]
        .assert_eq(&fix("flag-unexpected-value", "FROM scratch\nCOPY --link=yes a b\n"));
    }
}
