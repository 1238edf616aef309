//! The semantic model of a Kubefile that every feature shares: stages, the labels and image type
//! of the final image, and the ENV/ARG definitions visible at each instruction.

use std::{cell::OnceCell, collections::HashMap};

use crate::syntax::{fields, kinds::KindIds, NodeField as _, NodeKind as _};
use tree_sitter::Node;

use crate::{
    sealos::{
        labels::{self, LabelRole},
        ImageType,
    },
    syntax::{
        ast::{self, Instruction, InstructionParts},
        SourceFile, TextRange,
    },
};

/// The labels that give the image type.
const TYPE_KEYS: &[&str] = &["sealos.io.type", "apps.sealos.io/type"];

/// One build stage: a FROM and the instructions up to the next FROM.
pub struct Stage<'t> {
    pub from: Instruction<'t>,
    /// The base image as written, with quotes removed (`scratch`, `labring/kubernetes:v1.27.7`).
    pub base: String,
    pub name: Option<String>,
    pub instructions: Vec<Instruction<'t>>,
}

impl Stage<'_> {
    pub fn is_scratch(&self) -> bool {
        self.base.eq_ignore_ascii_case("scratch")
    }

    /// A base from labring's kubernetes images makes the stage inherit rootfs type and labels.
    pub fn inherits_rootfs(&self) -> bool {
        inherits_rootfs(&self.base)
    }
}

/// Whether a base image (as written, quotes removed) gives the stage rootfs type and labels.
fn inherits_rootfs(base: &str) -> bool {
    let repository = base.split(['@', ':']).next().unwrap_or("");
    let repository = repository.trim_start_matches("docker.io/");
    repository.starts_with("labring/kubernetes") || repository.starts_with("labring/k3s")
}

/// The first non-empty value among `keys` in `(key, value)` labels, as sealos's
/// `maps.GetFromKeys` reads it (the last LABEL of a key wins, as in the image config).
fn value_from_keys<'l>(labels: impl DoubleEndedIterator<Item = (&'l str, &'l str)> + Clone, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| {
        labels.clone().rev().find(|(k, _)| k == key).map(|(_, value)| value.to_string()).filter(|v| !v.is_empty())
    })
}

/// The image type from the type label's value and the final stage's base.
fn decide_image_type(type_label: Option<String>, final_base: Option<&str>) -> (Option<ImageType>, TypeSource) {
    if let Some(value) = type_label {
        return (ImageType::parse(&value), TypeSource::Label);
    }
    if final_base.is_some_and(inherits_rootfs) {
        return (Some(ImageType::Rootfs), TypeSource::Base);
    }
    (Some(ImageType::Application), TypeSource::Default)
}

/// A LABEL pair of the final stage.
pub struct Label<'t> {
    pub key: String,
    pub key_node: Node<'t>,
    pub value: String,
    pub value_node: Option<Node<'t>>,
}

/// How the image type was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeSource {
    /// From a `sealos.io.type` / `apps.sealos.io/type` label in the Kubefile.
    Label,
    /// Inherited from a known rootfs base image.
    Base,
    /// No label: sealos treats the image as an application (or the base image decides).
    Default,
}

pub struct Model<'t> {
    pub file: &'t SourceFile,
    pub instructions: Vec<Instruction<'t>>,
    pub stages: Vec<Stage<'t>>,
}

impl<'t> Model<'t> {
    pub fn new(file: &'t SourceFile) -> Model<'t> {
        Model::from_instructions(file, ast::instructions(file))
    }

    /// The model of `file` from its top-level instructions, for callers that have them already.
    pub fn from_instructions(file: &'t SourceFile, instructions: Vec<Instruction<'t>>) -> Model<'t> {
        let mut stages: Vec<Stage<'t>> = Vec::new();
        for instruction in &instructions {
            if instruction.node.kind_name() == "from_instruction" {
                let base = instruction
                    .node
                    .field(&fields::IMAGE)
                    .map_or_else(String::new, |node| ast::literal_text(file, node));
                let name = instruction.node.field(&fields::AS).map(|node| ast::literal_text(file, node));
                stages.push(Stage { from: *instruction, base, name, instructions: Vec::new() });
            } else if let Some(stage) = stages.last_mut() {
                stage.instructions.push(*instruction);
            }
        }
        Model { file, instructions, stages }
    }

