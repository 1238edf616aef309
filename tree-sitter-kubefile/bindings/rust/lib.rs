//! The Kubefile grammar for [tree-sitter].
//!
//! A Kubefile is a Dockerfile read by `sealos build`: the same syntax (BuildKit rules, parsed by
//! buildah/imagebuilder) plus Sealos `$(VAR)` templates in CMD and ENTRYPOINT.
//!
//! ```
//! let mut parser = tree_sitter::Parser::new();
//! parser.set_language(&tree_sitter_kubefile::LANGUAGE.into()).unwrap();
//! let tree = parser.parse("FROM scratch\nCOPY registry registry\n", None).unwrap();
//! assert!(!tree.root_node().has_error());
//! ```
//!
//! [tree-sitter]: https://tree-sitter.github.io/

use tree_sitter_language::LanguageFn;

extern "C" {
    fn tree_sitter_kubefile() -> *const ();
}

/// The tree-sitter [`LanguageFn`] for this grammar.
pub const LANGUAGE: LanguageFn = unsafe { LanguageFn::from_raw(tree_sitter_kubefile) };

/// The content of the [`node-types.json`] file for this grammar.
///
/// [`node-types.json`]: https://tree-sitter.github.io/tree-sitter/using-parsers/6-static-node-types
pub const NODE_TYPES: &str = include_str!("../../src/node-types.json");

/// Syntax highlighting query.
pub const HIGHLIGHTS_QUERY: &str = include_str!("../../queries/highlights.scm");
/// Language injection query (bash in RUN/CMD/ENTRYPOINT and heredoc bodies).
pub const INJECTIONS_QUERY: &str = include_str!("../../queries/injections.scm");
/// Local variable definitions and references (ENV/ARG).
pub const LOCALS_QUERY: &str = include_str!("../../queries/locals.scm");
/// Folding query.
pub const FOLDS_QUERY: &str = include_str!("../../queries/folds.scm");

#[cfg(test)]
mod tests {
    #[test]
    fn test_can_load_grammar() {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&super::LANGUAGE.into())
            .expect("Error loading Kubefile parser");
    }
}
