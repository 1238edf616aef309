//! Benchmark (not a test; `#[ignore]`d): `kubefile-ls save` against what sealos does, serial
//! `skopeo copy` of each image into a registry. Run with `scripts/bench-save.sh`.
//!
//! 1. 20 images sharing base layers on a docker-registry behind a proxy that adds 50 ms to
//!    every request: wall time of `kubefile-ls save` (default 5 pulls at once, and 1 at once)
//!    versus `skopeo copy` of the 20 images one after another, and how often each blob is
//!    fetched from the source.
//! 2. Loopback throughput without latency: one image of 4 × 64 MiB layers.

use crate::support_registry;

use std::{
    collections::HashMap,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use kubefile_ls::registry::{self, AuthSource, CancellationToken, ImageRequest, SaveOptions};
use sha2::{Digest as _, Sha256};
use support_registry::{pass_all, skopeo_copy, Layer, OciLayout, Proxy, Registry};

const RUNS: usize = 3;
const MIB: f64 = 1024.0 * 1024.0;

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn cli_save(context: &Path, images: &[String], procs: usize, home: &Path) -> Duration {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubefile-ls"));
    command.arg("save").arg(context).args([
        "--platform",
        "linux/amd64",
        "--max-pull-procs",
        &procs.to_string(),
    ]);
    for image in images {
        command.args(["--image", image]);
    }
    command
        .env("HOME", home)
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("XDG_RUNTIME_DIR");
    let started = Instant::now();
    let output = command.output().unwrap();
    let elapsed = started.elapsed();
    assert!(
        output.status.success(),
        "save failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

#[test]
#[ignore = "benchmark: run scripts/bench-save.sh"]
fn bench_save_vs_serial_skopeo() {
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let source = Registry::start(&work.path().join("source"), None);

    // 20 images: one 8 MiB base shared by all, one of two 3 MiB runtimes (10 images each),
    // one of four 1 MiB libraries (5 images each), and a 512 KiB layer of their own.
    let base = Layer::new("bench-base", 8 << 20);
    let runtimes: Vec<Layer> = (0..2)
        .map(|i| Layer::new(&format!("bench-runtime-{i}"), 3 << 20))
        .collect();
    let libraries: Vec<Layer> = (0..4)
        .map(|i| Layer::new(&format!("bench-lib-{i}"), 1 << 20))
        .collect();
    let mut oci = OciLayout::new(&work.path().join("layout"));
    let mut unique_bytes = (base.gz.len()
        + runtimes
            .iter()
            .chain(&libraries)
            .map(|l| l.gz.len())
            .sum::<usize>()) as u64;
    let mut total_bytes = 0u64;
    for i in 0..20 {
        let own = Layer::new(&format!("bench-app-{i}"), 512 << 10);
        let layers = [&base, &runtimes[i % 2], &libraries[i % 4], &own];
        total_bytes += layers.iter().map(|l| l.gz.len() as u64).sum::<u64>();
        unique_bytes += own.gz.len() as u64;
        let descriptor = oci.image("amd64", None, &layers);
        oci.tag(&format!("app-{i}"), &descriptor);
    }
    oci.finish();
    let layout = oci.dir.display().to_string();
    for i in 0..20 {
        skopeo_copy(
            &format!("oci:{layout}:app-{i}"),
            &format!("docker://{}/bench/app-{i}:v1", source.host()),
            &[],
        );
    }
    let unique_blobs = 1 + 2 + 4 + 20 + 20; // layers + configs

    let proxy = Proxy::start(source.addr, Duration::from_millis(50), pass_all());
    let images: Vec<String> = (0..20)
        .map(|i| format!("{}/bench/app-{i}:v1", proxy.host()))
        .collect();

    let mut ours = Vec::new();
    let mut ours_fetches = HashMap::new();
    let mut ours_requests = 0;
    for run in 0..RUNS {
        proxy.clear_log();
        let context = work.path().join(format!("ours-{run}"));
        ours.push(cli_save(&context, &images, 5, &home));
        ours_fetches = proxy.blob_gets();
        ours_requests = proxy.log().len();
    }
    let mut ours_serial = Vec::new();
    for run in 0..RUNS {
        let context = work.path().join(format!("ours-serial-{run}"));
        ours_serial.push(cli_save(&context, &images, 1, &home));
    }

    let mut skopeo = Vec::new();
    let mut skopeo_fetches = HashMap::new();
    let mut skopeo_requests = 0;
    for run in 0..RUNS {
        let destination = Registry::start(&work.path().join(format!("skopeo-{run}")), None);
        proxy.clear_log();
        let started = Instant::now();
        for (i, image) in images.iter().enumerate() {
            skopeo_copy(
                &format!("docker://{image}"),
                &format!("docker://{}/bench/app-{i}:v1", destination.host()),
                &[],
            );
        }
        skopeo.push(started.elapsed());
        skopeo_fetches = proxy.blob_gets();
        skopeo_requests = proxy.log().len();
    }

    let (ours_m, serial_m, skopeo_m) = (
        median(ours.clone()),
        median(ours_serial.clone()),
        median(skopeo.clone()),
    );
    let max_fetch = |f: &HashMap<String, Vec<support_registry::LogEntry>>| {
        f.values().map(Vec::len).max().unwrap_or(0)
    };
    let fetched = |f: &HashMap<String, Vec<support_registry::LogEntry>>| {
        f.values().map(Vec::len).sum::<usize>()
    };
    println!("\n## 20 images, 50 ms per request");
    println!("unique blobs {unique_blobs}, unique layer bytes {:.1} MiB, layer bytes summed over images {:.1} MiB", unique_bytes as f64 / MIB, total_bytes as f64 / MIB);
    println!("| tool | wall (median of {RUNS}) | runs | blob GETs at source | max GETs of one blob | requests at source |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| kubefile-ls save (--max-pull-procs 5) | {:.2} s | {:?} | {} | {} | {} |",
        ours_m.as_secs_f64(),
        ours.iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>(),
        fetched(&ours_fetches),
        max_fetch(&ours_fetches),
        ours_requests
    );
    println!(
        "| kubefile-ls save (--max-pull-procs 1) | {:.2} s | {:?} | | | |",
        serial_m.as_secs_f64(),
        ours_serial
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>()
    );
    println!(
        "| skopeo copy, one image after another (sealos) | {:.2} s | {:?} | {} | {} | {} |",
        skopeo_m.as_secs_f64(),
        skopeo
            .iter()
            .map(|d| format!("{:.2}", d.as_secs_f64()))
            .collect::<Vec<_>>(),
        fetched(&skopeo_fetches),
        max_fetch(&skopeo_fetches),
        skopeo_requests
    );
    println!(
        "speed-up vs serial skopeo: {:.1}x",
        skopeo_m.as_secs_f64() / ours_m.as_secs_f64()
    );
    assert_eq!(
        fetched(&ours_fetches),
        unique_blobs,
        "each blob fetched once"
    );
    drop(proxy);

    // Loopback throughput, no latency: 4 × 64 MiB layers.
    let big: Vec<Layer> = (0..4)
        .map(|i| Layer::new(&format!("throughput-{i}"), 64 << 20))
        .collect();
    let mut oci = OciLayout::new(&work.path().join("layout-big"));
    let descriptor = oci.image("amd64", None, &big.iter().collect::<Vec<_>>());
    oci.tag("big", &descriptor);
    oci.finish();
    skopeo_copy(
        &format!("oci:{}:big", oci.dir.display()),
        &format!("docker://{}/bench/big:v1", source.host()),
        &[],
    );
    let bytes: u64 = big.iter().map(|l| l.gz.len() as u64).sum();
    let big_digests: Vec<String> = big.iter().map(|l| l.digest.clone()).collect();
    drop(big);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "\n## Loopback throughput, {:.0} MiB in 4 layers, no proxy",
        bytes as f64 / MIB
    );
    println!("| mode | wall (median of {RUNS}) | MB/s |");
    println!("|---|---|---|");
    for sync in [true, false] {
        let mut times = Vec::new();
        for run in 0..RUNS {
            let dir = work
                .path()
                .join(format!("throughput-{sync}-{run}/registry"));
            let options = SaveOptions {
                auth: AuthSource::Anonymous,
                sync,
                ..SaveOptions::default()
            };
            let started = Instant::now();
            let report = runtime
                .block_on(registry::save(
                    &[ImageRequest::new(format!("{}/bench/big:v1", source.host()))],
                    &dir,
                    &options,
                    |_| {},
                    CancellationToken::new(),
                ))
                .unwrap();
            times.push(started.elapsed());
            assert!(report.bytes_downloaded >= bytes, "{report:?}");
            std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
        }
        let m = median(times);
        println!(
            "| kubefile-ls save{} | {:.2} s | {:.0} |",
            if sync {
                " (fsync, default)"
            } else {
                " (no fsync)"
            },
            m.as_secs_f64(),
            bytes as f64 / 1e6 / m.as_secs_f64()
        );
    }
    // References: the registry serving the same bytes to curl (4 downloads at once, to
    // /dev/null), single-core sha256, and skopeo's copy of the same image to an OCI directory.
    let started = Instant::now();
    let curls: Vec<_> = big_digests
        .iter()
        .map(|digest| {
            Command::new("curl")
                .args(["-sf", "-o", "/dev/null"])
                .arg(format!(
                    "http://{}/v2/bench/big/blobs/{digest}",
                    source.host()
                ))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut curl in curls {
        assert!(curl.wait().unwrap().success());
    }
    let curl_time = started.elapsed();
    println!(
        "| docker-registry to curl, no hashing or writing (reference) | {:.2} s | {:.0} |",
        curl_time.as_secs_f64(),
        bytes as f64 / 1e6 / curl_time.as_secs_f64()
    );
    let data = vec![0x5au8; 256 << 20];
    let started = Instant::now();
    let digest = Sha256::digest(&data);
    let hash_time = started.elapsed();
    std::hint::black_box(digest);
    println!(
        "| sha256 alone, one core (reference) | {:.2} s | {:.0} |",
        hash_time.as_secs_f64(),
        256.0 * MIB / 1e6 / hash_time.as_secs_f64()
    );
    let started = Instant::now();
    skopeo_copy(
        &format!("docker://{}/bench/big:v1", source.host()),
        &format!("oci:{}:big", work.path().join("skopeo-big").display()),
        &[],
    );
    let skopeo_time = started.elapsed();
    println!(
        "| skopeo copy to an OCI layout (reference) | {:.2} s | {:.0} |",
        skopeo_time.as_secs_f64(),
        bytes as f64 / 1e6 / skopeo_time.as_secs_f64()
    );
}
