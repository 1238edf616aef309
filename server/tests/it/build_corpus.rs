//! The native assembler against buildah: every build file of the shared corpus that
//! `EXPECTED-buildah-config.jsonl` lists (built there with buildah 1.28.2, `--isolation chroot`,
//! vfs, stub COPY sources) is assembled into an OCI layout, and the config read back from the
//! written blobs must have buildah's Env, Cmd, Entrypoint and Labels. buildah's default
//! `PATH=…` entry was removed from the expected file, so it is removed here too.
//!
//! COPY/ADD sources are stubbed like the expected file's build: each source the build file
//! names (after substitution) is created in a temporary context — a directory if the real
//! context has a directory there, a file otherwise, a matching file for a glob — beside the
//! real context's ignore file. Files an `init.sh` would download are therefore present.
//!
//! Accepted differences are listed with a reason in `fixtures/build/corpus-exceptions.tsv`.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

use kubefile_ls::{
    build::{
        assemble::{assemble, read_instructions, AssembleRequest, AssembledImage},
        base::Offline,
        config::DEFAULT_PATH_ENV,
        evaluate::{evaluate, BuildInputs},
        BuildError,
    },
    registry::{CancellationToken, Platform},
};
use serde_json::Value;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/cluster-image")
}

/// The context a build file is built in: its directory, or for a file `init.sh` generates
/// (`_generated/<context>/Kubefile`), the context that script runs in.
fn real_context(build_file: &str) -> PathBuf {
    let relative = build_file.strip_prefix("_generated/").unwrap_or(build_file);
    corpus_root().join(relative).parent().expect("build files are in a directory").to_owned()
}

/// Creates what a COPY/ADD source names inside `context`, mirroring the real context's kind.
fn stub_source(source: &str, real: &Path, context: &Path) {
    let relative = source.trim_start_matches("./").trim_start_matches('/');
    if relative.is_empty() || relative == "." {
        return;
    }
    let concrete: String = relative
        .split('/')
        .map(|part| {
            let mut out = String::new();
            let mut chars = part.chars();
            while let Some(c) = chars.next() {
                match c {
                    '*' => out.push_str("stub"),
                    '?' => out.push('x'),
                    '[' => {
                        let first = chars.next().filter(|c| *c != '^').unwrap_or('a');
                        out.push(first);
                        for c in chars.by_ref() {
                            if c == ']' {
                                break;
                            }
                        }
                    }
                    c => out.push(c),
                }
            }
            out
        })
        .collect::<Vec<_>>()
        .join("/");
    let target = context.join(concrete.trim_end_matches('/'));
    if target.exists() {
        return;
    }
    if real.join(relative).is_dir() || source.ends_with('/') {
        fs::create_dir_all(&target).unwrap();
        fs::write(target.join("stub"), "stub\n").unwrap();
    } else {
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, "stub\n").unwrap();
    }
}

/// The parts of the written config that buildah's file records.
fn written_config(layout: &Path) -> Value {
    let read = |digest: &str| -> Value {
        let path = layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
        serde_json::from_slice(&fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
    };
    let index: Value = serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest = read(index["manifests"][0]["digest"].as_str().unwrap());
    let config = read(manifest["config"]["digest"].as_str().unwrap());
    let section = &config["config"];
    let mut out = serde_json::Map::new();
    let env: Vec<Value> = section["Env"].as_array().cloned().unwrap_or_default().into_iter().filter(|e| e != DEFAULT_PATH_ENV).collect();
    if !env.is_empty() {
        out.insert("Env".into(), env.into());
    }
    for key in ["Cmd", "Entrypoint", "Labels"] {
        if let Some(value) = section.get(key).filter(|v| !v.is_null()) {
            out.insert(key.into(), value.clone());
        }
    }
    Value::Object(out)
}

fn exceptions() -> BTreeMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/build/corpus-exceptions.tsv");
    fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (file, reason) = line.split_once('\t').unwrap_or_else(|| panic!("`{line}` needs a tab and a reason"));
            assert!(!reason.trim().is_empty(), "{file}: an exception needs a reason");
            (file.to_owned(), reason.to_owned())
        })
        .collect()
}

/// One corpus build file, its stubbed context and buildah's config (`None`: skipped there).
struct Case {
    path: String,
    expected: Option<Value>,
    context: PathBuf,
    build_file: PathBuf,
    /// Evaluation failed before any file was touched.
    error: Option<String>,
}

