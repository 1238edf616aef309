//! `kubefile-ls parse FILE`: the syntax tree as an S-expression, the debugging window into the grammar.

use std::{fmt::Write as _, path::PathBuf, process::ExitCode};

use clap::Args;

use crate::syntax::SourceFile;

#[derive(Args)]
pub struct ParseArgs {
    /// Kubefile to parse.
    file: PathBuf,
    /// Print only ERROR and MISSING nodes (`path:line:col: ...`) and exit 1 if there are any.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: ParseArgs) -> ExitCode {
    let text = match std::fs::read(&args.file) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(error) => {
            eprintln!("kubefile-ls: cannot read {}: {error}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let file = SourceFile::parse(&text);
    if args.quiet {
        let problems = problem_nodes(&file);
        for (node, what) in &problems {
            let start = node.start_position();
            println!("{}:{}:{}: {what} {}", args.file.display(), start.row + 1, start.column + 1, node.kind());
        }
        return if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) };
    }
    print!("{}", sexp(&file));
    ExitCode::SUCCESS
}

fn problem_nodes(file: &SourceFile) -> Vec<(tree_sitter::Node<'_>, &'static str)> {
    let mut found = Vec::new();
    let mut stack = vec![file.root()];
    while let Some(node) = stack.pop() {
        if node.is_missing() {
            found.push((node, "MISSING"));
        } else if node.is_error() {
            found.push((node, "ERROR"));
        } else if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    found.sort_by_key(|(node, _)| node.start_byte());
    found
}

/// Named nodes with their field names and `[row, col] - [row, col]` ranges, indented like
/// `tree-sitter parse`.
fn sexp(file: &SourceFile) -> String {
    let mut out = String::new();
    let mut cursor = file.root().walk();
    let mut depth = 0usize;
    let mut first = true;
    loop {
        let node = cursor.node();
        if node.is_named() || node.is_missing() {
            if !first {
                out.push('\n');
            }
            first = false;
            out.push_str(&"  ".repeat(depth));
            if let Some(field) = cursor.field_name() {
                let _ = write!(out, "{field}: ");
            }
            let (start, end) = (node.start_position(), node.end_position());
            let kind = if node.is_missing() { format!("MISSING {}", node.kind()) } else { node.kind().to_string() };
            let _ = write!(out, "({kind} [{}, {}] - [{}, {}]", start.row, start.column, end.row, end.column);
        }
        if cursor.goto_first_child() {
            if node.is_named() || node.is_missing() {
                depth += 1;
            }
            continue;
        }
        if node.is_named() || node.is_missing() {
            out.push(')');
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                out.push('\n');
                return out;
            }
            let parent = cursor.node();
            if parent.is_named() || parent.is_missing() {
                depth -= 1;
                out.push(')');
            }
        }
    }
}