    /// The stage that becomes the image (the last one).
    pub fn final_stage(&self) -> Option<&Stage<'t>> {
        self.stages.last()
    }

    /// LABEL pairs of the final stage, in order.
    pub fn labels(&self) -> Vec<Label<'t>> {
        let Some(stage) = self.final_stage() else { return Vec::new() };
        let mut labels = Vec::new();
        for instruction in &stage.instructions {
            if instruction.node.kind_name() != "label_instruction" {
                continue;
            }
            for pair in instruction.pairs() {
                let Some(key_node) = pair.key_node() else { continue };
                let value_node = pair.value_node();
                labels.push(Label {
                    key: pair.key(self.file),
                    key_node,
                    value: value_node.map_or_else(String::new, |node| ast::literal_text(self.file, node)),
                    value_node,
                });
            }
        }
        labels
    }

    /// The first non-empty value among `keys`, as sealos's `maps.GetFromKeys` reads it (the last
    /// LABEL of a key wins, as in the image config).
    pub fn label_value(&self, labels: &[Label<'t>], keys: &[&str]) -> Option<String> {
        value_from_keys(labels.iter().map(|label| (label.key.as_str(), label.value.as_str())), keys)
    }

    /// The image type sealos will see, with where it comes from. `None` for a type label whose
    /// value is not a valid type (sealos then never runs the image).
    pub fn image_type(&self) -> (Option<ImageType>, TypeSource) {
        let labels = self.labels();
        let type_label = self.label_value(&labels, TYPE_KEYS);
        decide_image_type(type_label, self.final_stage().map(|stage| stage.base.as_str()))
    }

    /// The stage an instruction belongs to.
    pub fn stage_of(&self, node: Node<'_>) -> Option<&Stage<'t>> {
        self.stages.iter().rev().find(|stage| stage.from.node.start_byte() <= node.start_byte())
    }
}

// --- Outline: the model as owned data, for analysis that is kept between edits ------------------

/// What a top-level node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    From,
    Run,
    Cmd,
    Label,
    Maintainer,
    Expose,
    Env,
    Add,
    Copy,
    Entrypoint,
    Volume,
    User,
    Workdir,
    Arg,
    Onbuild,
    Stopsignal,
    Healthcheck,
    Shell,
    Unknown,
    Comment,
    Directive,
    /// An ERROR node or a token outside any instruction.
    Other,
}

impl ItemKind {
    pub fn of(node: Node<'_>) -> ItemKind {
        match node.kind_name() {
            "from_instruction" => ItemKind::From,
            "run_instruction" => ItemKind::Run,
            "cmd_instruction" => ItemKind::Cmd,
            "label_instruction" => ItemKind::Label,
            "maintainer_instruction" => ItemKind::Maintainer,
            "expose_instruction" => ItemKind::Expose,
            "env_instruction" => ItemKind::Env,
            "add_instruction" => ItemKind::Add,
            "copy_instruction" => ItemKind::Copy,
            "entrypoint_instruction" => ItemKind::Entrypoint,
            "volume_instruction" => ItemKind::Volume,
            "user_instruction" => ItemKind::User,
            "workdir_instruction" => ItemKind::Workdir,
            "arg_instruction" => ItemKind::Arg,
            "onbuild_instruction" => ItemKind::Onbuild,
            "stopsignal_instruction" => ItemKind::Stopsignal,
            "healthcheck_instruction" => ItemKind::Healthcheck,
            "shell_instruction" => ItemKind::Shell,
            "unknown_instruction" => ItemKind::Unknown,
            "comment" => ItemKind::Comment,
            "parser_directive" => ItemKind::Directive,
            _ => ItemKind::Other,
        }
    }

    pub fn is_instruction(self) -> bool {
        !matches!(self, ItemKind::Comment | ItemKind::Directive | ItemKind::Other)
    }

    /// Instructions whose words buildah expands at build time.
    pub fn expanded_at_build(self) -> bool {
        matches!(
            self,
            ItemKind::Env
                | ItemKind::Label
                | ItemKind::Copy
                | ItemKind::Add
                | ItemKind::Workdir
                | ItemKind::User
                | ItemKind::Expose
                | ItemKind::Volume
                | ItemKind::Stopsignal
                | ItemKind::Arg
        )
    }
}

