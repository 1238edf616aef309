//! `kubefile-ls check` semantics over every Sealos build file of the shared corpus: the corpus is
//! real and built fine, so every error or warning is a false positive unless it is listed, with a
//! reason, in `fixtures/check-corpus-expected.tsv`.

use crate::support_corpus;

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

use kubefile_ls::{
    analysis::{diagnostics_for, Config, Severity},
    context, workspace,
    syntax::SourceFile,
};

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

/// Omitted files exist upstream; an omitted manifest held images the scan could not see, so one
/// stands in for them.
fn restore_omitted(facts: &mut kubefile_ls::analysis::ContextFacts, root: &Path, context_dir: &Path, omitted: &[String]) {
    for inside in support_corpus::omitted_in(root, context_dir, omitted) {
        if inside.starts_with("manifests/") && facts.images.is_empty() {
            facts.images.push(kubefile_ls::analysis::ImageSource {
                image: format!("(images of omitted {inside})"),
                source: "manifest",
                file: inside.to_string(),
                line: 1,
            });
        }
        support_corpus::add_entry(facts, inside);
    }
}

#[test]
fn corpus_has_no_unexpected_errors_or_warnings() {
    let root = support_corpus::root();
    let expected = support_corpus::expected_findings("check-corpus-expected.tsv");

    let omitted = support_corpus::omitted_paths(&root);
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
    support_corpus::assert_findings(&found, &expected);
}
