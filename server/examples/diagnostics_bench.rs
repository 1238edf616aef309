//! In-process timings of what the language server does between an edit and its diagnostics:
//! full parse, the document `didOpen` builds (rope and line index, then the copy of the text and
//! the full parse its first analysis runs), incremental re-parse after a one-character edit
//! (didChange), and the diagnostics engine, both from scratch (`diagnostics`, what didOpen and `check` run) and kept
//! between edits (`DiagnosticsCache`, what didChange runs). The engine is timed twice: without
//! context facts (an unsaved buffer) and with the facts of the file's directory, as the server
//! passes them for a file on disk (the COPY/ADD rules only run with facts). The LSP round trip is
//! measured by `scripts/bench-lsp.sh`; this splits it.
//!
//! ```text
//! python3 ../shared/tools/lsp_probe.py gen --lines 10000 --out /tmp/big/Kubefile
//! cargo run --release -p kubefile-ls --example diagnostics_bench -- /tmp/big/Kubefile [ROUNDS] [ONLY]
//! ```
//! ONLY (`scratch` or `kept`) runs just that engine, with facts, ROUNDS times (for `perf record`).

use std::{
    path::Path,
    time::{Duration, Instant},
};

use kubefile_ls::{
    analysis::{diagnostics, diagnostics::DiagnosticsCache, Config, ContextFacts},
    syntax::{document::Document, LineCol, PositionEncoding, SourceFile},
};

/// CPU time of this thread so far (`/proc/thread-self/schedstat`, in ns): on a busy machine the
/// wall clock mostly measures the other processes.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Wall samples and total CPU time of one phase.
#[derive(Default)]
struct Timing {
    wall: Vec<Duration>,
    cpu_ns: u64,
}

impl Timing {
    fn time<T>(&mut self, phase: impl FnOnce() -> T) -> T {
        let (start, cpu) = (Instant::now(), cpu_ns());
        let result = phase();
        self.wall.push(start.elapsed());
        self.cpu_ns += cpu_ns() - cpu;
        result
    }

    fn wall_median_ms(&self) -> f64 {
        let mut samples = self.wall.clone();
        samples.sort();
        samples.get(samples.len() / 2).map_or(0.0, |median| median.as_secs_f64() * 1000.0)
    }

    fn cpu_mean_ms(&self) -> f64 {
        self.cpu_ns as f64 / self.wall.len().max(1) as f64 / 1e6
    }

    fn row(&self) -> String {
        format!("wall median {:6.2} ms | CPU mean {:6.2} ms", self.wall_median_ms(), self.cpu_mean_ms())
    }
}

/// Which engines a run times.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Only {
    All,
    Scratch,
    Kept,
}

/// The probe's keystroke (a space typed, then deleted, at the end of the middle line) `rounds`
/// times, with the engines `only` selects timed after each edit.
fn keystrokes(text: &str, facts: Option<&ContextFacts>, rounds: usize, only: Only) -> (Timing, Timing, Timing, usize) {
    let config = Config::default();
    let mut doc = Document::new(text, 1);
    let middle = text.lines().count() / 2;
    let column = text.lines().nth(middle).map_or(0, str::len) as u32;
    let at = |col| LineCol { line: middle as u32, col };
    let (mut snapshot, mut scratch, mut kept) = (Timing::default(), Timing::default(), Timing::default());
    let mut count = 0;
    let mut cache = DiagnosticsCache::default();
    cache.diagnostics(&doc.snapshot(), facts, &config);
    for i in 0..rounds {
        if i % 2 == 0 {
            doc.edit(Some(at(column)..at(column)), " ", PositionEncoding::Utf16);
        } else {
            doc.edit(Some(at(column)..at(column + 1)), "", PositionEncoding::Utf16);
        }
        let file = snapshot.time(|| doc.snapshot());
        let full = (only != Only::Kept).then(|| scratch.time(|| diagnostics(&file, facts, &config)));
        let cached = (only != Only::Scratch).then(|| kept.time(|| cache.diagnostics(&file, facts, &config)));
        if let (Some(full), Some(cached)) = (&full, &cached) {
            assert!(full == cached, "the cache gives what a full analysis gives");
        }
        count = full.or(cached).map_or(0, |found| found.len());
    }
    (snapshot, scratch, kept, count)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: diagnostics_bench FILE [ROUNDS] [scratch|kept]");
    let rounds: usize = args.next().map_or(40, |n| n.parse().expect("ROUNDS is a number"));
    let only = match args.next().as_deref() {
        None => Only::All,
        Some("scratch") => Only::Scratch,
        Some("kept") => Only::Kept,
        Some(other) => panic!("ONLY is `scratch` or `kept`, not `{other}`"),
    };
    let text = std::fs::read_to_string(&path).expect("readable file");
    let dir = Path::new(&path).parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let facts = kubefile_ls::context::facts::collect(dir);

    if only != Only::All {
        let (_, scratch, kept, count) = keystrokes(&text, Some(&facts), rounds, only);
        let timing = if only == Only::Scratch { scratch } else { kept };
        println!("{path}: {count} diagnostics, with context facts: {} ({rounds} rounds)", timing.row());
        return;
    }

    let (mut parse, mut open) = (Timing::default(), Timing::default());
    for _ in 0..rounds.min(20) {
        parse.time(|| std::hint::black_box(SourceFile::parse(&text)));
        open.time(|| std::hint::black_box(Document::unparsed(&text, 1).snapshot()));
    }
    let (snapshot, scratch, kept, count) = keystrokes(&text, None, rounds, Only::All);
    let (_, scratch_facts, kept_facts, count_facts) = keystrokes(&text, Some(&facts), rounds, Only::All);
    println!(
        "{path}: {} lines, {} bytes, {rounds} rounds\n\
         full parse                               {}\n\
         didOpen's document (rope, lines, parse)  {}\n\
         incremental parse                        {}\n\
         diagnostics, no context ({count:>5} found)   {}\n\
         kept diagnostics, no context             {}\n\
         diagnostics, context facts ({count_facts:>5} found) {}\n\
         kept diagnostics, context facts          {}",
        text.lines().count(),
        text.len(),
        parse.row(),
        open.row(),
        snapshot.row(),
        scratch.row(),
        kept.row(),
        scratch_facts.row(),
        kept_facts.row(),
    );
}
