//! `kubefile-ls check` semantics over every Sealos build file of the shared corpus: the corpus is
//! real and built fine, so every error or warning is a false positive unless it is listed, with a
//! reason, in `fixtures/check-corpus-expected.tsv`.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use kubefile_ls::{
    analysis::{diagnostics_for, Config, Severity},
    context, workspace,
    syntax::SourceFile,
};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image")
}

/// `(build file, context directory)` for every sealos-built file in INDEX.tsv.
fn sealos_build_files(root: &Path) -> Vec<(String, PathBuf)> {
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).expect("corpus INDEX.tsv (../shared/corpus beside the repo)");
    index
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut columns = line.split('\t');
            let path = columns.next()?;
            let category = columns.next()?;
            if !category.starts_with("sealos") {
                return None;
            }
            let context_of = path.strip_prefix("_generated/").unwrap_or(path);
            let context = root.join(Path::new(context_of).parent()?);
            Some((path.to_string(), context))
        })
        .collect()
}

/// Files the corpus left out (binaries, files over 200 KB): they exist upstream, so COPY checks
/// must see them.
fn omitted_paths(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("OMITTED.tsv")).unwrap_or_default();
    text.lines().skip(1).filter_map(|line| line.split('\t').next()).map(str::to_string).collect()
}

fn restore_omitted(facts: &mut kubefile_ls::analysis::ContextFacts, root: &Path, context_dir: &Path, omitted: &[String]) {
    let Ok(relative_context) = context_dir.strip_prefix(root) else { return };
    let prefix = format!("{}/", relative_context.display());
    for path in omitted {
        let Some(inside) = path.strip_prefix(&prefix) else { continue };
        // An omitted manifest held images the scan could not see; stand in for them.
        if inside.starts_with("manifests/") && facts.images.is_empty() {
            facts.images.push(kubefile_ls::analysis::ImageSource {
                image: format!("(images of omitted {inside})"),
                source: "manifest",
                file: inside.to_string(),
                line: 1,
            });
        }
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
fn corpus_has_no_unexpected_errors_or_warnings() {
    let root = corpus_root();
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check-corpus-expected.tsv");
    let expected_text = std::fs::read_to_string(&expected_path).unwrap_or_default();
    let expected: BTreeSet<(String, String, String)> = expected_text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            (columns[0].to_string(), columns[1].to_string(), columns.get(2).unwrap_or(&"").to_string())
        })
        .collect();

    let omitted = omitted_paths(&root);
    let files = sealos_build_files(&root);
    assert!(files.len() > 250, "expected the whole corpus, found {} sealos build files", files.len());
    let mut found = BTreeSet::new();
    for (path, context_dir) in &files {
        let text = std::fs::read_to_string(root.join(path)).unwrap();
        let file = SourceFile::parse(&text);
        let mut facts = context::facts::collect(context_dir);
        restore_omitted(&mut facts, &root, context_dir, &omitted);
        let kind = workspace::file_kind(Path::new(path), &facts, &file);
        for diagnostic in diagnostics_for(&file, kind, Some(&facts), &Config::default()) {
            if matches!(diagnostic.severity, Severity::Error | Severity::Warning) {
                let line = file.line_index().line_of(diagnostic.range.start) + 1;
                found.insert((path.clone(), diagnostic.code.to_string(), line.to_string()));
            }
        }
    }
    let expected_keys: BTreeSet<(String, String, String)> = expected.clone();
    let unexpected: Vec<_> = found.difference(&expected_keys).collect();
    let missing: Vec<_> = expected_keys.difference(&found).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "false positives (or new findings to review and list with a reason):\n{}\nlisted but no longer reported:\n{}",
        unexpected.iter().map(|(p, c, l)| format!("{p}\t{c}\t{l}")).collect::<Vec<_>>().join("\n"),
        missing.iter().map(|(p, c, l)| format!("{p}\t{c}\t{l}")).collect::<Vec<_>>().join("\n"),
    );
}
