//! Formatting: document, range and on-type.
//!
//! What changes: instruction keywords (and `AS`, `NONE`, nested ONBUILD/HEALTHCHECK keywords) are
//! upper-cased; indentation before an instruction or a top-level comment is removed; exactly one
//! space follows the keyword; continuation lines are indented one unit (lines indented deeper are
//! kept when `keep_aligned_continuations` is on); whitespace-only lines are emptied; whitespace
//! after a line-continuation character is dropped; the legacy `ENV key value` / `LABEL key value`
//! become `key=value`; single-line JSON arrays are written `["a", "b"]`.
//!
//! What never changes: heredoc bodies, text inside quoted strings (a continuation line starting
//! inside a string keeps its indentation, since it is part of the value), a continuation line that
//! continues a word (no whitespace on either side of the line break: indenting it would split the
//! word), and anything in a node with a syntax error except keyword case and indentation.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::TextEdit;
use crate::syntax::kinds::KindIds;
use crate::syntax::{ast, fields, NodeField as _, SourceFile, TextRange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    pub tab_size: u32,
    pub insert_spaces: bool,
    /// Leave instructions that span several lines untouched (rcjsuen's
    /// `formatter.ignoreMultilineInstructions`).
    pub ignore_multiline_instructions: bool,
    /// Keep continuation lines indented deeper than one unit (intentional alignment).
    pub keep_aligned_continuations: bool,
    /// Rewrite `ENV key value` / `LABEL key value` as `key=value`.
    pub legacy_key_value: bool,
    /// Rewrite single-line JSON arrays as `["a", "b"]`.
    pub normalize_json: bool,
}

impl Default for FormatOptions {
    fn default() -> FormatOptions {
        FormatOptions {
            tab_size: 4,
            insert_spaces: true,
            ignore_multiline_instructions: false,
            keep_aligned_continuations: true,
            legacy_key_value: true,
            normalize_json: true,
        }
    }
}

impl FormatOptions {
    fn unit(&self) -> String {
        if self.insert_spaces {
            " ".repeat(self.tab_size.max(1) as usize)
        } else {
            "\t".to_string()
        }
    }

    fn width(&self, indent: &str) -> usize {
        indent.chars().map(|c| if c == '\t' { self.tab_size.max(1) as usize } else { 1 }).sum()
    }
}

/// Characters that trigger on-type formatting (`documentOnTypeFormattingProvider`): the first is
/// the main trigger, the others go in `moreTriggerCharacter`.
pub const ON_TYPE_TRIGGERS: &[char] = &['\n', '\\', '`'];

/// The escape (and line-continuation) character set by `# escape=`, `\` by default.
pub fn escape_char(file: &SourceFile) -> char {
    let root = file.root();
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        match child.kind_name() {
            "parser_directive" => {
                let text = file.node_text(child).trim_start_matches('#').trim();
                if let Some((name, value)) = text.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("escape") {
                        if let Some(c) = value.trim().chars().next() {
                            return c;
                        }
                    }
                }
            }
            "comment" => {}
            _ => break,
        }
    }
    '\\'
}

/// Formats the whole document.
pub fn format(file: &SourceFile, options: &FormatOptions) -> Vec<TextEdit> {
    let mut formatter = Formatter::new(file, options);
    formatter.run();
    formatter.edits
}

/// Formats the lines that `range` touches (whole instructions are considered, edits outside the
/// lines are dropped).
pub fn format_range(file: &SourceFile, range: TextRange, options: &FormatOptions) -> Vec<TextEdit> {
    let text = file.text();
    let index = file.line_index();
    let start = index.line_start(index.line_of(range.start));
    let end_line = index.line_of(range.end.max(range.start));
    let end = index.line_start(end_line + 1).min(text.len());
    format(file, options).into_iter().filter(|edit| edit.range.start >= start && edit.range.start <= end && edit.range.end <= end.max(edit.range.start)).collect()
}

