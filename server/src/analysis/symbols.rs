//! Structure: hierarchical document symbols (parser directives and global ARGs at the top, then one
//! symbol per stage with its instructions; ENV/ARG/LABEL pairs are children of their instruction)
//! and selection ranges (word → pair → instruction → stage → file).

use crate::syntax::NodeKind as _;
use std::borrow::Cow;

use tree_sitter::{Node, TreeCursor};

use super::model::Model;
use crate::syntax::kinds::KindIds;
use crate::syntax::{ast, SourceFile, TextRange};

/// Our symbol kinds; the LSP layer maps Stage → Class, Instruction → Function, Variable →
/// Variable, Label → Property, Directive → Key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Stage,
    Instruction,
    Variable,
    Label,
    Directive,
}

/// One symbol of the outline. The outline is a list in document order where each symbol's
/// children follow it, one level deeper; names and details borrow from the file text where they
/// can (most instructions are one short line), so a 10,000-line outline does not allocate a string
/// per symbol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSymbol<'a> {
    pub name: Cow<'a, str>,
    pub detail: Option<Cow<'a, str>>,
    pub kind: SymbolKind,
    pub deprecated: bool,
    /// The whole construct.
    pub range: TextRange,
    /// The part to reveal and select (inside `range`).
    pub selection_range: TextRange,
    /// 0 at the top level; a symbol's children have its depth + 1.
    pub depth: usize,
}

/// The outline of a Kubefile as a list (see [`DocumentSymbol`]).
pub fn document_symbols(file: &SourceFile) -> Vec<DocumentSymbol<'_>> {
    let mut symbols = Vec::new();
    outline(file, |symbol| symbols.push(symbol));
    symbols
}

/// The outline of a Kubefile, symbol by symbol in document order (each symbol before its
/// children), without building it: the LSP layer writes a 10,000-line file's 9,000 symbols
/// straight into its answer. One pass over the top-level nodes, comparing kind ids, with a cursor
/// over the children of ENV/ARG/LABEL/ONBUILD.
pub fn outline<'a>(file: &'a SourceFile, mut emit: impl FnMut(DocumentSymbol<'a>)) {
    let kinds = KindIds::get();
    let top_level = file.top_level();
    let mut in_stage = false;
    let mut stages = 0;
    let mut cursor = file.root().walk();
    for (index, &node) in top_level.iter().enumerate() {
        let kind = node.kind_id();
        if kind == kinds.parser_directive {
            let text = file.node_text(node).trim_start_matches('#').trim();
            let (name, value) = text.split_once('=').unwrap_or((text, ""));
            emit(DocumentSymbol {
                name: Cow::Borrowed(name.trim()),
                detail: Some(Cow::Borrowed(value.trim())),
                kind: SymbolKind::Directive,
                deprecated: false,
                range: node.byte_range(),
                selection_range: node.byte_range(),
                depth: 0,
            });
        } else if kinds.is_instruction(kind) {
            if kind == kinds.from_instruction {
                // The stage runs to its last instruction before the next FROM.
                let mut end = node.end_byte();
                for &next in &top_level[index + 1..] {
                    let next_kind = next.kind_id();
                    if next_kind == kinds.from_instruction {
                        break;
                    }
                    if kinds.is_instruction(next_kind) {
                        end = next.end_byte();
                    }
                }
                let name = node.child_by_field_name("as");
                let image = node.child_by_field_name("image");
                emit(DocumentSymbol {
                    name: name.map_or_else(|| Cow::Owned(format!("stage {stages}")), |n| text_of(file, n)),
                    detail: Some(Cow::Owned(format!("FROM {}", image.map_or(Cow::Borrowed(""), |n| text_of(file, n))))),
                    kind: SymbolKind::Stage,
                    deprecated: false,
                    range: node.start_byte()..end,
                    selection_range: name.or(image).unwrap_or(node).byte_range(),
                    depth: 0,
                });
                in_stage = true;
                stages += 1;
            }
            cursor.reset(node);
            instruction_symbols(file, kinds, node, usize::from(in_stage), &mut cursor, &mut emit);
        }
    }
}

