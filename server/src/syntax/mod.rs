//! The syntax layer: parsing with tree-sitter-kubefile, positions, and typed views of the tree.
//!
//! Knows nothing of Sealos, of files on disk, or of LSP. Parsing never fails: a broken Kubefile
//! gives a tree with ERROR/MISSING nodes, and everything above works on that tree.

pub mod ast;
pub mod document;
pub mod kinds;
pub mod line_index;

use std::sync::{Arc, OnceLock};

pub use line_index::{LineCol, LineIndex, PositionEncoding};

/// A byte range in a file's text.
pub type TextRange = std::ops::Range<usize>;

/// The tree-sitter language of Kubefiles.
pub fn language() -> tree_sitter::Language {
    tree_sitter_kubefile::LANGUAGE.into()
}

/// `Node::kind` at the cost of an array lookup. tree-sitter's own `kind()` measures the C string
/// and checks its UTF-8 on every call, which was the largest single cost of analysing a big file.
pub trait NodeKind {
    fn kind_name(&self) -> &'static str;
}

impl NodeKind for tree_sitter::Node<'_> {
    fn kind_name(&self) -> &'static str {
        static LANGUAGE: OnceLock<tree_sitter::Language> = OnceLock::new();
        static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
        let names = NAMES.get_or_init(|| {
            let language: &'static tree_sitter::Language = LANGUAGE.get_or_init(language);
            (0..language.node_kind_count())
                .map(|id| u16::try_from(id).ok().and_then(|id| language.node_kind_for_id(id)).unwrap_or(""))
                .collect()
        });
        // Only ERROR nodes have an id past the table (tree-sitter's built-in error symbol).
        names.get(usize::from(self.kind_id())).copied().unwrap_or("ERROR")
    }
}

/// A field of the grammar, for [`NodeField::field`]: its id is looked up once. tree-sitter's
/// `child_by_field_name` compares the name with the language's field names on every call, which
/// was a tenth of the analysis of a big file.
pub struct Field {
    name: &'static str,
    id: OnceLock<Option<u16>>,
}

impl Field {
    pub const fn new(name: &'static str) -> Field {
        Field { name, id: OnceLock::new() }
    }

    fn id(&self) -> Option<u16> {
        *self.id.get_or_init(|| language().field_id_for_name(self.name).map(u16::from))
    }
}

/// The fields the analysis looks up.
pub mod fields {
    use super::Field;

    pub static ARGUMENT: Field = Field::new("argument");
    pub static AS: Field = Field::new("as");
    pub static IMAGE: Field = Field::new("image");
    pub static KEY: Field = Field::new("key");
    pub static NAME: Field = Field::new("name");
    pub static OPERATOR: Field = Field::new("operator");
    pub static USER: Field = Field::new("user");
    pub static VALUE: Field = Field::new("value");
}

/// `Node::child_by_field_name` by a [`Field`], whose id is known.
pub trait NodeField<'t> {
    fn field(&self, field: &Field) -> Option<tree_sitter::Node<'t>>;
}

impl<'t> NodeField<'t> for tree_sitter::Node<'t> {
    fn field(&self, field: &Field) -> Option<tree_sitter::Node<'t>> {
        self.child_by_field_id(field.id()?)
    }
}

/// A fresh parser for Kubefiles.
pub fn parser() -> tree_sitter::Parser {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&language())
        .expect("the bundled grammar matches the tree-sitter ABI it was generated for");
    parser
}

/// An immutable parsed file: what analysis works on. Cheap to clone (clones share everything,
/// including what [`top_level`](Self::top_level) computed).
#[derive(Clone)]
pub struct SourceFile {
    /// An `Arc<String>` rather than `Arc<str>`: the text copied out of a rope moves in without a
    /// second copy.
    text: Arc<String>,
    parsed: Arc<Parsed>,
    line_index: Arc<LineIndex>,
}

/// The tree, and the list of its top-level nodes once a feature asked for it.
struct Parsed {
    tree: tree_sitter::Tree,
    /// The root's children, walked once per snapshot: walking them costs about as much as a whole
    /// outline (the blank-line `_paragraph` nodes that make incremental parsing cheap are hidden
    /// levels a cursor has to climb through), and every whole-document feature starts with it.
    /// The nodes point into `tree`, which they live next to and never outlive (see `top_level`).
    top_level: OnceLock<Vec<tree_sitter::Node<'static>>>,
}

