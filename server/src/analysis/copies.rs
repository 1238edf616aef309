//! COPY and ADD as the build sees them: sources relative to the context, the destination in the
//! image (relative to WORKDIR), and whether one of them ships `registry/` to the image root.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{model::Model, variables};
use crate::syntax::ast::{self, Instruction};

/// One source operand of a COPY/ADD from the build context.
pub struct CopySource<'t> {
    pub node: Node<'t>,
    /// The path relative to the context root with `./`, leading `/` and trailing `/` removed;
    /// `.` for the context itself. `None` when it holds an unresolved variable.
    pub path: Option<String>,
}

pub struct Copy<'t> {
    pub instruction: Instruction<'t>,
    pub sources: Vec<CopySource<'t>>,
    /// The destination as an absolute path in the image, `None` when unresolved.
    pub destination: Option<String>,
}

/// COPY/ADD instructions of the final stage that read the build context (no `--from`), with
/// destinations resolved against WORKDIR.
pub fn context_copies<'t>(model: &Model<'t>) -> Vec<Copy<'t>> {
    let Some(stage) = model.final_stage() else { return Vec::new() };
    let file = model.file;
    let global = variables::global_args(model);
    let definitions = variables::stage_definitions(model, stage, None, &global);
    let mut workdir = String::from("/");
    let mut copies = Vec::new();
    for instruction in &stage.instructions {
        let visible = || variables::defined_before(&definitions, instruction.node.start_byte());
        match instruction.node.kind_name() {
            "workdir_instruction" => {
                if let Some(path) = instruction.paths().next() {
                    let value = variables::expand(model, path, visible());
                    workdir = join_image_path(&workdir, &value);
                }
            }
            "copy_instruction" | "add_instruction" => {
                if instruction.flag(file, "from").is_some() {
                    continue;
                }
                let operands: Vec<Node<'t>> = match instruction.json_array() {
                    Some(array) => ast::children_of_kind(array, "json_string").collect(),
                    None => instruction.paths().collect(),
                };
                let has_heredoc = ast::children_of_kind(instruction.node, "heredoc_marker").next().is_some();
                let Some((destination, sources)) = operands.split_last() else { continue };
                let visible = visible();
                let resolve = |node: Node<'t>| {
                    let text = if node.kind_name() == "json_string" {
                        serde_json::from_str::<String>(file.node_text(node)).ok()?
                    } else {
                        variables::expand(model, node, visible)
                    };
                    (!ast::literal_text(file, node).contains('$') || !text.contains('$')).then_some(text)
                };
                let destination = resolve(*destination).map(|dest| join_image_path(&workdir, &dest));
                let sources = if has_heredoc && sources.is_empty() {
                    Vec::new()
                } else {
                    sources
                        .iter()
                        .map(|node| CopySource { node: *node, path: resolve(*node).map(normalize_context_source) })
                        .collect()
                };
                copies.push(Copy { instruction: *instruction, sources, destination });
            }
            _ => {}
        }
    }
    copies
}

impl Copy<'_> {
    /// True when this COPY puts the context's `registry/` directory at `/registry` in the image.
    pub fn ships_registry(&self) -> bool {
        let Some(destination) = self.destination.as_deref() else { return false };
        let destination = destination.trim_end_matches('/');
        self.sources.iter().any(|source| match source.path.as_deref() {
            Some("registry") => destination == "/registry",
            Some(".") => destination.is_empty(),
            _ => false,
        })
    }
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
