//! Semantic tokens, full and range, in one linear pass over the tree (each node is visited once,
//! each token's text scanned once to split it at line ends). `encode` produces the LSP relative
//! encoding and `diff` the edits of a delta request, both linear.

use tree_sitter::{Node, TreeCursor};

use crate::{
    sealos::{env, labels},
    syntax::{ast, LineCol, PositionEncoding, SourceFile, TextRange},
};

/// The legend's token types, in `TokenType` order.
pub const TOKEN_TYPES: &[&str] = &[
    "keyword",
    "comment",
    "macro",
    "parameter",
    "property",
    "variable",
    "string",
    "operator",
    "namespace",
    "class",
    "number",
    "enumMember",
];

/// The legend's modifiers, one bit each (`modifiers::*`).
pub const TOKEN_MODIFIERS: &[&str] = &["declaration", "readonly", "defaultLibrary", "deprecated"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TokenType {
    /// Instruction keywords, `AS`, `NONE`.
    Keyword = 0,
    Comment = 1,
    /// Parser directives.
    Macro = 2,
    /// Flags (`--from`).
    Parameter = 3,
    /// LABEL keys.
    Property = 4,
    /// ENV/ARG names and variable uses.
    Variable = 5,
    /// Values, paths, quoted strings, heredoc bodies.
    String = 6,
    /// `=`, expansion operators, `$(`/`)` of sealos templates.
    Operator = 7,
    /// Image references.
    Namespace = 8,
    /// Stage names.
    Class = 9,
    /// EXPOSE ports.
    Number = 10,
    /// Known values: `sealos.io.type` values, signals.
    EnumMember = 11,
}

pub mod modifiers {
    pub const DECLARATION: u32 = 1;
    /// Owned by sealos (`SEALOS_SYS*`).
    pub const READONLY: u32 = 2;
    /// Provided by the rootfs image, sealos or BuildKit.
    pub const DEFAULT_LIBRARY: u32 = 4;
    pub const DEPRECATED: u32 = 8;
}

/// One token on one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub token_type: TokenType,
    pub modifiers: u32,
}

