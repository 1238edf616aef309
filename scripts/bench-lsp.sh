#!/usr/bin/env bash
# Language-server latency benchmark (BENCHMARKS.md, "Language server latency").
#
# Builds kubefile-ls in release mode, generates synthetic Dockerfiles of 1,000 and 10,000 lines
# with ../shared/tools/lsp_probe.py, saves each as `Kubefile` in a directory of its own, and
# drives the server over stdio: didOpen -> first publishDiagnostics, then K incremental
# didChange (a space typed and deleted at the end of the middle line) -> publishDiagnostics for
# that version, and the server's peak RSS (VmHWM). The same files go to
# dockerfile-language-server-nodejs 0.15.0 when npm can install it (into the cache directory).
#
# Usage: scripts/bench-lsp.sh [-r RUNS] [-k CHANGES] [-l "1000 10000"] [--no-node] [-b BINARY]...
#   -b: measure these kubefile-ls binaries (e.g. a copy of an older build) instead of building the
#       tree's; repeated, their runs are interleaved so that a change of load hits them alike.
# Env:   LSP_PROBE (path to lsp_probe.py), BENCH_CACHE (npm prefix for the Node peer).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
probe=${LSP_PROBE:-$root/../shared/tools/lsp_probe.py}
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubefile-ls-bench}
runs=5
changes=60
sizes="1000 10000"
node=1
binaries=()
while [ $# -gt 0 ]; do
  case $1 in
    -r) runs=$2; shift 2 ;;
    -k) changes=$2; shift 2 ;;
    -l) sizes=$2; shift 2 ;;
    --no-node) node=0; shift ;;
    -b) binaries+=("$2"); shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

[ -f "$probe" ] || { echo "lsp_probe.py not found at $probe (set LSP_PROBE)" >&2; exit 2; }
if [ ${#binaries[@]} = 0 ]; then
  cargo build --quiet --release -p kubefile-ls --manifest-path "$root/Cargo.toml"
  binaries=("$root/target/release/kubefile-ls")
fi

peer=""
if [ $node = 1 ]; then
  peer="$cache/node/node_modules/.bin/docker-langserver"
  if [ ! -x "$peer" ] && command -v npm >/dev/null; then
    npm install --silent --prefix "$cache/node" dockerfile-language-server-nodejs@0.15.0 >&2 || true
  fi
  [ -x "$peer" ] || { echo "note: dockerfile-language-server-nodejs not available, measuring kubefile-ls only" >&2; peer=""; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One probe run; prints "open_ms change_median_ms change_p95_ms rss_kib published".
measure() { # server (a kubefile-ls binary, or docker-langserver) file
  local json="$work/report.json" cmd
  if [ "$1" = docker-langserver ]; then cmd=("$peer" --stdio); else cmd=("$1"); fi
  python3 "$probe" --file "$2" --language-id dockerfile -n 0 --changes "$changes" --json "$json" -- "${cmd[@]}" >/dev/null
  python3 - "$json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = r.get("change_to_diagnostics") or {}
print("%.2f %.2f %.2f %d %s" % (r.get("open_to_diagnostics_ms") or -1, c.get("median_ms", -1), c.get("p95_ms", -1),
      (r.get("memory") or {}).get("root_VmHWM_kB") or -1, r.get("change_to_diagnostics_published", "-")))
PY
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "| server | lines | open → diagnostics (ms) | keystroke → diagnostics median (ms) | p95 (ms) | peak RSS (MiB) | changes published |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for lines in $sizes; do
  mkdir -p "$work/ctx$lines"
  python3 "$probe" gen --lines "$lines" --out "$work/ctx$lines/Kubefile" >/dev/null
  servers=("${binaries[@]}" ${peer:+docker-langserver})
  for i in "${!servers[@]}"; do : > "$work/rows$i"; done
  for _ in $(seq "$runs"); do
    for i in "${!servers[@]}"; do measure "${servers[$i]}" "$work/ctx$lines/Kubefile" >> "$work/rows$i"; done
  done
  for i in "${!servers[@]}"; do
    rows="$work/rows$i"
    open=$(cut -d' ' -f1 "$rows" | median)
    med=$(cut -d' ' -f2 "$rows" | median)
    p95=$(cut -d' ' -f3 "$rows" | median)
    rss=$(cut -d' ' -f4 "$rows" | sort -n | tail -1)
    published=$(cut -d' ' -f5 "$rows" | sort | uniq | paste -sd, -)
    label=${servers[$i]}
    if [ ${#binaries[@]} = 1 ] && [ "$i" = 0 ]; then label=kubefile-ls; fi
    printf '| %s | %s | %.1f | %.1f | %.1f | %.1f | %s |\n' "$label" "$lines" "$open" "$med" "$p95" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$published"
  done
done
echo
echo "Medians over $runs runs of lsp_probe.py ($changes changes each); RSS is the largest VmHWM of the runs. $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)."
