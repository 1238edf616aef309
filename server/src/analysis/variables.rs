//! ENV and ARG scopes: which variables an instruction sees, where they were defined, and what
//! they expand to at build time (BuildKit) and at `sealos run` (the image ENV).

use std::collections::HashMap;

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::model::{Item, ItemKind, Model, Outline, Stage, Word};
use crate::syntax::{
    ast::{self, Instruction},
    fields, NodeField as _, SourceFile,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefinitionKind {
    Env,
    Arg,
}

/// One `NAME=value` (or `ARG NAME`) definition.
#[derive(Clone, Debug)]
pub struct Definition<'t> {
    pub name: String,
    pub kind: DefinitionKind,
    pub instruction: Instruction<'t>,
    pub key_node: Node<'t>,
    pub value_node: Option<Node<'t>>,
    /// The build-time value with earlier definitions expanded.
    pub value: Option<String>,
}

/// Definitions visible to an instruction starting at `offset`, in definition order: the ARG/ENV
/// lines of its stage before it. Global ARGs (before the first FROM) are visible only in FROM
/// lines and where a stage re-declares them with a bare `ARG NAME`.
pub fn visible_at<'t>(model: &Model<'t>, offset: usize) -> Vec<Definition<'t>> {
    let global = global_args(model);
    let stage = model.stages.iter().rev().find(|stage| stage.from.node.start_byte() <= offset);
    let Some(stage) = stage else { return global };
    if stage.from.node.end_byte() >= offset {
        return global;
    }
    stage_definitions(model, stage, Some(offset), &global)
}

/// Definitions of a whole stage, in order.
pub fn stage_definitions<'t>(
    model: &Model<'t>,
    stage: &Stage<'t>,
    before: Option<usize>,
    global: &[Definition<'t>],
) -> Vec<Definition<'t>> {
    let file = model.file;
    let mut visible: Vec<Definition<'t>> = Vec::new();
    // The last definition of each name among the instructions already walked: each pair expands
    // with what was visible before its instruction (BuildKit semantics), so an instruction's own
    // definitions join only after it. An index instead of a copy of `visible` per instruction
    // keeps a stage of thousands of ENV lines linear.
    let mut latest: HashMap<String, usize> = HashMap::new();
    for instruction in &stage.instructions {
        if before.is_some_and(|offset| instruction.node.start_byte() >= offset) {
            break;
        }
        let kind = match instruction.node.kind_name() {
            "env_instruction" => DefinitionKind::Env,
            "arg_instruction" => DefinitionKind::Arg,
            _ => continue,
        };
        let first_of_instruction = visible.len();
        for (key_node, value_node) in defined_pairs(*instruction) {
            let name = ast::literal_text(file, key_node);
            let value = match value_node {
                Some(node) => Some(expand_indexed(model, node, &visible, &latest)),
                None if kind == DefinitionKind::Arg => {
                    // A bare ARG re-declares a global ARG with its default, or is unset.
                    global.iter().rev().find(|def| def.name == name).and_then(|def| def.value.clone())
                }
                None => Some(String::new()),
            };
            visible.push(Definition { name, kind, instruction: *instruction, key_node, value_node, value });
        }
        for (index, definition) in visible.iter().enumerate().skip(first_of_instruction) {
            latest.insert(definition.name.clone(), index);
        }
    }
    visible
}

/// The (key, value) nodes an ENV or ARG instruction defines: `KEY=value` pairs and bare `ARG NAME`.
fn defined_pairs(instruction: Instruction<'_>) -> impl Iterator<Item = (Node<'_>, Option<Node<'_>>)> {
    ast::named_children(instruction.node).filter_map(|child| match child.kind_name() {
        "key_value_pair" => Some((child.field(&fields::KEY)?, child.field(&fields::VALUE))),
        "arg_name" => Some((child, None)),
        _ => None,
    })
}

/// The part of a whole stage's definitions (from [`stage_definitions`] with no bound) that an
/// instruction starting at `offset` sees: the same as `stage_definitions(.., Some(offset), ..)`,
/// since each definition only depends on the ones before it, without walking the stage again.
pub fn defined_before<'a, 't>(definitions: &'a [Definition<'t>], offset: usize) -> &'a [Definition<'t>] {
    &definitions[..definitions.partition_point(|def| def.instruction.node.start_byte() < offset)]
}

/// ARGs before the first FROM.
pub fn global_args<'t>(model: &Model<'t>) -> Vec<Definition<'t>> {
    let file = model.file;
    let mut global: Vec<Definition<'t>> = Vec::new();
    // Unlike in a stage, a global ARG sees the ones before it in the same instruction.
    let mut latest: HashMap<String, usize> = HashMap::new();
    for instruction in &model.instructions {
        match instruction.node.kind_name() {
            "from_instruction" => break,
            "arg_instruction" => {}
            _ => continue,
        }
        for (key_node, value_node) in defined_pairs(*instruction) {
            let value = value_node.map(|node| expand_indexed(model, node, &global, &latest));
            let name = ast::literal_text(file, key_node);
            latest.insert(name.clone(), global.len());
            global.push(Definition { name, kind: DefinitionKind::Arg, instruction: *instruction, key_node, value_node, value });
        }
    }
    global
}

