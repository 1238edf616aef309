//! Structure: hierarchical document symbols (parser directives and global ARGs at the top, then one
//! symbol per stage with its instructions; ENV/ARG/LABEL pairs are children of their instruction)
//! and selection ranges (word → pair → instruction → stage → file).

use crate::syntax::NodeKind as _;
use std::borrow::Cow;

use tree_sitter::{Node, TreeCursor};

use super::model::Model;
use crate::syntax::kinds::KindIds;
use crate::syntax::{ast, fields, NodeField as _, SourceFile, TextRange};

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
                let name = node.field(&fields::AS);
                let image = node.field(&fields::IMAGE);
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
            if may_have_children(kinds, kind) {
                cursor.reset(node);
            }
            instruction_symbols(file, kinds, node, usize::from(in_stage), &mut cursor, &mut emit);
        }
    }
}

/// Whether the symbol of an instruction of kind `kind` may have children: its pairs, or the
/// instruction of an ONBUILD.
fn may_have_children(kinds: &KindIds, kind: u16) -> bool {
    [kinds.env_instruction, kinds.label_instruction, kinds.arg_instruction, kinds.onbuild_instruction].contains(&kind)
}

/// The literal text of a word; plain words (the common case) borrowed, without walking their
/// subtree.
fn text_of<'a>(file: &'a SourceFile, node: Node<'_>) -> Cow<'a, str> {
    if node.child_count() == 0 {
        Cow::Borrowed(file.node_text(node))
    } else {
        ast::literal_str(file, node)
    }
}

/// The symbol of the instruction `node`, then its children. The cursor is on `node` if it
/// [`may_have_children`], and left there.
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
    // The pairs of most ENV, LABEL and ARG instructions are read from the text.
    let pairs = pair_kind.and_then(|symbol_kind| {
        let names = kind == kinds.arg_instruction;
        pairs_from_text(file, start..end, names, symbol_kind, depth + 1)
    });
    let has_children = pairs.is_none() && may_have_children(kinds, kind) && cursor.goto_first_child();
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
    for pair in pairs.into_iter().flatten() {
        emit(pair);
    }
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
    if let Some(symbol) = pair_from_text(file, pair.byte_range(), symbol_kind, depth) {
        return Some(symbol);
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

/// The symbol of the pair at `range` read from its text, when it is `KEY=value` with a plain key
/// and value (the common case): the key is the text before the `=` and the value the text after
/// it, without visiting the pair's children.
fn pair_from_text(file: &SourceFile, range: TextRange, symbol_kind: SymbolKind, depth: usize) -> Option<DocumentSymbol<'_>> {
    let text = &file.text()[range.clone()];
    let equals = text.bytes().position(|b| b == b'=')?;
    let (key, value) = (&text[..equals], &text[equals + 1..]);
    // Quotes, escapes and line breaks are what make a word's literal text differ from its text.
    let plain = |word: &str| !word.bytes().any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'`' | b' ' | b'\t' | b'\r' | b'\n'));
    // A value in double quotes is its content when that has nothing to unquote or expand
    // (`"application"`, `"${VERSION}"`: LABEL values as they are usually written).
    let value = match value.strip_prefix('"').and_then(|quoted| quoted.strip_suffix('"')) {
        Some(content) if is_verbatim_in_double_quotes(content.as_bytes()) => Some(content),
        _ => plain(value).then_some(value),
    };
    let value = value.filter(|_| !key.is_empty() && plain(key))?;
    Some(DocumentSymbol {
        name: Cow::Borrowed(key),
        detail: (!value.is_empty()).then(|| summary(value)),
        kind: symbol_kind,
        deprecated: false,
        selection_range: range.start..range.start + equals,
        range,
        depth,
    })
}