/// A byte range relative to the start of its item, so an item moved by an edit above it keeps
/// its spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(item_start: usize, node: Node<'_>) -> Span {
        let relative = |offset: usize| u32::try_from(offset - item_start).unwrap_or(u32::MAX);
        Span { start: relative(node.start_byte()), end: relative(node.end_byte()) }
    }
}

/// The stage a FROM starts.
#[derive(Clone, Debug)]
pub struct FromItem {
    /// The base image as written, with quotes removed.
    pub base: String,
    pub image: Option<Span>,
    pub name: Option<String>,
    /// `name` in lower case: BuildKit compares stage names case-insensitively.
    pub lower_name: Option<String>,
    /// The stage name after `AS`.
    pub alias: Option<Span>,
}

/// A LABEL pair.
#[derive(Clone, Debug)]
pub struct LabelPair {
    pub key: String,
    pub key_span: Span,
    pub value: String,
    pub value_span: Option<Span>,
}

/// A word the build reads (an ENV/ARG value, a WORKDIR path, a COPY/ADD operand), kept so that
/// its value can be resolved from the summaries.
#[derive(Clone, Debug)]
pub struct Word {
    pub span: Span,
    /// The text with quotes removed and variables left as written.
    pub literal: String,
}

impl Word {
    fn new(file: &SourceFile, item_start: usize, node: Node<'_>) -> Word {
        Word { span: Span::new(item_start, node), literal: ast::literal_text(file, node) }
    }

    /// Whether the word may hold a variable. Without one its value is its literal text (an
    /// expansion always starts with `$`); with one it is expanded from the tree.
    pub fn has_variables(&self) -> bool {
        self.literal.contains('$')
    }
}

/// One name an ENV or ARG defines.
#[derive(Clone, Debug)]
pub struct VariableDefinition {
    pub name: String,
    pub key: Span,
    /// `NAME=value`; `None` for a bare `ARG NAME` (or a pair without a value).
    pub value: Option<Word>,
}

/// A COPY or ADD, as [`super::copies`] resolves it.
#[derive(Clone, Debug)]
pub struct CopyItem {
    /// A `--from` flag is present (with or without a value): the instruction reads no context.
    pub has_from_flag: bool,
    /// The operands, destination last: JSON strings in exec form, paths otherwise.
    pub operands: Vec<Word>,
    pub exec_form: bool,
    /// A heredoc is the source.
    pub heredoc: bool,
}

/// A variable use: `$X`, `${X...}` or, in CMD/ENTRYPOINT, sealos's `$(X)`.
#[derive(Clone, Debug)]
pub struct Use {
    pub span: Span,
    pub name: Span,
    /// `${X:-...}` and the other modifiers that give a value when X is unset.
    pub handles_unset: bool,
}

/// One top-level node (instruction, comment, directive or stray text), summarised as owned data:
/// what the rules that look across instructions need, and nothing that borrows the tree.
/// A document keeps one per top-level node (thousands in a big file), so what only a few kinds
/// of instruction have is boxed: an item is 144 bytes instead of 296.
#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub start: usize,
    pub end: usize,
    /// The instruction keyword as written.
    pub keyword: Option<Span>,
    pub from: Option<Box<FromItem>>,
    /// COPY `--from=` value: its text with quotes removed, and where it is.
    pub copy_from: Option<Box<(String, Span)>>,
    /// ENV and ARG: each defined name, its key and its value.
    pub definitions: Vec<VariableDefinition>,
    pub labels: Vec<LabelPair>,
    /// WORKDIR: its path.
    pub workdir: Option<Box<Word>>,
    /// COPY and ADD: flags and operands.
    pub copy: Option<Box<CopyItem>>,
    /// CMD/ENTRYPOINT: the variables sealos expands at `sealos run`; instructions expanded at
    /// build time: the variables buildah expands (minus label values sealos or the node expands).
    pub uses: Vec<Use>,
}

impl Item {
    /// Summarises a top-level node.
    pub fn new(file: &SourceFile, node: Node<'_>) -> Item {
        let parts = Instruction::cast(node).map(InstructionParts::new);
        Item::from_parts(file, node, parts.as_ref())
    }

