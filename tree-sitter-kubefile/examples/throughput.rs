//! Parse throughput of tree-sitter-kubefile against tree-sitter-containerfile on the same input.
//!
//! ```text
//! cargo run --release -p tree-sitter-kubefile --example throughput -- [--runs N] [--only GRAMMAR] [FILE...]
//! ```
//!
//! Inputs are the given files, or, with none, the synthetic 10,000-line multi-stage Dockerfile of
//! `../shared/tools/lsp_probe.py gen --lines 10000` (generated into a temporary directory when
//! python3 and the tool are there); a deterministic Kubefile-flavoured 10,000-line file (sealos
//! idioms: `${VAR:-"default"}` ENV blocks with continuations, `$(VAR)` CMD templates, LABELs,
//! heredocs) is always added. Each grammar parses each input from scratch `N` times after a
//! warm-up, the grammars taking turns; the table shows the median and fastest parse (wall clock)
//! and the median thread CPU time, which other load on the machine disturbs much less, the
//! node count of one tree (all nodes, named and anonymous) and how many ERROR/MISSING nodes it
//! has. MB/s is computed from the median CPU time.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use tree_sitter::{Language, Parser, Tree};

const LINES: usize = 10_000;

fn main() {
    let mut runs = 21;
    let mut only = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            // For profiling one grammar at a time.
            "--only" => only = Some(args.next().expect("--only GRAMMAR")),
            "-h" | "--help" => {
                eprintln!("usage: throughput [--runs N] [--only GRAMMAR] [FILE...]");
                return;
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    assert!(runs > 0, "--runs must be positive");

    let scratch = std::env::temp_dir().join(format!("kubefile-throughput-{}", std::process::id()));
    if files.is_empty() {
        if let Some(path) = synthetic_dockerfile(&scratch) {
            files.push(path);
        }
    }
    let mut inputs: Vec<(String, String)> = files
        .iter()
        .map(|path| {
            let text =
                std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                text,
            )
        })
        .collect();
    inputs.push(("generated Kubefile".to_string(), kubefile(LINES)));
    let _ = std::fs::remove_dir_all(&scratch);

    let grammars: [(&str, Language); 2] = [
        (
            "tree-sitter-kubefile",
            tree_sitter_kubefile::LANGUAGE.into(),
        ),
        (
            "tree-sitter-containerfile 0.9",
            tree_sitter_containerfile::LANGUAGE.into(),
        ),
    ];

    let grammars: Vec<_> = grammars
        .into_iter()
        .filter(|(grammar, _)| {
            only.as_ref()
                .is_none_or(|only| grammar.contains(only.as_str()))
        })
        .collect();

    println!("{runs} runs per cell after 3 warm-up parses, the grammars taking turns.\n");
    println!(
        "| input | lines | bytes | grammar | CPU ms (median) | MB/s | wall ms (median) | wall ms (fastest) | nodes | named nodes | ERROR/MISSING |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, text) in &inputs {
        let mut parsers: Vec<Parser> = grammars
            .iter()
            .map(|(_, language)| {
                let mut parser = Parser::new();
                parser.set_language(language).unwrap();
                parser
            })
            .collect();
        let trees: Vec<Tree> = parsers
            .iter_mut()
            .map(|parser| {
                for _ in 0..2 {
                    parser.parse(text, None);
                }
                parser.parse(text, None).unwrap()
            })
            .collect();
        // Taking turns spreads the noise of a shared machine evenly over the grammars.
        let mut wall = vec![Vec::with_capacity(runs); grammars.len()];
        let mut cpu = vec![Vec::with_capacity(runs); grammars.len()];
        for _ in 0..runs {
            for ((parser, wall), cpu) in parsers.iter_mut().zip(&mut wall).zip(&mut cpu) {
                let (start, start_cpu) = (Instant::now(), thread_cpu_time());
                let tree = parser.parse(text, None).unwrap();
                cpu.push(thread_cpu_time() - start_cpu);
                wall.push(start.elapsed());
                drop(tree);
            }
        }
        for ((((grammar, _), mut wall), mut cpu), tree) in
            grammars.iter().zip(wall).zip(cpu).zip(&trees)
        {
            wall.sort();
            cpu.sort();
            let cpu_median: Duration = cpu[cpu.len() / 2];
            let (nodes, named, errors) = count(tree);
            println!(
                "| {name} | {} | {} | {grammar} | {:.2} | {:.1} | {:.2} | {:.2} | {nodes} | {named} | {errors} |",
                text.lines().count(),
                text.len(),
                cpu_median.as_secs_f64() * 1e3,
                text.len() as f64 / cpu_median.as_secs_f64() / 1e6,
                wall[wall.len() / 2].as_secs_f64() * 1e3,
                wall[0].as_secs_f64() * 1e3,
            );
        }
    }
}

/// CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write to; the clock id is a constant.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Runs `lsp_probe.py gen` when it and python3 are available.
fn synthetic_dockerfile(scratch: &std::path::Path) -> Option<PathBuf> {
    let tool = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/tools/lsp_probe.py");
    if !tool.is_file() {
        eprintln!(
            "note: {} not found; pass a file to compare on it",
            tool.display()
        );
        return None;
    }
    std::fs::create_dir_all(scratch).ok()?;
    let out = scratch.join("synth10k.dockerfile");
    let status = Command::new("python3")
        .arg(&tool)
        .args(["gen", "--lines", &LINES.to_string(), "--out"])
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    status.success().then_some(out)
}

/// (all nodes, named nodes, ERROR and MISSING nodes) of a tree.
fn count(tree: &Tree) -> (usize, usize, usize) {
    let (mut nodes, mut named, mut errors) = (0, 0, 0);
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        nodes += 1;
        named += usize::from(node.is_named());
        errors += usize::from(node.is_error() || node.is_missing());
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return (nodes, named, errors);
            }
        }
    }
}

/// A deterministic Kubefile of about `lines` lines built from cluster-image idioms.
fn kubefile(lines: usize) -> String {
    let mut seed: u64 = 0x5ea1_05c0_ffee;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut out =
        String::from("# syntax=docker/dockerfile:1\n# Kubefile-flavoured benchmark input\n");
    let mut block = 0;
    while out.lines().count() < lines {
        let app = format!("app{block}");
        out.push_str(&format!(
            "\nFROM scratch\nARG ARCH=amd64 VERSION=v1.{}.{}\n",
            next(30),
            next(10)
        ));
        out.push_str(&format!(
            "LABEL sealos.io.type=\"application\" sealos.io.version=\"v1.{}\" maintainer=\"sealos\"\n",
            next(9)
        ));
        out.push_str(&format!(
            "ENV NAME=${{NAME:-\"{app}\"}}\nENV NAMESPACE=${{NAMESPACE:-\"{app}-system\"}}\n"
        ));
        out.push_str(&format!(
            "ENV CHARTS=\"./charts/{app}\"\nENV HELM_OPTS=${{HELM_OPTS:-\"\\\n"
        ));
        for option in 0..1 + next(4) {
            out.push_str(&format!(
                "--set image.tag=$VERSION --set replicas={option} \\\n"
            ));
        }
        out.push_str("\"}\n# copy the chart, images and manifests\nCOPY charts charts\nCOPY registry registry\n");
        out.push_str(&format!(
            "COPY --chmod=755 manifests/{app}.yaml manifests/\n"
        ));
        match next(3) {
            0 => out.push_str(&format!(
                "CMD [\"helm upgrade -i $(NAME) $(CHARTS) -n $(NAMESPACE) --create-namespace $(HELM_OPTS)\", \"kubectl apply -f manifests/{app}.yaml\"]\n"
            )),
            1 => out.push_str(
                "CMD helm upgrade -i $(NAME) $(CHARTS) -n $(NAMESPACE) --create-namespace $(HELM_OPTS) --wait \\\n    && kubectl rollout status deploy/$(NAME) -n $(NAMESPACE)\n",
            ),
            _ => out.push_str(&format!(
                "COPY <<EOF manifests/extra-{app}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\nEOF\nCMD [\"kubectl apply -f manifests/\"]\n"
            )),
        }
        block += 1;
    }
    out
}