/// The children of an ENV, LABEL or ARG instruction (at `range`) read from its text, when the
/// grammar can read it only one way: words separated by blanks and line continuations (a `\\`
/// after a blank, at the end of a line), each a plain `KEY=value` pair or, for an ARG (`names`),
/// a plain name. `None` when there is anything else (quotes with something to unquote, escapes,
/// comments, expansions with operators, the legacy `ENV KEY value`): the tree is walked then.
fn pairs_from_text(
    file: &SourceFile,
    range: TextRange,
    names: bool,
    symbol_kind: SymbolKind,
    depth: usize,
) -> Option<Vec<DocumentSymbol<'_>>> {
    let bytes = file.text()[range.clone()].as_bytes();
    let is_blank = |b: u8| matches!(b, b' ' | b'\t');
    let mut at = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let mut symbols = Vec::new();
    loop {
        // Blanks and continuations before the next word; a word follows a blank.
        let word_start = at;
        while at < bytes.len() && is_blank(bytes[at]) {
            at += 1;
        }
        if at < bytes.len() && bytes[at] == b'\\' {
            let line_end = at + 1 + bytes[at + 1..].iter().take_while(|&&b| is_blank(b) || b == b'\r').count();
            if at == word_start || bytes.get(line_end) != Some(&b'\n') {
                return None;
            }
            at = line_end + 1;
            // The next line continues the instruction: it has a word.
            while at < bytes.len() && is_blank(bytes[at]) {
                at += 1;
            }
            if at == bytes.len() || matches!(bytes[at], b'\r' | b'\n' | b'#' | b'\\') {
                return None;
            }
        }
        if at == bytes.len() {
            return Some(symbols);
        }
        if at == word_start {
            return None;
        }
        let word = word_end(bytes, at)?;
        let word_range = range.start + at..range.start + word;
        let symbol = if bytes[at..word].contains(&b'=') {
            pair_from_text(file, word_range, symbol_kind, depth)?
        } else if names {
            DocumentSymbol {
                name: Cow::Borrowed(&file.text()[word_range.clone()]),
                detail: None,
                kind: symbol_kind,
                deprecated: false,
                range: word_range.clone(),
                selection_range: word_range,
                depth,
            }
        } else {
            return None;
        };
        symbols.push(symbol);
        at = word;
    }
}

/// The end of the plain word at `start` (see [`pairs_from_text`]): printable ASCII up to a blank
/// or a line break, double-quoted parts with nothing to unquote, expansions without operators.
fn word_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    if bytes[at] == b'=' {
        return None;
    }
    while at < bytes.len() {
        match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => break,
            b'"' => {
                let length = bytes[at + 1..].iter().position(|&b| b == b'"')?;
                let content = &bytes[at + 1..at + 1 + length];
                if !content.is_ascii() || !is_verbatim_in_double_quotes(content) {
                    return None;
                }
                at += length + 2;
            }
            b'$' => match bytes.get(at + 1) {
                Some(b'{') => at += 2 + braced_name(&bytes[at + 2..])?,
                Some(b) if b.is_ascii_alphabetic() || *b == b'_' => at += 1,
                _ => return None,
            },
            b'\'' | b'\\' | b'`' | b'#' => return None,
            b if b.is_ascii_graphic() => at += 1,
            _ => return None,
        }
    }
    Some(at)
}

/// Whether the content of a double-quoted string is its literal text: nothing to unquote, escape
/// or join, and expansions only without an operator (`$NAME`, `${NAME}`), which an outline keeps
/// as written. A `$` that starts no expansion is text as well.
fn is_verbatim_in_double_quotes(content: &[u8]) -> bool {
    if content.iter().any(|&b| matches!(b, b'"' | b'\\' | b'`' | b'\r' | b'\n')) {
        return false;
    }
    let mut rest = content;
    while let Some(dollar) = rest.iter().position(|&b| b == b'$') {
        rest = &rest[dollar + 1..];
        if let Some(body) = rest.strip_prefix(b"{") {
            let Some(length) = braced_name(body) else { return false };
            rest = &body[length..];
        }
    }
    true
}

