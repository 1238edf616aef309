//! Go to definition, find references, document highlight and rename for ENV/ARG variables and
//! for stage names.
//!
//! Variables are scoped like BuildKit scopes them: an ARG before the first FROM is global (seen by
//! FROM lines, and by a stage after a bare `ARG NAME`), everything else belongs to its stage. Uses
//! are `$VAR`/`${VAR...}` anywhere and sealos's `$(VAR)` in CMD/ENTRYPOINT; in CMD/ENTRYPOINT a
//! use is resolved against the stage's ENV wherever it is (sealos reads the image config), not
//! only the ENV above it. `ENV NAME=${NAME:-"x"}` holds a definition and a use of the same name,
//! so a rename changes both and the self-default stays consistent.

use tree_sitter::Node;

use super::{model::Model, TextEdit};
use crate::{
    sealos::env,
    syntax::{
        ast::{self, Instruction},
        fields, NodeField as _, SourceFile, TextRange,
    },
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Variable,
    Stage,
    /// A heredoc delimiter (`<<EOF` … `EOF`), scoped to its instruction.
    Heredoc,
}

/// Where a variable lives: before the first FROM, or in the n-th stage (0-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    Global,
    Stage(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Definition,
    Read,
}

/// One mention of a variable or stage name.
#[derive(Clone, Debug)]
pub struct Occurrence {
    pub kind: SymbolKind,
    /// The variable name as written; stage names in lower case (BuildKit compares them so).
    pub name: String,
    pub scope: Scope,
    /// The name itself (what a rename replaces).
    pub range: TextRange,
    /// The enclosing construct: the `key=value` pair, the `FROM` line, the expansion.
    pub full_range: TextRange,
    pub role: Role,
    /// Start of the top-level instruction holding it.
    pub instruction_start: usize,
    /// The keyword of that instruction (`ENV`, `CMD`, ...).
    pub instruction: &'static str,
    /// `$(X)`, `${X}` or `$X` in CMD/ENTRYPOINT: expanded by sealos from the image ENV.
    pub run_time: bool,
    /// `ARG NAME` without a value (re-declares a global ARG in a stage).
    pub bare_arg: bool,
    /// `--from=0`: a stage referenced by index (not renamed).
    pub numeric: bool,
}

/// Every variable and stage mention of a file, in document order.
pub struct Index {
    pub occurrences: Vec<Occurrence>,
    /// (name, stage) pairs where a stage re-declares a global ARG with a bare `ARG name`.
    links: Vec<(String, usize)>,
    /// Stage names by stage index (lower case).
    pub stages: Vec<Option<String>>,
}

impl Index {
    pub fn new(file: &SourceFile, model: &Model<'_>) -> Index {
        let mut index = Index { occurrences: Vec::new(), links: Vec::new(), stages: Vec::new() };
        let mut stage: Option<usize> = None;
        for instruction in &model.instructions {
            let keyword = ast::kind_keyword(instruction.node.kind());
            let start = instruction.node.start_byte();
            if instruction.node.kind() == "from_instruction" {
                let n = stage.map_or(0, |s| s + 1);
                stage = Some(n);
                index.index_from(file, *instruction, n);
                continue;
            }
            let scope = stage.map_or(Scope::Global, Scope::Stage);
            let mut walker = Walker { file, index: &mut index, scope, start, keyword };
            walker.instruction(instruction.node, false);
            if matches!(keyword, "RUN" | "COPY" | "ADD" | "ONBUILD") {
                index.index_heredocs(file, instruction.node, keyword);
            }
        }
        // Links: a bare ARG in a stage that names a global ARG.
        let globals: Vec<String> = index
            .occurrences
            .iter()
            .filter(|o| o.kind == SymbolKind::Variable && o.role == Role::Definition && o.scope == Scope::Global)
            .map(|o| o.name.clone())
            .collect();
        let links: Vec<(String, usize)> = index
            .occurrences
            .iter()
            .filter(|o| o.bare_arg && globals.contains(&o.name))
            .filter_map(|o| match o.scope {
                Scope::Stage(s) => Some((o.name.clone(), s)),
                Scope::Global => None,
            })
            .collect();
        index.links = links;
        index
    }

    fn index_from(&mut self, file: &SourceFile, from: Instruction<'_>, n: usize) {
        let node = from.node;
        let start = node.start_byte();
        if let Some(image) = node.field(&fields::IMAGE) {
            let text = ast::literal_text(file, image).to_ascii_lowercase();
            if self.stages.iter().flatten().any(|name| *name == text) {
                self.push_stage(text, image.byte_range(), node.byte_range(), Role::Read, start, false);
            }
        }
        let alias = node.field(&fields::AS).map(|alias| {
            let name = ast::literal_text(file, alias).to_ascii_lowercase();
            self.push_stage(name.clone(), alias.byte_range(), node.byte_range(), Role::Definition, start, false);
            name
        });
        self.stages.push(alias);
        // Variables in FROM lines are global ARGs.
        let mut walker = Walker { file, index: self, scope: Scope::Global, start, keyword: "FROM" };
        walker.uses(node, false);
        debug_assert_eq!(self.stages.len(), n + 1);
    }

