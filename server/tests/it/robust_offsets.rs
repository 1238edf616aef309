//! Zero panics on every corpus file at every cursor offset for every request kind.
//!
//! Every build file of the cluster-image corpus (and every `images/shim` list) gets every
//! whole-file request once and every positional request at cursor offsets (`fuzz/src/requests.rs`,
//! shared with the `analysis` fuzz target), with the facts of its real build context. Each call
//! runs under `catch_unwind`; failures are grouped by request and panic location and reported
//! with the file, the offset and the text around it.
//!
//! Offsets: to stay within a CI budget (a debug build, two cores), candidates are every offset where
//! a syntax node starts or ends, every line end and every `STRIDE`-th byte, of which at most
//! `MAX_OFFSETS_PER_FILE` evenly spread ones are tried: deterministic, ~10 s.
//! `KUBEFILE_ROBUST_ALL_OFFSETS=1` walks every character boundary of every file instead (tens of
//! minutes; run it after touching an analysis feature).

use crate::support_corpus;

use crate::requests;

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, BTreeSet},
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
    sync::Once,
    time::{Duration, Instant},
};

use kubefile_ls::{
    analysis::{ContextFacts, FileKind},
    context,
};
use requests::{cursor_offsets, Request, Subject, AT_OFFSET, SHIM_AT_OFFSET, SHIM_WHOLE_FILE, WHOLE_FILE};

/// Besides the edges of syntax nodes and lines, every `STRIDE`-th byte offset.
const STRIDE: usize = 5;
/// At most this many of those offsets per file (evenly spread), so the walk over the whole corpus
/// stays within CI's time; `KUBEFILE_ROBUST_ALL_OFFSETS=1` lifts both limits.
const MAX_OFFSETS_PER_FILE: usize = 40;

/// Every file of the corpus that sealos reads as an image list (`images/shim/**`), with its
/// context directory.
fn shim_lists(root: &Path) -> Vec<(String, PathBuf)> {
    support_corpus::files_below(root)
        .into_iter()
        .filter_map(|path| {
            let (context, _, _) = kubefile_ls::analysis::lists::locate(&path)?;
            Some((path.strip_prefix(root).ok()?.display().to_string(), context))
        })
        .collect()
}

thread_local! {
    /// The message and location of the last panic on this thread (the hook records it instead of
    /// printing thousands of backtraces).
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    /// Set while this thread runs a request under `Failures::run`; other tests in this binary
    /// keep the default panic output.
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

fn record_panics_quietly() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !RECORDING.get() {
                return default_hook(info);
            }
            let location = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            LAST_PANIC.with_borrow_mut(|last| *last = Some(format!("{location}: {message}")));
        }));
    });
}

/// Failures grouped by (request, panic location and message).
#[derive(Default)]
struct Failures {
    groups: BTreeMap<(String, String), (usize, String)>,
    /// Time spent per request, for the summary.
    time: BTreeMap<&'static str, Duration>,
}

impl Failures {
    fn run(&mut self, name: &'static str, path: &str, subject: &Subject, offset: Option<usize>, request: fn(&Subject, usize)) {
        let started = Instant::now();
        RECORDING.set(true);
        let outcome = catch_unwind(AssertUnwindSafe(|| request(subject, offset.unwrap_or(0))));
        RECORDING.set(false);
        *self.time.entry(name).or_default() += started.elapsed();
        if outcome.is_ok() {
            return;
        }
        let panic = LAST_PANIC.with_borrow_mut(Option::take).unwrap_or_default();
        let (first_line, _) = panic.split_once('\n').unwrap_or((&panic, ""));
        let key = (name.to_string(), first_line.chars().take(300).collect());
        let entry = self.groups.entry(key).or_insert_with(|| (0, example(path, subject.file.text(), offset, &panic)));
        entry.0 += 1;
    }

    fn merge(&mut self, other: Failures) {
        for (key, (count, example)) in other.groups {
            self.groups.entry(key).or_insert((0, example)).0 += count;
        }
        for (name, spent) in other.time {
            *self.time.entry(name).or_default() += spent;
        }
    }

    fn assert_none(&self, what: &str) {
        let mut time: Vec<_> = self.time.iter().collect();
        time.sort_by_key(|(_, spent)| std::cmp::Reverse(**spent));
        eprintln!("time per request {what}: {time:?}");
        if self.groups.is_empty() {
            return;
        }
        let mut report = format!("{} kinds of failure {what}:\n", self.groups.len());
        for ((request, panic), (count, example)) in &self.groups {
            report.push_str(&format!("\n[{request}] {count}× {panic}\n  first: {example}\n"));
        }
        panic!("{report}");
    }
}

fn example(path: &str, text: &str, offset: Option<usize>, panic: &str) -> String {
    let Some(offset) = offset else { return format!("{path} (whole file)\n  {panic}") };
    let mut start = offset.saturating_sub(40);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (offset + 40).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{path} at byte {offset}: {:?} ▮ {:?}\n  {panic}", &text[start..offset], &text[offset..end])
}

/// The offsets to try in `subject`'s text (see the module comment).
fn offsets(subject: &Subject) -> Vec<usize> {
    let text = subject.file.text();
    if std::env::var_os("KUBEFILE_ROBUST_ALL_OFFSETS").is_some() {
        return cursor_offsets(text).collect();
    }
    let mut chosen = BTreeSet::new();
    let mut cursor = subject.file.root().walk();
    let mut stack = vec![subject.file.root()];
    while let Some(node) = stack.pop() {
        chosen.extend([node.start_byte(), node.end_byte()]);
        stack.extend(node.children(&mut cursor));
    }
    for (i, _) in text.match_indices('\n') {
        chosen.insert(i);
    }
    chosen.extend((0..=text.len()).step_by(STRIDE));
    let mut chosen: Vec<usize> = chosen.into_iter().filter(|&offset| offset <= text.len()).collect();
    // An offset inside a UTF-8 sequence stands for the start of its character, as in the LSP.
    for offset in &mut chosen {
        while !text.is_char_boundary(*offset) {
            *offset -= 1;
        }
    }
    chosen.dedup();
    if chosen.len() > MAX_OFFSETS_PER_FILE {
        let step = chosen.len().div_ceil(MAX_OFFSETS_PER_FILE);
        chosen = chosen.into_iter().step_by(step).collect();
    }
    chosen
}

