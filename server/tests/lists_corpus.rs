//! The checks of `analysis::lists` (`images/shim/**`, `images/skopeo/tar.txt`, `manifests/**`,
//! `charts/*.values.yaml`) over every such file of the shared corpus: the corpus is real and
//! built fine, so every error or warning is a false positive unless it is listed, with a reason,
//! in `fixtures/lists-corpus-expected.tsv`. (Hints, such as manifest lines sealos skips, are
//! advice and not compared; the corpus has none.)

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use kubefile_ls::{
    analysis::{lists, Config, Severity},
    context,
    syntax::LineIndex,
};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Files the corpus left out (binaries, files over 200 KB) exist upstream: archive checks must
/// see them.
fn restore_omitted(facts: &mut kubefile_ls::analysis::ContextFacts, root: &Path, context_dir: &Path) {
    let text = std::fs::read_to_string(root.join("OMITTED.tsv")).unwrap_or_default();
    let Ok(relative_context) = context_dir.strip_prefix(root) else { return };
    let prefix = format!("{}/", relative_context.display());
    for path in text.lines().skip(1).filter_map(|line| line.split('\t').next()) {
        let Some(inside) = path.strip_prefix(&prefix) else { continue };
        let mut partial = String::new();
        for component in inside.split('/') {
            if !partial.is_empty() {
                partial.push('/');
            }
            partial.push_str(component);
            facts.entries.insert(partial.clone());
        }
    }
}

#[test]
fn corpus_lists_have_no_unexpected_errors_or_warnings() {
    let root = corpus_root();
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lists-corpus-expected.tsv");
    let expected: BTreeSet<(String, String, String)> = std::fs::read_to_string(&expected_path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns[0].to_string(), columns[1].to_string(), columns.get(2).unwrap_or(&"").to_string())
        })
        .collect();

    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut found = BTreeSet::new();
    let mut checked = 0;
    for path in &files {
        let Some((context_dir, relative, role)) = lists::locate(path) else { continue };
        if !context_dir.starts_with(&root) {
            continue;
        }
        checked += 1;
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let mut facts = context::facts::collect(&context_dir);
        restore_omitted(&mut facts, &root, &context_dir);
        let relative = relative.to_string_lossy().replace('\\', "/");
        let index = LineIndex::new(&text);
        for diagnostic in lists::diagnostics(role, &relative, &text, Some(&facts), &Config::default()) {
            if matches!(diagnostic.severity, Severity::Error | Severity::Warning) {
                let shown = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                let line = index.line_of(diagnostic.range.start) + 1;
                found.insert((shown, diagnostic.code.to_string(), line.to_string()));
            }
        }
    }
    assert!(checked > 50, "expected the corpus's image lists, found {checked}");
    let unexpected: Vec<_> = found.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "false positives (or new findings to review and list with a reason):\n{}\nlisted but no longer reported:\n{}",
        unexpected.iter().map(|(p, c, l)| format!("{p}\t{c}\t{l}")).collect::<Vec<_>>().join("\n"),
        missing.iter().map(|(p, c, l)| format!("{p}\t{c}\t{l}")).collect::<Vec<_>>().join("\n"),
    );
}
