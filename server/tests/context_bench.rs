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

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
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
    let scan = median(
        (0..5)
            .map(|_| {
                let started = Instant::now();
                lines = contents.iter().map(|content| image_lines(content).len()).sum::<usize>();
                started.elapsed()
            })
            .collect(),
    );
    let mut images = 0;
    let options = ExtractOptions { helm: None, render_charts: false };
    let extraction = median(
        (0..3)
            .map(|_| {
                let started = Instant::now();
                images = extract(&BuildContext::new(&root), &options).images.len();
                started.elapsed()
            })
            .collect(),
    );
    println!("\n## manifest scan: {} files, {:.1} MB, {lines} image: lines", files.len(), bytes as f64 / 1e6);
    println!("| step | wall (median) | MB/s |");
    println!("|---|---:|---:|");
    println!("| line scan (`image_lines`, in memory) | {:.3} s | {:.0} |", scan.as_secs_f64(), mb_per_s(bytes, scan));
    println!(
        "| extraction (`extract`, no charts: read, scan, normalise, registry paths, sort; {images} images) | {:.3} s | {:.0} |",
        extraction.as_secs_f64(),
        mb_per_s(bytes, extraction)
    );
}