/// Tokens of the whole file, or of the instructions overlapping `range`, in document order.
pub fn semantic_tokens(file: &SourceFile, range: Option<TextRange>) -> Vec<SemanticToken> {
    let mut builder = Builder { file, text: file.text(), range: range.clone(), tokens: Vec::new(), stages: Vec::new() };
    let root = file.root();
    let mut cursor = root.walk();
    let started = match &range {
        // Start at the range; the stage names declared before it are found from the text.
        Some(range) => {
            for from in super::navigation::from_instructions(file, 0..range.start) {
                builder.record_stage(from);
            }
            cursor.goto_first_child_for_byte(range.start).is_some()
        }
        None => cursor.goto_first_child(),
    };
    if started {
        loop {
            let child = cursor.node();
            if let Some(range) = &builder.range {
                if child.start_byte() > range.end {
                    break;
                }
            }
            builder.top(child, &mut cursor);
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    builder.tokens
}

struct Builder<'a> {
    file: &'a SourceFile,
    text: &'a str,
    range: Option<TextRange>,
    tokens: Vec<SemanticToken>,
    /// Stage names declared so far (lower case).
    stages: Vec<String>,
}

impl<'a> Builder<'a> {
    fn push(&mut self, range: TextRange, token_type: TokenType, modifiers: u32) {
        if range.is_empty() {
            return;
        }
        if let Some(limit) = &self.range {
            if range.end <= limit.start || range.start >= limit.end {
                return;
            }
        }
        // Split at line ends (clients without multiline token support).
        let mut start = range.start;
        for (i, _) in self.text[range.clone()].match_indices('\n') {
            let end = range.start + i;
            let end = if end > start && self.text.as_bytes()[end - 1] == b'\r' { end - 1 } else { end };
            if end > start {
                self.tokens.push(SemanticToken { range: start..end, token_type, modifiers });
            }
            start = range.start + i + 1;
        }
        if range.end > start {
            self.tokens.push(SemanticToken { range: start..range.end, token_type, modifiers });
        }
    }

    fn record_stage(&mut self, from: Node<'_>) {
        if let Some(alias) = from.child_by_field_name("as") {
            self.stages.push(ast::literal_text(self.file, alias).to_ascii_lowercase());
        }
    }

    fn top(&mut self, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        match node.kind() {
            "comment" => self.push(node.byte_range(), TokenType::Comment, 0),
            "parser_directive" => self.push(node.byte_range(), TokenType::Macro, 0),
            kind if kind.ends_with("_instruction") => self.instruction(node, cursor),
            _ => {}
        }
    }

    /// Tokens of the instruction under `cursor` (the cursor is left on it).
    fn instruction(&mut self, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kind = node.kind();
        if !cursor.goto_first_child() {
            return;
        }
        loop {
            let child = cursor.node();
            self.instruction_child(kind, child, cursor);
            if !cursor.goto_next_sibling() {
                break;
            }
        }
        cursor.goto_parent();
    }

    fn instruction_child(&mut self, kind: &str, child: Node<'a>, cursor: &mut TreeCursor<'a>) {
        {
            if !child.is_named() {
                let word = self.file.node_text(child);
                if !word.is_empty() && word.bytes().all(|c| c.is_ascii_alphabetic()) {
                    let deprecated = if kind == "maintainer_instruction" { modifiers::DEPRECATED } else { 0 };
                    self.push(child.byte_range(), TokenType::Keyword, deprecated);
                }
                return;
            }
            match child.kind() {
                k if k.ends_with("_instruction") => self.instruction(child, cursor),
                "comment" => self.push(child.byte_range(), TokenType::Comment, 0),
                "instruction_name" => {}
                "flag" => self.flag(child),
                "image_spec" => {
                    let text = ast::literal_text(self.file, child).to_ascii_lowercase();
                    let token = if self.stages.contains(&text) { TokenType::Class } else { TokenType::Namespace };
                    self.with_holes(child, token, 0);
                }
                "image_alias" => {
                    self.push(child.byte_range(), TokenType::Class, modifiers::DECLARATION);
                    self.stages.push(ast::literal_text(self.file, child).to_ascii_lowercase());
                }
                "key_value_pair" => self.pair(kind, child),
                "arg_name" => self.push(child.byte_range(), TokenType::Variable, modifiers::DECLARATION),
                "expose_port" => self.with_holes(child, TokenType::Number, 0),
                "signal" => self.with_holes(child, TokenType::EnumMember, 0),
                "shell_command" => self.shell(child, kind == "run_instruction"),
                "heredoc_marker" | "heredoc_block" => self.push(child.byte_range(), TokenType::String, 0),
                "line_continuation" => {}
                _ => self.with_holes(child, TokenType::String, 0),
            }
        }
    }

    fn flag(&mut self, flag: Node<'a>) {
        let Some(name) = flag.child_by_field_name("name") else {
            self.push(flag.byte_range(), TokenType::Parameter, 0);
            return;
        };
        self.push(flag.start_byte()..name.end_byte(), TokenType::Parameter, 0);
        let value = flag.child_by_field_name("value");
        let equals_end = value.map_or(flag.end_byte(), |v| v.start_byte());
        if self.text[name.end_byte()..equals_end].starts_with('=') {
            self.push(name.end_byte()..name.end_byte() + 1, TokenType::Operator, 0);
        }
        if let Some(value) = value {
            let flag_name = self.file.node_text(name);
            let text = ast::literal_text(self.file, value).to_ascii_lowercase();
            let token = if flag_name == "from" && (self.stages.contains(&text) || text.bytes().all(|b| b.is_ascii_digit())) {
                TokenType::Class
            } else {
                TokenType::String
            };
            self.with_holes(value, token, 0);
        }
    }

    fn pair(&mut self, instruction: &str, pair: Node<'a>) {
        let key = pair.child_by_field_name("key");
        let mut role = None;
        if let Some(key) = key {
            if instruction == "label_instruction" {
                let name = ast::literal_text(self.file, key);
                role = labels::find(&name).map(|known| known.role);
                self.with_holes(key, TokenType::Property, 0);
            } else {
                let name = ast::literal_text(self.file, key);
                self.push(key.byte_range(), TokenType::Variable, modifiers::DECLARATION | variable_modifiers(&name));
            }
        }
        let value = pair.child_by_field_name("value");
        if let Some(key) = key {
            let gap_end = value.map_or(pair.end_byte(), |v| v.start_byte());
            if let Some(i) = self.text[key.end_byte()..gap_end].find('=') {
                let at = key.end_byte() + i;
                self.push(at..at + 1, TokenType::Operator, 0);
            }
        }
        if let Some(value) = value {
            let enum_value = matches!(
                role,
                Some(labels::LabelRole::Type | labels::LabelRole::ApiVersion | labels::LabelRole::Distribution)
            );
            self.with_holes(value, if enum_value { TokenType::EnumMember } else { TokenType::String }, 0);
        }
    }

    /// Shell text: only variables get tokens (the editor's shell grammar colours the rest).
    fn shell(&mut self, node: Node<'a>, run: bool) {
        let mut cursor = node.walk();
        if !cursor.goto_first_child() {
            return;
        }
        loop {
            self.shell_child(cursor.node(), run);
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }

    fn shell_child(&mut self, child: Node<'a>, run: bool) {
        {
            match child.kind() {
                "expansion" => self.expansion(child),
                "template_variable" => self.template(child),
                "heredoc_marker" => self.push(child.byte_range(), TokenType::String, 0),
                "shell_fragment" if run => {
                    let base = child.start_byte();
                    for (range, name) in super::navigation::shell_variables(self.file.node_text(child)) {
                        self.push(base + range.start..base + range.end, TokenType::Variable, variable_modifiers(name));
                    }
                }
                _ => {}
            }
        }
    }

    /// Gives `node` the token type `token`, except its expansions and templates, which get their
    /// own tokens.
    fn with_holes(&mut self, node: Node<'a>, token: TokenType, mods: u32) {
        if node.child_count() == 0 {
            self.push(node.byte_range(), token, mods);
            return;
        }
        let mut holes = Vec::new();
        collect_holes(node, &mut holes);
        let mut at = node.start_byte();
        for hole in holes {
            if hole.start_byte() > at {
                self.push(at..hole.start_byte(), token, mods);
            }
            match hole.kind() {
                "expansion" => self.expansion(hole),
                "template_variable" => self.template(hole),
                _ => {}
            }
            at = hole.end_byte();
        }
        if node.end_byte() > at {
            self.push(at..node.end_byte(), token, mods);
        }
    }

    fn expansion(&mut self, node: Node<'a>) {
        let name = node.child_by_field_name("name");
        if let Some(name) = name {
            let text = self.file.node_text(name);
            self.push(node.start_byte()..name.start_byte(), TokenType::Operator, 0);
            self.push(name.byte_range(), TokenType::Variable, variable_modifiers(text));
        }
        if let Some(operator) = node.child_by_field_name("operator") {
            self.push(operator.byte_range(), TokenType::Operator, 0);
        }
        if let Some(argument) = node.child_by_field_name("argument") {
            self.with_holes(argument, TokenType::String, 0);
        }
        let close_start = node.end_byte().saturating_sub(1);
        if self.text[node.byte_range()].ends_with('}') && name.is_none_or(|n| n.end_byte() <= close_start) {
            self.push(close_start..node.end_byte(), TokenType::Operator, 0);
        }
    }

    fn template(&mut self, node: Node<'a>) {
        let Some(name) = node.child_by_field_name("name") else { return };
        let text = self.file.node_text(name);
        self.push(node.start_byte()..name.start_byte(), TokenType::Operator, 0);
        self.push(name.byte_range(), TokenType::Variable, variable_modifiers(text));
        self.push(name.end_byte()..node.end_byte(), TokenType::Operator, 0);
    }
}

/// Expansions and templates below `node` (not inside each other), in order.
fn collect_holes<'t>(node: Node<'t>, out: &mut Vec<Node<'t>>) {
    let mut cursor = node.walk();
    if !cursor.goto_first_child() {
        return;
    }
    let mut depth = 1;
    loop {
        let child = cursor.node();
        let descend = match child.kind() {
            "expansion" | "template_variable" => {
                out.push(child);
                false
            }
            _ => child.child_count() > 0,
        };
        if descend && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if depth == 1 || !cursor.goto_parent() {
                return;
            }
            depth -= 1;
        }
    }
}

