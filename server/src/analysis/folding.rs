//! Folding ranges: multi-line instructions, runs of two or more comment lines, heredoc bodies (the
//! second and later heredocs of an instruction) and stages.
//!
//! Ranges are byte offsets: the LSP layer turns `range.start` into `startLine` (and
//! `startCharacter` unless the client folds whole lines only) and `range.end` into `endLine`.
//! `range.end` never includes the final newline, so `endLine` is the last folded line.

use tree_sitter::TreeCursor;

use crate::syntax::kinds::KindIds;
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

/// One pass over the top-level nodes. Lines are compared through the text between nodes (no
/// line lookups), and an instruction's children are visited only for heredocs.
pub fn folding_ranges(file: &SourceFile) -> Vec<FoldingRange> {
    let text = file.text();
    let kinds = KindIds::get();
    let mut folds = Folds { text, out: Vec::new(), comments: None, stage: None };
    let mut cursor = file.root().walk();
    for &node in file.top_level() {
        let kind = node.kind_id();
        let (start, end) = (node.start_byte(), node.end_byte());
        if kind == kinds.comment {
            folds.comment(start, end);
        } else if kinds.is_instruction(kind) {
            folds.flush_comments();
            let end = trim_newlines(text, start, end);
            if kind == kinds.from_instruction {
                folds.close_stage();
                folds.stage = Some(Stage { start, from_end: end, end });
            } else if let Some(open) = folds.stage.as_mut() {
                open.end = end;
            }
            if has_newline(&text[start..end]) {
                folds.out.push(FoldingRange { range: start..end, kind: FoldingKind::Region, collapsed_text: None });
                let heredocs = kind == kinds.run_instruction || kind == kinds.copy_instruction || kind == kinds.add_instruction;
                if heredocs && text[start..end].contains("<<") {
                    cursor.reset(node);
                    heredoc_folds(&mut cursor, text, kinds, start, &mut folds.out);
                }
            }
        } else {
            folds.flush_comments();
        }
    }
    folds.flush_comments();
    folds.close_stage();
    let mut out = folds.out;
    // A stage fold that starts where a multi-line FROM fold starts replaces it.
    out.sort_by_key(|fold| (fold.range.start, std::cmp::Reverse(fold.range.end)));
    out.dedup_by(|later, earlier| later.range.start == earlier.range.start && earlier.collapsed_text.is_some());
    out
}

/// The open stage: its FROM (start, end of the FROM) and the end of its last instruction.
struct Stage {
    start: usize,
    from_end: usize,
    end: usize,
}

/// A run of comments on consecutive lines.
struct CommentRun {
    start: usize,
    end: usize,
    count: usize,
}

struct Folds<'a> {
    text: &'a str,
    out: Vec<FoldingRange>,
    comments: Option<CommentRun>,
    stage: Option<Stage>,
}

impl Folds<'_> {
    fn comment(&mut self, start: usize, end: usize) {
        match self.comments.as_mut() {
            // The next line: exactly one line break since the previous comment.
            Some(run) if newlines(&self.text[run.end..start]) == 1 => {
                run.end = end;
                run.count += 1;
            }
            _ => {
                self.flush_comments();
                self.comments = Some(CommentRun { start, end, count: 1 });
            }
        }
    }

    fn flush_comments(&mut self) {
        if let Some(run) = self.comments.take() {
            if run.count >= 2 {
                self.out.push(FoldingRange { range: run.start..run.end, kind: FoldingKind::Comment, collapsed_text: None });
            }
        }
    }

    fn close_stage(&mut self) {
        if let Some(stage) = self.stage.take() {
            if has_newline(&self.text[stage.start..stage.end]) {
                let first_line = self.text[stage.start..stage.from_end].lines().next().unwrap_or("").to_string();
                self.out.push(FoldingRange { range: stage.start..stage.end, kind: FoldingKind::Region, collapsed_text: Some(first_line) });
            }
        }
    }
}

/// `end` moved back before any line breaks that end `text[start..end]`.
fn trim_newlines(text: &str, start: usize, mut end: usize) -> usize {
    while end > start && matches!(text.as_bytes()[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn has_newline(text: &str) -> bool {
    text.as_bytes().contains(&b'\n')
}

fn newlines(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count()
}

/// Folds for the second and later heredocs of the instruction under `cursor` (the first one's
/// body starts right after the instruction line, which already folds).
fn heredoc_folds(cursor: &mut TreeCursor<'_>, text: &str, kinds: &KindIds, instruction_start: usize, out: &mut Vec<FoldingRange>) {
    if !cursor.goto_first_child() {
        return;
    }
    loop {
        let child = cursor.node();
        if child.kind_id() == kinds.heredoc_block {
            // From the line before the body (the line with its `<<` marker), unless that is the
            // instruction's first line.
            let body_line = line_start(text, child.start_byte());
            let before = line_start(text, body_line.saturating_sub(1));
            if before > instruction_start {
                let end = trim_newlines(text, child.start_byte(), child.end_byte());
                out.push(FoldingRange { range: before..end, kind: FoldingKind::Region, collapsed_text: None });
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
