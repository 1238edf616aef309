//! `unknown-flag`: a `--flag` the instruction does not accept. buildah (like BuildKit) stops with
//! "Unknown flag: x" before running anything.

use super::{did_you_mean, validity, Diagnostic, InstructionContext, Severity, TextEdit};
use crate::sealos::instructions::{flags_of, FLAGS};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for (instruction, flags) in cx.flagged() {
        let keyword = instruction.keyword(cx.file);
        for flag in flags {
            let Some(name_node) = flag.name_node() else { continue };
            let name = cx.file.node_text(name_node);
            if flags_of(keyword).any(|known| known.name == name) {
                continue;
            }
            let range = flag.node.start_byte()..name_node.end_byte();
            let known: Vec<&str> = flags_of(keyword).map(|known| known.name).collect();
            let suggestion = suggest(name, &known);
            let message = match (suggestion, owner_of(name)) {
                (Some(suggestion), _) => format!("unknown flag `--{name}` for {keyword}: did you mean `--{suggestion}`?"),
                (None, Some(owner)) => format!("`--{name}` is a flag of {owner}, not of {keyword}: buildah fails with \"Unknown flag: {name}\""),
                (None, None) if known.is_empty() => format!("{keyword} takes no flags: buildah fails with \"Unknown flag: {name}\""),
                (None, None) => format!(
                    "unknown flag `--{name}` for {keyword} (it accepts {}): buildah fails with \"Unknown flag: {name}\"",
                    known.iter().map(|k| format!("--{k}")).collect::<Vec<_>>().join(", ")
                ),
            };
            let mut diagnostic = Diagnostic::new("unknown-flag", Severity::Error, range, message);
            if let Some(suggestion) = suggestion {
                diagnostic = diagnostic.with_replacement(
                    format!("Change to `--{suggestion}`"),
                    name_node.byte_range(),
                    suggestion,
                );
            }
            let removal = validity::removal_range(cx.file.text(), flag.node.byte_range());
            diagnostic = diagnostic
                .with_fix(format!("Remove `--{name}`"), vec![TextEdit { range: removal, new_text: String::new() }]);
            out.push(diagnostic);
        }
    }
}

/// A known flag the typed name abbreviates (`--plat` → `--platform`), else the closest one.
fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let lowered = name.to_ascii_lowercase();
    if lowered.len() >= 2 {
        let mut prefixed = known.iter().filter(|k| k.starts_with(&lowered));
        if let (Some(only), None) = (prefixed.next(), prefixed.next()) {
            return Some(only);
        }
    }
    did_you_mean(name, known.iter().copied())
}

/// The instructions that do accept `name`, for "`--from` is a flag of COPY" messages.
fn owner_of(name: &str) -> Option<String> {
    let owners: Vec<&str> = FLAGS.iter().filter(|flag| flag.name == name).map(|flag| flag.instruction).collect();
    (!owners.is_empty()).then(|| owners.join("/"))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_with_did_you_mean() {
        expect![[r#"
            1:6-1:12 error[unknown-flag] unknown flag `--plat` for FROM: did you mean `--platform`?
            2:6-2:13 error[unknown-flag] unknown flag `--chwon` for COPY: did you mean `--chown`?
            3:16-3:21 error[unknown-flag] unknown flag `--frm` for COPY: did you mean `--from`?
        "#]]
        .assert_eq(&check(
            "unknown-flag",
            "FROM --plat=linux/amd64 scratch\nCOPY --chwon=1:1 a b\nONBUILD COPY   --frm=x a b\n",
        ));
    }

    #[test]
    fn fires_on_a_flag_of_another_instruction_and_unknown_words() {
        expect![[r#"
            2:5-2:11 error[unknown-flag] `--from` is a flag of COPY, not of RUN: buildah fails with "Unknown flag: from"
            3:6-3:15 error[unknown-flag] unknown flag `--foo-bar` for COPY (it accepts --from, --chown, --chmod, --link, --parents, --exclude): buildah fails with "Unknown flag: foo-bar"
        "#]]
        .assert_eq(&check("unknown-flag", "FROM alpine\nRUN --from=x echo\nCOPY --foo-bar a b\n"));
    }

    #[test]
    fn does_not_fire_on_current_buildkit_flags() {
        expect![[""]].assert_eq(&check(
            "unknown-flag",
            "FROM --platform=$BUILDPLATFORM alpine AS b\n\
             RUN --mount=type=cache,target=/x --network=none --security=insecure --device=a echo\n\
             COPY --from=b --chown=1 --chmod=644 --link --parents --exclude=*.md a b\n\
             ADD --checksum=sha256:00 --keep-git-dir=true --unpack --exclude=x --link a b\n\
             HEALTHCHECK --interval=5s --timeout=1s --start-period=1s --start-interval=1s --retries=3 CMD true\n",
        ));
    }

    #[test]
    fn quick_fixes_rename_or_remove() {
        expect![[r#"
            Change to `--chown`
            FROM scratch
            COPY --chown=1 a b
        "#]]
        .assert_eq(&fix("unknown-flag", "FROM scratch\nCOPY --chwon=1 a b\n"));
        expect![[r#"
            Remove `--foo`
            FROM scratch
            COPY a b
        "#]]
        .assert_eq(&fix("unknown-flag", "FROM scratch\nCOPY --foo a b\n"));
    }
}