/// Formats after `ch` was typed at `offset` (the offset after the typed character): a new line
/// in a continued instruction, or an escape character at the end of a line, indents the
/// continuation line one unit.
pub fn format_on_type(file: &SourceFile, offset: usize, ch: char, options: &FormatOptions) -> Vec<TextEdit> {
    let text = file.text();
    let escape = escape_char(file);
    let index = file.line_index();
    let offset = offset.min(text.len());
    let line = index.line_of(offset);
    let target_line = if ch == '\n' {
        line
    } else if ch == escape {
        let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        if !text[offset..end].trim().is_empty() || end == text.len() {
            return Vec::new();
        }
        line + 1
    } else {
        return Vec::new();
    };
    if target_line == 0 || target_line >= index.line_count() {
        return Vec::new();
    }
    let previous = line_text(text, index.line_start(target_line - 1), index.line_start(target_line));
    let previous = previous.trim_end();
    if !previous.ends_with(escape) || previous.trim_start().starts_with('#') || in_heredoc(file, index.line_start(target_line)) {
        return Vec::new();
    }
    let start = index.line_start(target_line);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let current = &text[start..line_end];
    let indent_len = current.len() - current.trim_start_matches([' ', '\t']).len();
    let indent = &current[..indent_len];
    let unit = options.unit();
    if indent == unit || (options.keep_aligned_continuations && options.width(indent) > options.width(&unit)) {
        return Vec::new();
    }
    vec![TextEdit { range: start..start + indent_len, new_text: unit }]
}

fn line_text(text: &str, start: usize, next: usize) -> &str {
    let end = next.min(text.len());
    text[start..end].trim_end_matches('\n').trim_end_matches('\r')
}

fn in_heredoc(file: &SourceFile, offset: usize) -> bool {
    let Some(mut node) = file.root().descendant_for_byte_range(offset, offset) else { return false };
    loop {
        if node.kind_name() == "heredoc_block" {
            return true;
        }
        match node.parent() {
            Some(parent) => node = parent,
            None => return false,
        }
    }
}

struct Formatter<'a> {
    file: &'a SourceFile,
    text: &'a str,
    options: &'a FormatOptions,
    unit: String,
    escape: char,
    edits: Vec<TextEdit>,
    /// Row ranges that must not be touched (heredoc bodies and terminators), in order.
    frozen_rows: Vec<(usize, usize)>,
}

