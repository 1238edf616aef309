//! Image extraction (charts rendered with helm) on every build context of the cluster-image
//! corpus, compared with `tests/fixtures/context/corpus-images.tsv`. See
//! `tests/fixtures/context/README.md` for the format and how the expectations were reviewed.
//!
//! `UPDATE_EXPECT=1 cargo test -p kubefile-ls --test context_corpus` rewrites the file.

#[path = "fixtures/context/support.rs"]
mod support;

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    sync::Mutex,
    thread,
};

use kubefile_ls::context::{
    images::{extract, ImageIndex},
    BuildContext,
};

const GENERATED_PREFIX: &str = "_generated/";

fn corpus_root() -> PathBuf {
    // The repository root is two levels above this crate; `shared/` sits beside the clone.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image");
    assert!(root.join("INDEX.tsv").is_file(), "corpus not found at {}", root.display());
    root
}

/// Context directories: the directory of every build file in INDEX.tsv. Build files under
/// `_generated/` were written by `init.sh`; their context is the path without the prefix.
fn contexts(corpus: &Path) -> Vec<String> {
    let index = fs::read_to_string(corpus.join("INDEX.tsv")).unwrap();
    let contexts: BTreeSet<String> = index
        .lines()
        .skip(1)
        .filter_map(|row| row.split('\t').next())
        .map(|path| path.strip_prefix(GENERATED_PREFIX).unwrap_or(path))
        .map(|path| path.rsplit_once('/').map_or("", |(dir, _)| dir).to_owned())
        .collect();
    contexts.into_iter().collect()
}

/// Chart directories the corpus trimmed to their metadata (OMITTED.tsv reason
/// `trimmed-chart:<dir>`). Without templates helm renders nothing from them, so their images are
/// missing from the expectations; each gets a row saying so.
fn trimmed_charts(corpus: &Path) -> BTreeSet<String> {
    let omitted = fs::read_to_string(corpus.join("OMITTED.tsv")).unwrap();
    omitted
        .lines()
        .filter_map(|row| row.rsplit('\t').next()?.strip_prefix("trimmed-chart:").map(str::to_owned))
        .collect()
}

/// One TSV row per fact, so a change shows up as a readable line diff.
fn rows(context: &str, corpus: &Path, index: &ImageIndex, trimmed: &BTreeSet<String>) -> Vec<String> {
    let clean =
        |text: &str| text.replace(&corpus.display().to_string(), "<corpus>").replace('\t', " ").replace('\n', "\\n");
    let mut rows = Vec::new();
    for image in &index.images {
        rows.push(format!(
            "{context}\timage\t{}\t{}\t{:?}\t{}:{}",
            image.image,
            image.registry_path.as_deref().unwrap_or("-"),
            image.source,
            image.file.display(),
            image.line
        ));
    }
    for skipped in &index.skipped {
        rows.push(format!(
            "{context}\tskipped\t{}:{}\t{}\t{}",
            skipped.file.display(),
            skipped.line,
            clean(&skipped.text),
            clean(&skipped.reason.to_string())
        ));
    }
    for collision in &index.collisions {
        let images: BTreeSet<&str> = collision.images.iter().map(|i| i.image.as_str()).collect();
        rows.push(format!(
            "{context}\tcollision\t{}\t{}",
            collision.registry_path,
            images.into_iter().collect::<Vec<_>>().join(" ")
        ));
    }
    for orphan in &index.orphan_values_files {
        rows.push(format!("{context}\torphan-values\t{}", orphan.display()));
    }
    for error in &index.errors {
        rows.push(format!("{context}\terror\t{}", clean(&error.to_string())));
    }
    for dir in trimmed {
        let inside = if dir == context { Some(".") } else { dir.strip_prefix(&format!("{context}/")) };
        if let Some(inside) = inside {
            rows.push(format!(
                "{context}\ttrimmed-chart\t{inside}\ttemplates omitted from the corpus, its images are missing"
            ));
        }
    }
    if rows.is_empty() {
        rows.push(format!("{context}\tno-images"));
    }
    rows
}

#[test]
fn corpus_images_match_the_reviewed_expectations() {
    let corpus = corpus_root();
    let contexts = contexts(&corpus);
    let trimmed = trimmed_charts(&corpus);
    let options = support::rendering();
    let results: Mutex<Vec<Vec<String>>> = Mutex::new(vec![Vec::new(); contexts.len()]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Charts are rendered in parallel inside a context; contexts run side by side as well so the
    // many chart-less ones do not wait on helm.
    thread::scope(|scope| {
        for _ in 0..thread::available_parallelism().map_or(2, |n| n.get()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(context) = contexts.get(i) else { break };
                let index = extract(&BuildContext::new(corpus.join(context)), &options);
                results.lock().unwrap()[i] = rows(context, &corpus, &index, &trimmed);
            });
        }
    });
    let mut actual = String::from("context\tkind\tdetails...\n");
    for row in results.into_inner().unwrap().into_iter().flatten() {
        actual.push_str(&row);
        actual.push('\n');
    }

    let expected_path = support::fixture("corpus-images.tsv");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        fs::write(&expected_path, &actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&expected_path).unwrap_or_default();
    if expected != actual {
        let expected_rows: BTreeSet<&str> = expected.lines().collect();
        let actual_rows: BTreeSet<&str> = actual.lines().collect();
        let mut diff = String::new();
        for row in expected_rows.difference(&actual_rows).take(40) {
            diff.push_str(&format!("- {row}\n"));
        }
        for row in actual_rows.difference(&expected_rows).take(40) {
            diff.push_str(&format!("+ {row}\n"));
        }
        panic!(
            "corpus extraction changed ({} contexts). Review, then run with UPDATE_EXPECT=1:\n{diff}",
            contexts.len()
        );
    }
}
