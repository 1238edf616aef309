#!/usr/bin/env bash
# Benchmark of `kubefile-ls save` (BENCHMARKS.md, "Registry save"): 20 images sharing base
# layers behind a 50 ms-per-request proxy, against serial `skopeo copy` (what sealos does), and
# loopback throughput. Needs docker-registry and skopeo (installed by start-registry.sh).
# Prints markdown tables; takes a few minutes (release build included).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/start-registry.sh --install
echo "machine: $(nproc) cores, $(uname -m), $(skopeo --version), $(docker-registry --version | head -n1)"
log="$(mktemp)"
if ! cargo test --release --locked -p kubefile-ls --test it registry_bench:: -- --ignored --nocapture --test-threads=1 >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  exit 1
fi
sed -n '/^## /,/^test /p' "$log" | grep -v '^test '