impl SourceFile {
    /// Parses `text` from scratch.
    pub fn parse(text: &str) -> SourceFile {
        let tree = parser()
            .parse(text, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree");
        SourceFile::from_parts(Arc::new(text.to_owned()), tree)
    }

    /// Wraps text with the tree already parsed for it (by an incremental parse).
    pub fn from_parts(text: Arc<String>, tree: tree_sitter::Tree) -> SourceFile {
        let line_index = Arc::new(LineIndex::new(&text));
        SourceFile::with_line_index(text, tree, line_index)
    }

    /// Like [`from_parts`](Self::from_parts) with the text's line index already built (a
    /// [`document::Document`] keeps one up to date edit by edit instead of rescanning the text).
    pub fn with_line_index(text: Arc<String>, tree: tree_sitter::Tree, line_index: Arc<LineIndex>) -> SourceFile {
        debug_assert_eq!(*line_index, LineIndex::new(&text), "the line index describes the text");
        SourceFile { text, parsed: Arc::new(Parsed { tree, top_level: OnceLock::new() }), line_index }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn tree(&self) -> &tree_sitter::Tree {
        &self.parsed.tree
    }

    pub fn root(&self) -> tree_sitter::Node<'_> {
        self.parsed.tree.root_node()
    }

    /// The root's children in order (instructions, comments, directives, errors), as a cursor
    /// visits them; walked on the first call for this snapshot, then shared by every clone.
    pub fn top_level(&self) -> &[tree_sitter::Node<'_>] {
        self.parsed.top_level.get_or_init(|| {
            let mut nodes = Vec::new();
            let mut cursor = self.parsed.tree.walk();
            if cursor.goto_first_child() {
                loop {
                    nodes.push(cursor.node());
                    if !cursor.goto_next_sibling() {
                        break;
                    }
                }
            }
            // SAFETY: the nodes point into `self.parsed.tree` (a handle to tree-sitter's heap
            // tree, which never moves or changes). They are stored in the same `Parsed` as that
            // tree, dropped with it, and handed out only with the lifetime of a borrow of `self`,
            // so no node is used after the tree is freed. `Node` has no destructor.
            unsafe { std::mem::transmute::<Vec<tree_sitter::Node<'_>>, Vec<tree_sitter::Node<'static>>>(nodes) }
        })
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.line_index
    }

    /// The source text of a node.
    pub fn node_text(&self, node: tree_sitter::Node<'_>) -> &str {
        &self.text[node.byte_range()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(file: &SourceFile) -> Vec<&'static str> {
        file.top_level().iter().map(|node| node.kind_name()).collect()
    }

    #[test]
    fn fields_find_the_children_their_names_find() {
        let file = SourceFile::parse("FROM alpine AS build\nENV A=${B:-c}\nUSER me\n");
        let mut nodes = Vec::new();
        let mut cursor = file.root().walk();
        'walk: loop {
            nodes.push(cursor.node());
            if cursor.goto_first_child() {
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    break 'walk;
                }
            }
        }
        let all = [
            &fields::ARGUMENT,
            &fields::AS,
            &fields::IMAGE,
            &fields::KEY,
            &fields::NAME,
            &fields::OPERATOR,
            &fields::USER,
            &fields::VALUE,
        ];
        let mut found = 0;
        for field in all {
            assert!(field.id().is_some(), "the grammar has a field `{}`", field.name);
            for node in &nodes {
                let by_name = node.child_by_field_name(field.name);
                assert_eq!(node.field(field), by_name, "`{}` of {node:?}", field.name);
                found += usize::from(by_name.is_some());
            }
        }
        assert!(found >= all.len(), "each field is found somewhere in the sample ({found})");
        assert_eq!(Field::new("no such field").id(), None);
    }

    #[test]
    fn top_level_lists_the_root_children_across_paragraphs() {
        let file = SourceFile::parse("# escape=\\\nFROM a\n\n# note\nRUN b \\\n  c\n\n\nCOPY x y\n");
        assert_eq!(kinds(&file), ["parser_directive", "from_instruction", "comment", "run_instruction", "copy_instruction"]);
        let mut cursor = file.root().walk();
        assert_eq!(file.top_level(), file.root().children(&mut cursor).collect::<Vec<_>>());
        assert!(SourceFile::parse("").top_level().is_empty());
    }

    #[test]
    fn top_level_is_computed_again_for_an_edited_document() {
        let mut document = document::Document::new("FROM a\nRUN b\n", 1);
        let before = document.snapshot();
        assert_eq!(kinds(&before), ["from_instruction", "run_instruction"]);
        document.apply_change(Some(LineCol { line: 1, col: 0 }..LineCol { line: 1, col: 0 }), "COPY c d\n\n", PositionEncoding::Utf16);
        let after = document.snapshot();
        assert_eq!(kinds(&after), ["from_instruction", "copy_instruction", "run_instruction"]);
        // The snapshot taken before the edit keeps its own list, still valid for its own tree.
        assert_eq!(kinds(&before), ["from_instruction", "run_instruction"]);
        assert_eq!(after.top_level()[2].start_byte(), "FROM a\nCOPY c d\n\n".len());
        // Clones share the list.
        let clone = after.clone();
        assert!(std::ptr::eq(clone.top_level().as_ptr(), after.top_level().as_ptr()));
    }
}
