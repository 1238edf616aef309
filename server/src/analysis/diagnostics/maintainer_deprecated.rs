//! `maintainer-deprecated`: MAINTAINER is deprecated (BuildKit's MaintainerDeprecated, hadolint
//! DL4000); the author belongs in the `org.opencontainers.image.authors` label. sealos reads
//! neither, so this is only a hint.

use crate::syntax::NodeKind as _;
use super::{validity, Diagnostic, InstructionContext, Severity};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        let instruction = validated.instruction;
        if instruction.node.kind_name() != "maintainer_instruction" {
            continue;
        }
        let Some((_, keyword)) = validity::keyword_text(cx.file, &instruction) else { continue };
        let mut diagnostic = Diagnostic::new(
            "maintainer-deprecated",
            Severity::Hint,
            keyword,
            "MAINTAINER is deprecated: set the `org.opencontainers.image.authors` label instead",
        );
        if let Some(author) = instruction.shell_command().filter(|_| !instruction.is_multiline()) {
            let label = format!("LABEL org.opencontainers.image.authors={}", validity::double_quoted(cx.file.node_text(author).trim()));
            diagnostic = diagnostic.with_replacement(format!("Replace with `{label}`"), instruction.node.byte_range(), label);
        }
        out.push(diagnostic);
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_maintainer() {
        expect![[r#"
            2:1-2:11 hint[maintainer-deprecated] MAINTAINER is deprecated: set the `org.opencontainers.image.authors` label instead
        "#]]
        .assert_eq(&check("maintainer-deprecated", "FROM scratch\nMAINTAINER Jane <jane@example.com>\n"));
    }

    #[test]
    fn does_not_fire_on_label() {
        expect![[""]].assert_eq(&check(
            "maintainer-deprecated",
            "FROM scratch\nLABEL org.opencontainers.image.authors=\"Jane\"\n",
        ));
    }

    #[test]
    fn quick_fix_writes_the_label() {
        expect![[r#"
            Replace with `LABEL org.opencontainers.image.authors="Jane \"J\" <jane@example.com>"`
            FROM scratch
            LABEL org.opencontainers.image.authors="Jane \"J\" <jane@example.com>"
        "#]]
        .assert_eq(&fix("maintainer-deprecated", "FROM scratch\nMAINTAINER Jane \"J\" <jane@example.com>\n"));
    }
}
