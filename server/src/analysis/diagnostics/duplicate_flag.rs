//! `duplicate-flag`: a flag given twice on one instruction. Only list flags (`--mount`,
//! `--exclude`, `--device`) may repeat; for the others BuildKit's flag parser (shared by buildah)
//! fails with "Duplicate flag specified: x".

use super::{validity, Diagnostic, InstructionContext, Severity, TextEdit};
use crate::sealos::instructions::flags_of;

/// Flags BuildKit declares with `AddStrings`: every occurrence adds a value.
const REPEATABLE: &[(&str, &str)] =
    &[("RUN", "mount"), ("RUN", "device"), ("COPY", "exclude"), ("ADD", "exclude")];

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (instruction, flags) in cx.flagged() {
        let keyword = instruction.keyword(cx.file);
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for flag in flags {
            let Some(name_node) = flag.name_node() else { continue };
            let name = cx.file.node_text(name_node);
            if !flags_of(keyword).any(|known| known.name == name) || REPEATABLE.contains(&(keyword, name)) {
                continue;
            }
            if let Some((_, first)) = seen.iter().find(|(seen_name, _)| *seen_name == name) {
                let column = first - cx.file.line_index().line_start(cx.file.line_index().line_of(*first)) + 1;
                let removal = validity::removal_range(cx.file.text(), flag.node.byte_range());
                out.push(
                    Diagnostic::new(
                        "duplicate-flag",
                        Severity::Error,
                        flag.node.byte_range(),
                        format!(
                            "`--{name}` is already given (column {column}): buildah fails with \"Duplicate flag specified: {name}\""
                        ),
                    )
                    .with_fix(format!("Remove this `--{name}`"), vec![TextEdit { range: removal, new_text: String::new() }]),
                );
            } else {
                seen.push((name, flag.node.start_byte()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_second_occurrence() {
        expect![[r#"
            2:16-2:25 error[duplicate-flag] `--chown` is already given (column 6): buildah fails with "Duplicate flag specified: chown"
        "#]]
        .assert_eq(&check("duplicate-flag", "FROM scratch\nCOPY --chown=1 --chown=2 a b\n"));
    }

    #[test]
    fn does_not_fire_on_list_flags() {
        expect![[""]].assert_eq(&check(
            "duplicate-flag",
            "FROM alpine\nRUN --mount=type=cache,target=/a --mount=type=tmpfs,target=/b echo\nCOPY --exclude=a --exclude=b . .\n",
        ));
    }

    #[test]
    fn quick_fix_removes_the_repeat() {
        expect![[r#"
            Remove this `--link`
            FROM scratch
            COPY --link a b
        "#]]
        .assert_eq(&fix("duplicate-flag", "FROM scratch\nCOPY --link --link a b\n"));
    }
}