fn exercise(
    failures: &mut Failures,
    path: &str,
    subject: &Subject,
    whole_file: &[Request],
    at_offset: &[Request],
) -> usize {
    for (name, request) in whole_file {
        failures.run(name, path, subject, None, *request);
    }
    let offsets = offsets(subject);
    for &offset in &offsets {
        for (name, request) in at_offset {
            failures.run(name, path, subject, Some(offset), *request);
        }
    }
    offsets.len()
}

/// The facts the server would collect for a context (fast scan, no helm), once per directory.
fn facts_of(cache: &mut BTreeMap<PathBuf, ContextFacts>, dir: &Path) -> ContextFacts {
    cache.entry(dir.to_path_buf()).or_insert_with(|| context::facts::collect(dir)).clone()
}

#[test]
fn every_request_at_every_offset_of_every_build_file() {
    record_panics_quietly();
    let root = support_corpus::root();
    let files = support_corpus::build_files(&root);
    assert!(files.len() > 300, "only {} corpus build files", files.len());
    // Files are independent: spread them over the cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut failures = Failures::default();
    let (mut calls, mut offsets, mut all) = (0, 0, 0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (root, files) = (&root, &files);
                scope.spawn(move || {
                    let mut facts = BTreeMap::new();
                    let mut failures = Failures::default();
                    let (mut calls, mut offsets, mut all) = (0, 0, 0);
                    for (path, context_dir) in files.iter().skip(worker).step_by(threads) {
                        let text = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
                        // As a Kubefile in its context, and as a plain Dockerfile outside any
                        // context (rules and requests differ between the two).
                        let as_kubefile = (Some(facts_of(&mut facts, context_dir)), FileKind::Kubefile);
                        // And with Windows line endings, which every edit must keep whole.
                        let crlf = text.replace('\n', "\r\n");
                        let variants = [(&text, as_kubefile.clone()), (&text, (None, FileKind::Dockerfile)), (&crlf, as_kubefile)];
                        for (text, (facts, kind)) in variants {
                            let subject = Subject::new(text, facts, kind);
                            let tried = exercise(&mut failures, path, &subject, WHOLE_FILE, AT_OFFSET);
                            calls += tried * AT_OFFSET.len();
                            offsets += tried;
                            all += cursor_offsets(text).count();
                        }
                    }
                    (failures, calls, offsets, all)
                })
            })
            .collect();
        for worker in workers {
            let (found, c, o, a) = worker.join().expect("a worker thread");
            failures.merge(found);
            (calls, offsets, all) = (calls + c, offsets + o, all + a);
        }
    });
    eprintln!("{} build files, {calls} positional requests ({offsets} of {all} offsets)", files.len());
    failures.assert_none("in build files");
}

#[test]
fn every_request_at_every_offset_of_every_shim_list() {
    record_panics_quietly();
    let root = support_corpus::root();
    let mut facts = BTreeMap::new();
    let mut failures = Failures::default();
    let lists = shim_lists(&root);
    for (path, context_dir) in &lists {
        // Lists are read as bytes by sealos; the editor only opens UTF-8 text.
        let Ok(text) = std::fs::read_to_string(root.join(path)) else { continue };
        let subject = Subject::new(&text, Some(facts_of(&mut facts, context_dir)), FileKind::Kubefile);
        exercise(&mut failures, path, &subject, SHIM_WHOLE_FILE, SHIM_AT_OFFSET);
    }
    assert!(lists.len() > 50, "only {} shim lists in the corpus", lists.len());
    failures.assert_none("in shim lists");
}

/// Idempotence with the default options is `format::tests::corpus_is_idempotent`; this covers
/// every option flipped too.
#[test]
fn formatting_is_idempotent_on_every_build_file_with_every_option_set() {
    record_panics_quietly();
    let root = support_corpus::root();
    let mut failures = Failures::default();
    for (path, _) in support_corpus::build_files(&root) {
        let text = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let subject = Subject::new(&text, None, FileKind::Kubefile);
        failures.run("format idempotence", &path, &subject, None, |subject, _| {
            requests::check_format_idempotent(subject.file.text())
        });
    }
    failures.assert_none("formatting the corpus");
}

/// Found by the `format` fuzz target: the `ENV key value` → `key=value` rewrite takes a key with
/// quotes in it as one quoted word (`k"x "y`), while BuildKit splits the legacy form at the first
/// whitespace (key `k"x`, value `"y z`); the rewritten line then parses differently and the next
/// format pass rewrites it again.
#[test]
fn formatting_legacy_pairs_with_quotes_in_the_key_is_idempotent() {
    for text in ["ENV k\"x \"y z\n", "FROM scratch\nENV a\"b c\"d e f\n", "LABEL a\"b c\"d e f\n"] {
        requests::check_format_idempotent(text);
    }
}

/// Found by the `format` fuzz target (minimised): after the legacy `ENV key value` rewrite of a
/// value holding NUL bytes, the continuation line is left unindented, and the second pass indents it.
#[test]
fn formatting_a_legacy_pair_with_nul_bytes_before_a_continuation_is_idempotent() {
    requests::check_format_idempotent("ENV K A B=\0\0tru \\\n\"}\n");
}