    /// Summarises a top-level node, reading an instruction's children from `parts` (collected
    /// once for every rule about the instruction).
    pub fn from_parts(file: &SourceFile, node: Node<'_>, parts: Option<&InstructionParts<'_>>) -> Item {
        let kind = ItemKind::of(node);
        let start = node.start_byte();
        let span = |node: Node<'_>| Span::new(start, node);
        let mut item = Item {
            kind,
            start,
            end: node.end_byte(),
            keyword: None,
            from: None,
            copy_from: None,
            definitions: Vec::new(),
            labels: Vec::new(),
            workdir: None,
            copy: None,
            uses: Vec::new(),
        };
        let Some(parts) = parts.filter(|_| kind.is_instruction()) else { return item };
        item.keyword = parts.children.first().copied().map(span);
        let has_dollar = file.node_text(node).contains('$');
        match kind {
            ItemKind::From => {
                let image = node.field(&fields::IMAGE);
                let alias = node.field(&fields::AS);
                let name = alias.map(|node| ast::literal_text(file, node));
                item.from = Some(Box::new(FromItem {
                    base: image.map_or_else(String::new, |node| ast::literal_text(file, node)),
                    image: image.map(span),
                    lower_name: name.as_deref().map(str::to_lowercase),
                    name,
                    alias: alias.map(span),
                }));
            }
            ItemKind::Copy | ItemKind::Add => {
                let from = parts.flag(file, "from");
                if kind == ItemKind::Copy {
                    item.copy_from =
                        from.and_then(|flag| flag.value_node()).map(|value| Box::new((ast::literal_text(file, value), span(value))));
                }
                let (operands, exec_form) = parts.operands();
                item.copy = Some(Box::new(CopyItem {
                    has_from_flag: from.is_some(),
                    operands: operands.into_iter().map(|node| Word::new(file, start, node)).collect(),
                    exec_form,
                    heredoc: parts.has("heredoc_marker"),
                }));
            }
            ItemKind::Env | ItemKind::Arg => {
                for child in parts.children.iter().copied().filter(Node::is_named) {
                    let (key, value) = match child.kind_name() {
                        "key_value_pair" => (child.field(&fields::KEY), child.field(&fields::VALUE)),
                        "arg_name" => (Some(child), None),
                        _ => (None, None),
                    };
                    if let Some(key) = key {
                        item.definitions.push(VariableDefinition {
                            name: ast::literal_text(file, key),
                            key: span(key),
                            value: value.map(|value| Word::new(file, start, value)),
                        });
                    }
                }
            }
            ItemKind::Label => {
                for pair in parts.pairs() {
                    let Some(key_node) = pair.key_node() else { continue };
                    let value_node = pair.value_node();
                    item.labels.push(LabelPair {
                        key: ast::literal_text(file, key_node),
                        key_span: span(key_node),
                        value: value_node.map_or_else(String::new, |node| ast::literal_text(file, node)),
                        value_span: value_node.map(span),
                    });
                }
            }
            ItemKind::Workdir => {
                item.workdir = parts.paths().next().map(|path| Box::new(Word::new(file, start, path)));
            }
            _ => {}
        }
        if has_dollar {
            let mut uses = Vec::new();
            let expanded = match kind {
                ItemKind::Cmd | ItemKind::Entrypoint => Some(Expanded::AtRun),
                kind if kind.expanded_at_build() => Some(Expanded::AtBuild),
                _ => None,
            };
            if let Some(expanded) = expanded {
                variable_uses(file, parts.children.iter().copied(), expanded, kind == ItemKind::Label, &mut uses);
            }
            item.uses = uses
                .into_iter()
                .filter_map(|use_node| {
                    let name = use_node.field(&fields::NAME)?;
                    let handles_unset = use_node
                        .field(&fields::OPERATOR)
                        .is_some_and(|op| matches!(file.node_text(op), ":-" | "-" | ":+" | "+" | ":?" | "?" | ":=" | "="));
                    Some(Use { span: span(use_node), name: span(name), handles_unset })
                })
                .collect();
        }
        item
    }

    /// The absolute range of a span of this item.
    pub fn range(&self, span: Span) -> TextRange {
        self.start + span.start as usize..self.start + span.end as usize
    }

