//! COPY and ADD as the build sees them: sources relative to the context, the destination in the
//! image (relative to WORKDIR), and whether one of them ships `registry/` to the image root.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{
    model::{Item, ItemKind, Model, Outline},
    variables::OutlineScope,
};
use crate::syntax::{
    ast::{self, Instruction},
    SourceFile, TextRange,
};

/// A COPY/ADD of the final stage that reads the build context (no `--from`), resolved from the
/// file's outline: what the diagnostics read, kept between edits.
pub struct ContextCopy<'o> {
    pub item: &'o Item,
    pub sources: Vec<ContextSource>,
    /// The destination as an absolute path in the image, `None` when unresolved.
    pub destination: Option<String>,
}

/// One source operand of a [`ContextCopy`].
pub struct ContextSource {
    pub range: TextRange,
    /// The path relative to the context root with `./`, leading `/` and trailing `/` removed;
    /// `.` for the context itself. `None` when it holds an unresolved variable.
    pub path: Option<String>,
}

/// One source operand of a COPY/ADD from the build context.
pub struct CopySource<'t> {
    pub node: Node<'t>,
    /// As [`ContextSource::path`].
    pub path: Option<String>,
}

/// [`ContextCopy`] with the tree's nodes, for the features that start from a node.
pub struct Copy<'t> {
    pub instruction: Instruction<'t>,
    pub sources: Vec<CopySource<'t>>,
    /// The destination as an absolute path in the image, `None` when unresolved.
    pub destination: Option<String>,
}

/// COPY/ADD instructions of the final stage that read the build context, with destinations
/// resolved against WORKDIR and variables against the ENV/ARG in scope. Reads the summaries; the
/// tree only for the words that hold a variable.
pub fn outline_context_copies<'o>(file: &SourceFile, outline: &Outline<'o>) -> Vec<ContextCopy<'o>> {
    let Some(stage) = outline.final_stage() else { return Vec::new() };
    let mut scope = OutlineScope::new(file, outline);
    let mut workdir = String::from("/");
    let mut copies = Vec::new();
    for item in stage.items {
        match item.kind {
            ItemKind::Env | ItemKind::Arg => scope.define(item),
            ItemKind::Workdir => {
                if let Some(path) = &item.workdir {
                    workdir = join_image_path(&workdir, &scope.expand(item, path));
                }
            }
            ItemKind::Copy | ItemKind::Add => {
                let Some(copy) = item.copy.as_ref().filter(|copy| !copy.has_from_flag) else { continue };
                let Some((destination, sources)) = copy.operands.split_last() else { continue };
                let resolve = |word: &super::model::Word| {
                    let text = if copy.exec_form {
                        serde_json::from_str::<String>(item.text(file, word.span)).ok()?
                    } else {
                        scope.expand(item, word)
                    };
                    (!word.has_variables() || !text.contains('$')).then_some(text)
                };
                let destination = resolve(destination).map(|dest| join_image_path(&workdir, &dest));
                let sources = if copy.heredoc && sources.is_empty() {
                    Vec::new()
                } else {
                    sources
                        .iter()
                        .map(|word| ContextSource { range: item.range(word.span), path: resolve(word).map(normalize_context_source) })
                        .collect()
                };
                copies.push(ContextCopy { item, sources, destination });
            }
            _ => {}
        }
    }
    copies
}

/// [`outline_context_copies`] of a model, with nodes.
pub fn context_copies<'t>(model: &Model<'t>) -> Vec<Copy<'t>> {
    let Some(stage) = model.final_stage() else { return Vec::new() };
    // Only the global ARGs and the final stage matter: summarise those alone.
    let global = model.instructions.iter().take_while(|instruction| instruction.node.kind_name() != "from_instruction");
    let summarised = global.chain(std::iter::once(&stage.from)).chain(&stage.instructions);
    let items: Vec<Item> = summarised.map(|instruction| Item::new(model.file, instruction.node)).collect();
    let outline = Outline::new(&items);
    let copies = outline_context_copies(model.file, &outline);
    copies
        .into_iter()
        .filter_map(|copy| {
            let index = stage.instructions.binary_search_by_key(&copy.item.start, |i| i.node.start_byte()).ok()?;
            let instruction = stage.instructions[index];
            let (nodes, _) = ast::InstructionParts::new(instruction).operands();
            let sources =
                nodes.into_iter().zip(copy.sources).map(|(node, source)| CopySource { node, path: source.path }).collect();
            Some(Copy { instruction, sources, destination: copy.destination })
        })
        .collect()
}

impl ContextCopy<'_> {
    /// True when this COPY puts the context's `registry/` directory at `/registry` in the image.
    pub fn ships_registry(&self) -> bool {
        ships_registry(self.sources.iter().map(|source| source.path.as_deref()), self.destination.as_deref())
    }
}

impl Copy<'_> {
    /// True when this COPY puts the context's `registry/` directory at `/registry` in the image.
    pub fn ships_registry(&self) -> bool {
        ships_registry(self.sources.iter().map(|source| source.path.as_deref()), self.destination.as_deref())
    }
}

fn ships_registry<'p>(mut sources: impl Iterator<Item = Option<&'p str>>, destination: Option<&str>) -> bool {
    let Some(destination) = destination else { return false };
    let destination = destination.trim_end_matches('/');
    sources.any(|path| match path {
        Some("registry") => destination == "/registry",
        Some(".") => destination.is_empty(),
        _ => false,
    })
}

/// A source as a path in the context; a URL (`ADD https://...`) is no context path and stays as
/// written (normalising would collapse its `//`).
fn normalize_context_source(source: String) -> String {
    if source.contains("://") { source } else { normalize_source(&source) }
}

/// `./a/b/` → `a/b`, `/x` → `x`, `./` → `.`.
pub fn normalize_source(path: &str) -> String {
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.push("..");
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Resolves `path` against `base` the way the image filesystem does (absolute paths win).
fn join_image_path(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') { path.to_string() } else { format!("{}/{path}", base.trim_end_matches('/')) };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    let trailing = if path.ends_with('/') && !parts.is_empty() { "/" } else { "" };
    format!("/{}{trailing}", parts.join("/"))
}
