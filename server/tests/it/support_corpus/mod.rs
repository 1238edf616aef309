//! The shared cluster-image corpus (`../shared/corpus/cluster-image`) for the corpus tests: where
//! it is, the files it left out, and the committed expectation files.

#![allow(dead_code)] // each test uses a subset

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use kubefile_ls::analysis::ContextFacts;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image")
}

/// `(path relative to the corpus, context directory)` of every build file in INDEX.tsv (a file
/// under `_generated/` belongs to the context its path names without that prefix).
pub fn build_files(root: &Path) -> Vec<(String, PathBuf)> {
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).expect("corpus INDEX.tsv (../shared/corpus beside the repo)");
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let path = line.split('\t').next()?;
            let context_of = path.strip_prefix("_generated/").unwrap_or(path);
            Some((path.to_string(), root.join(Path::new(context_of).parent()?)))
        })
        .collect()
}

/// Every file below `dir`, in path order.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
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
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Files the corpus left out (binaries, files over 200 KB), relative to the corpus root: they
/// exist upstream, so checks must see them.
pub fn omitted_paths(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("OMITTED.tsv")).unwrap_or_default();
    text.lines().skip(1).filter_map(|line| line.split('\t').next()).map(str::to_string).collect()
}

/// The omitted files of one context, relative to it.
pub fn omitted_in<'a>(root: &Path, context_dir: &Path, omitted: &'a [String]) -> Vec<&'a str> {
    let Ok(relative_context) = context_dir.strip_prefix(root) else { return Vec::new() };
    let prefix = format!("{}/", relative_context.display());
    omitted.iter().filter_map(|path| path.strip_prefix(&prefix)).collect()
}

/// Records `inside` (a path relative to the context) and its parent folders as existing.
pub fn add_entry(facts: &mut ContextFacts, inside: &str) {
    let mut partial = String::new();
    for component in inside.split('/') {
        if !partial.is_empty() {
            partial.push('/');
        }
        partial.push_str(component);
        facts.entries.insert(partial.clone());
    }
}

/// `(path, code, line)` rows of a committed expectation file in `tests/fixtures/` (`#` comments
/// and blank lines skipped; the reason column is for readers).
pub fn expected_findings(fixture: &str) -> BTreeSet<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(fixture);
    std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns[0].to_string(), columns[1].to_string(), columns.get(2).unwrap_or(&"").to_string())
        })
        .collect()
}

/// Fails with both differences when the findings are not exactly the expected ones.
pub fn assert_findings(found: &BTreeSet<(String, String, String)>, expected: &BTreeSet<(String, String, String)>) {
    let show = |rows: Vec<&(String, String, String)>| {
        rows.iter().map(|(p, c, l)| format!("{p}\t{c}\t{l}")).collect::<Vec<_>>().join("\n")
    };
    let unexpected: Vec<_> = found.difference(expected).collect();
    let missing: Vec<_> = expected.difference(found).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "false positives (or new findings to review and list with a reason):\n{}\nlisted but no longer reported:\n{}",
        show(unexpected),
        show(missing),
    );
}
