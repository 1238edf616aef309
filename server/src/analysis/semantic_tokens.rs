//! Semantic tokens, full and range, in one linear pass over the tree (each node is visited once,
//! each token's text scanned once to split it at line ends). `encode` produces the LSP relative
//! encoding and `diff` the edits of a delta request, both linear.

use std::{
    collections::{HashMap, HashSet},
    hash::{DefaultHasher, Hash, Hasher},
    num::NonZeroU16,
    ops::Range,
    sync::OnceLock,
};

use tree_sitter::{Node, TreeCursor};

use crate::syntax::kinds::{kind_id, KindIds};
use crate::{
    sealos::{env, labels},
    syntax::{ast, fields, line_index, NodeField as _, PositionEncoding, SourceFile, TextRange},
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
#[repr(u8)]
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
    let Some(range) = range else { return TokenCache::default().semantic_tokens(file) };
    let mut builder = Builder::new(file, Some(range.clone()));
    // Start at the range; the stage names declared before it are found from the text.
    for from in super::navigation::from_instructions(file, 0..range.start) {
        builder.record_stage(from);
    }
    let root = file.root();
    let mut cursor = root.walk();
    if cursor.goto_first_child_for_byte(range.start).is_some() {
        loop {
            let child = cursor.node();
            if child.start_byte() > range.end {
                break;
            }
            builder.top(child, &mut cursor);
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    builder.tokens
}

/// The tokens of the top-level nodes of the last [`TokenCache::semantic_tokens`] call, by each
/// node's kind and text, relative to the node's start: the next call (after an edit, or another
/// request for the same text) walks only the nodes it has not seen. Not kept: the nodes whose
/// tokens depend on the stages declared before them (a FROM, a `--from=`), and anything once the
/// parser directives change (`# escape=` changes how the same text parses).
#[derive(Default)]
pub struct TokenCache {
    directives: u64,
    nodes: HashMap<NodeKey, Range<u32>>,
    /// The tokens `nodes` point into.
    tokens: Vec<RelativeToken>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct NodeKey {
    kind: u16,
    /// The length, saturated: a longer text still differs in its hash.
    len: u32,
    text: u64,
}

impl NodeKey {
    fn of(node: Node<'_>, text: &str) -> NodeKey {
        let len = u32::try_from(node.byte_range().len()).unwrap_or(u32::MAX);
        NodeKey { kind: node.kind_id(), len, text: hash(&text[node.byte_range()]) }
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// A token with its range relative to the start of its top-level node (8 bytes, not 24; a node
/// with a longer token is not kept).
#[derive(Clone, Copy)]
struct RelativeToken {
    start: u32,
    len: u16,
    token_type: TokenType,
    /// The four modifier bits.
    modifiers: u8,
}

impl RelativeToken {
    fn new(token: &SemanticToken, node_start: usize) -> Option<RelativeToken> {
        Some(RelativeToken {
            start: u32::try_from(token.range.start - node_start).ok()?,
            len: u16::try_from(token.range.len()).ok()?,
            token_type: token.token_type,
            modifiers: u8::try_from(token.modifiers).ok()?,
        })
    }

    fn at(self, node_start: usize) -> SemanticToken {
        let start = node_start + self.start as usize;
        SemanticToken { range: start..start + self.len as usize, token_type: self.token_type, modifiers: u32::from(self.modifiers) }
    }
}

fn span(range: &Range<u32>) -> Range<usize> {
    range.start as usize..range.end as usize
}

impl TokenCache {
    /// Adds a node's tokens, unless one does not fit a [`RelativeToken`] (or the cache outgrows
    /// `u32` indices).
    fn keep(&mut self, key: NodeKey, tokens: impl Iterator<Item = Option<RelativeToken>>) {
        let first = self.tokens.len();
        for token in tokens {
            let Some(token) = token else {
                self.tokens.truncate(first);
                return;
            };
            self.tokens.push(token);
        }
        match (u32::try_from(first), u32::try_from(self.tokens.len())) {
            (Ok(start), Ok(end)) => {
                self.nodes.insert(key, start..end);
            }
            _ => self.tokens.truncate(first),
        }
    }

    /// Tokens of the whole file, the same as `semantic_tokens(file, None)`.
    pub fn semantic_tokens(&mut self, file: &SourceFile) -> Vec<SemanticToken> {
        let text = file.text();
        let top_level = file.top_level();
        let common = KindIds::get();
        let directives = top_level.iter().take_while(|node| node.kind_id() == common.parser_directive);
        let directives = hash(&directives.map(|node| file.node_text(*node)).collect::<Vec<_>>().join("\n"));
        // Nodes are added as edits change them and dropped all at once when most are stale: no
        // second copy of the cache while a request runs.
        if directives != self.directives || self.nodes.len() > 2 * top_level.len() + 64 {
            *self = TokenCache { directives, ..TokenCache::default() };
        }
        let mut builder = Builder::new(file, None);
        // The whole file from the shared list of top-level nodes: a cursor from the root would
        // climb through the hidden paragraph nodes again (a quarter of the walk).
        let mut cursor = file.root().walk();
        for &node in top_level {
            let start = node.start_byte();
            // Also the same text earlier in this file (`ARG TARGETARCH` in every stage).
            let key = NodeKey::of(node, text);
            if let Some(seen) = self.nodes.get(&key) {
                builder.tokens.extend(self.tokens[span(seen)].iter().map(|token| token.at(start)));
                continue;
            }
            let first = builder.tokens.len();
            builder.read_stages = false;
            cursor.reset(node);
            builder.top(node, &mut cursor);
            if !builder.read_stages {
                let relative = builder.tokens[first..].iter().map(|token| RelativeToken::new(token, start));
                self.keep(key, relative);
            }
        }
        builder.tokens
    }
}

/// The node kinds and fields the tokens depend on, resolved once (the walk compares ids).
struct TokenKinds {
    common: &'static KindIds,
    instruction_name: u16,
    flag: u16,
    image_spec: u16,
    image_alias: u16,
    expose_port: u16,
    signal: u16,
    shell_command: u16,
    shell_fragment: u16,
    heredoc_marker: u16,
    line_continuation: u16,
    expansion: u16,
    template_variable: u16,
    name_field: Option<NonZeroU16>,
    value_field: Option<NonZeroU16>,
    operator_field: Option<NonZeroU16>,
    argument_field: Option<NonZeroU16>,
    key_field: Option<NonZeroU16>,
}

impl TokenKinds {
    fn get() -> &'static TokenKinds {
        static KINDS: OnceLock<TokenKinds> = OnceLock::new();
        KINDS.get_or_init(|| {
            let language = crate::syntax::language();
            TokenKinds {
                common: KindIds::get(),
                instruction_name: kind_id("instruction_name"),
                flag: kind_id("flag"),
                image_spec: kind_id("image_spec"),
                image_alias: kind_id("image_alias"),
                expose_port: kind_id("expose_port"),
                signal: kind_id("signal"),
                shell_command: kind_id("shell_command"),
                shell_fragment: kind_id("shell_fragment"),
                heredoc_marker: kind_id("heredoc_marker"),
                line_continuation: kind_id("line_continuation"),
                expansion: kind_id("expansion"),
                template_variable: kind_id("template_variable"),
                name_field: language.field_id_for_name("name"),
                value_field: language.field_id_for_name("value"),
                operator_field: language.field_id_for_name("operator"),
                argument_field: language.field_id_for_name("argument"),
                key_field: language.field_id_for_name("key"),
            }
        })
    }
}

/// Walks the tree with one cursor: every method that takes the cursor gets it on the node it
/// is given and leaves it there.
struct Builder<'a> {
    file: &'a SourceFile,
    text: &'a str,
    kinds: &'static TokenKinds,
    range: Option<TextRange>,
    tokens: Vec<SemanticToken>,
    /// Stage names declared so far (lower case): a set, since every `FROM` and `--from` looks its
    /// name up (hundreds of stages in a big file).
    stages: HashSet<String>,
    /// `stages` was read or written since this was last reset: the tokens depend on the nodes
    /// before (see [`TokenCache`]).
    read_stages: bool,
}

impl<'a> Builder<'a> {
    fn new(file: &'a SourceFile, range: Option<TextRange>) -> Builder<'a> {
        // About one token per 8 bytes of text (a 10,000-line file: 340 KB, 34,000 tokens), so
        // that the list of a big file is not copied into one twice its size just before it is done.
        let capacity = range.as_ref().map_or(file.text().len(), |range| range.len()) / 8;
        Builder {
            file,
            text: file.text(),
            kinds: TokenKinds::get(),
            range,
            tokens: Vec::with_capacity(capacity),
            stages: HashSet::new(),
            read_stages: false,
        }
    }

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
        if !self.text.as_bytes()[range.clone()].contains(&b'\n') {
            self.tokens.push(SemanticToken { range, token_type, modifiers });
            return;
        }
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
        if let Some(alias) = from.field(&fields::AS) {
            self.stages.insert(ast::literal_text(self.file, alias).to_ascii_lowercase());
        }
    }

    fn top(&mut self, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kind = node.kind_id();
        let common = self.kinds.common;
        if kind == common.comment {
            self.push(node.byte_range(), TokenType::Comment, 0);
        } else if kind == common.parser_directive {
            self.push(node.byte_range(), TokenType::Macro, 0);
        } else if common.is_instruction(kind) {
            self.instruction(kind, node, cursor);
        }
    }

    /// Calls `visit` with the cursor on each child of `node` (the node under the cursor) until it
    /// returns false, then puts the cursor back on `node`. It stops at the last child by count:
    /// a step past it costs as much as a step to a sibling (the cursor climbs to find there is
    /// none), and was a third of all the steps.
    fn children(
        &mut self,
        node: Node<'a>,
        cursor: &mut TreeCursor<'a>,
        mut visit: impl FnMut(&mut Self, Node<'a>, &mut TreeCursor<'a>) -> bool,
    ) {
        let count = node.child_count();
        if count == 0 || !cursor.goto_first_child() {
            return;
        }
        for n in 1..=count {
            if !visit(self, cursor.node(), cursor) || n == count || !cursor.goto_next_sibling() {
                break;
            }
        }
        cursor.goto_parent();
    }

    /// Tokens of the instruction `node`, under `cursor`.
    fn instruction(&mut self, kind: u16, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        self.children(node, cursor, |this, child, cursor| {
            this.instruction_child(kind, child, cursor);
            true
        });
    }

    fn instruction_child(&mut self, instruction: u16, child: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kinds = self.kinds;
        let common = kinds.common;
        if !child.is_named() {
            let word = &self.text[child.byte_range()];
            if !word.is_empty() && word.bytes().all(|c| c.is_ascii_alphabetic()) {
                let deprecated = if instruction == common.maintainer_instruction { modifiers::DEPRECATED } else { 0 };
                self.push(child.byte_range(), TokenType::Keyword, deprecated);
            }
            return;
        }
        let kind = child.kind_id();
        if common.is_instruction(kind) {
            self.instruction(kind, child, cursor);
        } else if kind == common.comment {
            self.push(child.byte_range(), TokenType::Comment, 0);
        } else if kind == kinds.instruction_name || kind == kinds.line_continuation {
            // No token: an unknown instruction's word is not a keyword.
        } else if kind == kinds.flag {
            self.flag(child, cursor);
        } else if kind == kinds.image_spec {
            let text = ast::literal_str(self.file, child).to_ascii_lowercase();
            self.read_stages = true;
            let token = if self.stages.contains(&text) { TokenType::Class } else { TokenType::Namespace };
            self.with_holes(child, token, cursor);
        } else if kind == kinds.image_alias {
            self.push(child.byte_range(), TokenType::Class, modifiers::DECLARATION);
            let name = ast::literal_str(self.file, child).to_ascii_lowercase();
            self.read_stages = true;
            self.stages.insert(name);
        } else if kind == common.key_value_pair {
            self.pair(instruction, child, cursor);
        } else if kind == common.arg_name {
            self.push(child.byte_range(), TokenType::Variable, modifiers::DECLARATION);
        } else if kind == kinds.expose_port {
            self.with_holes(child, TokenType::Number, cursor);
        } else if kind == kinds.signal {
            self.with_holes(child, TokenType::EnumMember, cursor);
        } else if kind == kinds.shell_command {
            self.shell(instruction == common.run_instruction, child, cursor);
        } else if kind == kinds.heredoc_marker || kind == common.heredoc_block {
            self.push(child.byte_range(), TokenType::String, 0);
        } else {
            self.with_holes(child, TokenType::String, cursor);
        }
    }

    fn flag(&mut self, flag: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kinds = self.kinds;
        let mut name: Option<Node<'a>> = None;
        self.children(flag, cursor, |this, child, cursor| {
            let field = cursor.field_id();
            if field.is_some() && field == kinds.name_field {
                this.push(flag.start_byte()..child.end_byte(), TokenType::Parameter, 0);
                if this.text[child.end_byte()..flag.end_byte()].starts_with('=') {
                    this.push(child.end_byte()..child.end_byte() + 1, TokenType::Operator, 0);
                }
                name = Some(child);
            } else if field.is_some() && field == kinds.value_field {
                if let Some(name) = name {
                    // Only `--from` names a stage (or its index).
                    let stage = &this.text[name.byte_range()] == "from" && {
                        this.read_stages = true;
                        let text = ast::literal_str(this.file, child).to_ascii_lowercase();
                        this.stages.contains(&text) || text.bytes().all(|b| b.is_ascii_digit())
                    };
                    this.with_holes(child, if stage { TokenType::Class } else { TokenType::String }, cursor);
                }
            }
            true
        });
        if name.is_none() {
            self.push(flag.byte_range(), TokenType::Parameter, 0);
        }
    }

    fn pair(&mut self, instruction: u16, pair: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kinds = self.kinds;
        let mut role = None;
        let mut key_end = None;
        let mut has_value = false;
        self.children(pair, cursor, |this, child, cursor| {
            let field = cursor.field_id();
            if field.is_some() && field == kinds.key_field {
                let name = ast::literal_str(this.file, child);
                if instruction == kinds.common.label_instruction {
                    role = labels::find(&name).map(|known| known.role);
                    this.with_holes(child, TokenType::Property, cursor);
                } else {
                    let modifiers = modifiers::DECLARATION | variable_modifiers(&name);
                    this.push(child.byte_range(), TokenType::Variable, modifiers);
                }
                key_end = Some(child.end_byte());
            } else if field.is_some() && field == kinds.value_field {
                if let Some(key_end) = key_end {
                    this.equals(key_end..child.start_byte());
                }
                let enum_value = matches!(
                    role,
                    Some(labels::LabelRole::Type | labels::LabelRole::ApiVersion | labels::LabelRole::Distribution)
                );
                this.with_holes(child, if enum_value { TokenType::EnumMember } else { TokenType::String }, cursor);
                has_value = true;
            }
            true
        });
        if let (Some(key_end), false) = (key_end, has_value) {
            self.equals(key_end..pair.end_byte());
        }
    }

    /// The `=` between a key and its value.
    fn equals(&mut self, gap: TextRange) {
        if let Some(i) = self.text[gap.clone()].find('=') {
            let at = gap.start + i;
            self.push(at..at + 1, TokenType::Operator, 0);
        }
    }

    /// Shell text under `cursor`: only variables get tokens (the editor's shell grammar colours
    /// the rest).
    fn shell(&mut self, run: bool, command: Node<'a>, cursor: &mut TreeCursor<'a>) {
        let kinds = self.kinds;
        self.children(command, cursor, |this, child, cursor| {
            let kind = child.kind_id();
            if kind == kinds.expansion {
                this.expansion(child, cursor);
            } else if kind == kinds.template_variable {
                this.template(child, cursor);
            } else if kind == kinds.heredoc_marker {
                this.push(child.byte_range(), TokenType::String, 0);
            } else if kind == kinds.shell_fragment && run {
                let base = child.start_byte();
                for (range, name) in super::navigation::shell_variables(&this.text[child.byte_range()]) {
                    this.push(base + range.start..base + range.end, TokenType::Variable, variable_modifiers(name));
                }
            }
            true
        });
    }

    /// Gives the node under `cursor` the token type `token`, except its expansions and
    /// templates, which get their own tokens.
    fn with_holes(&mut self, node: Node<'a>, token: TokenType, cursor: &mut TreeCursor<'a>) {
        let mut at = node.start_byte();
        if self.has_dollar(node) {
            self.holes(node, token, &mut at, cursor);
        }
        if node.end_byte() > at {
            self.push(at..node.end_byte(), token, 0);
        }
    }

    /// Whether `node` can hold an expansion or a template (both start with `$`): scanning its
    /// text is much cheaper than visiting its subtree.
    fn has_dollar(&self, node: Node<'_>) -> bool {
        self.text.as_bytes()[node.byte_range()].contains(&b'$')
    }

    /// The expansions and templates below the node under `cursor` (not inside each other), in
    /// order, with `token` for the text between them from `at` on.
    fn holes(&mut self, node: Node<'a>, token: TokenType, at: &mut usize, cursor: &mut TreeCursor<'a>) {
        let kinds = self.kinds;
        self.children(node, cursor, |this, child, cursor| {
            let kind = child.kind_id();
            if kind == kinds.expansion || kind == kinds.template_variable {
                if child.start_byte() > *at {
                    this.push(*at..child.start_byte(), token, 0);
                }
                if kind == kinds.expansion {
                    this.expansion(child, cursor);
                } else {
                    this.template(child, cursor);
                }
                *at = child.end_byte();
            } else if this.has_dollar(child) {
                this.holes(child, token, at, cursor);
            }
            true
        });
    }

    fn expansion(&mut self, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        if self.plain_variable(node, "$", "") || self.plain_variable(node, "${", "}") {
            return;
        }
        let kinds = self.kinds;
        let mut name_end = None;
        self.children(node, cursor, |this, child, cursor| {
            let field = cursor.field_id();
            if field.is_some() && field == kinds.name_field {
                this.push(node.start_byte()..child.start_byte(), TokenType::Operator, 0);
                this.push(child.byte_range(), TokenType::Variable, variable_modifiers(&this.text[child.byte_range()]));
                name_end = Some(child.end_byte());
            } else if field.is_some() && field == kinds.operator_field {
                this.push(child.byte_range(), TokenType::Operator, 0);
            } else if field.is_some() && field == kinds.argument_field {
                this.with_holes(child, TokenType::String, cursor);
            }
            true
        });
        let close_start = node.end_byte().saturating_sub(1);
        if self.text[node.byte_range()].ends_with('}') && name_end.is_none_or(|end| end <= close_start) {
            self.push(close_start..node.end_byte(), TokenType::Operator, 0);
        }
    }

    fn template(&mut self, node: Node<'a>, cursor: &mut TreeCursor<'a>) {
        if self.plain_variable(node, "$(", ")") {
            return;
        }
        let kinds = self.kinds;
        self.children(node, cursor, |this, child, cursor| {
            let field = cursor.field_id();
            if field.is_some() && field == kinds.name_field {
                this.push(node.start_byte()..child.start_byte(), TokenType::Operator, 0);
                this.push(child.byte_range(), TokenType::Variable, variable_modifiers(&this.text[child.byte_range()]));
                this.push(child.end_byte()..node.end_byte(), TokenType::Operator, 0);
                return false;
            }
            true
        });
    }

    /// The tokens of an expansion or template that is `open`, a name and `close` and nothing
    /// else (`$HOME`, `${HOME}`, `$(NAME)`: most of them), read from the text instead of the
    /// node's children: the name is one token of the grammar, so an error-free node with this
    /// text has exactly these children. False when `node` is not one.
    fn plain_variable(&mut self, node: Node<'a>, open: &str, close: &str) -> bool {
        let range = node.byte_range();
        let Some(name) = self.text[range.clone()].strip_prefix(open).and_then(|rest| rest.strip_suffix(close)) else {
            return false;
        };
        let bytes = name.as_bytes();
        let is_name = bytes.first().is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        if !is_name || node.has_error() {
            return false;
        }
        let name_start = range.start + open.len();
        let name_end = name_start + name.len();
        self.push(range.start..name_start, TokenType::Operator, 0);
        self.push(name_start..name_end, TokenType::Variable, variable_modifiers(name));
        self.push(name_end..range.end, TokenType::Operator, 0);
        true
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
    // One look at the whole text instead of one per token: most files are ASCII.
    let bytes_are_units = encoding == PositionEncoding::Utf8 || text.is_ascii();
    let units = |range: TextRange| -> u32 { if bytes_are_units { range.len() as u32 } else { line_index::utf16_len(&text[range]) as u32 } };
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
            Some((cached_line, offset, col)) if cached_line == line && offset <= token.range.start => col + units(offset..token.range.start),
            _ => units(index.line_start(line)..token.range.start),
        };
        cache = Some((line, token.range.start, col));
        let length = units(token.range.clone());
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

    /// The tokens of a whole file walked without the cache: a range over all of it.
    fn walked(file: &SourceFile) -> Vec<SemanticToken> {
        semantic_tokens(file, Some(0..file.text().len() + 1))
    }

    /// The cache carried from one text to the next gives what a fresh walk gives, also where
    /// a node's tokens depend on the nodes before it (stage names) or the directives change.
    #[test]
    fn cached_tokens_are_the_tokens_of_the_current_text() {
        let versions = [
            "FROM alpine AS build\nARG TARGETARCH\nCOPY --from=build /a /b\nFROM build\nARG TARGETARCH\nENV A=1 \\\n  B=2\n",
            // The stage is renamed: `--from=build` and `FROM build` now name images.
            "FROM alpine AS builder\nARG TARGETARCH\nCOPY --from=build /a /b\nFROM build\nARG TARGETARCH\nENV A=1 \\\n  B=2\n",
            // A node's text moves: same tokens, shifted.
            "# comment\nFROM alpine AS builder\nARG TARGETARCH\nCOPY --from=build /a /b\nFROM build\nARG TARGETARCH\nENV A=1 \\\n  B=2\n",
            // The escape directive changes how the same continuation parses.
            "# escape=`\n# comment\nFROM alpine AS builder\nARG TARGETARCH\nCOPY --from=build /a /b\nFROM build\nARG TARGETARCH\nENV A=1 \\\n  B=2\n",
            "# escape=`\nFROM alpine AS build\nENV A=1 `\n  B=2\nCOPY --from=build /a /b\n",
            // The same COPY line: one path with an escaped blank, or two paths.
            "FROM alpine\nCOPY a\\ b /c\n",
            "# escape=`\nFROM alpine\nCOPY a\\ b /c\n",
        ];
        let mut cache = TokenCache::default();
        for text in versions.iter().chain(versions.iter().rev()) {
            let file = SourceFile::parse(text);
            assert_eq!(cache.semantic_tokens(&file), walked(&file), "{text:?}");
            assert_eq!(cache.semantic_tokens(&file), walked(&file), "again: {text:?}");
        }
    }

    /// Every corpus build file, cold and warm, and after its lines are shuffled by one.
    #[test]
    fn cached_tokens_of_the_corpus() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image");
        let Ok(index) = std::fs::read_to_string(root.join("INDEX.tsv")) else { return };
        let mut cache = TokenCache::default();
        let mut count = 0;
        for line in index.lines().skip(1) {
            let path = line.split('\t').next().unwrap_or_default();
            let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
            count += 1;
            let file = SourceFile::parse(&text);
            assert_eq!(TokenCache::default().semantic_tokens(&file), walked(&file), "{path}");
            assert_eq!(cache.semantic_tokens(&file), walked(&file), "{path} after the file before");
            let rotated: String = text.lines().skip(1).chain(text.lines().take(1)).map(|line| format!("{line}\n")).collect();
            let file = SourceFile::parse(&rotated);
            assert_eq!(cache.semantic_tokens(&file), walked(&file), "{path} rotated");
        }
        assert!(count > 250, "only {count} corpus files");
    }

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

    /// Plain `$NAME`, `${NAME}` and `$(NAME)` are read from the text; everything else, broken
    /// ones included, from the tree.
    #[test]
    fn plain_and_other_variables() {
        let file = SourceFile::parse("FROM scratch\nENV A=${B}x$C_1 D=${E:+$F} G=${H\nCMD [\"$(I)$(J\"]\nRUN echo ${K}${L\n");
        expect![[r#"
            1:1 keyword "FROM"
            1:6 namespace "scratch"
            2:1 keyword "ENV"
            2:5 variable+declaration "A"
            2:6 operator "="
            2:7 operator "${"
            2:9 variable "B"
            2:10 operator "}"
            2:11 string "x"
            2:12 operator "$"
            2:13 variable "C_1"
            2:17 variable+declaration "D"
            2:18 operator "="
            2:19 operator "${"
            2:21 variable "E"
            2:22 operator ":+"
            2:24 operator "$"
            2:25 variable "F"
            2:26 operator "}"
            2:28 variable+declaration "G"
            2:29 operator "="
            2:30 operator "${"
            2:32 variable "H"
            3:1 keyword "CMD"
            3:5 string "[\""
            3:7 operator "$("
            3:9 variable "I"
            3:10 operator ")"
            3:11 string "$(J\"]"
            4:1 keyword "RUN"
            4:12 variable "K"
            4:16 variable "L"
        "#]].assert_eq(&render(&file, &semantic_tokens(&file, None)));
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