    /// `<<EOF` markers and their terminators, paired in order.
    fn index_heredocs(&mut self, file: &SourceFile, node: Node<'_>, keyword: &'static str) {
        let mut markers = Vec::new();
        let mut blocks = Vec::new();
        collect_heredoc_nodes(node, &mut markers, &mut blocks);
        let start = node.start_byte();
        for (i, marker) in markers.iter().enumerate() {
            let text = file.node_text(*marker);
            let skip = text.len() - text.trim_start_matches('<').trim_start_matches('-').len();
            let inner = &text[skip..];
            let quoted = inner.starts_with(['"', '\'']);
            let name_start = marker.start_byte() + skip + usize::from(quoted);
            let name_len = inner.len() - if quoted { 2.min(inner.len()) } else { 0 };
            let name_range = name_start..name_start + name_len;
            let name = file.text()[name_range.clone()].to_string();
            if name.is_empty() {
                continue;
            }
            let mut push = |range: TextRange, full_range: TextRange, role: Role| {
                self.occurrences.push(Occurrence {
                    kind: SymbolKind::Heredoc,
                    name: name.clone(),
                    scope: Scope::Global,
                    range,
                    full_range,
                    role,
                    instruction_start: start,
                    instruction: keyword,
                    run_time: false,
                    bare_arg: false,
                    numeric: false,
                });
            };
            push(name_range, marker.byte_range(), Role::Definition);
            let end = blocks.get(i).and_then(|block| ast::children_of_kind(*block, "heredoc_end").next());
            if let Some(end) = end {
                let end_text = file.node_text(end);
                let indent = end_text.len() - end_text.trim_start_matches('\t').len();
                if end_text[indent..].trim_end() == name {
                    let at = end.start_byte() + indent;
                    push(at..at + name.len(), end.byte_range(), Role::Read);
                }
            }
        }
    }

    fn push_stage(&mut self, name: String, range: TextRange, full_range: TextRange, role: Role, start: usize, numeric: bool) {
        self.occurrences.push(Occurrence {
            kind: SymbolKind::Stage,
            name,
            scope: Scope::Global,
            range,
            full_range,
            role,
            instruction_start: start,
            instruction: "FROM",
            run_time: false,
            bare_arg: false,
            numeric,
        });
    }

    /// The mention under the cursor (the end of a name counts, so `$NAME|` finds `NAME`).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .find(|o| o.range.start <= offset && offset < o.range.end)
            .or_else(|| self.occurrences.iter().find(|o| o.range.end == offset))
    }

    /// The scopes that share a variable with `scope` through bare ARG re-declarations.
    fn group(&self, name: &str, scope: Scope) -> Vec<Scope> {
        let linked: Vec<Scope> = self.links.iter().filter(|(n, _)| n == name).map(|(_, s)| Scope::Stage(*s)).collect();
        let in_group = scope == Scope::Global || linked.contains(&scope);
        if in_group && !linked.is_empty() {
            let mut group = vec![Scope::Global];
            group.extend(linked);
            group
        } else {
            vec![scope]
        }
    }

    /// Every mention of the symbol `target` stands for (its definitions and uses).
    pub fn related<'a>(&'a self, target: &Occurrence) -> Vec<&'a Occurrence> {
        match target.kind {
            SymbolKind::Heredoc => self
                .occurrences
                .iter()
                .filter(|o| o.kind == SymbolKind::Heredoc && o.name == target.name && o.instruction_start == target.instruction_start)
                .collect(),
            SymbolKind::Stage => {
                let index = self.stage_index(&target.name);
                self.occurrences
                    .iter()
                    .filter(|o| o.kind == SymbolKind::Stage)
                    .filter(|o| o.name == target.name || (o.numeric && index.is_some_and(|i| o.name == i.to_string())))
                    .collect()
            }
            SymbolKind::Variable => {
                let group = self.group(&target.name, target.scope);
                self.occurrences
                    .iter()
                    .filter(|o| o.kind == SymbolKind::Variable && o.name == target.name && group.contains(&o.scope))
                    .collect()
            }
        }
    }

    fn stage_index(&self, name: &str) -> Option<usize> {
        if let Ok(n) = name.parse::<usize>() {
            return (n < self.stages.len()).then_some(n);
        }
        self.stages.iter().position(|stage| stage.as_deref() == Some(name))
    }

    /// The definitions a mention resolves to: for a definition itself; for a use, the closest
    /// definition above it in its scope (for CMD/ENTRYPOINT, the stage's last ENV of that name).
    pub fn definitions<'a>(&'a self, target: &'a Occurrence) -> Vec<&'a Occurrence> {
        if target.role == Role::Definition {
            return vec![target];
        }
        match target.kind {
            SymbolKind::Stage => {
                if target.numeric {
                    let Some(n) = self.stage_index(&target.name) else { return Vec::new() };
                    let Some(Some(name)) = self.stages.get(n) else { return Vec::new() };
                    return self
                        .occurrences
                        .iter()
                        .filter(|o| o.kind == SymbolKind::Stage && o.role == Role::Definition && o.name == *name)
                        .take(1)
                        .collect();
                }
                self.occurrences
                    .iter()
                    .filter(|o| o.kind == SymbolKind::Stage && o.role == Role::Definition && o.name == target.name)
                    .take(1)
                    .collect()
            }
            SymbolKind::Variable => self.variable_definition(target).into_iter().collect(),
            SymbolKind::Heredoc => self.related(target).into_iter().filter(|o| o.role == Role::Definition).take(1).collect(),
        }
    }

    fn variable_definition<'a>(&'a self, target: &Occurrence) -> Option<&'a Occurrence> {
        let defs = |scope: Scope| {
            self.occurrences.iter().filter(move |o| {
                o.kind == SymbolKind::Variable && o.role == Role::Definition && o.name == target.name && o.scope == scope
            })
        };
        if target.run_time {
            if let Some(def) = defs(target.scope).rfind(|o| o.instruction == "ENV") {
                return Some(def);
            }
        }
        let above = defs(target.scope).rfind(|o| o.instruction_start < target.instruction_start);
        match above {
            // A bare ARG re-declaring a global ARG: the value comes from the global one.
            Some(def) if def.bare_arg && target.scope != Scope::Global => defs(Scope::Global).next_back().or(Some(def)),
            Some(def) => Some(def),
            None => defs(target.scope).next(),
        }
    }
}

