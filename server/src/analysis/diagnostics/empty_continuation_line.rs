//! `empty-continuation-line`: a blank line inside an instruction continued with `\` (BuildKit's
//! NoEmptyContinuation). BuildKit drops it with a warning today and will reject it in a future
//! release; it also often hides a forgotten `\` that cuts the instruction short.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{Diagnostic, InstructionContext, Severity, TextEdit};
use crate::syntax::TextRange;

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    let text = cx.file.text();
    let index = cx.file.line_index();
    let instruction = cx.instruction;
    if !instruction.is_multiline() {
        return;
    }
    let node = instruction.node;
    // Heredoc bodies may hold blank lines; collected only once a blank line is found (most
    // continued instructions have none, and the walk costs more than the line scan).
    let mut heredocs: Option<Vec<TextRange>> = None;
    let first = index.line_of(node.start_byte());
    let last = index.line_of(node.end_byte());
    let mut run: Option<TextRange> = None;
    for line in first + 1..last {
        let (start, next) = (index.line_start(line), index.line_start(line + 1));
        let blank = text[start..next].trim().is_empty()
            && !heredocs
                .get_or_insert_with(|| {
                    let mut found = Vec::new();
                    collect_heredocs(node, &mut found);
                    found
                })
                .iter()
                .any(|h| h.start <= start && start < h.end);
        match (&mut run, blank) {
            (Some(range), true) => range.end = next,
            (None, true) => run = Some(start..next),
            (Some(_), false) => push(out, run.take().unwrap_or_default()),
            (None, false) => {}
        }
    }
    if let Some(range) = run {
        push(out, range);
    }
}

fn push(out: &mut Vec<Diagnostic>, range: TextRange) {
    out.push(
        Diagnostic::new(
            "empty-continuation-line",
            Severity::Warning,
            range.clone(),
            "empty line inside a continued instruction: BuildKit skips it with a warning and will reject it in a future release (NoEmptyContinuation); remove it",
        )
        .with_fix("Remove the empty continuation line", vec![TextEdit { range, new_text: String::new() }]),
    );
}

fn collect_heredocs(node: Node<'_>, out: &mut Vec<TextRange>) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        if child.kind_name() == "heredoc_block" {
            out.push(child.byte_range());
        } else if child.child_count() > 0 {
            collect_heredocs(child, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_blank_lines_after_a_continuation() {
        expect![[r#"
            3:1-4:1 warning[empty-continuation-line] empty line inside a continued instruction: BuildKit skips it with a warning and will reject it in a future release (NoEmptyContinuation); remove it
            5:1-7:1 warning[empty-continuation-line] empty line inside a continued instruction: BuildKit skips it with a warning and will reject it in a future release (NoEmptyContinuation); remove it
        "#]]
        .assert_eq(&check(
            "empty-continuation-line",
            "FROM scratch\nENV A=1 \\\n\n    B=2 \\\n  \n\n    C=3\n",
        ));
    }

    #[test]
    fn fires_after_a_comment_inside_a_continuation() {
        expect![[r#"
            4:1-5:1 warning[empty-continuation-line] empty line inside a continued instruction: BuildKit skips it with a warning and will reject it in a future release (NoEmptyContinuation); remove it
        "#]]
        .assert_eq(&check("empty-continuation-line", "FROM scratch\nLABEL a=1 \\\n# note\n\n  b=2\n"));
    }

    #[test]
    fn does_not_fire_on_blank_lines_between_instructions_or_in_heredocs() {
        expect![[""]].assert_eq(&check(
            "empty-continuation-line",
            "FROM alpine\n\nRUN a \\\n  # comment\n  b\n\nCOPY <<EOF /x\nline \\\n\nEOF\nRUN echo\n",
        ));
    }

    #[test]
    fn quick_fix_removes_the_lines() {
        expect![[r#"
            Remove the empty continuation line
            FROM scratch
            ENV A=1 \
                B=2
        "#]]
        .assert_eq(&fix("empty-continuation-line", "FROM scratch\nENV A=1 \\\n   \n    B=2\n"));
    }
}