/// The literal text of a word; plain words (the common case) borrowed, without walking their
/// subtree.
fn text_of<'a>(file: &'a SourceFile, node: Node<'_>) -> Cow<'a, str> {
    let text = &file.text()[node.byte_range()];
    // Only quotes, escapes and line continuations make the literal text differ from the text.
    if !text.bytes().any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'`')) || node.child_count() == 0 {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(ast::literal_text(file, node))
    }
}

/// The symbol of the instruction under `cursor`, then its children (the cursor is left where it
/// was).
fn instruction_symbols<'a>(
    file: &'a SourceFile,
    kinds: &KindIds,
    node: Node<'_>,
    depth: usize,
    cursor: &mut TreeCursor<'_>,
    emit: &mut impl FnMut(DocumentSymbol<'a>),
) {
    let kind = node.kind_id();
    let text = file.text();
    let (start, end) = (node.start_byte(), node.end_byte());
    let pair_kind = if kind == kinds.label_instruction {
        Some(SymbolKind::Label)
    } else if kind == kinds.env_instruction || kind == kinds.arg_instruction {
        Some(SymbolKind::Variable)
    } else {
        None
    };
    let onbuild = kind == kinds.onbuild_instruction;
    let has_children = (pair_kind.is_some() || onbuild) && cursor.goto_first_child();
    // The keyword is the leading word of the instruction: its first child when the children are
    // visited anyway, else read from the text (no tree descent).
    let keyword_range = if has_children {
        cursor.node().byte_range()
    } else {
        start..start + text[start..end].bytes().take_while(|b| b.is_ascii_alphabetic()).count()
    };
    // Keywords match case-insensitively: the text upper-cased is the instruction's name.
    let keyword = &text[keyword_range.clone()];
    let name = if keyword.bytes().any(|b| b.is_ascii_lowercase()) {
        Cow::Owned(keyword.to_ascii_uppercase())
    } else {
        Cow::Borrowed(keyword)
    };
    let detail = summary(&text[keyword_range.end.min(end)..end]);
    emit(DocumentSymbol {
        deprecated: kind == kinds.maintainer_instruction,
        name,
        detail: (!detail.is_empty()).then_some(detail),
        kind: SymbolKind::Instruction,
        range: start..end,
        selection_range: keyword_range,
        depth,
    });
    if !has_children {
        return;
    }
    while cursor.goto_next_sibling() {
        let child = cursor.node();
        let child_kind = child.kind_id();
        match pair_kind {
            Some(symbol_kind) if child_kind == kinds.key_value_pair => {
                if let Some(symbol) = pair_symbol(file, kinds, child, symbol_kind, depth + 1, cursor) {
                    emit(symbol);
                }
            }
            Some(symbol_kind) if child_kind == kinds.arg_name => emit(DocumentSymbol {
                name: text_of(file, child),
                detail: None,
                kind: symbol_kind,
                deprecated: false,
                range: child.byte_range(),
                selection_range: child.byte_range(),
                depth: depth + 1,
            }),
            None if kinds.is_instruction(child_kind) => instruction_symbols(file, kinds, child, depth + 1, cursor, emit),
            _ => {}
        }
    }
    cursor.goto_parent();
}

