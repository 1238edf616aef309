//! `unknown-instruction`: a keyword buildah rejects ("Build error: Unknown instruction").

use crate::syntax::NodeKind as _;
use super::{did_you_mean, Diagnostic, InstructionContext, Severity};
use crate::{
    sealos::instructions::INSTRUCTIONS,
    syntax::{ast::Instruction, fields, NodeField as _},
};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let instruction = nested(cx.instruction);
    if instruction.node.kind_name() == "unknown_instruction" {
        let Some(name) = instruction.node.field(&fields::NAME) else { return };
        let word = cx.file.node_text(name);
        let range = name.byte_range();
        let diagnostic = match did_you_mean(word, INSTRUCTIONS.iter().copied()) {
            Some(suggestion) => Diagnostic::new(
                "unknown-instruction",
                Severity::Error,
                range.clone(),
                format!("unknown instruction `{word}`: did you mean `{suggestion}`?"),
            )
            .with_replacement(format!("Change to `{suggestion}`"), range, suggestion),
            None => Diagnostic::new(
                "unknown-instruction",
                Severity::Error,
                range,
                format!("unknown instruction `{word}`: buildah stops the build here"),
            ),
        };
        out.push(diagnostic);
    }
}

/// The instruction an ONBUILD wraps, which must be a known instruction too.
fn nested(instruction: Instruction<'_>) -> Instruction<'_> {
    let mut current = instruction;
    while current.node.kind_name() == "onbuild_instruction" {
        match current.node.named_child(0).and_then(Instruction::cast) {
            Some(inner) => current = inner,
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_with_did_you_mean() {
        expect![[r#"
            1:1-1:5 error[unknown-instruction] unknown instruction `FORM`: did you mean `FROM`?
            3:9-3:13 error[unknown-instruction] unknown instruction `COPZ`: did you mean `COPY`?
        "#]]
        .assert_eq(&check("unknown-instruction", "FORM scratch\nCOPY . .\nONBUILD COPZ a b\n"));
    }

    #[test]
    fn fires_without_suggestion() {
        expect![[r#"
            2:1-2:12 error[unknown-instruction] unknown instruction `HELLOWORLDX`: buildah stops the build here
        "#]]
        .assert_eq(&check("unknown-instruction", "FROM scratch\nHELLOWORLDX a\n"));
    }

    #[test]
    fn does_not_fire_on_lowercase_keywords() {
        expect![[""]].assert_eq(&check("unknown-instruction", "from scratch\ncopy . .\n"));
    }

    #[test]
    fn quick_fix_replaces_keyword() {
        expect![[r#"
            Change to `FROM`
            FROM scratch
        "#]]
        .assert_eq(&fix("unknown-instruction", "FORM scratch\n"));
    }
}