    /// The text of a span of this item.
    pub fn text<'f>(&self, file: &'f SourceFile, span: Span) -> &'f str {
        &file.text()[self.range(span)]
    }

    /// The top-level node this item summarises, found in `file` (the file it was made from, or
    /// a later version in which the item was only moved) without walking the root's children.
    pub fn node<'t>(&self, file: &'t SourceFile) -> Option<Node<'t>> {
        let mut cursor = file.root().walk();
        cursor.goto_first_child_for_byte(self.start)?;
        while cursor.node().start_byte() < self.start {
            if !cursor.goto_next_sibling() {
                return None;
            }
        }
        let node = cursor.node();
        (node.start_byte() == self.start && node.end_byte() == self.end && ItemKind::of(node) == self.kind).then_some(node)
    }

    /// The outermost node of this item at `span` (a [`Word`]'s), found by descending from the
    /// item's node.
    pub fn node_at<'t>(&self, file: &'t SourceFile, span: Span) -> Option<Node<'t>> {
        let range = self.range(span);
        let mut cursor = self.node(file)?.walk();
        loop {
            cursor.goto_first_child_for_byte(range.start)?;
            let node = cursor.node();
            if node.byte_range() == range {
                return Some(node);
            }
            if node.start_byte() > range.start || node.end_byte() < range.end {
                return None;
            }
        }
    }

    /// The instruction name in upper case (`FROM`), or the unknown word as written.
    pub fn keyword_name<'f>(&self, file: &'f SourceFile) -> &'f str {
        match (self.kind, self.keyword) {
            (ItemKind::Unknown, Some(keyword)) => self.text(file, keyword),
            (ItemKind::Unknown, None) => "",
            _ => ast::kind_keyword(self.kind_name()),
        }
    }

    /// The keyword's range, or the whole item's.
    pub fn keyword_range(&self) -> TextRange {
        self.keyword.map_or(self.start..self.end, |keyword| self.range(keyword))
    }

    fn kind_name(&self) -> &'static str {
        match self.kind {
            ItemKind::From => "from_instruction",
            ItemKind::Run => "run_instruction",
            ItemKind::Cmd => "cmd_instruction",
            ItemKind::Label => "label_instruction",
            ItemKind::Maintainer => "maintainer_instruction",
            ItemKind::Expose => "expose_instruction",
            ItemKind::Env => "env_instruction",
            ItemKind::Add => "add_instruction",
            ItemKind::Copy => "copy_instruction",
            ItemKind::Entrypoint => "entrypoint_instruction",
            ItemKind::Volume => "volume_instruction",
            ItemKind::User => "user_instruction",
            ItemKind::Workdir => "workdir_instruction",
            ItemKind::Arg => "arg_instruction",
            ItemKind::Onbuild => "onbuild_instruction",
            ItemKind::Stopsignal => "stopsignal_instruction",
            ItemKind::Healthcheck => "healthcheck_instruction",
            ItemKind::Shell => "shell_instruction",
            ItemKind::Unknown => "unknown_instruction",
            ItemKind::Comment => "comment",
            ItemKind::Directive => "parser_directive",
            ItemKind::Other => "",
        }
    }
}

/// Where an instruction's variables are expanded, which decides what counts as a use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expanded {
    /// CMD/ENTRYPOINT at `sealos run`: `$(X)`, `${X}` and `$X` anywhere.
    AtRun,
    /// By buildah: `${X}` and `$X`, leaving out label values that sealos or the node expands
    /// (`unescaped-dollar-in-label` reports those).
    AtBuild,
}

/// The variable uses in `nodes` (the children of one node) and under them, in order. Only nodes
/// whose text holds a `$` are entered: every use has one, and most words have none. `in_label`:
/// the nodes are a LABEL's children (known while descending: `Node::parent` searches from the
/// root).
fn variable_uses<'t>(
    file: &SourceFile,
    nodes: impl Iterator<Item = Node<'t>>,
    expanded: Expanded,
    in_label: bool,
    out: &mut Vec<Node<'t>>,
) {
    let ids = KindIds::get();
    for node in nodes {
        if !node.is_named() || !file.node_text(node).contains('$') {
            continue;
        }
        let kind = node.kind_id();
        if kind == ids.expansion || (expanded == Expanded::AtRun && kind == ids.template_variable) {
            out.push(node);
        } else if expanded == Expanded::AtBuild && in_label && kind == ids.key_value_pair && expanded_by_sealos(file, node) {
            // Only the key is buildah's to expand.
            variable_uses(file, node.field(&fields::KEY).into_iter(), expanded, false, out);
        } else {
            let mut cursor = node.walk();
            variable_uses(file, node.children(&mut cursor), expanded, kind == ids.label_instruction, out);
        }
    }
}