struct Walker<'a, 'f> {
    file: &'f SourceFile,
    index: &'a mut Index,
    scope: Scope,
    start: usize,
    keyword: &'static str,
}

impl Walker<'_, '_> {
    fn instruction(&mut self, node: Node<'_>, nested: bool) {
        let run_time = !nested && matches!(node.kind(), "cmd_instruction" | "entrypoint_instruction");
        match node.kind() {
            "env_instruction" | "arg_instruction" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    match child.kind() {
                        "key_value_pair" => {
                            if let Some(key) = child.field(&fields::KEY) {
                                self.definition(key, child.byte_range(), false);
                                self.uses(key, false);
                            }
                            if let Some(value) = child.field(&fields::VALUE) {
                                self.uses(value, false);
                            }
                        }
                        "arg_name" => {
                            self.definition(child, child.byte_range(), true);
                        }
                        _ => self.uses(child, false),
                    }
                }
            }
            "copy_instruction" | "add_instruction" => {
                if let Some(from) = Instruction::cast(node).and_then(|i| i.flag(self.file, "from")) {
                    if let Some(value) = from.value_node() {
                        let text = ast::literal_text(self.file, value).to_ascii_lowercase();
                        let numeric = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
                        if numeric || self.index.stages.iter().flatten().any(|name| *name == text) {
                            let start = self.start;
                            self.index.push_stage(text, value.byte_range(), from.node.byte_range(), Role::Read, start, numeric);
                        }
                    }
                }
                self.uses(node, false);
            }
            "onbuild_instruction" | "healthcheck_instruction" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind().ends_with("_instruction") {
                        self.instruction(child, true);
                    } else {
                        self.uses(child, false);
                    }
                }
            }
            _ => self.uses(node, run_time),
        }
    }

    fn definition(&mut self, key: Node<'_>, full_range: TextRange, bare: bool) {
        let name = ast::literal_text(self.file, key);
        if name.is_empty() || name.contains('$') {
            return;
        }
        self.index.occurrences.push(Occurrence {
            kind: SymbolKind::Variable,
            name,
            scope: self.scope,
            range: key.byte_range(),
            full_range,
            role: Role::Definition,
            instruction_start: self.start,
            instruction: self.keyword,
            run_time: false,
            bare_arg: bare,
            numeric: false,
        });
    }

    /// Expansions and `$(X)` templates below `node`, in order.
    fn uses(&mut self, node: Node<'_>, run_time: bool) {
        match node.kind() {
            "expansion" | "template_variable" => {
                if let Some(name) = node.field(&fields::NAME) {
                    self.index.occurrences.push(Occurrence {
                        kind: SymbolKind::Variable,
                        name: self.file.node_text(name).to_string(),
                        scope: self.scope,
                        range: name.byte_range(),
                        full_range: node.byte_range(),
                        role: Role::Read,
                        instruction_start: self.start,
                        instruction: self.keyword,
                        run_time,
                        bare_arg: false,
                        numeric: false,
                    });
                }
                if let Some(argument) = node.field(&fields::ARGUMENT) {
                    self.uses(argument, run_time);
                }
            }
            "heredoc_block" | "comment" => {}
            // RUN's shell form is not expanded by BuildKit but by the shell, from the same ARG/ENV.
            "shell_fragment" if self.keyword == "RUN" => {
                let base = node.start_byte();
                for (range, name) in shell_variables(self.file.node_text(node)) {
                    self.index.occurrences.push(Occurrence {
                        kind: SymbolKind::Variable,
                        name: name.to_string(),
                        scope: self.scope,
                        range: base + range.start..base + range.end,
                        full_range: base + range.start..base + range.end,
                        role: Role::Read,
                        instruction_start: self.start,
                        instruction: self.keyword,
                        run_time: false,
                        bare_arg: false,
                        numeric: false,
                    });
                }
            }
            _ if node.named_child_count() == 0 => {}
            _ => {
                let mut cursor = node.walk();
                if cursor.goto_first_child() {
                    loop {
                        let child = cursor.node();
                        if child.is_named() {
                            self.uses(child, run_time);
                        }
                        if !cursor.goto_next_sibling() {
                            break;
                        }
                    }
                }
            }
        }
    }
}

fn collect_heredoc_nodes<'t>(node: Node<'t>, markers: &mut Vec<Node<'t>>, blocks: &mut Vec<Node<'t>>) {
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "heredoc_marker" => markers.push(child),
            "heredoc_block" => blocks.push(child),
            kind if kind.ends_with("_instruction") => {}
            _ => collect_heredoc_nodes(child, markers, blocks),
        }
    }
}

/// `$NAME` and `${NAME...}` in shell text outside single quotes (names only; `$$`, `\$` and
/// positional or special parameters are skipped).
pub(crate) fn shell_variables(text: &str) -> Vec<(TextRange, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut single = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => single = !single,
            b'\\' if !single => i += 1,
            b'$' if !single => {
                if bytes.get(i + 1) == Some(&b'$') {
                    i += 2;
                    continue;
                }
                let brace = bytes.get(i + 1) == Some(&b'{');
                let start = i + 1 + usize::from(brace);
                let mut end = start;
                while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                    end += 1;
                }
                if end > start && !bytes[start].is_ascii_digit() {
                    out.push((start..end, &text[start..end]));
                }
                i = end.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

// ----- local models: what a request near one place needs, without walking the whole file -----

/// The top-level node starting at or containing `offset` (or the next one after it).
pub(crate) fn top_level_at(file: &SourceFile, offset: usize) -> Option<Node<'_>> {
    // A binary search of the snapshot's list: a cursor's `goto_first_child_for_byte` steps
    // through the root's children one by one, and `--from=` completion asks once per FROM.
    let top_level = file.top_level();
    top_level.get(top_level.partition_point(|node| node.end_byte() <= offset)).copied()
}

