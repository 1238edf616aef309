//! Every build file of the labring-actions/cluster-image corpus parses without ERROR or MISSING
//! nodes, and an incremental re-parse after an edit gives the same tree as a fresh parse.
//!
//! The corpus lives outside the repository, at `../shared/corpus/cluster-image` next to the
//! checkout (set `KUBEFILE_LS_CORPUS` to point elsewhere). A missing corpus fails the test, since
//! a silently skipped corpus hides regressions; set `KUBEFILE_LS_SKIP_CORPUS=1` to skip it on
//! purpose.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tree_sitter::{InputEdit, Node, Parser, Point, Tree};

fn corpus_root() -> Option<PathBuf> {
    if std::env::var_os("KUBEFILE_LS_SKIP_CORPUS").is_some_and(|v| v == "1") {
        return None;
    }
    let root = match std::env::var_os("KUBEFILE_LS_CORPUS") {
        Some(path) => PathBuf::from(path),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image"),
    };
    assert!(
        root.join("INDEX.tsv").is_file(),
        "corpus not found at {} (set KUBEFILE_LS_CORPUS, or KUBEFILE_LS_SKIP_CORPUS=1 to skip)",
        root.display()
    );
    Some(root)
}

/// Kubefile, Dockerfile, *.dockerfile, Kubefile.variant*, and the files under _generated/ that
/// init.sh scripts write (plus the raw heredoc bodies they were rendered from).
fn is_build_file(relative: &Path) -> bool {
    let Some(name) = relative.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let generated = relative.starts_with("_generated");
    name == "Kubefile"
        || name == "Dockerfile"
        || name.ends_with(".dockerfile")
        || name.starts_with("Kubefile.variant")
        || (generated && (name.starts_with("Kubefile") || name.starts_with("Dockerfile")))
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        let file_type = entry.file_type().unwrap();
        if file_type.is_dir() {
            walk(root, &path, out);
        } else if file_type.is_file() {
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if is_build_file(&relative) {
                out.push(relative);
            }
        }
    }
}

fn build_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    walk(root, root, &mut files);

    // The walk must find every build file INDEX.tsv lists (one has a directory ending in a space).
    let found: BTreeSet<&Path> = files.iter().map(PathBuf::as_path).collect();
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let listed: Vec<&str> = index
        .lines()
        .skip(1)
        .filter_map(|line| line.split('\t').next())
        .collect();
    assert!(
        listed.len() >= 318,
        "INDEX.tsv lists only {} files",
        listed.len()
    );
    let missed: Vec<&&str> = listed
        .iter()
        .filter(|path| !found.contains(Path::new(path)))
        .collect();
    assert!(
        missed.is_empty(),
        "build files listed in INDEX.tsv but not found by the walk: {missed:?}"
    );
    files
}

fn parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_kubefile::LANGUAGE.into())
        .unwrap();
    parser
}

/// ERROR and MISSING nodes as `line:column kind`, 1-based.
fn syntax_errors(tree: &Tree) -> Vec<String> {
    fn visit(node: Node, out: &mut Vec<String>) {
        if node.is_error() || node.is_missing() {
            let position = node.start_position();
            let what = if node.is_missing() {
                format!("MISSING {}", node.kind())
            } else {
                "ERROR".to_string()
            };
            out.push(format!(
                "{}:{} {what}",
                position.row + 1,
                position.column + 1
            ));
        }
        if node.has_error() {
            let mut cursor = node.walk();
            for child in node.children(&mut cursor) {
                visit(child, out);
            }
        }
    }
    let mut out = Vec::new();
    visit(tree.root_node(), &mut out);
    out
}

#[test]
fn every_corpus_build_file_parses_without_errors() {
    let Some(root) = corpus_root() else { return };
    let files = build_files(&root);
    let mut parser = parser();
    let mut offenders = String::new();
    for relative in &files {
        let text = std::fs::read_to_string(root.join(relative)).unwrap();
        let tree = parser.parse(&text, None).unwrap();
        let errors = syntax_errors(&tree);
        if !errors.is_empty() {
            writeln!(offenders, "{}: {}", relative.display(), errors.join(", ")).unwrap();
        }
    }
    assert!(
        offenders.is_empty(),
        "syntax errors in {} corpus files:\n{offenders}",
        offenders.lines().count()
    );
}

/// Every node with its kind and range: two trees are the same when their dumps are.
fn dump(tree: &Tree) -> String {
    let mut out = String::new();
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        let node = cursor.node();
        let (start, end) = (node.start_position(), node.end_position());
        let missing = if node.is_missing() { "MISSING " } else { "" };
        writeln!(
            out,
            "{:depth$}{missing}{} {start}-{end}",
            "",
            node.kind(),
            depth = depth * 2
        )
        .unwrap();
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
            depth -= 1;
        }
    }
}

fn point_at(text: &str, byte: usize) -> Point {
    let before = &text[..byte];
    let row = before.matches('\n').count();
    let column = byte - before.rfind('\n').map_or(0, |i| i + 1);
    Point::new(row, column)
}

/// Replaces `start..end` with `insert`, re-parses incrementally, and compares with a fresh parse.
fn check_edit(
    parser: &mut Parser,
    text: &str,
    tree: &Tree,
    start: usize,
    end: usize,
    insert: &str,
) -> Option<String> {
    let mut edited = String::with_capacity(text.len() + insert.len());
    edited.push_str(&text[..start]);
    edited.push_str(insert);
    edited.push_str(&text[end..]);
    let mut old = tree.clone();
    old.edit(&InputEdit {
        start_byte: start,
        old_end_byte: end,
        new_end_byte: start + insert.len(),
        start_position: point_at(text, start),
        old_end_position: point_at(text, end),
        new_end_position: point_at(&edited, start + insert.len()),
    });
    let incremental = parser.parse(&edited, Some(&old)).unwrap();
    let fresh = parser.parse(&edited, None).unwrap();
    let (incremental, fresh) = (dump(&incremental), dump(&fresh));
    (incremental != fresh).then(|| {
        let line = incremental
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        format!(
            "edit {start}..{end} -> {insert:?}: trees differ from dump line {}",
            line + 1
        )
    })
}

#[test]
fn incremental_reparse_matches_a_fresh_parse() {
    let Some(root) = corpus_root() else { return };
    let files = build_files(&root);
    let mut parser = parser();
    let mut offenders = String::new();
    // Edits that change what the scanner remembers: continuations, heredocs, quotes, comments.
    let inserts = ["x", " \\\n", "\n", "<<EOF\n", "\"", "# c\n", "${", "$(A)"];
    for relative in &files {
        let text = std::fs::read_to_string(root.join(relative)).unwrap();
        let tree = parser.parse(&text, None).unwrap();
        for fraction in [0, 1, 3, 5, 7] {
            let mut at = text.len() * fraction / 8;
            while !text.is_char_boundary(at) {
                at += 1;
            }
            for insert in inserts {
                if let Some(problem) = check_edit(&mut parser, &text, &tree, at, at, insert) {
                    writeln!(offenders, "{}: {problem}", relative.display()).unwrap();
                }
            }
            let mut next = at + 1;
            while next < text.len() && !text.is_char_boundary(next) {
                next += 1;
            }
            if next <= text.len() && at < text.len() {
                if let Some(problem) = check_edit(&mut parser, &text, &tree, at, next, "") {
                    writeln!(offenders, "{}: {problem}", relative.display()).unwrap();
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "incremental re-parse differs:\n{offenders}"
    );
}
