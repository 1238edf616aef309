//! Benchmark of the manifest line scan (BENCHMARKS.md, "Image extraction"), not a test: ignored,
//! run by `scripts/bench-images.sh` in release mode on one core, on the tree it generates
//! (`KUBEFILE_LS_BENCH_TREE`).

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use kubefile_ls::context::{
    images::{extract, image_lines, ExtractOptions},
    BuildContext,
};

fn manifest_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            manifest_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// CPU time of the calling thread: on a shared machine it does not count the time other
/// processes held the core.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec to write to; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(now.tv_sec.unsigned_abs(), now.tv_nsec.unsigned_abs() as u32)
}

/// Wall and CPU time of `runs` runs of `f`.
fn measure(runs: usize, mut f: impl FnMut()) -> (Vec<Duration>, Vec<Duration>) {
    (0..runs)
        .map(|_| {
            let (wall, cpu) = (Instant::now(), thread_cpu_time());
            f();
            (wall.elapsed(), thread_cpu_time() - cpu)
        })
        .unzip()
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// A table row: median wall and CPU time, and the throughput of each.
fn row(step: &str, bytes: usize, (wall, cpu): (Vec<Duration>, Vec<Duration>)) {
    let (wall, cpu) = (median(wall), median(cpu));
    println!(
        "| {step} | {:.3} s | {:.3} s | {:.0} | {:.0} |",
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        mb_per_s(bytes, wall),
        mb_per_s(bytes, cpu)
    );
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

#[test]
#[ignore = "benchmark: scripts/bench-images.sh"]
fn manifest_scan_throughput() {
    let root = PathBuf::from(std::env::var_os("KUBEFILE_LS_BENCH_TREE").expect("KUBEFILE_LS_BENCH_TREE"));
    let mut files = Vec::new();
    manifest_files(&root.join("manifests"), &mut files);
    let contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let bytes: usize = contents.iter().map(Vec::len).sum();

    let mut lines = 0;
    let scan = measure(9, || lines = contents.iter().map(|content| image_lines(content).len()).sum::<usize>());
    let mut images = 0;
    let options = ExtractOptions { helm: None, render_charts: false };
    let extraction = measure(5, || images = extract(&BuildContext::new(&root), &options).images.len());
    println!("\n## manifest scan: {} files, {:.1} MB, {lines} image: lines", files.len(), bytes as f64 / 1e6);
    println!("| step | wall (median) | CPU (median) | MB/s (wall) | MB/s (CPU) |");
    println!("|---|---:|---:|---:|---:|");
    row("line scan (`image_lines`, in memory; median of 9)", bytes, scan);
    row(
        &format!("extraction (`extract`, no charts: read, scan, normalise, registry paths, sort; {images} images; median of 5)"),
        bytes,
        extraction,
    );
}
