//! Folding ranges: multi-line instructions, runs of two or more comment lines, heredoc bodies (the
//! second and later heredocs of an instruction) and stages.
//!
//! Ranges are byte offsets: the LSP layer turns `range.start` into `startLine` (and
//! `startCharacter` unless the client folds whole lines only) and `range.end` into `endLine`.
//! `range.end` never includes the final newline, so `endLine` is the last folded line.

use crate::syntax::{SourceFile, TextRange};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldingKind {
    Comment,
    /// A stage or a multi-line instruction.
    Region,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldingRange {
    pub range: TextRange,
    pub kind: FoldingKind,
    /// Shown while folded (a stage shows its name).
    pub collapsed_text: Option<String>,
}

pub fn folding_ranges(file: &SourceFile) -> Vec<FoldingRange> {
    let text = file.text();
    let index = file.line_index();
    let line = |offset: usize| index.line_of(offset);
    let trim_end = |end: usize| {
        let mut end = end;
        while end > 0 && matches!(text.as_bytes()[end - 1], b'\n' | b'\r') {
            end -= 1;
        }
        end
    };
    let mut out = Vec::new();
    // The open stage: (FROM node start, FROM first line text, end of its last instruction).
    let mut stage: Option<(usize, usize, usize)> = None;
    let close_stage = |stage: &mut Option<(usize, usize, usize)>, out: &mut Vec<FoldingRange>| {
        if let Some((start, from_end, end)) = stage.take() {
            let end = trim_end(end);
            if line(end) > line(start) {
                let first_line = text[start..from_end].lines().next().unwrap_or("").to_string();
                out.push(FoldingRange { range: start..end, kind: FoldingKind::Region, collapsed_text: Some(first_line) });
            }
        }
    };
    let mut comments: Option<(usize, usize, usize)> = None; // (start, end, count)
    let flush = |run: &mut Option<(usize, usize, usize)>, out: &mut Vec<FoldingRange>| {
        if let Some((start, end, count)) = run.take() {
            if count >= 2 {
                out.push(FoldingRange { range: start..end, kind: FoldingKind::Comment, collapsed_text: None });
            }
        }
    };
    let root = file.root();
    let mut cursor = root.walk();
    if cursor.goto_first_child() {
        loop {
            let node = cursor.node();
            let kind = node.kind();
            if kind == "comment" {
                comments = match comments {
                    Some((start, end, count)) if line(node.start_byte()) == line(end) + 1 => Some((start, node.end_byte(), count + 1)),
                    mut previous => {
                        flush(&mut previous, &mut out);
                        Some((node.start_byte(), node.end_byte(), 1))
                    }
                };
            } else if kind.ends_with("_instruction") {
                flush(&mut comments, &mut out);
                let (start, end) = (node.start_byte(), trim_end(node.end_byte()));
                let multiline = line(end) > line(start);
                if kind == "from_instruction" {
                    close_stage(&mut stage, &mut out);
                    stage = Some((start, node.end_byte(), node.end_byte()));
                } else if let Some(open) = stage.as_mut() {
                    open.2 = node.end_byte();
                }
                if multiline {
                    out.push(FoldingRange { range: start..end, kind: FoldingKind::Region, collapsed_text: None });
                    if matches!(kind, "run_instruction" | "copy_instruction" | "add_instruction") && text[start..end].contains("<<") {
                        heredoc_folds(&mut cursor, file, line(start), &mut out);
                    }
                }
            } else {
                flush(&mut comments, &mut out);
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    flush(&mut comments, &mut out);
    close_stage(&mut stage, &mut out);
    // A stage fold that starts where a multi-line FROM fold starts replaces it.
    out.sort_by_key(|fold| (fold.range.start, std::cmp::Reverse(fold.range.end)));
    out.dedup_by(|later, earlier| later.range.start == earlier.range.start && earlier.collapsed_text.is_some());
    out
}

/// Folds for the second and later heredocs of the instruction under `cursor` (the first one's
/// body starts right after the instruction line, which already folds).
fn heredoc_folds(cursor: &mut tree_sitter::TreeCursor<'_>, file: &SourceFile, instruction_line: usize, out: &mut Vec<FoldingRange>) {
    let index = file.line_index();
    let text = file.text();
    if !cursor.goto_first_child() {
        return;
    }
    loop {
        let child = cursor.node();
        if child.kind() == "heredoc_block" {
            let body_line = index.line_of(child.start_byte());
            if body_line > instruction_line + 1 {
                let start = index.line_start(body_line - 1);
                let mut end = child.end_byte();
                while end > 0 && matches!(text.as_bytes()[end - 1], b'\n' | b'\r') {
                    end -= 1;
                }
                out.push(FoldingRange { range: start..end, kind: FoldingKind::Region, collapsed_text: None });
            }
        }
        if !cursor.goto_next_sibling() {
            break;
        }
    }
    cursor.goto_parent();
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    #[test]
    fn instructions_comments_heredocs_and_stages() {
        let text = "# one\n# two\nFROM alpine AS build\nRUN a \\\n    b\nCOPY <<A <<B /x\nbody a\nA\nbody b\nB\n# single\nFROM scratch\nCMD x\n";
        let file = SourceFile::parse(text);
        let out: Vec<String> = folding_ranges(&file)
            .iter()
            .map(|fold| {
                let index = file.line_index();
                format!(
                    "{:?} {}-{}{}",
                    fold.kind,
                    index.line_of(fold.range.start) + 1,
                    index.line_of(fold.range.end) + 1,
                    fold.collapsed_text.as_deref().map(|t| format!(" [{t}]")).unwrap_or_default()
                )
            })
            .collect();
        expect![[r#"
            Comment 1-2
            Region 3-10 [FROM alpine AS build]
            Region 4-5
            Region 6-10
            Region 8-10
            Region 12-13 [FROM scratch]"#]].assert_eq(&out.join("\n"));
    }
}
