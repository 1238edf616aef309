//! Typed views over the tree-sitter tree: instructions, pairs, flags and words, with the text
//! values BuildKit's shell lexer would give them.

use std::borrow::Cow;

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{fields, NodeField as _, SourceFile};

/// One instruction line (or an instruction nested in ONBUILD / HEALTHCHECK).
#[derive(Clone, Copy, Debug)]
pub struct Instruction<'t> {
    pub node: Node<'t>,
}

impl<'t> Instruction<'t> {
    pub fn cast(node: Node<'t>) -> Option<Instruction<'t>> {
        node.kind_name().ends_with("_instruction").then_some(Instruction { node })
    }

    /// The instruction name in upper case (`FROM`), or the unknown word as written.
    pub fn keyword(&self, file: &'t SourceFile) -> &'t str {
        match self.node.kind_name() {
            "unknown_instruction" => self.keyword_node().map_or("", |node| file.node_text(node)),
            kind => kind_keyword(kind),
        }
    }

    /// The keyword token as written in the file.
    pub fn keyword_node(&self) -> Option<Node<'t>> {
        self.node.child(0)
    }

    /// The flags: the grammar puts them right after the keyword, so the operands are never visited.
    pub fn flags(&self) -> impl Iterator<Item = Flag<'t>> + 't {
        leading_flags(NamedChildren::new(self.node))
    }

    pub fn flag(&self, file: &'t SourceFile, name: &str) -> Option<Flag<'t>> {
        self.flags().find(|flag| flag.name(file) == name)
    }

    pub fn pairs(&self) -> impl Iterator<Item = KeyValue<'t>> + 't {
        children_of_kind(self.node, "key_value_pair").map(|node| KeyValue { node })
    }

    pub fn paths(&self) -> impl Iterator<Item = Node<'t>> + 't {
        children_of_kind(self.node, "path")
    }

    /// The JSON exec form array, when the instruction uses it.
    pub fn json_array(&self) -> Option<Node<'t>> {
        children_of_kind(self.node, "json_string_array").next()
    }

    pub fn shell_command(&self) -> Option<Node<'t>> {
        children_of_kind(self.node, "shell_command").next()
    }

    /// Whether the instruction spans more than one line.
    pub fn is_multiline(&self) -> bool {
        self.node.start_position().row != self.node.end_position().row
    }
}

/// An instruction with its children (named and anonymous, in order) collected by one cursor
/// walk. Code that asks several questions of one instruction reads them here instead of walking
/// the node again for each: every cursor step through the node's hidden levels costs.
pub struct InstructionParts<'t> {
    pub instruction: Instruction<'t>,
    pub children: Vec<Node<'t>>,
    /// [`Instruction::flags`].
    pub flags: Vec<Flag<'t>>,
}

impl<'t> InstructionParts<'t> {
    pub fn new(instruction: Instruction<'t>) -> InstructionParts<'t> {
        let mut cursor = instruction.node.walk();
        let children: Vec<Node<'t>> = instruction.node.children(&mut cursor).collect();
        let flags = leading_flags(children.iter().copied().filter(Node::is_named)).collect();
        InstructionParts { instruction, children, flags }
    }

    /// The named children of kind `kind` ([`children_of_kind`]).
    pub fn named(&self, kind: &'static str) -> impl Iterator<Item = Node<'t>> + '_ {
        self.children.iter().copied().filter(move |child| child.is_named() && child.kind_name() == kind)
    }

    /// Whether a named child of kind `kind` is present.
    pub fn has(&self, kind: &'static str) -> bool {
        self.named(kind).next().is_some()
    }

    /// The first anonymous child of kind `kind` (keywords such as `AS`).
    pub fn anonymous(&self, kind: &str) -> Option<Node<'t>> {
        self.children.iter().copied().find(|child| !child.is_named() && child.kind_name() == kind)
    }

    /// [`Instruction::flag`].
    pub fn flag(&self, file: &'t SourceFile, name: &str) -> Option<Flag<'t>> {
        self.flags.iter().copied().find(|flag| flag.name(file) == name)
    }

    /// [`Instruction::json_array`].
    pub fn json_array(&self) -> Option<Node<'t>> {
        self.named("json_string_array").next()
    }

    /// [`Instruction::pairs`].
    pub fn pairs(&self) -> impl Iterator<Item = KeyValue<'t>> + '_ {
        self.named("key_value_pair").map(|node| KeyValue { node })
    }

    /// [`Instruction::paths`].
    pub fn paths(&self) -> impl Iterator<Item = Node<'t>> + '_ {
        self.named("path")
    }