/// The length of `NAME}` at the start of `body`, the text after a `${`, when the expansion has
/// no operator (`:-`, `#`, `/`, ...), which would rewrite its text.
fn braced_name(body: &[u8]) -> Option<usize> {
    let name = body.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
    (name > 0 && body.get(name) == Some(&b'}')).then_some(name + 1)
}

/// One line of at most 60 characters, continuations joined (comment lines dropped); borrowed
/// when the text already is one short line.
fn summary(text: &str) -> Cow<'_, str> {
    const MAX_CHARS: usize = 60;
    let trimmed = text.trim();
    if trimmed.len() <= MAX_CHARS && !trimmed.ends_with('\\') && !trimmed.contains('\n') {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(text.len().min(MAX_CHARS + 4));
    let mut count = 0;
    // Blank lines are skipped, and `\r` trimmed: splitting at `\n` is `lines()`.
    let mut rest = trimmed;
    while !rest.is_empty() {
        let line_end = rest.bytes().position(|b| b == b'\n').unwrap_or(rest.len());
        let line = line_content(&rest[..line_end]);
        rest = rest.get(line_end + 1..).unwrap_or("");
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

/// A line of an instruction without its indentation, trailing blanks and line continuation.
fn line_content(line: &str) -> &str {
    if !line.is_ascii() {
        return line.trim().trim_end_matches('\\').trim_end_matches('`').trim();
    }
    // The same trims byte by byte (ASCII whitespace as `char::is_whitespace` has it).
    let bytes = line.as_bytes();
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = bytes.iter().position(|&b| !is_space(b)).unwrap_or(bytes.len());
    let mut end = bytes.len();
    for trimmed in [None, Some(b'\\'), Some(b'`'), None] {
        while end > start && trimmed.map_or_else(|| is_space(bytes[end - 1]), |byte| bytes[end - 1] == byte) {
            end -= 1;
        }
    }
    &line[start..end]
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

    /// The details of pairs read from the text are the literal text of the value the tree has.
    #[test]
    fn pair_details_read_from_the_text_are_the_literal_values() {
        let values = [
            "plain", "\"application\"", "\"${VERSION_1}\"", "\"v${A}-${B_2}x\"", "\"$A $B\"", "\"cost: $\"", "\"$1\"",
            "\"${A:-d}\"", "\"${A-d}\"", "\"${A:+x}\"", "\"${A:?err}\"", "\"${A#p}\"", "\"${A%s}\"", "\"${A/x/y}\"",
            "\"${}\"", "\"${A\"", "\"a\\\"b\"", "\"`x`\"", "\"\"", "$A", "'single $A'", "\"é ${Ü}\"",
        ];
        let text: String = values.iter().map(|value| format!("LABEL k={value}\n")).collect();
        let file = SourceFile::parse(&text);
        let kinds = KindIds::get();
        let mut cursor = file.root().walk();
        let mut compared = 0;
        for (&instruction, value) in file.top_level().iter().zip(values) {
            let Some(pair) = instruction.named_child(0).filter(|pair| pair.kind_id() == kinds.key_value_pair) else {
                continue;
            };
            cursor.reset(pair);
            let symbol = pair_symbol(&file, kinds, pair, SymbolKind::Label, 1, &mut cursor).expect("a symbol");
            let literal = pair.field(&fields::VALUE).map(|value| ast::literal_text(&file, value));
            if is_verbatim_in_double_quotes(value.trim_matches('"').as_bytes()) && value.starts_with('"') {
                assert_eq!(literal.as_deref(), Some(value.trim_matches('"')), "{value}");
            }
            assert_eq!(symbol.detail.as_deref().unwrap_or(""), literal.as_deref().unwrap_or(""), "{value}");
            compared += 1;
        }
        // Only a broken `${` or two may leave no pair.
        assert!(compared >= values.len() - 2, "{compared}");
    }

    /// Checks the pairs read from the text against the tree for every ENV, LABEL and ARG of
    /// `file`; how many were read from the text.
    fn compare_pairs_with_the_tree(file: &SourceFile) -> usize {
        let kinds = KindIds::get();
        let mut read = 0;
        for &instruction in file.top_level() {
            let kind = instruction.kind_id();
            let (names, symbol_kind) = match kind {
                kind if kind == kinds.arg_instruction => (true, SymbolKind::Variable),
                kind if kind == kinds.env_instruction => (false, SymbolKind::Variable),
                kind if kind == kinds.label_instruction => (false, SymbolKind::Label),
                _ => continue,
            };
            let Some(symbols) = pairs_from_text(file, instruction.byte_range(), names, symbol_kind, 1) else { continue };
            read += 1;
            let context = file.node_text(instruction);
            let mut cursor = instruction.walk();
            let children: Vec<Node> =
                instruction.named_children(&mut cursor).filter(|child| child.kind() != "line_continuation").collect();
            assert!(!instruction.has_error(), "{context:?}: {}", instruction.to_sexp());
            assert_eq!(symbols.len(), children.len(), "{context:?}: {}", instruction.to_sexp());
            for (symbol, child) in symbols.iter().zip(children) {
                assert_eq!(symbol.range, child.byte_range(), "{context:?}");
                if child.kind_id() == kinds.arg_name {
                    assert_eq!(symbol.name, text_of(file, child), "{context:?}");
                    assert_eq!(symbol.selection_range, child.byte_range(), "{context:?}");
                    continue;
                }
                assert_eq!(child.kind_id(), kinds.key_value_pair, "{context:?}");
                let key = child.field(&fields::KEY).expect("a key");
                assert_eq!(symbol.selection_range, key.byte_range(), "{context:?}");
                assert_eq!(symbol.name, text_of(file, key), "{context:?}");
                let value = child.field(&fields::VALUE).map(|value| ast::literal_text(file, value));
                assert_eq!(symbol.detail.as_deref().unwrap_or(""), value.as_deref().unwrap_or(""), "{context:?}");
            }
        }
        read
    }

    /// Pairs read from the text are the children the tree has, with the same ranges and values.
    #[test]
    fn pairs_read_from_the_text_are_the_children_in_the_tree() {
        let words = [
            "A", "A=1", "a.b-c/d:e=1.2", "A=", "A==b", "A=b=c", "_x=--flag=v", "A=é", "é=1", "A=$B", "A=x${B}y", "A=${B:-x y}",
            "A=\"x\"", "A=\"x y\"", "A=\"${V}\"", "A=\"$\"", "A=$", "A=$1", "A='x'", "A=b\\", "A=#x", "=x", "A B", "A=1 B=2",
            "A=1  B=\"2 3\"\tC=4", "A\t", "A=1 ", "A=`x`", "A=[1,2]", "A=%{x}", "A=1 \\\n  B=2", "A=1 \\ \r\n\tB=\"x\" \\\n C",
            "A=1\\\n B=2", "A=1 \\\n\n B=2", "A=1 \\\n # c\n B=2", "A=1 \\\n", "\\\n A=1", "A=\"x\ny\"", "$A=1", "A=\"a\"b",
        ];
        let mut text = String::new();
        for word in words {
            for keyword in ["ARG", "arg", "ENV", "LABEL"] {
                text.push_str(&format!("{keyword} {word}\n"));
            }
        }
        text.push_str("ARG\nENV\nLABEL  \n");
        let read = compare_pairs_with_the_tree(&SourceFile::parse(&text));
        assert!(read >= 60, "{read}");
    }

    #[test]
    fn line_content_trims_as_the_str_methods_do() {
        for line in ["", "  ", "\tx \\", "a`\\ ", "a\\` ", " \x0b\x0cb\r", "\\", "é \\ ", " x y \\\\"] {
            assert_eq!(line_content(line), line.trim().trim_end_matches('\\').trim_end_matches('`').trim(), "{line:?}");
        }
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
