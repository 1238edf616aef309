//! `kubefile-ls images --format json` (charts rendered with helm) on every build context of the
//! cluster-image corpus, compared with `tests/fixtures/context/corpus-images.tsv`. See
//! `tests/fixtures/context/README.md` for the format and how the expectations were reviewed.
//!
//! `UPDATE_EXPECT=1 cargo test -p kubefile-ls --test it context_corpus::` rewrites the file.

use crate::context_fixtures as support;

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::Mutex,
    thread,
};

use serde_json::Value;

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

/// What `kubefile-ls images --format json` printed for one context, and its exit status.
struct Output {
    json: Value,
    success: bool,
}

fn run_images(context: &Path, helm: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"))
        .args(["images", "--format", "json", "--helm"])
        .arg(helm)
        .arg(context)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{}: not JSON ({e}): {}", context.display(), String::from_utf8_lossy(&output.stderr))
    });
    Output { json, success: output.status.success() }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("-")
}

/// The source as the expectations spell it (`Chart`, `Manifest`, `Shim`, `Tar`).
fn source_name(value: &Value) -> String {
    let source = text(value, "source");
    let mut name = source[..1].to_uppercase();
    name.push_str(&source[1..]);
    name
}

/// One TSV row per fact, so a change shows up as a readable line diff.
fn rows(context: &str, corpus: &Path, output: &Output, trimmed: &BTreeSet<String>) -> Vec<String> {
    let clean =
        |text: &str| text.replace(&corpus.display().to_string(), "<corpus>").replace('\t', " ").replace('\n', "\\n");
    let json = &output.json;
    let list = |key: &str| json[key].as_array().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for image in list("images") {
        rows.push(format!(
            "{context}\timage\t{}\t{}\t{}\t{}:{}",
            text(&image, "image"),
            text(&image, "registry_path"),
            source_name(&image),
            text(&image, "file"),
            image["line"]
        ));
    }
    for skipped in list("skipped") {
        rows.push(format!(
            "{context}\tskipped\t{}:{}\t{}\t{}",
            text(&skipped, "file"),
            skipped["line"],
            clean(text(&skipped, "text")),
            clean(text(&skipped, "reason"))
        ));
    }
    for collision in list("collisions") {
        let images: BTreeSet<&str> =
            collision["images"].as_array().into_iter().flatten().map(|i| text(i, "image")).collect();
        rows.push(format!(
            "{context}\tcollision\t{}\t{}",
            text(&collision, "registry_path"),
            images.into_iter().collect::<Vec<_>>().join(" ")
        ));
    }
    for orphan in list("orphan_values_files") {
        rows.push(format!("{context}\torphan-values\t{}", orphan.as_str().unwrap_or("-")));
    }
    let errors = list("errors");
    for error in &errors {
        rows.push(format!("{context}\terror\t{}", clean(error.as_str().unwrap_or("-"))));
    }
    assert_eq!(output.success, errors.is_empty(), "{context}: exit status and errors disagree");
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
    let helm = support::helm();
    let results: Mutex<Vec<Vec<String>>> = Mutex::new(vec![Vec::new(); contexts.len()]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Charts are rendered in parallel inside a context; contexts run side by side as well so the
    // many chart-less ones do not wait on helm.
    thread::scope(|scope| {
        for _ in 0..thread::available_parallelism().map_or(2, |n| n.get()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(context) = contexts.get(i) else { break };
                let output = run_images(&corpus.join(context), &helm);
                results.lock().unwrap()[i] = rows(context, &corpus, &output, &trimmed);
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
