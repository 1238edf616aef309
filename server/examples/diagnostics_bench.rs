//! In-process timings of what the language server does between an edit and its diagnostics:
//! full parse (didOpen), incremental re-parse after a one-character edit (didChange), and the
//! diagnostics engine, both from scratch (`diagnostics`, what didOpen and `check` run) and kept
//! between edits (`DiagnosticsCache`, what didChange can run). The LSP round trip is measured by
//! `scripts/bench-lsp.sh`; this splits it.
//!
//! ```text
//! python3 ../shared/tools/lsp_probe.py gen --lines 10000 --out /tmp/big/Kubefile
//! cargo run --release -p kubefile-ls --example diagnostics_bench -- /tmp/big/Kubefile [ROUNDS]
//! ```

use std::time::{Duration, Instant};

use kubefile_ls::{
    analysis::{diagnostics, diagnostics::DiagnosticsCache, Config},
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

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: diagnostics_bench FILE [ROUNDS]");
    let rounds: usize = args.next().map_or(40, |n| n.parse().expect("ROUNDS is a number"));
    let text = std::fs::read_to_string(&path).expect("readable file");
    let config = Config::default();

    let cpu_full = cpu_ns();
    let full_rounds = rounds.min(20);
    let full: Vec<Duration> = (0..full_rounds)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(SourceFile::parse(&text));
            start.elapsed()
        })
        .collect();
    let cpu_full = (cpu_ns() - cpu_full) as f64 / full_rounds as f64 / 1e6;

    // The probe's keystroke: a space typed, then deleted, at the end of the middle line.
    let mut doc = Document::new(&text, 1);
    let middle = text.lines().count() / 2;
    let column = text.lines().nth(middle).map_or(0, str::len) as u32;
    let at = |col| LineCol { line: middle as u32, col };
    let (mut incremental, mut analysis, mut cached) = (Vec::new(), Vec::new(), Vec::new());
    let mut count = 0;
    let (mut cpu_incremental, mut cpu_analysis, mut cpu_cached) = (0, 0, 0);
    let mut cache = DiagnosticsCache::default();
    cache.diagnostics(&doc.snapshot(), None, &config);
    for i in 0..rounds {
        if i % 2 == 0 {
            doc.edit(Some(at(column)..at(column)), " ", PositionEncoding::Utf16);
        } else {
            doc.edit(Some(at(column)..at(column + 1)), "", PositionEncoding::Utf16);
        }
        let (start, cpu) = (Instant::now(), cpu_ns());
        let file = doc.snapshot();
        incremental.push(start.elapsed());
        cpu_incremental += cpu_ns() - cpu;
        let (start, cpu) = (Instant::now(), cpu_ns());
        let full = diagnostics(&file, None, &config);
        count = full.len();
        analysis.push(start.elapsed());
        cpu_analysis += cpu_ns() - cpu;
        let (start, cpu) = (Instant::now(), cpu_ns());
        let kept = cache.diagnostics(&file, None, &config);
        cached.push(start.elapsed());
        cpu_cached += cpu_ns() - cpu;
        assert!(kept == full, "the cache gives what a full analysis gives");
    }
    println!(
        "{path}: {} lines, {} bytes, {count} diagnostics\n\
         wall median: full parse {:.2} ms | incremental parse {:.2} ms | diagnostics {:.2} ms | kept diagnostics {:.2} ms ({rounds} rounds)\n\
         CPU mean:    full parse {:.2} ms | incremental parse {:.2} ms | diagnostics {:.2} ms | kept diagnostics {:.2} ms",
        text.lines().count(),
        text.len(),
        median(full),
        median(incremental),
        median(analysis),
        median(cached),
        cpu_full,
        cpu_incremental as f64 / rounds as f64 / 1e6,
        cpu_analysis as f64 / rounds as f64 / 1e6,
        cpu_cached as f64 / rounds as f64 / 1e6,
    );
}
