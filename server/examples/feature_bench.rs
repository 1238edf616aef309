//! In-process timings of the editor features (analysis only: the file is parsed once, as the
//! server keeps the tree of an open document).
//!
//! ```text
//! python3 ../shared/tools/lsp_probe.py gen --lines 10000 --out /tmp/big.Dockerfile
//! cargo run --release -p kubefile-ls --example feature_bench -- /tmp/big.Dockerfile [ROUNDS] [FILTER]
//! ```
//! ROUNDS (default 200) requests per position-based row; whole-document rows run ROUNDS/10 times
//! (at least 20). FILTER runs only the rows whose name contains it (handy under `perf record`).
//! Completion and hover positions are picked like `lsp_probe.py --auto 16` picks them (after `$`
//! and `${`, after `--from=`, blank lines and line ends; instruction keywords and variable names).

use std::time::{Duration, Instant};

use kubefile_ls::{
    analysis::{
        completion::{completion, CompletionOptions},
        folding::folding_ranges,
        format::{format, FormatOptions},
        hover::{hover, HoverOptions},
        inlay_hints::{inlay_hints, InlayHintOptions},
        navigation,
        semantic_tokens::{encode, semantic_tokens},
        symbols::document_symbols,
        Config,
    },
    syntax::{PositionEncoding, SourceFile},
};

fn spread<T: Clone>(candidates: &[T], k: usize) -> Vec<T> {
    if candidates.len() <= k {
        return candidates.to_vec();
    }
    let step = candidates.len() as f64 / k as f64;
    (0..k).map(|i| candidates[(i as f64 * step) as usize].clone()).collect()
}

/// The positions `lsp_probe.py auto_positions` picks, as byte offsets.
fn positions(text: &str, k: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut var, mut flag, mut blank, mut eol, mut keyword, mut var_name) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut start = 0;
    for raw in text.split('\n') {
        let line = raw.trim_end_matches('\r');
        let trimmed = line.trim_start();
        if !trimmed.starts_with('#') {
            if trimmed.is_empty() {
                blank.push(start);
            } else {
                if trimmed.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                    let word_end = trimmed.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(trimmed.len());
                    if trimmed[word_end..].is_empty() || trimmed[word_end..].starts_with(char::is_whitespace) {
                        keyword.push(start + (line.len() - trimmed.len()) + 1);
                        eol.push(start + line.len());
                    }
                }
                let bytes = line.as_bytes();
                for (i, _) in line.match_indices('$') {
                    let brace = bytes.get(i + 1) == Some(&b'{');
                    let name_at = i + 1 + usize::from(brace);
                    if bytes.get(name_at).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
                        var.push(start + name_at);
                        var_name.push(start + name_at + 1);
                    }
                }
                if let Some(i) = line.find("--from=") {
                    flag.push(start + i + "--from=".len());
                }
            }
        }
        start += raw.len() + 1;
    }
    let groups: Vec<&Vec<usize>> = [&var, &flag, &blank, &eol].into_iter().filter(|g| !g.is_empty()).collect();
    let mut completion: Vec<usize> = groups.iter().flat_map(|g| spread(g, (k / groups.len()).max(1))).collect();
    let hgroups: Vec<&Vec<usize>> = [&keyword, &var_name].into_iter().filter(|g| !g.is_empty()).collect();
    let mut hover: Vec<usize> = hgroups.iter().flat_map(|g| spread(g, (k / hgroups.len()).max(1))).collect();
    completion.sort();
    hover.sort();
    (completion, hover)
}

struct Stats {
    name: &'static str,
    samples: Vec<Duration>,
    /// CPU time of this thread per run: on a shared machine, what the request cost without the
    /// time it waited for a core.
    cpu: Vec<Duration>,
}

impl Stats {
    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }

    fn print(&mut self) {
        if self.samples.is_empty() {
            return;
        }
        self.samples.sort();
        self.cpu.sort();
        let n = self.samples.len();
        let pct = |samples: &[Duration], p: f64| samples[((n as f64 * p).ceil() as usize).clamp(1, n) - 1];
        let mean = self.samples.iter().sum::<Duration>() / n as u32;
        println!(
            "| {:<30} | {:>5} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} | {:>8.3} |",
            self.name,
            n,
            Self::ms(pct(&self.samples, 0.5)),
            Self::ms(pct(&self.samples, 0.95)),
            Self::ms(*self.samples.last().unwrap()),
            Self::ms(mean),
            Self::ms(pct(&self.cpu, 0.5)),
            Self::ms(pct(&self.cpu, 0.95)),
        );
    }
}

