//! `syntax-error`: text the grammar could not parse.

use crate::syntax::SourceFile;

use super::{Diagnostic, Severity};

pub(super) fn check(file: &SourceFile, out: &mut Vec<Diagnostic>) {
    if !file.root().has_error() {
        return;
    }
    let mut cursor = file.root().walk();
    let mut stack = vec![file.root()];
    while let Some(node) = stack.pop() {
        if node.is_missing() {
            out.push(Diagnostic {
                range: node.start_byte()..node.end_byte(),
                severity: Severity::Error,
                code: "syntax-error",
                message: format!("syntax error: missing {}", node.kind()),
                fixes: Vec::new(),
                unnecessary: false,
            });
        } else if node.is_error() {
            out.push(Diagnostic {
                range: node.start_byte()..node.end_byte(),
                severity: Severity::Error,
                code: "syntax-error",
                message: format!("syntax error: unexpected `{}`", first_line(file.node_text(node))),
                fixes: Vec::new(),
                unnecessary: false,
            });
        } else if node.has_error() {
            stack.extend(node.children(&mut cursor));
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}