impl<'a> Formatter<'a> {
    fn new(file: &'a SourceFile, options: &'a FormatOptions) -> Formatter<'a> {
        Formatter {
            file,
            text: file.text(),
            options,
            unit: options.unit(),
            escape: escape_char(file),
            edits: Vec::new(),
            frozen_rows: Vec::new(),
        }
    }

    /// An edit, unless the text already reads `new_text`.
    fn edit(&mut self, range: TextRange, new_text: &str) {
        if self.text[range.clone()] != *new_text {
            self.edits.push(TextEdit { range, new_text: new_text.to_string() });
        }
    }

    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset].rfind('\n').map_or(0, |i| i + 1)
    }

    fn run(&mut self) {
        let kinds = KindIds::get();
        let file = self.file;
        let mut cursor = file.root().walk();
        for &node in file.top_level() {
            let kind = node.kind_id();
            if kind == kinds.comment || kind == kinds.parser_directive {
                self.strip_indent(node.start_byte());
            } else if kinds.is_instruction(kind) {
                cursor.reset(node);
                self.instruction(node, &mut cursor);
            }
        }
        self.blank_lines();
        self.edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
        self.edits.dedup();
    }

    /// Removes whitespace between the start of the line and `offset`.
    fn strip_indent(&mut self, offset: usize) {
        let start = self.line_start(offset);
        if start < offset && self.text[start..offset].bytes().all(|b| b == b' ' || b == b'\t') {
            self.edit(start..offset, "");
        }
    }

    /// Empties whitespace-only lines outside heredocs (BuildKit drops them inside continuations).
    fn blank_lines(&mut self) {
        let text = self.text;
        let frozen_rows = std::mem::take(&mut self.frozen_rows);
        let mut frozen = frozen_rows.iter().peekable();
        let mut start = 0;
        let mut row = 0;
        while start < text.len() {
            let end = memchr_newline(text, start);
            let line = text[start..end].trim_end_matches('\r');
            if !line.is_empty() && line.bytes().all(|b| b == b' ' || b == b'\t') {
                while frozen.peek().is_some_and(|(_, last)| *last < row) {
                    frozen.next();
                }
                if !frozen.peek().is_some_and(|(first, last)| *first <= row && row <= *last) {
                    self.edit(start..start + line.len(), "");
                }
            }
            start = end + 1;
            row += 1;
        }
    }

    fn instruction(&mut self, node: Node<'a>, cursor: &mut tree_sitter::TreeCursor<'a>) {
        let multiline = node.start_position().row != node.end_position().row;
        if multiline && self.options.ignore_multiline_instructions {
            return;
        }
        self.strip_indent(node.start_byte());
        let heredocs_before = self.frozen_rows.len();
        self.children(node, cursor, true);
        if multiline {
            let frozen: Vec<(usize, usize)> = self.frozen_rows[heredocs_before..].to_vec();
            self.continuations(node, &frozen);
        }
    }

    /// Keywords, `AS`/`NONE`, JSON arrays, legacy pairs and heredoc rows of an instruction.
    fn children(&mut self, node: Node<'a>, cursor: &mut tree_sitter::TreeCursor<'a>, top: bool) {
        let kind = node.kind_name();
        let clean = !node.has_error();
        // After the keyword and the gap behind it, only some instructions have children worth
        // visiting: `AS`, `NONE`, nested instructions, JSON arrays, heredocs, legacy pairs.
        let node_text = self.file.node_text(node);
        let visit_all = match kind {
            "healthcheck_instruction" | "onbuild_instruction" => true,
            "from_instruction" => node_text.split_whitespace().any(|word| word.eq_ignore_ascii_case("as") && word != "AS"),
            // Only the legacy `KEY value` form needs its pair: its first argument has no `=`.
            "env_instruction" | "label_instruction" => {
                self.options.legacy_key_value && node_text.split_whitespace().nth(1).is_some_and(|first| !first.contains('='))
            }
            "cmd_instruction" | "entrypoint_instruction" | "run_instruction" | "shell_instruction" | "volume_instruction"
            | "copy_instruction" | "add_instruction" => {
                node_text.contains("<<") || (self.options.normalize_json && json_needs_normalizing(node_text))
            }
            _ => false,
        };
        if !visit_all && kind != "unknown_instruction" {
            // The keyword and the blanks after it, from the text.
            let start = node.start_byte();
            let word = node_text.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
            if node_text[..word].bytes().any(|b| b.is_ascii_lowercase()) {
                self.edit(start..start + word, &node_text[..word].to_ascii_uppercase());
            }
            let blanks = node_text[word..].bytes().take_while(|b| *b == b' ' || *b == b'\t').count();
            let after = node_text.as_bytes().get(word + blanks);
            if blanks > 0 && after.is_some_and(|b| *b != b'\n' && *b != b'\r') {
                self.edit(start + word..start + word + blanks, " ");
            }
            return;
        }
        if !cursor.goto_first_child() {
            return;
        }
        let mut index = 0;
        let mut previous_end = 0;
        let mut first_is_keyword = false;
        let mut pairs = 0;
        let mut legacy: Option<Node<'a>> = None;
        loop {
            let child = cursor.node();
            if index == 1 && first_is_keyword {
                let gap = previous_end..child.start_byte();
                let between = &self.text[gap.clone()];
                if !between.is_empty() && between.bytes().all(|b| b == b' ' || b == b'\t') {
                    self.edit(gap, " ");
                }
            }
            if !child.is_named() {
                let word = self.file.node_text(child);
                if kind != "unknown_instruction" && !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphabetic()) {
                    if index == 0 {
                        first_is_keyword = true;
                    }
                    if word.bytes().any(|b| b.is_ascii_lowercase()) {
                        self.edit(child.byte_range(), &word.to_ascii_uppercase());
                    }
                }
            } else {
                match child.kind_name() {
                    "heredoc_block" => self.frozen_rows.push((child.start_position().row, child.end_position().row)),
                    "json_string_array" if clean && self.options.normalize_json => self.json_array(child, cursor),
                    "key_value_pair" => {
                        pairs += 1;
                        if (ast::KeyValue { node: child }).is_legacy() {
                            legacy = Some(child);
                        }
                    }
                    nested if nested.ends_with("_instruction") => self.children(child, cursor, false),
                    _ => {}
                }
            }
            previous_end = child.end_byte();
            index += 1;
            if (index >= 2 && !visit_all) || !cursor.goto_next_sibling() {
                break;
            }
        }
        cursor.goto_parent();
        if top && clean && self.options.legacy_key_value && pairs == 1 && matches!(kind, "env_instruction" | "label_instruction") {
            if let Some(pair) = legacy {
                self.legacy_pair(node, pair);
            }
        }
    }

    /// Indents the continuation lines of a multi-line instruction. A quote-aware scan of its text
    /// finds which lines start inside a string (JSON, quoted values, shell strings of RUN), and
    /// those keep their indentation.
    fn continuations(&mut self, node: Node<'a>, frozen: &[(usize, usize)]) {
        let text = self.text;
        let escape = self.escape;
        let first_row = node.start_position().row;
        let mut quote: Option<char> = None;
        let mut continued = false;
        let mut after_blank = false;
        let mut escape_at = 0;
        let mut line = node.start_byte();
        let mut row = first_row;
        let end = node.end_byte();
        while line < end {
            let line_end = memchr_newline(text, line).min(text.len());
            let content = text[line..line_end].trim_end_matches('\r');
            let is_frozen = frozen.iter().any(|(a, b)| *a <= row && row <= *b);
            if is_frozen {
                continued = false;
                after_blank = false;
                line = line_end + 1;
                row += 1;
                continue;
            }
            let indent_len = content.len() - content.trim_start_matches([' ', '\t']).len();
            let rest = &content[indent_len..];
            let comment = continued && quote.is_none() && rest.starts_with('#');
            // After a blank line inside a continuation the indentation decides how the grammar
            // recovers from the (BuildKit-valid) gap, so it is left as written.
            if continued && quote.is_none() && !rest.is_empty() && !after_blank {
                self.indent_continuation(line, indent_len, escape_at);
            }
            after_blank = continued && rest.is_empty() || (after_blank && comment);
            if !comment {
                quote = scan_quotes(if row == first_row { content } else { rest }, quote, escape);
            }
            // Does the line continue? (Comment and blank lines inside a continuation keep it going.)
            let trimmed = content.trim_end();
            if !comment && trimmed.ends_with(escape) {
                escape_at = line + trimmed.len() - escape.len_utf8();
                // Whitespace after the escape character.
                let after = escape_at + escape.len_utf8();
                if after < line + content.len() {
                    self.edit(after..line + content.len(), "");
                }
                continued = true;
            } else {
                continued = continued && (comment || rest.is_empty());
            }
            line = line_end + 1;
            row += 1;
        }
    }

    fn indent_continuation(&mut self, line: usize, indent_len: usize, escape_at: usize) {
        let indent = &self.text[line..line + indent_len];
        if indent == self.unit {
            return;
        }
        if indent.is_empty() {
            // `a\` + `b` is the word `ab`: indenting would split it.
            let before = self.text[..escape_at].chars().next_back();
            if before.is_some_and(|c| !c.is_whitespace()) {
                return;
            }
        }
        if self.options.keep_aligned_continuations && self.options.width(indent) > self.options.width(&self.unit) {
            return;
        }
        self.edits.push(TextEdit { range: line..line + indent_len, new_text: self.unit.clone() });
    }

    /// `ENV key value` → `ENV key=value` when the meaning is kept.
    fn legacy_pair(&mut self, instruction: Node<'a>, pair: Node<'a>) {
        let (Some(key), Some(value)) = (pair.field(&fields::KEY), pair.field(&fields::VALUE)) else { return };
        if key.start_position().row != value.end_position().row {
            return;
        }
        // A line continuation after the end of the instruction means the tree ended it early
        // (at NUL bytes, say): the rewritten line would take the next line in and parse differently.
        let end = instruction.end_byte();
        if self.text[end..memchr_newline(self.text, end)].trim_end().ends_with(self.escape) {
            return;
        }
        // BuildKit splits `KEY value` at the first blank, whatever the quotes: a key with a quote
        // or an escape in it (`k"x "y z`) does not read the same once written `key=value`.
        if self.file.node_text(key).contains(['"', '\'', '`', '\\', self.escape]) {
            return;
        }
        let raw = self.file.node_text(value);
        let gap = key.end_byte()..value.start_byte();
        if !has_unquoted_whitespace(raw) {
            self.edit(gap, "=");
        } else if !raw.contains(['"', '\'', '`', self.escape]) {
            self.edit(gap, "=");
            self.edit(value.byte_range(), &format!("\"{raw}\""));
        }
    }

    fn json_array(&mut self, array: Node<'a>, cursor: &mut tree_sitter::TreeCursor<'a>) {
        if array.start_position().row != array.end_position().row || !json_needs_normalizing(self.file.node_text(array)) {
            return;
        }
        let mut normalized = String::with_capacity(array.end_byte() - array.start_byte());
        normalized.push('[');
        if cursor.goto_first_child() {
            let mut first = true;
            loop {
                let element = cursor.node();
                if element.kind_name() == "json_string" {
                    if !first {
                        normalized.push_str(", ");
                    }
                    normalized.push_str(self.file.node_text(element));
                    first = false;
                }
                if !cursor.goto_next_sibling() {
                    break;
                }
            }
            cursor.goto_parent();
        }
        normalized.push(']');
        self.edit(array.byte_range(), &normalized);
    }
}

