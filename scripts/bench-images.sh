#!/usr/bin/env bash
# Benchmark of image extraction (BENCHMARKS.md, "Image extraction"):
#  1. the manifest line scan on a generated 100 MB manifests tree, on one core (taskset -c 0):
#     in memory, through the library's extraction, and through `kubefile-ls images`;
#  2. `kubefile-ls images --format json` over every context of ../shared/corpus/cluster-image,
#     charts rendered with helm (in parallel across the charts of a context), on all cores and on
#     one core.
# Prints markdown; takes a few minutes (release build included). The machine may be shared: the
# manifest rows give CPU time (of the thread, or user + system of the process) beside wall time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

size_mb="${BENCH_MANIFESTS_MB:-100}"
corpus="${BENCH_CORPUS:-../shared/corpus/cluster-image}"
helm="$(bash scripts/install-helm.sh | tail -n 1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(uname -m), $(rustc --version), $("$helm" version --short)"
cargo build --quiet --release --locked -p kubefile-ls
bin="$PWD/target/release/kubefile-ls"

# Realistic Kubernetes YAML: Deployments of ~1.2 KB with two `image:` lines each, 100 KB files in
# nested directories.
python3 - "$work/tree" "$size_mb" <<'PY'
import os, sys
root, total = sys.argv[1], int(sys.argv[2]) * 1_000_000
doc = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: default
  labels:
    app.kubernetes.io/name: app-{n}
    app.kubernetes.io/instance: release-{n}
  annotations:
    description: "a generated deployment used to measure the manifest line scan throughput"
spec:
  replicas: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: app-{n}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-{n}
    spec:
      containers:
        - name: main
          image: registry.example.com/team-{t}/app-{n}:v1.{n}.0
          imagePullPolicy: IfNotPresent
          args: ["--port=8080", "--log-level=info", "--metrics-addr=:9090"]
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: DATABASE_URL
              value: "postgres://user@db:5432/app"
          resources:
            limits: {{cpu: 500m, memory: 512Mi}}
            requests: {{cpu: 100m, memory: 128Mi}}
        - name: sidecar
          image: "quay.io/prometheus/node-exporter:v1.{t}.0"
---
'''
written = n = 0
while written < total:
    d = os.path.join(root, "manifests", f"group{n % 20}", f"sub{n % 7}")
    os.makedirs(d, exist_ok=True)
    parts, size = [], 0
    while size < 100_000:
        text = doc.format(n=n, t=n % 13)
        parts.append(text); size += len(text); n += 1
    data = "".join(parts)
    with open(os.path.join(d, f"app-{n}.yaml"), "w") as f:
        f.write(data)
    written += len(data)
PY
echo
echo "manifests tree: $(du -sb "$work/tree" | cut -f1) bytes in $(find "$work/tree" -type f | wc -l) files"
echo
log="$work/bench.log"
# Built on every core, run on one.
bench="$(cargo test --quiet --release --locked -p kubefile-ls --test it context_bench:: --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable")][-1])')"
if ! KUBEFILE_LS_BENCH_TREE="$work/tree" taskset -c 0 "$bench" context_bench:: --ignored --nocapture >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
grep -E '^(##|\|)' "$log"

time_of() { # wall seconds of a command, output discarded
  local start end
  start="$(date +%s.%N)"
  "$@" >/dev/null 2>&1 || true
  end="$(date +%s.%N)"
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$start" "$end"
}
bytes="$(du -sb "$work/tree" | cut -f1)"
cpu_of() { # CPU seconds (user + system) of a command, output discarded
  local TIMEFORMAT='%U %S' times
  times="$( { time "$@" >/dev/null 2>&1; } 2>&1 )" || true
  python3 -c 'import sys; print(f"{float(sys.argv[1]) + float(sys.argv[2]):.2f}")' $times
}
walls=() cpus=()
for _ in 1 2 3 4 5; do
  walls+=("$(time_of taskset -c 0 "$bin" images --no-charts --format json "$work/tree")")
  cpus+=("$(cpu_of taskset -c 0 "$bin" images --no-charts --format json "$work/tree")")
done
wall="$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 3p)"
cpu="$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 3p)"
echo "| \`kubefile-ls images --no-charts --format json\` (process; median of 5) | ${wall} s | ${cpu} s | $(python3 -c "print(f'{$bytes/1e6/$wall:.0f}')") | $(python3 -c "print(f'{$bytes/1e6/$cpu:.0f}')") |"
echo
echo "load average after the manifest runs: $(cut -d' ' -f1-3 /proc/loadavg)"

# The corpus: the directory of every build file in INDEX.tsv (as tests/it/context_corpus.rs does).
mapfile -t contexts < <(tail -n +2 "$corpus/INDEX.tsv" | cut -f1 | sed 's#^_generated/##; s#/[^/]*$##' | sort -u)
corpus_run() { # $1: taskset core list or "all"
  for context in "${contexts[@]}"; do
    if [[ "$1" == all ]]; then
      "$bin" images --format json --helm "$helm" "$corpus/$context" >/dev/null 2>&1 || true
    else
      taskset -c "$1" "$bin" images --format json --helm "$helm" "$corpus/$context" >/dev/null 2>&1 || true
    fi
  done
}
charts="$(for c in "${contexts[@]}"; do find "$corpus/$c/charts" -mindepth 1 -maxdepth 1 \( -type d -o -name '*tgz' \) 2>/dev/null || true; done | wc -l)"
echo
echo "## corpus: ${#contexts[@]} contexts, $charts charts rendered with helm"
echo "| run | wall (median of 3) | runs |"
echo "|---|---:|---|"
for cores in all 0; do
  runs=()
  for _ in 1 2 3; do runs+=("$(time_of corpus_run "$cores")"); done
  median="$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)"
  label="all $(nproc) cores (charts of a context rendered in parallel)"
  [[ "$cores" == 0 ]] && label="one core (taskset -c 0)"
  echo "| \`images --format json\` on every context, one after another, $label | ${median} s | ${runs[*]} |"
done
