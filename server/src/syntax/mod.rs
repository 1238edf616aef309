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

/// A fresh parser for Kubefiles.
pub fn parser() -> tree_sitter::Parser {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&language())
        .expect("the bundled grammar matches the tree-sitter ABI it was generated for");
    parser
}

/// An immutable parsed file: what analysis works on. Cheap to clone.
#[derive(Clone)]
pub struct SourceFile {
    text: Arc<str>,
    tree: tree_sitter::Tree,
    line_index: Arc<LineIndex>,
}

impl SourceFile {
    /// Parses `text` from scratch.
    pub fn parse(text: &str) -> SourceFile {
        let tree = parser()
            .parse(text, None)
            .expect("parsing without a timeout or cancellation flag always yields a tree");
        SourceFile::from_parts(text.into(), tree)
    }

    /// Wraps text with the tree already parsed for it (by an incremental parse).
    pub fn from_parts(text: Arc<str>, tree: tree_sitter::Tree) -> SourceFile {
        let line_index = Arc::new(LineIndex::new(&text));
        SourceFile { text, tree, line_index }
    }

    /// Like [`from_parts`](Self::from_parts) with the text's line index already built (a
    /// [`document::Document`] keeps one up to date edit by edit instead of rescanning the text).
    pub fn with_line_index(text: Arc<str>, tree: tree_sitter::Tree, line_index: Arc<LineIndex>) -> SourceFile {
        debug_assert_eq!(*line_index, LineIndex::new(&text), "the line index describes the text");
        SourceFile { text, tree, line_index }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn tree(&self) -> &tree_sitter::Tree {
        &self.tree
    }

    pub fn root(&self) -> tree_sitter::Node<'_> {
        self.tree.root_node()
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.line_index
    }

    /// The source text of a node.
    pub fn node_text(&self, node: tree_sitter::Node<'_>) -> &str {
        &self.text[node.byte_range()]
    }
}