/// Whether the first line of an instruction holds a JSON array not written `["a", "b"]` (a text
/// scan, so well-formatted lines are not visited in the tree).
fn json_needs_normalizing(text: &str) -> bool {
    let line = text.lines().next().unwrap_or("");
    let Some(open) = line.find('[') else { return false };
    let bytes = line.as_bytes();
    let mut in_string = false;
    let mut i = open + 1;
    if bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        return true;
    }
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b',' if bytes.get(i + 1) != Some(&b' ') || bytes.get(i + 2).is_some_and(|b| b.is_ascii_whitespace()) => {
                    return true;
                }
                b' ' | b'\t' if !matches!(bytes.get(i.wrapping_sub(1)), Some(b',')) => return true,
                b']' => return false,
                _ => {}
            }
        }
        i += 1;
    }
    false
}

fn memchr_newline(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |i| from + i)
}

/// The quote state after `line`, starting in `quote`: double and single quotes as the shell and
/// JSON use them; a backslash (outside single quotes) escapes the next character, except the
/// line-continuation escape at the end of the line.
fn scan_quotes(line: &str, mut quote: Option<char>, escape: char) -> Option<char> {
    let trimmed = line.trim_end();
    let body = if trimmed.ends_with(escape) { &trimmed[..trimmed.len() - escape.len_utf8()] } else { trimmed };
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', Some('"') | None) => {
                chars.next();
            }
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            _ => {}
        }
    }
    quote
}