fn variable_modifiers(name: &str) -> u32 {
    if name.starts_with(env::SYSTEM_PREFIX) {
        modifiers::READONLY | modifiers::DEFAULT_LIBRARY
    } else if env::rootfs_key(name).is_some() || env::PREDEFINED_ARGS.contains(&name) {
        modifiers::DEFAULT_LIBRARY
    } else {
        0
    }
}

/// The LSP encoding: five numbers per token (delta line, delta start, length, type, modifiers),
/// columns in `encoding` units. Tokens must be in document order on single lines.
pub fn encode(file: &SourceFile, tokens: &[SemanticToken], encoding: PositionEncoding) -> Vec<u32> {
    let text = file.text();
    let index = file.line_index();
    let units = |s: &str| -> u32 {
        match encoding {
            PositionEncoding::Utf8 => s.len() as u32,
            PositionEncoding::Utf16 => s.chars().map(|c| c.len_utf16() as u32).sum(),
        }
    };
    let mut data = Vec::with_capacity(tokens.len() * 5);
    let (mut prev_line, mut prev_col) = (0u32, 0u32);
    // Position cache: the last token start, to count columns incrementally along a line.
    let mut cache: Option<(usize, usize, u32)> = None; // (line, offset, col)
    // Tokens come in order: advance the line as they do (binary search after a jump back).
    let mut line = 0usize;
    let mut next_line_start = index.line_start(1);
    for token in tokens {
        if token.range.start < index.line_start(line) {
            line = index.line_of(token.range.start);
            next_line_start = index.line_start(line + 1);
        }
        while token.range.start >= next_line_start && line + 1 < index.line_count() {
            line += 1;
            next_line_start = index.line_start(line + 1);
        }
        let col = match cache {
            Some((cached_line, offset, col)) if cached_line == line && offset <= token.range.start => col + units(&text[offset..token.range.start]),
            _ => {
                let LineCol { col, .. } = index.line_col(text, token.range.start, encoding);
                col
            }
        };
        cache = Some((line, token.range.start, col));
        let length = units(&text[token.range.clone()]);
        let line = line as u32;
        let delta_line = line - prev_line;
        let delta_start = if delta_line == 0 { col - prev_col } else { col };
        data.extend_from_slice(&[delta_line, delta_start, length, token.token_type as u32, token.modifiers]);
        prev_line = line;
        prev_col = col;
    }
    data
}