    /// The operands of a COPY/ADD, destination last: the JSON strings in exec form (`true`), the
    /// paths otherwise.
    pub fn operands(&self) -> (Vec<Node<'t>>, bool) {
        match self.json_array() {
            Some(array) => (children_of_kind(array, "json_string").collect(), true),
            None => (self.paths().collect(), false),
        }
    }
}

/// The flags at the start of an instruction's named children (continuations and comments
/// between them skipped).
fn leading_flags<'t>(named: impl Iterator<Item = Node<'t>>) -> impl Iterator<Item = Flag<'t>> {
    named
        .filter(|node| !matches!(node.kind_name(), "line_continuation" | "comment"))
        .take_while(|node| node.kind_name() == "flag")
        .map(|node| Flag { node })
}

/// The keyword of an instruction node kind: `from_instruction` → `FROM`.
pub fn kind_keyword(kind: &str) -> &'static str {
    match kind {
        "from_instruction" => "FROM",
        "run_instruction" => "RUN",
        "cmd_instruction" => "CMD",
        "label_instruction" => "LABEL",
        "maintainer_instruction" => "MAINTAINER",
        "expose_instruction" => "EXPOSE",
        "env_instruction" => "ENV",
        "add_instruction" => "ADD",
        "copy_instruction" => "COPY",
        "entrypoint_instruction" => "ENTRYPOINT",
        "volume_instruction" => "VOLUME",
        "user_instruction" => "USER",
        "workdir_instruction" => "WORKDIR",
        "arg_instruction" => "ARG",
        "onbuild_instruction" => "ONBUILD",
        "stopsignal_instruction" => "STOPSIGNAL",
        "healthcheck_instruction" => "HEALTHCHECK",
        "shell_instruction" => "SHELL",
        _ => "",
    }
}

/// `--name=value`.
#[derive(Clone, Copy, Debug)]
pub struct Flag<'t> {
    pub node: Node<'t>,
}

impl<'t> Flag<'t> {
    pub fn name_node(&self) -> Option<Node<'t>> {
        self.node.field(&fields::NAME)
    }

    pub fn name(&self, file: &'t SourceFile) -> &'t str {
        self.name_node().map_or("", |node| file.node_text(node))
    }

    pub fn value_node(&self) -> Option<Node<'t>> {
        self.node.field(&fields::VALUE)
    }

    /// Whether `=` follows the name (a value may still be empty).
    pub fn has_equals(&self) -> bool {
        has_child_token(self.node, "=")
    }
}

/// `KEY=VALUE` in ENV, LABEL and ARG, or the legacy `KEY VALUE` of ENV and LABEL.
#[derive(Clone, Copy, Debug)]
pub struct KeyValue<'t> {
    pub node: Node<'t>,
}

impl<'t> KeyValue<'t> {
    pub fn key_node(&self) -> Option<Node<'t>> {
        self.node.field(&fields::KEY)
    }

    pub fn value_node(&self) -> Option<Node<'t>> {
        self.node.field(&fields::VALUE)
    }

    /// The key with quotes and escapes removed (expansions kept as written).
    pub fn key(&self, file: &SourceFile) -> String {
        self.key_node().map_or_else(String::new, |node| literal_text(file, node))
    }

    /// The legacy `ENV key value` form (no `=`).
    pub fn is_legacy(&self) -> bool {
        !has_child_token(self.node, "=")
    }
}

/// Whether one of the children of a small node (a flag, a pair: a handful of children) is of kind
/// `kind`. Looked up by index: a cursor would cost an allocation, more than the few lookups.
fn has_child_token(node: Node<'_>, kind: &str) -> bool {
    (0..node.child_count()).filter_map(|index| node.child(index)).any(|child| child.kind_name() == kind)
}

pub fn children_of_kind<'t>(node: Node<'t>, kind: &'static str) -> impl Iterator<Item = Node<'t>> + 't {
    NamedChildren::new(node).filter(move |child| child.kind_name() == kind)
}

/// The named children of `node`, walked with one cursor and nothing collected.
pub fn named_children(node: Node<'_>) -> impl Iterator<Item = Node<'_>> {
    NamedChildren::new(node)
}

/// The named children of a node, walked with one cursor and nothing collected.
struct NamedChildren<'t> {
    cursor: Option<tree_sitter::TreeCursor<'t>>,
    started: bool,
}

impl<'t> NamedChildren<'t> {
    fn new(node: Node<'t>) -> NamedChildren<'t> {
        NamedChildren { cursor: Some(node.walk()), started: false }
    }
}

impl<'t> Iterator for NamedChildren<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        let cursor = self.cursor.as_mut()?;
        loop {
            let moved = if self.started { cursor.goto_next_sibling() } else { cursor.goto_first_child() };
            self.started = true;
            if !moved {
                self.cursor = None;
                return None;
            }
            let node = cursor.node();
            if node.is_named() {
                return Some(node);
            }
        }
    }
}