/// `key`, then `=` and/or `value`: the first and the last children of a pair (the cursor is left
/// on the pair).
fn pair_symbol<'a>(
    file: &'a SourceFile,
    kinds: &KindIds,
    pair: Node<'_>,
    symbol_kind: SymbolKind,
    depth: usize,
    cursor: &mut TreeCursor<'_>,
) -> Option<DocumentSymbol<'a>> {
    // `KEY=value` with a plain key and value (the common case): the key is the text before the
    // `=` and the value the text after it, read without visiting the pair's children.
    let range = pair.byte_range();
    let text = &file.text()[range.clone()];
    if let Some(equals) = text.find('=') {
        let (key, value) = (&text[..equals], &text[equals + 1..]);
        // Quotes, escapes and line breaks are what make a word's literal text differ from its text.
        let plain = |word: &str| !word.bytes().any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'`' | b' ' | b'\t' | b'\r' | b'\n'));
        // A value in double quotes is its content when that has nothing to unquote or expand
        // (`"application"`: a LABEL value as it is usually written).
        let value = match value.strip_prefix('"').and_then(|quoted| quoted.strip_suffix('"')) {
            Some(content) if !content.bytes().any(|b| matches!(b, b'"' | b'\\' | b'`' | b'$' | b'\r' | b'\n')) => Some(content),
            _ => plain(value).then_some(value),
        };
        if let Some(value) = value.filter(|_| !key.is_empty() && plain(key)) {
            return Some(DocumentSymbol {
                name: Cow::Borrowed(key),
                detail: (!value.is_empty()).then(|| summary(value)),
                kind: symbol_kind,
                deprecated: false,
                range: range.clone(),
                selection_range: range.start..range.start + equals,
                depth,
            });
        }
    }
    if !cursor.goto_first_child() {
        return None;
    }
    let key = cursor.node();
    let mut last = key;
    while cursor.goto_next_sibling() {
        last = cursor.node();
    }
    cursor.goto_parent();
    if key.kind_id() != kinds.key {
        return None;
    }
    let value = (last.kind_id() == kinds.value && last != key).then_some(last);
    Some(DocumentSymbol {
        name: text_of(file, key),
        detail: value.map(|value| match text_of(file, value) {
            Cow::Borrowed(text) => summary(text),
            Cow::Owned(text) => Cow::Owned(summary(&text).into_owned()),
        }),
        kind: symbol_kind,
        deprecated: false,
        range: pair.byte_range(),
        selection_range: key.byte_range(),
        depth,
    })
}

/// One line of at most 60 characters, continuations joined (comment lines dropped); borrowed
/// when the text already is one short line.
fn summary(text: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 60;
    let trimmed = text.trim();
    if !trimmed.contains('\n') && trimmed.len() <= MAX_CHARS && !trimmed.ends_with('\\') {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(text.len().min(MAX_CHARS + 4));
    let mut count = 0;
    for line in text.lines() {
        let line = line.trim().trim_end_matches('\\').trim_end_matches('`').trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !out.is_empty() {
            if count + 1 >= MAX_CHARS {
                out.push('…');
                return Cow::Owned(out);
            }
            out.push(' ');
            count += 1;
        }
        // Copied a line at a time: the last character that fits becomes the ellipsis.
        let room = MAX_CHARS - 1 - count;
        let cut = if line.is_ascii() {
            (line.len() > room).then_some(room)
        } else {
            line.char_indices().nth(room).map(|(cut, _)| cut)
        };
        match cut {
            Some(cut) => {
                out.push_str(&line[..cut]);
                out.push('…');
                return Cow::Owned(out);
            }
            None => {
                out.push_str(line);
                count += if line.is_ascii() { line.len() } else { line.chars().count() };
            }
        }
    }
    Cow::Owned(out)
}

/// A selection range and the ranges that contain it, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionRange {
    pub range: TextRange,
    pub parent: Option<Box<SelectionRange>>,
}

impl SelectionRange {
    /// The chain from innermost to outermost.
    pub fn ranges(&self) -> Vec<TextRange> {
        let mut out = vec![self.range.clone()];
        let mut parent = self.parent.as_deref();
        while let Some(p) = parent {
            out.push(p.range.clone());
            parent = p.parent.as_deref();
        }
        out
    }
}

