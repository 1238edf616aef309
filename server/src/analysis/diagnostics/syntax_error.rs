//! `syntax-error`: text the grammar could not parse.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use super::{Diagnostic, Severity};
use crate::syntax::SourceFile;

pub(super) const CODE: &str = "syntax-error";

/// The ERROR and MISSING nodes in `node`, outermost first (an error's inside is not reported).
pub(super) fn check_node(file: &SourceFile, node: Node<'_>, out: &mut Vec<Diagnostic>) {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        if node.is_missing() {
            let message = format!("syntax error: `{}` is missing here", node.kind_name());
            out.push(Diagnostic::new(CODE, Severity::Error, node.start_byte()..node.end_byte(), message));
        } else if node.is_error() {
            let text = file.node_text(node).lines().next().unwrap_or("").trim();
            let message = format!("syntax error: cannot parse `{text}`");
            out.push(Diagnostic::new(CODE, Severity::Error, node.start_byte()..node.end_byte(), message));
        } else if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::check;

    #[test]
    fn fires_on_unterminated_json_string_in_copy() {
        expect![[r#"
            2:12-2:14 error[syntax-error] syntax error: cannot parse `"b`
        "#]]
        .assert_eq(&check("syntax-error", "FROM scratch\nCOPY [\"a\", \"b\nCOPY a b\n"));
    }

    #[test]
    fn does_not_fire_on_valid_file() {
        expect![[""]].assert_eq(&check("syntax-error", "FROM scratch\nCOPY . .\nCMD [\"bash x.sh\"]\n"));
    }
}