/// The ENV of the final image: what `sealos run` exports and expands in CMD/ENTRYPOINT.
pub fn image_env<'t>(model: &Model<'t>) -> Vec<Definition<'t>> {
    let Some(stage) = model.final_stage() else { return Vec::new() };
    let global = global_args(model);
    stage_definitions(model, stage, None, &global).into_iter().filter(|def| def.kind == DefinitionKind::Env).collect()
}

/// Expands a word with the given definitions (the last definition of a name wins).
pub fn expand(model: &Model<'_>, node: Node<'_>, visible: &[Definition<'_>]) -> String {
    ast::expanded_text(model.file, node, &mut |name| {
        visible.iter().rev().find(|def| def.name == name).map(|def| def.value.clone().unwrap_or_default())
    })
}

/// [`expand`] with `latest` giving the index in `definitions` of each name's last definition.
fn expand_indexed(model: &Model<'_>, node: Node<'_>, definitions: &[Definition<'_>], latest: &HashMap<String, usize>) -> String {
    ast::expanded_text(model.file, node, &mut |name| {
        latest.get(name).map(|&index| definitions[index].value.clone().unwrap_or_default())
    })
}

/// The variables in scope while a stage's summaries are walked in order, with the values
/// [`stage_definitions`] gives them (the global ARGs as [`global_args`] gives them, resolved only
/// when a bare `ARG NAME` re-declares one). Words without a variable are taken from the summaries;
/// only the ones with a `$` are expanded from the tree.
pub struct OutlineScope<'f, 'o> {
    file: &'f SourceFile,
    /// The items before the first FROM.
    global_items: &'o [Item],
    global: Option<Values<'o>>,
    stage: Values<'o>,
}

/// Definitions' values in order, with the index of each name's last visible one.
#[derive(Default)]
struct Values<'o> {
    values: Vec<(&'o str, Option<String>)>,
    latest: HashMap<&'o str, usize>,
}

impl<'o> Values<'o> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.latest.get(name).map(|&index| self.values[index].1.clone().unwrap_or_default())
    }
}

impl<'f, 'o> OutlineScope<'f, 'o> {
    pub fn new(file: &'f SourceFile, outline: &Outline<'o>) -> OutlineScope<'f, 'o> {
        let global_end = outline.items.iter().position(|item| item.from.is_some()).unwrap_or(outline.items.len());
        OutlineScope { file, global_items: &outline.items[..global_end], global: None, stage: Values::default() }
    }

    /// The value of `word` of `item` with the definitions made so far.
    pub fn expand(&self, item: &Item, word: &Word) -> String {
        expand_word(self.file, item, word, &mut |name| self.stage.lookup(name))
    }

    /// The value of `name` with the definitions made so far.
    pub fn value_of(&self, name: &str) -> Option<String> {
        self.stage.lookup(name)
    }

    /// Adds the definitions of an ENV or ARG item; they are visible to the items after it.
    pub fn define(&mut self, item: &'o Item) {
        let first = self.stage.values.len();
        for definition in &item.definitions {
            let value = match &definition.value {
                Some(word) => Some(self.expand(item, word)),
                // A bare ARG re-declares a global ARG with its default, or is unset.
                None if item.kind == ItemKind::Arg => self.global_value(&definition.name),
                None => Some(String::new()),
            };
            self.stage.values.push((&definition.name, value));
        }
        for index in first..self.stage.values.len() {
            self.stage.latest.insert(self.stage.values[index].0, index);
        }
    }

    fn global_value(&mut self, name: &str) -> Option<String> {
        let file = self.file;
        let global_items = self.global_items;
        let global = self.global.get_or_insert_with(|| {
            // Unlike in a stage, a global ARG sees the ones before it in the same instruction.
            let mut global = Values::default();
            for item in global_items.iter().filter(|item| item.kind == ItemKind::Arg) {
                for definition in &item.definitions {
                    let value = definition.value.as_ref().map(|word| expand_word(file, item, word, &mut |name| global.lookup(name)));
                    global.latest.insert(&definition.name, global.values.len());
                    global.values.push((&definition.name, value));
                }
            }
            global
        });
        global.values.iter().rev().find(|(defined, _)| *defined == name).and_then(|(_, value)| value.clone())
    }
}

/// The value of a summarised word: its literal text, or with a variable, its node expanded.
fn expand_word(file: &SourceFile, item: &Item, word: &Word, lookup: &mut dyn FnMut(&str) -> Option<String>) -> String {
    if !word.has_variables() {
        return word.literal.clone();
    }
    match item.node_at(file, word.span) {
        Some(node) => ast::expanded_text(file, node, lookup),
        // The summaries are of this file, so the node is there; keep the word as written if not.
        None => word.literal.clone(),
    }
}