/// The named top-level nodes in file order: instructions, comments, parser directives.
pub fn top_level(file: &SourceFile) -> Vec<Node<'_>> {
    NamedChildren::new(file.root()).collect()
}

/// Top-level instructions in file order.
pub fn instructions(file: &SourceFile) -> Vec<Instruction<'_>> {
    NamedChildren::new(file.root()).filter_map(Instruction::cast).collect()
}

/// The text of a word as BuildKit would produce it without expanding variables: quotes
/// removed, escapes resolved, expansions kept verbatim, line continuations dropped.
pub fn literal_text(file: &SourceFile, node: Node<'_>) -> String {
    let mut out = String::new();
    push_word(file, node, &mut |_| None, &mut out, Quoting::Unquoted);
    out
}

/// [`literal_text`], borrowed from the file when the word has no quote or escape to resolve (most
/// words: names, paths, plain values).
pub fn literal_str<'f>(file: &'f SourceFile, node: Node<'_>) -> Cow<'f, str> {
    let text = file.node_text(node);
    if text.bytes().any(|b| matches!(b, b'"' | b'\'' | b'\\' | b'`')) {
        Cow::Owned(literal_text(file, node))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text of a word with variables expanded by `lookup` (unset variables behave as BuildKit:
/// empty, unless a modifier gives a default).
pub fn expanded_text(file: &SourceFile, node: Node<'_>, lookup: &mut dyn FnMut(&str) -> Option<String>) -> String {
    let mut out = String::new();
    push_word(file, node, lookup, &mut out, Quoting::Unquoted);
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    Unquoted,
    Double,
}

type Lookup<'a> = dyn FnMut(&str) -> Option<String> + 'a;

fn push_word(file: &SourceFile, node: Node<'_>, lookup: &mut Lookup<'_>, out: &mut String, quoting: Quoting) {
    match node.kind_name() {
        "double_quoted_string" => {
            let range = node.byte_range();
            let inner = (range.start + 1).min(range.end)..range.end.saturating_sub(1).max(range.start + 1);
            push_children(file, node, inner, lookup, out, Quoting::Double);
        }
        "single_quoted_string" => {
            let text = file.node_text(node);
            out.push_str(text.strip_prefix('\'').unwrap_or(text).strip_suffix('\'').unwrap_or(text));
        }
        "escape_sequence" => {
            let text = file.node_text(node);
            let escaped = text.chars().nth(1).unwrap_or(' ');
            // Inside double quotes only `"`, `$` and the escape character itself are escapable.
            if quoting == Quoting::Double && !matches!(escaped, '"' | '$' | '\\' | '`') {
                out.push_str(text);
            } else {
                out.push(escaped);
            }
        }
        "line_continuation" | "comment" => {}
        "expansion" => match lookup_expansion(file, node, lookup) {
            Some(value) => out.push_str(&value),
            None => out.push_str(file.node_text(node)),
        },
        _ => {
            let text = file.node_text(node);
            if is_plain(text) {
                out.push_str(text);
            } else {
                push_children(file, node, node.byte_range(), lookup, out, quoting);
            }
        }
    }
}

/// Whether a word's text is its own value: every node the walk above rewrites (quotes, escapes
/// with either escape character, continuations, comments after them, expansions) holds one of
/// these bytes. Most words are plain, and copying them skips a cursor walk over their children.
fn is_plain(text: &str) -> bool {
    !text.bytes().any(|byte| matches!(byte, b'"' | b'\'' | b'\\' | b'`' | b'$' | b'\n' | b'#'))
}

/// Visits the visible children inside `range`; the text between them belongs to hidden tokens
/// (plain text) and is copied as is.
fn push_children(
    file: &SourceFile,
    node: Node<'_>,
    range: std::ops::Range<usize>,
    lookup: &mut Lookup<'_>,
    out: &mut String,
    quoting: Quoting,
) {
    let mut position = range.start;
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        if child.end_byte() <= range.start || child.start_byte() >= range.end {
            continue;
        }
        if child.start_byte() > position {
            out.push_str(&file.text()[position..child.start_byte()]);
        }
        push_word(file, child, lookup, out, quoting);
        position = child.end_byte();
    }
    if range.end > position {
        out.push_str(&file.text()[position..range.end]);
    }
}

/// The value of `$X` / `${X<op>arg}`; `None` means "keep the expansion text" (no lookup given).
fn lookup_expansion(file: &SourceFile, node: Node<'_>, lookup: &mut Lookup<'_>) -> Option<String> {
    let name = file.node_text(node.field(&fields::NAME)?);
    let value = lookup(name);
    let operator = node.field(&fields::OPERATOR).map(|op| file.node_text(op));
    let argument = |lookup: &mut Lookup<'_>| {
        node.field(&fields::ARGUMENT).map_or_else(String::new, |arg| {
            let mut out = String::new();
            push_word(file, arg, lookup, &mut out, Quoting::Unquoted);
            out
        })
    };
    let set = value.is_some();
    let non_empty = value.as_deref().is_some_and(|v| !v.is_empty());
    Some(match operator {
        None => value?,
        Some(":-") => if non_empty { value? } else { argument(lookup) },
        Some("-") => if set { value? } else { argument(lookup) },
        Some(":+") => if non_empty { argument(lookup) } else { String::new() },
        Some("+") => if set { argument(lookup) } else { String::new() },
        Some(":?" | "?") => value.unwrap_or_default(),
        Some(op @ ("#" | "##")) => {
            let value = value?;
            let pattern = argument(lookup);
            strip_prefix_glob(&value, &pattern, op == "##").to_string()
        }
        Some(op @ ("%" | "%%")) => {
            let value = value?;
            let pattern = argument(lookup);
            strip_suffix_glob(&value, &pattern, op == "%%").to_string()
        }
        Some(op @ ("/" | "//")) => {
            let value = value?;
            let argument = argument(lookup);
            let (pattern, replacement) = argument.split_once('/').unwrap_or((&argument, ""));
            if pattern.is_empty() {
                value
            } else if op == "//" {
                value.replace(pattern, replacement)
            } else {
                value.replacen(pattern, replacement, 1)
            }
        }
        Some(_) => value.unwrap_or_default(),
    })
}

fn strip_prefix_glob<'a>(value: &'a str, pattern: &str, longest: bool) -> &'a str {
    let mut cuts: Vec<usize> = (0..=value.len()).filter(|&i| value.is_char_boundary(i)).collect();
    if longest {
        cuts.reverse();
    }
    cuts.into_iter().find(|&i| glob_match(pattern, &value[..i])).map_or(value, |i| &value[i..])
}