fn has_unquoted_whitespace(text: &str) -> bool {
    let mut quote = None;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match (c, quote) {
            ('\\', _) => escaped = true,
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            (c, None) if c.is_whitespace() => return true,
            _ => {}
        }
    }
    false
}



#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::fixture::apply;

    fn formatted(text: &str, options: &FormatOptions) -> String {
        let file = SourceFile::parse(text);
        apply(text, &format(&file, options))
    }

    fn check(text: &str, expect: Expect) {
        let once = formatted(text, &FormatOptions::default());
        expect.assert_eq(&once);
        assert_eq!(formatted(&once, &FormatOptions::default()), once, "formatting is not idempotent");
    }

    #[test]
    fn keywords_spacing_and_indentation() {
        check(
            "  from   scratch as build\nfrom scratch\n   copy  registry registry\nonbuild   run  echo\nhealthcheck --interval=5s cmd true\nhealthcheck none\n  # comment\n",
            expect![[r#"
                FROM scratch AS build
                FROM scratch
                COPY registry registry
                ONBUILD RUN echo
                HEALTHCHECK --interval=5s CMD true
                HEALTHCHECK NONE
                # comment
            "#]],
        );
    }

    #[test]
    fn continuation_lines() {
        check(
            "FROM scratch\nENV A=1 \\\nB=2 \\\n  C=3 \\\n            D=4\nRUN apk add \\\n\tgit \\   \n# comment in continuation\n  curl\n",
            expect![[r#"
                FROM scratch
                ENV A=1 \
                    B=2 \
                    C=3 \
                            D=4
                RUN apk add \
                    git \
                    # comment in continuation
                    curl
            "#]],
        );
        let text = "FROM scratch\nRUN a \\\n        b \\\n c\n";
        let aligned = FormatOptions { keep_aligned_continuations: false, tab_size: 2, ..FormatOptions::default() };
        expect![[r#"
            FROM scratch
            RUN a \
              b \
              c
        "#]].assert_eq(&formatted(text, &aligned));
        let tabs = FormatOptions { insert_spaces: false, keep_aligned_continuations: false, ..FormatOptions::default() };
        expect![[r#"
            FROM scratch
            RUN a \
            	b \
            	c
        "#]].assert_eq(&formatted(text, &tabs));
    }

    #[test]
    fn continuation_inside_a_string_or_word_is_kept() {
        check("FROM scratch\nLABEL a=\"x \\\n   y\"\nENV B=ab\\\ncd\n", expect![[r#"
            FROM scratch
            LABEL a="x \
               y"
            ENV B=ab\
            cd
        "#]]);
    }

    #[test]
    fn shell_strings_across_lines_are_kept() {
        check("FROM alpine\nRUN echo \"a \\\n   b\" && \\\n  echo 'c \\\n      d' \\\n  # it's a comment\n  && done\n", expect![[r#"
            FROM alpine
            RUN echo "a \
               b" && \
                echo 'c \
                  d' \
                # it's a comment
                && done
        "#]]);
    }

    #[test]
    fn legacy_env_and_label() {
        check(
            "FROM scratch\nENV A b\nENV B two words\nENV C \"quoted value\"\nENV D it's\nLABEL maintainer someone\nENV E=1 F=2\n",
            expect![[r#"
                FROM scratch
                ENV A=b
                ENV B="two words"
                ENV C="quoted value"
                ENV D=it's
                LABEL maintainer=someone
                ENV E=1 F=2
            "#]],
        );
    }

    #[test]
    fn json_arrays() {
        check(
            "FROM scratch\nCMD [ \"bash entrypoint.sh\" ,\"b\"  ]\nENTRYPOINT [\"a\"]\nCMD [\"a\", \\\n     \"b\"]\nHEALTHCHECK CMD [\"a\",\"b\"]\n",
            expect![[r#"
                FROM scratch
                CMD ["bash entrypoint.sh", "b"]
                ENTRYPOINT ["a"]
                CMD ["a", \
                     "b"]
                HEALTHCHECK CMD ["a", "b"]
            "#]],
        );
    }

    #[test]
    fn heredocs_are_untouched() {
        let text = "FROM alpine\nrun <<EOF\n   indented \\\n  body   \n   \nEOF\ncopy  <<EOT /x\n  text\nEOT\n";
        let once = formatted(text, &FormatOptions::default());
        assert_eq!(once, "FROM alpine\nRUN <<EOF\n   indented \\\n  body   \n   \nEOF\nCOPY <<EOT /x\n  text\nEOT\n");
        assert_eq!(formatted(&once, &FormatOptions::default()), once);
    }

    #[test]
    fn backtick_escape() {
        check("# escape=`\nFROM scratch\nRUN a `\nb `\n  c\n", expect![[r#"
            # escape=`
            FROM scratch
            RUN a `
                b `
                c
        "#]]);
    }

    #[test]
    fn multiline_left_alone_when_asked() {
        let options = FormatOptions { ignore_multiline_instructions: true, ..FormatOptions::default() };
        expect![[r#"
            FROM scratch
            env A=1 \
            B=2
        "#]].assert_eq(&formatted("from scratch\nenv A=1 \\\nB=2\n", &options));
    }

    #[test]
    fn range_formatting_only_touches_the_range() {
        let text = "from scratch\ncopy a b\nenv A b\n";
        let file = SourceFile::parse(text);
        let start = text.find("copy").unwrap();
        let edits = format_range(&file, start..start + 2, &FormatOptions::default());
        expect![[r#"
            from scratch
            COPY a b
            env A b
        "#]].assert_eq(&apply(text, &edits));
    }

    #[test]
    fn on_type_indents_continuation() {
        let text = "FROM scratch\nRUN a \\\nb\n";
        let file = SourceFile::parse(text);
        let edits = format_on_type(&file, text.find("b\n").unwrap(), '\n', &FormatOptions::default());
        expect![[r#"
            FROM scratch
            RUN a \
                b
        "#]].assert_eq(&apply(text, &edits));
        let edits = format_on_type(&file, text.find("\\\n").unwrap() + 1, '\\', &FormatOptions::default());
        expect![[r#"
            FROM scratch
            RUN a \
                b
        "#]].assert_eq(&apply(text, &edits));
        assert!(format_on_type(&file, text.find("RUN").unwrap(), '\n', &FormatOptions::default()).is_empty());
    }

    #[test]
    fn crlf_files() {
        let once = formatted("from scratch\r\nrun a \\  \r\nb\r\n  \r\n", &FormatOptions::default());
        assert_eq!(once, "FROM scratch\r\nRUN a \\\r\n    b\r\n\r\n");
        assert_eq!(formatted(&once, &FormatOptions::default()), once);
    }

    /// Every build file of the cluster-image corpus formats idempotently and keeps its meaning
    /// (same instruction kinds, no new syntax errors).
    #[test]
    fn corpus_is_idempotent() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image");
        let Ok(index) = std::fs::read_to_string(root.join("INDEX.tsv")) else {
            eprintln!("corpus not found at {}", root.display());
            return;
        };
        let mut count = 0;
        let mut changed = 0;
        for line in index.lines().skip(1) {
            let path = line.split('\t').next().unwrap_or_default();
            let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
            count += 1;
            let file = SourceFile::parse(&text);
            let once = apply(&text, &format(&file, &FormatOptions::default()));
            if once != text {
                changed += 1;
            }
            let reparsed = SourceFile::parse(&once);
            let twice = apply(&once, &format(&reparsed, &FormatOptions::default()));
            assert_eq!(twice, once, "{path}: formatting is not idempotent");
            let kinds = |file: &SourceFile| -> Vec<String> {
                ast::instructions(file).iter().map(|i| i.keyword(file).to_ascii_uppercase()).collect()
            };
            assert_eq!(kinds(&file), kinds(&reparsed), "{path}: instructions changed");
            assert!(!reparsed.root().has_error() || file.root().has_error(), "{path}: formatting introduced a syntax error");
        }
        assert!(count > 250, "only {count} corpus files");
        eprintln!("formatted {count} corpus files, {changed} changed");
    }
}