/// FROM instructions starting in `range`, in order: lines that start with `FROM` (any case),
/// confirmed by the tree (so heredoc bodies and continuation lines are skipped).
pub(crate) fn from_instructions(file: &SourceFile, range: TextRange) -> Vec<Node<'_>> {
    let text = file.text();
    let mut found = Vec::new();
    let mut line = text[..range.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    while line < range.end.min(text.len()) {
        let end = memchr::memchr(b'\n', &text.as_bytes()[line..]).map_or(text.len(), |i| line + i);
        if let Some(at) = from_keyword(text, line, end).filter(|at| *at >= range.start) {
            if let Some(node) = top_level_at(file, at).filter(|n| n.kind() == "from_instruction" && n.start_byte() == at) {
                found.push(node);
            }
        }
        line = end + 1;
    }
    found
}

/// Where the line `text[line..end]` starts with the keyword `FROM` (any case, after whitespace,
/// followed by whitespace or the end of the line). Completion after `--from=` or `${` on a big
/// file scans thousands of lines: ASCII indentation is skipped byte by byte, and only the rare
/// line indented with other whitespace goes through `str::trim_start`.
fn from_keyword(text: &str, line: usize, end: usize) -> Option<usize> {
    let bytes = &text.as_bytes()[..end];
    let mut at = line;
    while at < end && bytes[at].is_ascii() && char::from(bytes[at]).is_whitespace() {
        at += 1;
    }
    if at < end && !bytes[at].is_ascii() {
        let rest = &text[at..end];
        at += rest.len() - rest.trim_start().len();
    }
    if !bytes.get(at..at + 4)?.eq_ignore_ascii_case(b"FROM") {
        return None;
    }
    let after_is_space = match bytes.get(at + 4) {
        None => true,
        Some(byte) if byte.is_ascii() => char::from(*byte).is_whitespace(),
        Some(_) => text[at + 4..end].chars().next().is_some_and(char::is_whitespace),
    };
    after_is_space.then_some(at)
}

/// The last FROM starting at or before `offset`.
fn from_before(file: &SourceFile, offset: usize) -> Option<Node<'_>> {
    let text = file.text();
    let mut end = offset.min(text.len());
    loop {
        let line = memchr::memrchr(b'\n', &text.as_bytes()[..end]).map_or(0, |i| i + 1);
        let line_end = memchr::memchr(b'\n', &text.as_bytes()[line..]).map_or(text.len(), |i| line + i);
        if let Some(at) = from_keyword(text, line, line_end) {
            if at <= offset {
                if let Some(node) = top_level_at(file, at).filter(|n| n.kind() == "from_instruction" && n.start_byte() == at) {
                    return Some(node);
                }
            }
        }
        if line == 0 {
            return None;
        }
        end = line - 1;
    }
}

/// The instructions of the stage starting at `from` (the FROM included).
fn stage_instructions<'t>(file: &'t SourceFile, from: Node<'t>) -> Vec<Instruction<'t>> {
    let top_level = file.top_level();
    let first = top_level.partition_point(|node| node.start_byte() < from.start_byte());
    let mut out = Vec::new();
    for &node in &top_level[first..] {
        if node.kind() == "from_instruction" && node != from {
            break;
        }
        if let Some(instruction) = Instruction::cast(node) {
            out.push(instruction);
        }
    }
    out
}