/// One edit of a `semanticTokens/full/delta` response, in indices of the `u32` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemanticTokensEdit {
    pub start: u32,
    pub delete_count: u32,
    pub data: Vec<u32>,
}

/// The edits turning `previous` into `current` (one edit: the differing middle).
pub fn diff(previous: &[u32], current: &[u32]) -> Vec<SemanticTokensEdit> {
    let prefix = previous.iter().zip(current).take_while(|(a, b)| a == b).count();
    // Keep whole tokens (5 numbers) in the common prefix.
    let prefix = prefix - prefix % 5;
    let max_suffix = (previous.len() - prefix).min(current.len() - prefix);
    let suffix = previous.iter().rev().zip(current.iter().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    let suffix = suffix - suffix % 5;
    if prefix == previous.len() && prefix == current.len() {
        return Vec::new();
    }
    vec![SemanticTokensEdit {
        start: prefix as u32,
        delete_count: (previous.len() - prefix - suffix) as u32,
        data: current[prefix..current.len() - suffix].to_vec(),
    }]
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn render(file: &SourceFile, tokens: &[SemanticToken]) -> String {
        let mut out = String::new();
        for token in tokens {
            let mut mods = Vec::new();
            for (i, name) in TOKEN_MODIFIERS.iter().enumerate() {
                if token.modifiers & (1 << i) != 0 {
                    mods.push(*name);
                }
            }
            out.push_str(&format!(
                "{} {}{} {:?}\n",
                crate::analysis::fixture::pos(file, token.range.start),
                TOKEN_TYPES[token.token_type as usize],
                if mods.is_empty() { String::new() } else { format!("+{}", mods.join("+")) },
                &file.text()[token.range.clone()]
            ));
        }
        out
    }

    #[test]
    fn kubefile_tokens() {
        let file = SourceFile::parse(
            "# escape=\\\n# comment\nFROM alpine:3 AS build\nRUN echo $HOME ${TARGETARCH}\nFROM scratch\nLABEL sealos.io.type=\"rootfs\" vip=\"\\$defaultVIP\"\nENV NAME=${NAME:-\"nginx\"} \\\n    SEALOS_SYS_CRI_ENDPOINT=/x\nCOPY --from=build /a \"b c\"\nEXPOSE 80/tcp\nmaintainer me\nCMD [\"helm install $(NAME) $$(x)\"]\n",
        );
        expect![[r##"
            1:1 macro "# escape=\\"
            2:1 comment "# comment"
            3:1 keyword "FROM"
            3:6 namespace "alpine:3"
            3:15 keyword "AS"
            3:18 class+declaration "build"
            4:1 keyword "RUN"
            4:11 variable "HOME"
            4:18 variable+defaultLibrary "TARGETARCH"
            5:1 keyword "FROM"
            5:6 namespace "scratch"
            6:1 keyword "LABEL"
            6:7 property "sealos.io.type"
            6:21 operator "="
            6:22 enumMember "\"rootfs\""
            6:31 property "vip"
            6:34 operator "="
            6:35 string "\"\\$defaultVIP\""
            7:1 keyword "ENV"
            7:5 variable+declaration "NAME"
            7:9 operator "="
            7:10 operator "${"
            7:12 variable "NAME"
            7:16 operator ":-"
            7:18 string "\"nginx\""
            7:25 operator "}"
            8:5 variable+declaration+readonly+defaultLibrary "SEALOS_SYS_CRI_ENDPOINT"
            8:28 operator "="
            8:29 string "/x"
            9:1 keyword "COPY"
            9:6 parameter "--from"
            9:12 operator "="
            9:13 class "build"
            9:19 string "/a"
            9:22 string "\"b c\""
            10:1 keyword "EXPOSE"
            10:8 number "80/tcp"
            11:1 keyword+deprecated "maintainer"
            12:1 keyword "CMD"
            12:5 string "[\"helm install "
            12:20 operator "$("
            12:22 variable "NAME"
            12:26 operator ")"
            12:27 string " $$(x)\"]"
        "##]].assert_eq(&render(&file, &semantic_tokens(&file, None)));
    }

    #[test]
    fn range_request_keeps_stage_names_known() {
        let text = "FROM alpine AS build\nFROM scratch\nCOPY --from=build /a /a\n";
        let file = SourceFile::parse(text);
        let start = text.find("COPY").unwrap();
        expect![[r#"
            3:1 keyword "COPY"
            3:6 parameter "--from"
            3:12 operator "="
            3:13 class "build"
            3:19 string "/a"
            3:22 string "/a"
        "#]].assert_eq(&render(&file, &semantic_tokens(&file, Some(start..text.len()))));
    }

    #[test]
    fn multiline_string_is_split_per_line() {
        let file = SourceFile::parse("FROM scratch\r\nLABEL a=\"x \\\r\n  y\"\r\n");
        expect![[r#"
            1:1 keyword "FROM"
            1:6 namespace "scratch"
            2:1 keyword "LABEL"
            2:7 property "a"
            2:8 operator "="
            2:9 string "\"x \\"
            3:1 string "  y\""
        "#]].assert_eq(&render(&file, &semantic_tokens(&file, None)));
    }

    #[test]
    fn encoding_and_delta() {
        let text = "FROM scratch\nLABEL a=\"é😀\" b=c\n";
        let file = SourceFile::parse(text);
        let tokens = semantic_tokens(&file, None);
        let utf16 = encode(&file, &tokens, PositionEncoding::Utf16);
        expect!["[0, 0, 4, 0, 0, 0, 5, 7, 8, 0, 1, 0, 5, 0, 0, 0, 6, 1, 4, 0, 0, 1, 1, 7, 0, 0, 1, 5, 6, 0, 0, 6, 1, 4, 0, 0, 1, 1, 7, 0, 0, 1, 1, 6, 0]"].assert_eq(&format!("{utf16:?}"));
        let utf8 = encode(&file, &tokens, PositionEncoding::Utf8);
        assert_ne!(utf8, utf16);
        let edited = SourceFile::parse("FROM scratch\nLABEL a=\"é😀\" bb=c\n");
        let next = encode(&edited, &semantic_tokens(&edited, None), PositionEncoding::Utf16);
        let edits = diff(&utf16, &next);
        expect!["[SemanticTokensEdit { start: 30, delete_count: 10, data: [0, 6, 2, 4, 0, 0, 2, 1, 7, 0] }]"].assert_eq(&format!("{edits:?}"));
        let mut patched = utf16.clone();
        for edit in edits.iter().rev() {
            patched.splice(edit.start as usize..(edit.start + edit.delete_count) as usize, edit.data.iter().copied());
        }
        assert_eq!(patched, next);
        assert!(diff(&next, &next).is_empty());
    }

    /// A large file: every token is in order and none overlap (timings are in BENCHMARKS.md).
    #[test]
    fn tokens_of_a_large_file() {
        let stage = "FROM alpine AS s\nENV A=1 B=${A:-x}\nRUN echo $A \\\n    && make\nCOPY --from=s /a /b\nCMD [\"run $(A)\"]\n";
        let text = stage.repeat(2000);
        let file = SourceFile::parse(&text);
        let tokens = semantic_tokens(&file, None);
        assert!(tokens.len() > 2000 * 15, "{}", tokens.len());
        assert!(tokens.windows(2).all(|w| w[0].range.end <= w[1].range.start), "tokens overlap or are out of order");
    }
}