/// Every build file of the expected list, with its stubbed context under `temp`.
fn prepare_cases(temp: &Path) -> Vec<Case> {
    let expected_text = fs::read_to_string(corpus_root().join("EXPECTED-buildah-config.jsonl")).expect("corpus beside the repository");
    let mut cases = Vec::new();
    for (number, line) in expected_text.lines().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        let path = record["path"].as_str().unwrap().to_owned();
        let expected = record.get("config").cloned();
        if expected.is_none() {
            assert!(record.get("skipped").is_some(), "{path}: neither config nor skipped");
        }
        let real = real_context(&path);
        let context = temp.join(format!("ctx-{number}"));
        fs::create_dir_all(&context).unwrap();
        for ignore in [".dockerignore", ".containerignore"] {
            if real.join(ignore).is_file() {
                fs::copy(real.join(ignore), context.join(ignore)).unwrap();
            }
        }
        let build_file = corpus_root().join(&path);
        let instructions = read_instructions(std::slice::from_ref(&build_file)).unwrap();
        let evaluated = evaluate(&instructions, &BuildInputs::default(), &mut |image| {
            Err(BuildError::Pull { image: image.into(), message: "offline".into() })
        });
        let error = match evaluated {
            Ok(plan) => {
                for stage in &plan.stages {
                    for copy in stage.copies.iter().filter(|c| c.from.is_none()) {
                        for source in &copy.sources {
                            stub_source(source, &real, &context);
                        }
                    }
                }
                None
            }
            Err(error) => Some(error.to_string()),
        };
        cases.push(Case { path, expected, context, build_file, error });
    }
    cases
}

fn assemble_case(case: &Case, output: &Path) -> Result<AssembledImage, String> {
    if let Some(error) = &case.error {
        return Err(error.clone());
    }
    let request = AssembleRequest {
        context: case.context.clone(),
        build_files: vec![case.build_file.clone()],
        inputs: BuildInputs::default(),
        timestamp: Some(0),
        output: output.to_owned(),
        ref_names: vec!["latest".into()],
        platform: Platform::new("linux", "amd64", None),
    };
    assemble(&request, &mut Offline, &|_| {}, &CancellationToken::new()).map_err(|e| e.to_string())
}

#[test]
fn corpus_configs_equal_buildah() {
    let exceptions = exceptions();
    let temp = tempfile::tempdir().unwrap();
    let cases = prepare_cases(temp.path());
    let mut built = 0;
    let mut mismatches = Vec::new();
    let mut unused_exceptions: Vec<&String> = exceptions.keys().collect();
    for (number, case) in cases.iter().enumerate() {
        unused_exceptions.retain(|e| **e != case.path);
        let Some(expected) = &case.expected else { continue };
        match assemble_case(case, &temp.path().join(format!("out-{number}.oci"))) {
            Ok(image) => {
                built += 1;
                let actual = written_config(&image.output);
                if &actual != expected && !exceptions.contains_key(&case.path) {
                    mismatches.push(format!("{}:\n  buildah: {expected}\n  ours:    {actual}", case.path));
                }
            }
            Err(error) if !exceptions.contains_key(&case.path) => mismatches.push(format!("{}: build failed: {error}", case.path)),
            Err(_) => {}
        }
    }
    assert!(unused_exceptions.is_empty(), "exceptions for files not in the corpus: {unused_exceptions:?}");
    assert!(mismatches.is_empty(), "{} of {built} build(s) differ from buildah:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(built >= 300, "expected the 302 built files, assembled {built}");
}

/// Benchmark (not a test; run with `cargo test --release -p kubefile-ls --test it build_corpus:: --
/// --ignored --nocapture`): wall time to assemble every corpus build file into an OCI layout,
/// contexts stubbed beforehand, median of 5 runs. Recorded in BENCHMARKS.md, "Build".
#[test]
#[ignore = "benchmark"]
fn bench_corpus_assembly() {
    let temp = tempfile::tempdir().unwrap();
    let cases: Vec<Case> = prepare_cases(temp.path()).into_iter().filter(|c| c.expected.is_some()).collect();
    let mut runs = Vec::new();
    for run in 0..5 {
        let started = std::time::Instant::now();
        for (number, case) in cases.iter().enumerate() {
            assemble_case(case, &temp.path().join(format!("run{run}-{number}.oci"))).unwrap();
        }
        runs.push(started.elapsed());
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    println!(
        "| {} build files | {:.0} ms total | {:.2} ms per image | min {:.0} ms, max {:.0} ms |",
        cases.len(),
        median.as_secs_f64() * 1000.0,
        median.as_secs_f64() * 1000.0 / cases.len() as f64,
        runs[0].as_secs_f64() * 1000.0,
        runs[runs.len() - 1].as_secs_f64() * 1000.0
    );
}