/// Selection ranges for each offset (smart expand selection).
pub fn selection_ranges(file: &SourceFile, offsets: &[usize]) -> Vec<SelectionRange> {
    let start = offsets.iter().copied().min().unwrap_or(0);
    let end = offsets.iter().copied().max().unwrap_or(0);
    let model = super::navigation::local_model(file, start..end);
    offsets.iter().map(|&offset| selection_range(file, &model, offset)).collect()
}

fn selection_range(file: &SourceFile, model: &Model<'_>, offset: usize) -> SelectionRange {
    let text = file.text();
    let offset = offset.min(text.len());
    let mut chain: Vec<TextRange> = Vec::new();
    let node = file.root().descendant_for_byte_range(offset, offset);
    let mut current: Option<Node<'_>> = node;
    while let Some(n) = current {
        if n.kind_name() == "source_file" {
            break;
        }
        // Inside a quoted string: the content without its quotes first.
        if matches!(n.kind_name(), "double_quoted_string" | "single_quoted_string" | "json_string") && n.end_byte() - n.start_byte() >= 2 {
            chain.push(n.start_byte() + 1..n.end_byte() - 1);
        }
        chain.push(n.byte_range());
        if n.parent().is_some_and(|p| p.kind_name() == "source_file") {
            // The instruction's stage, when it has more than the FROM line.
            if let Some(stage) = model.stages.iter().rev().find(|stage| stage.from.node.start_byte() <= n.start_byte()) {
                let end = stage.instructions.last().map_or(stage.from.node.end_byte(), |last| last.node.end_byte());
                chain.push(stage.from.node.start_byte()..end);
            }
        }
        current = n.parent();
    }
    chain.push(0..text.len());
    chain.retain(|range| range.start <= offset && offset <= range.end);
    chain.dedup();
    // Keep the chain strictly growing.
    let mut ranges: Vec<TextRange> = Vec::new();
    for range in chain {
        if ranges.last().is_none_or(|last| range.start <= last.start && last.end <= range.end && range != *last) {
            ranges.push(range);
        }
    }
    let mut result: Option<SelectionRange> = None;
    for range in ranges.into_iter().rev() {
        result = Some(SelectionRange { range, parent: result.map(Box::new) });
    }
    result.unwrap_or(SelectionRange { range: offset..offset, parent: None })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::fixture;

    fn render(file: &SourceFile, symbols: &[DocumentSymbol], out: &mut String) {
        for symbol in symbols {
            out.push_str(&format!(
                "{}{:?} {}{} {} sel={}{}\n",
                "  ".repeat(symbol.depth),
                symbol.kind,
                symbol.name,
                symbol.detail.as_deref().map(|d| format!(" [{d}]")).unwrap_or_default(),
                fixture::range(file, &symbol.range),
                fixture::range(file, &symbol.selection_range),
                if symbol.deprecated { " deprecated" } else { "" },
            ));
        }
    }

    #[test]
    fn stages_instructions_and_pairs() {
        let file = SourceFile::parse(
            "# escape=\\\nARG BASE=alpine\nFROM ${BASE} AS build\nRUN make \\\n    all\nFROM scratch\nLABEL sealos.io.type=\"application\" \\\n      version=v1\nENV NAME=${NAME:-\"nginx\"} NS=default\nCOPY --from=build /out /\nMAINTAINER me\nONBUILD COPY a b\nCMD [\"helm upgrade -i $(NAME)\"]\n",
        );
        let mut out = String::new();
        render(&file, &document_symbols(&file), &mut out);
        expect![[r#"
            Directive escape [\] 1:1-1:11 sel=1:1-1:11
            Instruction ARG [BASE=alpine] 2:1-2:16 sel=2:1-2:4
              Variable BASE [alpine] 2:5-2:16 sel=2:5-2:9
            Stage build [FROM ${BASE}] 3:1-5:8 sel=3:17-3:22
              Instruction FROM [${BASE} AS build] 3:1-3:22 sel=3:1-3:5
              Instruction RUN [make all] 4:1-5:8 sel=4:1-4:4
            Stage stage 1 [FROM scratch] 6:1-13:32 sel=6:6-6:13
              Instruction FROM [scratch] 6:1-6:13 sel=6:1-6:5
              Instruction LABEL [sealos.io.type="application" version=v1] 7:1-8:17 sel=7:1-7:6
                Label sealos.io.type [application] 7:7-7:35 sel=7:7-7:21
                Label version [v1] 8:7-8:17 sel=8:7-8:14
              Instruction ENV [NAME=${NAME:-"nginx"} NS=default] 9:1-9:37 sel=9:1-9:4
                Variable NAME [nginx] 9:5-9:26 sel=9:5-9:9
                Variable NS [default] 9:27-9:37 sel=9:27-9:29
              Instruction COPY [--from=build /out /] 10:1-10:25 sel=10:1-10:5
              Instruction MAINTAINER [me] 11:1-11:14 sel=11:1-11:11 deprecated
              Instruction ONBUILD [COPY a b] 12:1-12:17 sel=12:1-12:8
                Instruction COPY [a b] 12:9-12:17 sel=12:9-12:13
              Instruction CMD [["helm upgrade -i $(NAME)"]] 13:1-13:32 sel=13:1-13:4
        "#]].assert_eq(&out);
    }

    #[test]
    fn summaries_join_continuations_and_stop_at_sixty_characters() {
        assert_eq!(summary("  make all  "), "make all");
        assert_eq!(summary("apk add \\\n    # a comment\n    git \\\n    jq"), "apk add git jq");
        let long = "x".repeat(70);
        assert_eq!(summary(&long), format!("{}…", "x".repeat(59)));
        // A first line of exactly 59 characters leaves no room for the space before the next one.
        let two_lines = format!("{} \\\n y", "a".repeat(59));
        let summary_of_two = summary(&two_lines);
        assert_eq!(summary_of_two, format!("{}…", "a".repeat(59)));
        assert_eq!(summary_of_two.chars().count(), 60);
        assert_eq!(summary(&format!("{} \\\n yé", "é".repeat(50))), format!("{} yé", "é".repeat(50)));
        assert_eq!(summary(&format!("é \\\n {}", "é".repeat(70))), format!("é {}…", "é".repeat(57)));
    }

    #[test]
    fn broken_file_still_has_an_outline() {
        let file = SourceFile::parse("FROM scratch\nCOPY [\"a\nENV\nFOO bar\n");
        let mut out = String::new();
        render(&file, &document_symbols(&file), &mut out);
        expect![[r#"
            Stage stage 0 [FROM scratch] 1:1-4:8 sel=1:6-1:13
              Instruction FROM [scratch] 1:1-1:13 sel=1:1-1:5
              Instruction COPY [[] 2:1-2:7 sel=2:1-2:5
              Instruction ENV 3:1-3:4 sel=3:1-3:4
              Instruction FOO [bar] 4:1-4:8 sel=4:1-4:4
        "#]].assert_eq(&out);
    }

    #[test]
    fn selection_expands_word_pair_instruction_stage_file() {
        let f = fixture::parse("FROM scratch\nENV A=1 NAME=\"ng$0inx\"\nCMD x\n");
        let ranges = selection_ranges(&f.file, &[f.offset()]);
        let out: Vec<String> = ranges[0].ranges().iter().map(|r| format!("[{}]", fixture::slice(&f.file, r).replace('\n', "⏎"))).collect();
        expect![[r#"
            [nginx]
            ["nginx"]
            [NAME="nginx"]
            [ENV A=1 NAME="nginx"]
            [FROM scratch⏎ENV A=1 NAME="nginx"⏎CMD x]
            [FROM scratch⏎ENV A=1 NAME="nginx"⏎CMD x⏎]"#]].assert_eq(&out.join("\n"));
    }
}
