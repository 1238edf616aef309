//! The checks of `analysis::lists` (`images/shim/**`, `images/skopeo/tar.txt`, `manifests/**`,
//! `charts/*.values.yaml`) over every such file of the shared corpus: the corpus is real and
//! built fine, so every error or warning is a false positive unless it is listed, with a reason,
//! in `fixtures/lists-corpus-expected.tsv`. (Hints, such as manifest lines sealos skips, are
//! advice and not compared; the corpus has none.)

use crate::support_corpus;

use std::{
    collections::BTreeSet,
    path::Path,
};

use kubefile_ls::{
    analysis::{lists, Config, Severity},
    context,
    syntax::LineIndex,
};

/// Files the corpus left out (binaries, files over 200 KB) exist upstream: archive checks must
/// see them.
fn restore_omitted(facts: &mut kubefile_ls::analysis::ContextFacts, root: &Path, context_dir: &Path, omitted: &[String]) {
    for inside in support_corpus::omitted_in(root, context_dir, omitted) {
        support_corpus::add_entry(facts, inside);
    }
}

#[test]
fn corpus_lists_have_no_unexpected_errors_or_warnings() {
    let root = support_corpus::root();
    let expected = support_corpus::expected_findings("lists-corpus-expected.tsv");
    let omitted = support_corpus::omitted_paths(&root);

    let files = support_corpus::files_below(&root);
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
        restore_omitted(&mut facts, &root, &context_dir, &omitted);
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
    support_corpus::assert_findings(&found, &expected);
}