/// Whether sealos or the node, not buildah, expands the value of a LABEL pair.
fn expanded_by_sealos(file: &SourceFile, pair: Node<'_>) -> bool {
    let key_text = pair.field(&fields::KEY).map(|k| ast::literal_text(file, k)).unwrap_or_default();
    labels::find(&key_text).is_some_and(|known| matches!(known.role, LabelRole::Bootstrap | LabelRole::RenderedByRootfs))
}

/// A stage in an outline: the index of its FROM and of the items up to the next FROM.
pub struct OutlineStage<'o> {
    pub from: &'o Item,
    pub from_detail: &'o FromItem,
    /// The stage's items after its FROM (comments included).
    pub items: &'o [Item],
}

impl OutlineStage<'_> {
    pub fn is_scratch(&self) -> bool {
        self.from_detail.base.eq_ignore_ascii_case("scratch")
    }

    /// The stage's instructions after its FROM.
    pub fn instructions(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|item| item.kind.is_instruction())
    }
}

/// The items of a file with its stages: what [`Model`] gives, as owned data.
pub struct Outline<'o> {
    pub items: &'o [Item],
    pub stages: Vec<OutlineStage<'o>>,
    /// The indices of the stages of each lower-cased name, in order (see [`Outline::stages_named`]).
    stage_names: OnceCell<HashMap<&'o str, Vec<usize>>>,
}

impl<'o> Outline<'o> {
    pub fn new(items: &'o [Item]) -> Outline<'o> {
        let mut stages = Vec::new();
        let mut current: Option<(usize, &'o Item, &'o FromItem)> = None;
        for (index, item) in items.iter().enumerate() {
            if let Some(from_detail) = &item.from {
                if let Some((start, from, detail)) = current.take() {
                    stages.push(OutlineStage { from, from_detail: detail, items: &items[start + 1..index] });
                }
                current = Some((index, item, from_detail));
            }
        }
        if let Some((start, from, detail)) = current {
            stages.push(OutlineStage { from, from_detail: detail, items: &items[start + 1..] });
        }
        Outline { items, stages, stage_names: OnceCell::new() }
    }

    /// The indices of the stages named `lower` (lower case: BuildKit compares stage names
    /// case-insensitively), in order. Indexed once, so rules that look names up stay linear in
    /// the number of stages.
    pub fn stages_named(&self, lower: &str) -> &[usize] {
        let names = self.stage_names.get_or_init(|| {
            let mut names: HashMap<&str, Vec<usize>> = HashMap::new();
            for (index, stage) in self.stages.iter().enumerate() {
                if let Some(name) = &stage.from_detail.lower_name {
                    names.entry(name).or_default().push(index);
                }
            }
            names
        });
        names.get(lower).map_or(&[], Vec::as_slice)
    }

    pub fn instructions(&self) -> impl Iterator<Item = &'o Item> {
        self.items.iter().filter(|item| item.kind.is_instruction())
    }

    pub fn final_stage(&self) -> Option<&OutlineStage<'o>> {
        self.stages.last()
    }

    /// LABEL pairs of the final stage, in order, with the item each is in.
    pub fn labels(&self) -> Vec<(&'o Item, &'o LabelPair)> {
        let Some(stage) = self.final_stage() else { return Vec::new() };
        stage.items.iter().flat_map(|item| item.labels.iter().map(move |pair| (item, pair))).collect()
    }

    /// [`Model::label_value`] over [`Outline::labels`].
    pub fn label_value(labels: &[(&Item, &LabelPair)], keys: &[&str]) -> Option<String> {
        value_from_keys(labels.iter().map(|(_, pair)| (pair.key.as_str(), pair.value.as_str())), keys)
    }

    /// [`Model::image_type`].
    pub fn image_type(&self) -> (Option<ImageType>, TypeSource) {
        let type_label = Outline::label_value(&self.labels(), TYPE_KEYS);
        decide_image_type(type_label, self.final_stage().map(|stage| stage.from_detail.base.as_str()))
    }
}
