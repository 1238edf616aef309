//! Helpers shared by the BuildKit/rcjsuen validity rules (flags, casing, stages, arity): the
//! instructions BuildKit parses one by one (ONBUILD triggers included) and small text utilities.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use crate::syntax::{
    ast::{Instruction, InstructionParts},
    SourceFile, TextRange,
};

/// A top-level instruction followed, for an ONBUILD, by its trigger: BuildKit validates a
/// trigger like a top-level instruction.
pub(super) fn with_triggers(instruction: Instruction<'_>) -> Vec<InstructionParts<'_>> {
    let mut all = vec![InstructionParts::new(instruction)];
    while let Some(last) = all.last().filter(|last| last.instruction.node.kind_name() == "onbuild_instruction") {
        let Some(trigger) = last.children.iter().copied().find(Node::is_named).and_then(Instruction::cast) else { break };
        all.push(InstructionParts::new(trigger));
    }
    all
}

/// The keyword as written (`from`, `From`, `FROM`).
pub(super) fn keyword_text<'t>(file: &'t SourceFile, instruction: &Instruction<'t>) -> Option<(&'t str, TextRange)> {
    let node = instruction.keyword_node()?;
    Some((file.node_text(node), node.byte_range()))
}

/// The range that deletes `range` together with the blanks after it (or, at the end of a line,
/// the blanks before it), so removing a word leaves tidy text.
pub(super) fn removal_range(text: &str, range: TextRange) -> TextRange {
    let bytes = text.as_bytes();
    let mut end = range.end;
    while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    if end > range.end {
        return range.start..end;
    }
    let mut start = range.start;
    while start > 0 && matches!(bytes[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    start..range.end
}

/// The whole line holding `offset`, its newline included (for "delete this line" fixes).
pub(super) fn full_line(file: &SourceFile, offset: usize) -> TextRange {
    let index = file.line_index();
    let line = index.line_of(offset);
    index.line_start(line)..index.line_start(line + 1)
}

/// `text` as one double-quoted Dockerfile word with the same value: `\`, `"` and `$` escaped.
pub(super) fn double_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}