/// A model holding only what a request about `range` needs: the instructions before the first
/// FROM (global ARGs), the stages overlapping `range`, and the final stage (labels, image type and
/// image ENV). Stage numbers in it are not the file's; use the full `Model` for those.
pub(crate) fn local_model(file: &SourceFile, range: TextRange) -> Model<'_> {
    let root = file.root();
    let mut instructions: Vec<Instruction<'_>> = Vec::new();
    let mut cursor = root.walk();
    if cursor.goto_first_child() {
        loop {
            let node = cursor.node();
            if node.kind() == "from_instruction" {
                break;
            }
            if let Some(instruction) = Instruction::cast(node) {
                instructions.push(instruction);
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    let mut froms: Vec<Node<'_>> = Vec::new();
    if let Some(first) = from_before(file, range.start) {
        froms.push(first);
    }
    let first = froms.first().copied();
    froms.extend(from_instructions(file, range.start..range.end + 1).into_iter().filter(|n| Some(*n) != first));
    if let Some(last) = from_before(file, file.text().len()) {
        if !froms.contains(&last) {
            froms.push(last);
        }
    }
    let mut stages = Vec::new();
    for from in froms {
        let mut members = stage_instructions(file, from);
        if members.is_empty() {
            continue;
        }
        let from_instruction = members.remove(0);
        let base = from.field(&fields::IMAGE).map_or_else(String::new, |node| ast::literal_text(file, node));
        let name = from.field(&fields::AS).map(|node| ast::literal_text(file, node));
        instructions.push(from_instruction);
        instructions.extend(members.iter().copied());
        stages.push(super::model::Stage { from: from_instruction, base, name, instructions: members });
    }
    Model { file, instructions, stages }
}

/// Stage names declared before `offset` with their FROM lines, in order (for `--from=` and FROM
/// completion).
pub(crate) fn stages_before(file: &SourceFile, offset: usize) -> Vec<(Option<String>, String, Node<'_>)> {
    from_instructions(file, 0..offset)
        .into_iter()
        .filter(|from| from.end_byte() < offset || !from.byte_range().contains(&offset))
        .map(|from| {
            let base = from.field(&fields::IMAGE).map_or_else(String::new, |node| ast::literal_text(file, node));
            let name = from.field(&fields::AS).map(|node| ast::literal_text(file, node));
            (name, base, from)
        })
        .collect()
}

/// Where a definition is: the whole construct (`NAME=value`, the FROM line) and the name in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NavigationTarget {
    pub full_range: TextRange,
    pub focus_range: TextRange,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HighlightKind {
    /// A definition (ENV/ARG key, `AS name`).
    Write,
    Read,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlight {
    pub range: TextRange,
    pub kind: HighlightKind,
}

/// The index a request at `offset` needs, and the position of the occurrence under the cursor.
/// Variables of one stage need only that stage (plus the global ARGs); stage names, global ARGs
/// and ARGs re-declared in stages need the whole file. `all_mentions`: the request lists every
/// mention (references, highlight, rename), not only definitions.
fn index_at(file: &SourceFile, offset: usize, all_mentions: bool) -> Option<(Index, usize)> {
    let local = Index::new(file, &local_model(file, offset..offset));
    let found = local.occurrences.iter().position(|o| o.range.start <= offset && offset < o.range.end).or_else(|| local.occurrences.iter().position(|o| o.range.end == offset));
    let needs_all = match found.map(|i| &local.occurrences[i]) {
        Some(target) => match target.kind {
            SymbolKind::Stage => true,
            SymbolKind::Heredoc => false,
            SymbolKind::Variable => all_mentions && (target.scope == Scope::Global || local.group(&target.name, target.scope).len() > 1),
        },
        // A stage reference whose stage the local model does not hold.
        None => file.root().descendant_for_byte_range(offset, offset).is_some_and(|node| {
            let mut node = Some(node);
            while let Some(n) = node {
                if matches!(n.kind(), "flag" | "image_spec" | "image_alias") {
                    return true;
                }
                node = n.parent().filter(|p| !p.kind().ends_with("_instruction"));
            }
            false
        }),
    };
    if !needs_all {
        return found.map(|i| (local, i));
    }
    // Index only where the symbol can appear: a stage name in FROM lines and COPY/ADD flags; a
    // global ARG in the global region, FROM lines and the stages that re-declare it.
    let variable = found.map(|i| &local.occurrences[i]).filter(|o| o.kind == SymbolKind::Variable).map(|o| o.name.clone());
    let all = ast::instructions(file);
    let mut keep: Vec<Instruction<'_>> = Vec::with_capacity(all.len());
    let mut stage: Option<usize> = None;
    let mut taken = false;
    for (i, instruction) in all.iter().enumerate() {
        let kind = instruction.node.kind();
        if kind == "from_instruction" {
            stage = Some(i);
            taken = false;
            keep.push(*instruction);
            continue;
        }
        let Some(from) = stage else {
            keep.push(*instruction);
            continue;
        };
        if taken {
            continue;
        }
        match &variable {
            None => {
                if matches!(kind, "copy_instruction" | "add_instruction") {
                    keep.push(*instruction);
                }
            }
            Some(name) => {
                let redeclares = kind == "arg_instruction"
                    && ast::children_of_kind(instruction.node, "arg_name").any(|arg| ast::literal_text(file, arg) == *name);
                if redeclares {
                    // The whole stage sees the global ARG: take all of it.
                    let end = all[from + 1..].iter().position(|i| i.node.kind() == "from_instruction").map_or(all.len(), |p| from + 1 + p);
                    keep.extend(all[from + 1..end].iter().copied());
                    taken = true;
                }
            }
        }
    }
    keep.sort_by_key(|instruction| instruction.node.start_byte());
    keep.dedup_by_key(|instruction| instruction.node.start_byte());
    let model = Model { file, instructions: keep, stages: Vec::new() };
    let full = Index::new(file, &model);
    let at = full.at(offset)?;
    let i = full.occurrences.iter().position(|o| std::ptr::eq(o, at))?;
    Some((full, i))
}

/// Go to definition.
pub fn goto_definition(file: &SourceFile, offset: usize) -> Vec<NavigationTarget> {
    let Some((index, i)) = index_at(file, offset, false) else { return Vec::new() };
    let target = &index.occurrences[i];
    index
        .definitions(target)
        .into_iter()
        .map(|def| NavigationTarget { full_range: def.full_range.clone(), focus_range: def.range.clone() })
        .collect()
}

/// Find references (definitions included when `include_declaration`), in document order.
pub fn references(file: &SourceFile, offset: usize, include_declaration: bool) -> Vec<TextRange> {
    let Some((index, i)) = index_at(file, offset, true) else { return Vec::new() };
    let target = &index.occurrences[i];
    index
        .related(target)
        .into_iter()
        .filter(|o| include_declaration || o.role != Role::Definition)
        .map(|o| o.range.clone())
        .collect()
}

/// Document highlight: every mention of the symbol under the cursor.
pub fn document_highlights(file: &SourceFile, offset: usize) -> Vec<Highlight> {
    let Some((index, i)) = index_at(file, offset, true) else { return Vec::new() };
    let target = &index.occurrences[i];
    index
        .related(target)
        .into_iter()
        .map(|o| Highlight {
            range: o.range.clone(),
            kind: if o.role == Role::Definition { HighlightKind::Write } else { HighlightKind::Read },
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrepareRename {
    pub range: TextRange,
    pub placeholder: String,
}

/// Why a rename is refused; the message is shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameError(pub String);

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks that the symbol under the cursor can be renamed, and returns its range.
pub fn prepare_rename(file: &SourceFile, offset: usize) -> Result<PrepareRename, RenameError> {
    let (index, i) = index_at(file, offset, false).ok_or_else(|| RenameError("No ENV, ARG or stage name here".into()))?;
    let target = &index.occurrences[i];
    check_renamable(target)?;
    Ok(PrepareRename { range: target.range.clone(), placeholder: file.text()[target.range.clone()].to_string() })
}

/// Renames the variable or stage under the cursor everywhere it is visible.
pub fn rename(file: &SourceFile, offset: usize, new_name: &str) -> Result<Vec<TextEdit>, RenameError> {
    let (index, i) = index_at(file, offset, true).ok_or_else(|| RenameError("No ENV, ARG or stage name here".into()))?;
    let target = &index.occurrences[i];
    check_renamable(target)?;
    let related = index.related(target);
    match target.kind {
        SymbolKind::Variable => {
            if !is_variable_name(new_name) {
                return Err(RenameError(format!("`{new_name}` is not a valid variable name (letters, digits and `_`, not starting with a digit)")));
            }
            if let Some(reason) = sealos_owned(new_name) {
                return Err(RenameError(format!("`{new_name}` {reason}; choose another name")));
            }
            let scopes: Vec<Scope> = related.iter().map(|o| o.scope).collect();
            if new_name != target.name
                && index.occurrences.iter().any(|o| {
                    o.kind == SymbolKind::Variable && o.role == Role::Definition && o.name == new_name && scopes.contains(&o.scope)
                })
            {
                return Err(RenameError(format!("`{new_name}` is already defined in this scope")));
            }
        }
        SymbolKind::Heredoc => {
            if !is_variable_name(new_name) {
                return Err(RenameError(format!("`{new_name}` is not a valid heredoc delimiter (letters, digits and `_`)")));
            }
        }
        SymbolKind::Stage => {
            if !is_stage_name(new_name) {
                return Err(RenameError(format!(
                    "`{new_name}` is not a valid stage name (a letter, then letters, digits, `-`, `_` or `.`)"
                )));
            }
            let lowered = new_name.to_ascii_lowercase();
            if matches!(lowered.as_str(), "scratch" | "context") {
                return Err(RenameError(format!("`{new_name}` is reserved by BuildKit")));
            }
            if lowered != target.name && index.stages.iter().flatten().any(|name| *name == lowered) {
                return Err(RenameError(format!("a stage named `{new_name}` already exists")));
            }
        }
    }
    Ok(related
        .into_iter()
        .filter(|o| !o.numeric)
        .map(|o| TextEdit { range: o.range.clone(), new_text: new_name.to_string() })
        .collect())
}

fn check_renamable(target: &Occurrence) -> Result<(), RenameError> {
    if target.kind == SymbolKind::Variable {
        if let Some(reason) = sealos_owned(&target.name) {
            return Err(RenameError(format!("`{}` {reason} and cannot be renamed", target.name)));
        }
        if env::PREDEFINED_ARGS.contains(&target.name.as_str()) {
            return Err(RenameError(format!("`{}` is predefined by BuildKit and cannot be renamed", target.name)));
        }
    }
    if target.numeric {
        return Err(RenameError("A stage index cannot be renamed; rename the stage name instead".into()));
    }
    Ok(())
}

/// Why sealos owns a name, if it does.
fn sealos_owned(name: &str) -> Option<&'static str> {
    if name.starts_with(env::SYSTEM_PREFIX) {
        Some("uses the `SEALOS_SYS` prefix sealos reserves")
    } else if env::rootfs_key(name).is_some() {
        Some("is an ENV key of sealos rootfs images that sealos and the node scripts read")
    } else {
        None
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_stage_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::fixture::{self, apply, mark};

    fn check_definition(fixture: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let targets = goto_definition(&f.file, f.offset());
        let ranges: Vec<TextRange> = targets.iter().map(|t| t.focus_range.clone()).collect();
        expect.assert_eq(&mark(&f.file, &ranges));
    }

    fn check_highlights(fixture: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let highlights = document_highlights(&f.file, f.offset());
        let mut out = mark(&f.file, &highlights.iter().map(|h| h.range.clone()).collect::<Vec<_>>());
        out.push_str(&format!(
            "---\n{}\n",
            highlights.iter().map(|h| format!("{:?}", h.kind)).collect::<Vec<_>>().join(" ")
        ));
        expect.assert_eq(&out);
    }

    fn check_rename(fixture: &str, new_name: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let out = match rename(&f.file, f.offset(), new_name) {
            Ok(edits) => apply(f.file.text(), &edits),
            Err(error) => format!("error: {error}\n"),
        };
        expect.assert_eq(&out);
    }

    #[test]
    fn definition_of_template_variable_in_cmd_is_the_env_key() {
        check_definition(
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"}\nCMD [\"helm upgrade -i $(NA$0ME) charts/x\"]\n",
            expect![[r#"
                FROM scratch
                ENV [[NAME]]=${NAME:-"nginx"}
                CMD ["helm upgrade -i $(NAME) charts/x"]
            "#]],
        );
    }

    #[test]
    fn definition_in_cmd_sees_env_below_it() {
        check_definition(
            "FROM scratch\nCMD $(NAME$0)\nENV NAME=x\n",
            expect![[r#"
                FROM scratch
                CMD $(NAME)
                ENV [[NAME]]=x
            "#]],
        );
    }

    #[test]
    fn definition_of_build_time_use_is_the_closest_one_above() {
        check_definition(
            "FROM scratch\nARG V=1\nENV V=2\nLABEL x=$V$0\nENV V=3\n",
            expect![[r#"
                FROM scratch
                ARG V=1
                ENV [[V]]=2
                LABEL x=$V
                ENV V=3
            "#]],
        );
    }

    #[test]
    fn definition_through_bare_arg_reaches_the_global_arg() {
        check_definition(
            "ARG VERSION=1.0\nFROM scratch\nARG VERSION\nLABEL v=${VER$0SION}\n",
            expect![[r#"
                ARG [[VERSION]]=1.0
                FROM scratch
                ARG VERSION
                LABEL v=${VERSION}
            "#]],
        );
    }

    #[test]
    fn definition_of_stage_reference() {
        check_definition(
            "FROM alpine AS Build\nFROM scratch\nCOPY --from=bu$0ild /a /a\n",
            expect![[r#"
                FROM alpine AS [[Build]]
                FROM scratch
                COPY --from=build /a /a
            "#]],
        );
        check_definition(
            "FROM alpine AS build\nFROM scratch\nCOPY --from=0$0 /a /a\n",
            expect![[r#"
                FROM alpine AS [[build]]
                FROM scratch
                COPY --from=0 /a /a
            "#]],
        );
    }

    #[test]
    fn no_definition_for_rootfs_keys_or_plain_words() {
        check_definition("FROM scratch\nCMD [\"echo $(registryDom$0ain)\"]\n", expect![[r#"
            FROM scratch
            CMD ["echo $(registryDomain)"]
        "#]]);
        check_definition("FROM scr$0atch\n", expect![[r#"
            FROM scratch
        "#]]);
    }

    #[test]
    fn highlights_cover_env_self_default_and_all_use_forms() {
        check_highlights(
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"}\nLABEL n=$NAME\nCMD [\"helm upgrade -i $(NAME) ${NAME}\"]\nENTRYPOINT echo $N$0AME\n",
            expect![[r#"
                FROM scratch
                ENV [[NAME]]=${[[NAME]]:-"nginx"}
                LABEL n=$[[NAME]]
                CMD ["helm upgrade -i $([[NAME]]) ${[[NAME]]}"]
                ENTRYPOINT echo $[[NAME]]
                ---
                Write Read Read Read Read Read
            "#]],
        );
    }

    #[test]
    fn highlights_stay_in_their_stage() {
        check_highlights(
            "FROM alpine AS a\nENV X=1\nRUN echo $X\nFROM scratch\nENV X$0=2\nCMD $(X)\n",
            expect![[r#"
                FROM alpine AS a
                ENV X=1
                RUN echo $X
                FROM scratch
                ENV [[X]]=2
                CMD $([[X]])
                ---
                Write Read
            "#]],
        );
    }

    #[test]
    fn highlights_of_stage_names() {
        check_highlights(
            "FROM alpine AS bu$0ild\nFROM build AS next\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n",
            expect![[r#"
                FROM alpine AS [[build]]
                FROM [[build]] AS next
                FROM scratch
                COPY --from=[[build]] /a /a
                COPY --from=[[0]] /b /b
                ---
                Write Read Read Read
            "#]],
        );
    }

    #[test]
    fn heredoc_delimiters() {
        check_highlights(
            "FROM alpine\nRUN <<EOF cat <<-\"TW$0O\"\nbody TWO\nEOF\n\tbody2\n\tTWO\nCOPY <<TWO /x\nTWO\n",
            expect![[r#"
                FROM alpine
                RUN <<EOF cat <<-"[[TWO]]"
                body TWO
                EOF
                	body2
                	[[TWO]]
                COPY <<TWO /x
                TWO
                ---
                Write Read
            "#]],
        );
        check_rename("FROM alpine\nRUN <<EOF$0\nbody\nEOF\n", "END", expect![[r#"
            FROM alpine
            RUN <<END
            body
            END
        "#]]);
    }

    #[test]
    fn middle_stage_of_a_long_file_uses_its_own_scope() {
        let mut text = String::from("ARG BASE=alpine\n");
        for i in 0..30 {
            text.push_str(&format!("FROM ${{BASE}} AS s{i}\nENV X=v{i}\nRUN echo $X\nCOPY --from=s0 /a /a\n"));
        }
        text.push_str("FROM scratch\nENV X=final\nCMD $(X)\n");
        let at = text.find("RUN echo $X\nCOPY --from=s0 /a /a\nFROM ${BASE} AS s13").unwrap() + "RUN echo $".len();
        let file = SourceFile::parse(&text);
        let defs = goto_definition(&file, at);
        assert_eq!(defs.len(), 1);
        assert_eq!(&text[defs[0].full_range.clone()], "X=v12");
        let refs = references(&file, at, true);
        assert_eq!(refs.len(), 2, "the ENV and the RUN use of stage 12 only");
        // A global ARG is used by every FROM line.
        let base = text.find("${BASE} AS s20").unwrap() + 2;
        assert_eq!(references(&file, base, true).len(), 31, "the ARG and 30 FROM lines");
        // A stage name is referenced from every stage.
        let s0 = text.find("--from=s0").unwrap() + "--from=".len();
        assert_eq!(references(&file, s0, true).len(), 31);
        assert_eq!(goto_definition(&file, s0)[0].focus_range, text.find("s0\n").unwrap()..text.find("s0\n").unwrap() + 2);
    }

    #[test]
    fn references_without_declaration() {
        let f = fixture::parse("FROM scratch\nENV A$0=1 B=$A\nCMD $(A)\n");
        let refs = references(&f.file, f.offset(), false);
        expect![[r#"
            FROM scratch
            ENV A=1 B=$[[A]]
            CMD $([[A]])
        "#]]
        .assert_eq(&mark(&f.file, &refs));
    }

    #[test]
    fn rename_keeps_self_default_consistent() {
        check_rename(
            "FROM scratch\nENV NAME$0=${NAME:-\"nginx\"} \\\n    NAMESPACE=default\nCMD [\"helm upgrade -i $(NAME) -n $(NAMESPACE) ${NAME}\"]\n",
            "RELEASE",
            expect![[r#"
                FROM scratch
                ENV RELEASE=${RELEASE:-"nginx"} \
                    NAMESPACE=default
                CMD ["helm upgrade -i $(RELEASE) -n $(NAMESPACE) ${RELEASE}"]
            "#]],
        );
    }

    #[test]
    fn rename_from_a_use() {
        check_rename(
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"} \\\n    NAMESPACE=default\nCMD [\"helm upgrade -i $(NA$0ME) -n $(NAMESPACE) ${NAME}\"]\n",
            "RELEASE",
            expect![[r#"
                FROM scratch
                ENV RELEASE=${RELEASE:-"nginx"} \
                    NAMESPACE=default
                CMD ["helm upgrade -i $(RELEASE) -n $(NAMESPACE) ${RELEASE}"]
            "#]],
        );
    }

    #[test]
    fn rename_global_arg_follows_redeclarations() {
        check_rename(
            "ARG V$0ER=1\nFROM alpine:${VER}\nARG VER\nRUN echo $VER\nFROM scratch\nLABEL v=$VER\n",
            "VERSION",
            expect![[r#"
                ARG VERSION=1
                FROM alpine:${VERSION}
                ARG VERSION
                RUN echo $VERSION
                FROM scratch
                LABEL v=$VER
            "#]],
        );
    }

    #[test]
    fn rename_stage_keeps_indices() {
        check_rename(
            "FROM alpine AS build$0\nFROM scratch\nCOPY --from=build /a /a\nCOPY --from=0 /b /b\n",
            "compile",
            expect![[r#"
                FROM alpine AS compile
                FROM scratch
                COPY --from=compile /a /a
                COPY --from=0 /b /b
            "#]],
        );
    }

    #[test]
    fn rename_refuses_sealos_owned_and_invalid_names() {
        check_rename(
            "FROM scratch\nENV SEALOS_SYS_CRI_ENDPOINT$0=/x\n",
            "X",
            expect![[r#"
                error: `SEALOS_SYS_CRI_ENDPOINT` uses the `SEALOS_SYS` prefix sealos reserves and cannot be renamed
            "#]],
        );
        check_rename(
            "FROM scratch\nENV registryDomain$0=x\n",
            "X",
            expect![[r#"
                error: `registryDomain` is an ENV key of sealos rootfs images that sealos and the node scripts read and cannot be renamed
            "#]],
        );
        check_rename(
            "FROM scratch\nENV NAME$0=x\n",
            "SEALOS_SYS_NAME",
            expect![[r#"
                error: `SEALOS_SYS_NAME` uses the `SEALOS_SYS` prefix sealos reserves; choose another name
            "#]],
        );
        check_rename("FROM scratch\nENV NAME$0=x\n", "1X", expect![[r#"
            error: `1X` is not a valid variable name (letters, digits and `_`, not starting with a digit)
        "#]]);
        check_rename("FROM scratch\nENV NAME$0=x OTHER=y\n", "OTHER", expect![[r#"
            error: `OTHER` is already defined in this scope
        "#]]);
        check_rename("FROM scratch\nARG TARGETARCH$0\n", "ARCH", expect![[r#"
            error: `TARGETARCH` is predefined by BuildKit and cannot be renamed
        "#]]);
        check_rename("FROM a AS x$0\nFROM b AS y\n", "Y", expect![[r#"
            error: a stage named `Y` already exists
        "#]]);
    }

    #[test]
    fn from_lines_are_found_in_any_case_and_indentation_but_not_in_other_instructions() {
        let text = "from a AS one\n \t FROM\tb AS two\n\u{a0}FrOm c\nFROMx\nRUN <<EOF\nFROM d\nEOF\nRUN echo \\\n  FROM e\n# FROM f\nFROM\u{3000}g\nFROM";
        let file = SourceFile::parse(text);
        let froms = from_instructions(&file, 0..text.len());
        let lines: Vec<&str> = froms.iter().map(|from| file.node_text(*from).lines().next().unwrap()).collect();
        // The grammar takes no Unicode space for a separator: those lines are no FROM.
        assert_eq!(lines, ["from a AS one", "FROM\tb AS two", "FROM"]);
        // The last FROM before an offset, and none before the first.
        assert_eq!(from_before(&file, text.find("FROMx").unwrap()).map(|n| n.start_byte()), text.find("FROM\tb"));
        assert_eq!(from_before(&file, 0).map(|n| n.start_byte()), Some(0));
        let (names, bases): (Vec<_>, Vec<_>) =
            stages_before(&file, text.find("RUN").unwrap()).into_iter().map(|(name, base, _)| (name, base)).unzip();
        assert_eq!(names, [Some("one".to_string()), Some("two".to_string())]);
        assert_eq!(bases, ["a", "b"]);
    }

    #[test]
    fn prepare_rename_range() {
        let f = fixture::parse("FROM scratch\nENV NAME=x\nCMD $(NA$0ME)\n");
        let prepared = prepare_rename(&f.file, f.offset()).unwrap();
        assert_eq!(prepared.placeholder, "NAME");
        assert_eq!(fixture::range(&f.file, &prepared.range), "3:7-3:11");
        assert!(prepare_rename(&f.file, 2).is_err());
    }
}