fn strip_suffix_glob<'a>(value: &'a str, pattern: &str, longest: bool) -> &'a str {
    let mut cuts: Vec<usize> = (0..=value.len()).filter(|&i| value.is_char_boundary(i)).collect();
    if !longest {
        cuts.reverse();
    }
    cuts.into_iter().find(|&i| glob_match(pattern, &value[i..])).map_or(value, |i| &value[..i])
}

/// Shell pattern match with `*` and `?` (what BuildKit's prefix/suffix removal supports).
fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_value(text: &str, env: &[(&str, &str)]) -> String {
        let file = SourceFile::parse(text);
        let instruction = instructions(&file)[0];
        let pair = instruction.pairs().next().unwrap();
        let value = pair.value_node().unwrap();
        expanded_text(&file, value, &mut |name| {
            env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn default_modifier_with_quoted_default() {
        assert_eq!(first_value("ENV NAME=${NAME:-\"nginx\"}\n", &[]), "nginx");
        assert_eq!(first_value("ENV NAME=${NAME:-\"nginx\"}\n", &[("NAME", "x")]), "x");
    }

    #[test]
    fn every_modifier() {
        let env = [("V", "a-b-c"), ("E", "")];
        assert_eq!(first_value("ENV X=${E-d}\n", &env), "");
        assert_eq!(first_value("ENV X=${U-d}\n", &env), "d");
        assert_eq!(first_value("ENV X=${V:+alt}\n", &env), "alt");
        assert_eq!(first_value("ENV X=${E+alt}\n", &env), "alt");
        assert_eq!(first_value("ENV X=${V#*-}\n", &env), "b-c");
        assert_eq!(first_value("ENV X=${V##*-}\n", &env), "c");
        assert_eq!(first_value("ENV X=${V%-*}\n", &env), "a-b");
        assert_eq!(first_value("ENV X=${V%%-*}\n", &env), "a");
        assert_eq!(first_value("ENV X=${V/-/_}\n", &env), "a_b-c");
        assert_eq!(first_value("ENV X=${V//-/_}\n", &env), "a_b_c");
    }

    #[test]
    fn escapes_and_single_quotes() {
        assert_eq!(first_value("LABEL init=\"a \\$registryDomain\"\n", &[]), "a $registryDomain");
        assert_eq!(first_value("LABEL x='$y \\n'\n", &[]), "$y \\n");
        assert_eq!(first_value("LABEL x=\"a\\nb\"\n", &[]), "a\\nb");
    }
}