fn time<R>(name: &'static str, runs: usize, mut f: impl FnMut(usize) -> R) -> Stats {
    let filter = std::env::args().nth(3).unwrap_or_default();
    let runs = if name.contains(filter.as_str()) { runs } else { 0 };
    let mut samples = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    for i in 0..runs {
        let (start, start_cpu) = (Instant::now(), thread_cpu_time());
        let result = f(i);
        samples.push(start.elapsed());
        cpu.push(thread_cpu_time().saturating_sub(start_cpu));
        std::hint::black_box(result);
    }
    Stats { name, samples, cpu }
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write to; the clock id is a constant Linux supports.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The completion positions by cost (CPU time per request, median of 20), with their item count
/// and line: the slow tail of the completion row is a few positions that offer many items.
fn slowest_completions(file: &SourceFile, text: &str, at: &[usize], config: &Config, caps: &CompletionOptions) {
    let mut rows: Vec<(Duration, usize, usize)> = at
        .iter()
        .map(|&offset| {
            let mut stats = time("completion", 20, |_| completion(file, offset, None, config, caps));
            stats.cpu.sort();
            (stats.cpu[stats.cpu.len() / 2], completion(file, offset, None, config, caps).len(), offset)
        })
        .collect();
    rows.sort_by(|a, b| b.cmp(a));
    println!("\nslowest completion positions (cpu p50 ms, items, line:column, line text):");
    for (cpu, items, offset) in rows.iter().take(5) {
        let line_start = text[..*offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[*offset..].find('\n').map_or(text.len(), |i| offset + i);
        let line = text[..*offset].matches('\n').count();
        let shown: String = text[line_start..line_end].chars().take(50).collect();
        println!("  {:>7.3} {items:>5}  {line}:{}  {shown}", Stats::ms(*cpu), offset - line_start);
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: feature_bench FILE [ROUNDS]");
    let rounds: usize = args.next().map_or(200, |n| n.parse().expect("ROUNDS is a number"));
    let text = std::fs::read_to_string(&path).expect("readable file");
    let config = Config::default();
    let document_runs = (rounds / 10).max(20);

    let parse = time("parse (once per edit)", document_runs, |_| SourceFile::parse(&text));
    let file = SourceFile::parse(&text);
    let (completion_at, hover_at) = positions(&text, 16);
    println!(
        "{path}: {} lines, {} bytes; {} completion and {} hover positions, {rounds} requests each\n",
        text.lines().count(),
        text.len(),
        completion_at.len(),
        hover_at.len()
    );
    println!(
        "| {:<30} | {:>5} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "feature", "runs", "p50 ms", "p95 ms", "max ms", "mean ms", "cpu p50", "cpu p95"
    );
    println!("|{:-<32}|{:->7}|{:->10}|{:->10}|{:->10}|{:->10}|{:->10}|{:->10}|", "", "", "", "", "", "", "", "");
    let mut all = vec![parse];
    // Baselines: the cost of visiting the tree at all.
    all.push(time("tree: top-level walk", document_runs, |_| {
        let mut cursor = file.root().walk();
        let mut n = 0;
        if cursor.goto_first_child() {
            while cursor.goto_next_sibling() {
                n += 1;
            }
        }
        n
    }));
    all.push(time("tree: full walk", document_runs, |_| {
        let mut cursor = file.root().walk();
        let mut n = 0usize;
        'outer: loop {
            n += 1;
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    continue 'outer;
                }
                if !cursor.goto_parent() {
                    break 'outer;
                }
            }
        }
        n
    }));
    // Whole-document rows reuse the file's top-level node list after their first run, as requests
    // on one version of a document do; this is what building it costs once per version.
    all.push(time("tree: top-level list (cold)", document_runs, |_| {
        SourceFile::from_parts(std::sync::Arc::new(text.clone()), file.tree().clone()).top_level().len()
    }));
    let caps = CompletionOptions::default();
    all.push(time("completion", rounds, |i| completion(&file, completion_at[i % completion_at.len()], None, &config, &caps)));
    let hover_opts = HoverOptions::default();
    all.push(time("hover", rounds, |i| hover(&file, hover_at[i % hover_at.len()], None, &config, &hover_opts)));
    all.push(time("definition", rounds, |i| navigation::goto_definition(&file, hover_at[i % hover_at.len()])));
    all.push(time("references", rounds, |i| navigation::references(&file, hover_at[i % hover_at.len()], true)));
    all.push(time("semantic tokens (full)", document_runs, |_| encode(&file, &semantic_tokens(&file, None), PositionEncoding::Utf16)));
    let mid = text.len() / 2;
    all.push(time("semantic tokens (range 100 l.)", rounds, |_| semantic_tokens(&file, Some(mid..(mid + 3400).min(text.len())))));
    all.push(time("document symbols", document_runs, |_| document_symbols(&file)));
    all.push(time("folding ranges", document_runs, |_| folding_ranges(&file)));
    let format_opts = FormatOptions::default();
    all.push(time("formatting (document)", document_runs, |_| format(&file, &format_opts)));
    all.push(time("inlay hints (100 lines)", rounds, |_| inlay_hints(&file, mid..(mid + 3400).min(text.len()), None, &InlayHintOptions::default())));
    for stats in &mut all {
        stats.print();
    }
    if "completion".contains(std::env::args().nth(3).unwrap_or_default().as_str()) {
        slowest_completions(&file, &text, &completion_at, &config, &caps);
    }
    if let Some(kib) = peak_rss_kib() {
        println!("\npeak RSS of this process: {:.1} MiB", kib as f64 / 1024.0);
    }
}
