#!/usr/bin/env bash
# Editor-feature latency over LSP (BENCHMARKS.md, "LSP editor features").
#
# Builds kubefile-ls in release mode, generates the synthetic 1,000- and 10,000-line files of
# ../shared/tools/lsp_probe.py (saved as `Kubefile` in a directory of their own) and drives each
# server over stdio after the first diagnostics, in three server processes per run: N completion
# and N hover requests at the probe's auto-picked positions; documentSymbol, foldingRange and
# formatting (D each); semanticTokens/full (D). Reports p50/p95 per request and the server's peak
# RSS (VmHWM) after completion and hover, and the largest after any run (whole-document
# responses are large JSON values). The probe stops its clock once it has decoded an answer in
# Python (50 ms for the 2 MB outline of the 10,000-line file), so each whole-document request is
# also timed to the first byte of its answer (when the server has finished it) by
# scripts/lsp-first-byte.py, one server per request kind: the "first byte" columns, next to the
# probe's; the peak RSS of those servers counts too. The same files go to dockerfile-language-server-nodejs
# 0.15.0, installed with npm into the cache directory (its full semantic tokens take tens of
# seconds at 10k lines, so it gets one repetition there).
#
# Usage: scripts/bench-lsp-features.sh [-r RUNS] [-n N] [-d D] [-l "1000 10000"] [--no-node]
# Env:   LSP_PROBE (path to lsp_probe.py), BENCH_CACHE (npm prefix for the Node peer,
#        default ~/.cache/kubefile-ls/dockerfile-language-server).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
probe=${LSP_PROBE:-$root/../shared/tools/lsp_probe.py}
first_byte=$root/scripts/lsp-first-byte.py
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubefile-ls/dockerfile-language-server}
runs=3
requests=100
doc_requests=20
sizes="1000 10000"
node=1
while [ $# -gt 0 ]; do
  case $1 in
    -r) runs=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    -d) doc_requests=$2; shift 2 ;;
    -l) sizes=$2; shift 2 ;;
    --no-node) node=0; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

[ -f "$probe" ] || { echo "lsp_probe.py not found at $probe (set LSP_PROBE)" >&2; exit 2; }
cargo build --quiet --release -p kubefile-ls --manifest-path "$root/Cargo.toml"
ours="$root/target/release/kubefile-ls"

peer=""
if [ $node = 1 ]; then
  peer="$cache/node_modules/.bin/docker-langserver"
  if [ ! -x "$peer" ] && command -v npm >/dev/null; then
    npm install --silent --prefix "$cache" dockerfile-language-server-nodejs@0.15.0 >&2 || true
  fi
  [ -x "$peer" ] || { echo "note: dockerfile-language-server-nodejs not available, measuring kubefile-ls only" >&2; peer=""; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One probe run; appends "request p50 p95" rows and a "rss-LABEL KiB" row to $work/rows.
probe_run() { # server-label rss-label file n n_doc request...
  local server=$1 rss_label=$2 file=$3 n=$4 n_doc=$5 json="$work/report.json" cmd
  shift 5
  if [ "$server" = kubefile-ls ]; then cmd=("$ours"); else cmd=("$peer" --stdio); fi
  local extra=()
  for method in "$@"; do extra+=(--request "$method"); done
  python3 "$probe" --file "$file" --language-id dockerfile -n "$n" --n-doc "$n_doc" --timeout 120 \
    "${extra[@]}" --json "$json" -- "${cmd[@]}" >/dev/null
  python3 - "$json" "$rss_label" >> "$work/rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = {"completion": r.get("completion"), "hover": r.get("hover")}
rows.update({m.split("/", 1)[1]: s for m, s in (r.get("requests") or {}).items()})
for name, s in rows.items():
    if s:
        if s.get("errors"):
            sys.exit("%s: %d error responses" % (name, s["errors"]))
        print("%s %.3f %.3f" % (name, s["median_ms"], s["p95_ms"]))
print("rss-%s %d" % (sys.argv[2], (r.get("memory") or {}).get("root_VmHWM_kB") or -1))
PY
}

# One first-byte run; appends "first-REQUEST p50 p95" and "rss-document KiB" rows per request.
first_byte_run() { # server-label file n method...
  local server=$1 file=$2 n=$3 json="$work/first-byte.json" cmd
  shift 3
  if [ "$server" = kubefile-ls ]; then cmd=("$ours"); else cmd=("$peer" --stdio); fi
  local methods=()
  for method in "$@"; do methods+=(--method "$method"); done
  python3 "$first_byte" --file "$file" -n "$n" "${methods[@]}" --json "$json" -- "${cmd[@]}" >/dev/null
  python3 - "$json" >> "$work/rows" <<'PY'
import json, sys
for row in json.load(open(sys.argv[1])):
    if row["errors"]:
        sys.exit("%s: %d error responses" % (row["method"], row["errors"]))
    print("first-%s %.3f %.3f" % (row["method"].split("/", 1)[1], row["first_byte_p50_ms"], row["first_byte_p95_ms"]))
    print("rss-document %d" % row["peak_rss_kib"])
PY
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column() { awk -v name="$1" -v col="$2" '$1 == name { print $col }' "$work/rows"; }

documents="semanticTokens/full documentSymbol foldingRange formatting"
header="| server | lines | completion p50 / p95 | hover p50 / p95 |"
for request in $documents; do header="$header $request p50 / p95 | first byte p50 / p95 |"; done
echo "$header peak RSS after completion+hover / after any (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for lines in $sizes; do
  mkdir -p "$work/ctx$lines"
  python3 "$probe" gen --lines "$lines" --out "$work/ctx$lines/Kubefile" >/dev/null
  for server in kubefile-ls ${peer:+docker-langserver}; do
    : > "$work/rows"
    token_requests=$doc_requests
    if [ "$server" != kubefile-ls ] && [ "$lines" -ge 10000 ]; then token_requests=1; fi
    for _ in $(seq "$runs"); do
      probe_run "$server" editing "$work/ctx$lines/Kubefile" "$requests" 0
      probe_run "$server" document "$work/ctx$lines/Kubefile" 0 "$doc_requests" \
        textDocument/documentSymbol textDocument/foldingRange textDocument/formatting
      probe_run "$server" document "$work/ctx$lines/Kubefile" 0 "$token_requests" textDocument/semanticTokens/full
      first_byte_run "$server" "$work/ctx$lines/Kubefile" "$token_requests" textDocument/semanticTokens/full
      first_byte_run "$server" "$work/ctx$lines/Kubefile" "$doc_requests" \
        textDocument/documentSymbol textDocument/foldingRange textDocument/formatting
    done
    cells=""
    for request in completion hover semanticTokens/full first-semanticTokens/full documentSymbol \
      first-documentSymbol foldingRange first-foldingRange formatting first-formatting; do
      p50=$(column "$request" 2 | median)
      p95=$(column "$request" 3 | median)
      cells="$cells | $(printf '%.2f / %.2f' "$p50" "$p95")"
    done
    rss_editing=$( (column rss-editing 2) | sort -n | tail -1)
    rss_any=$( (column rss-editing 2; column rss-document 2) | sort -n | tail -1)
    printf '| %s | %s%s | %.1f / %.1f |\n' "$server" "$lines" "$cells" \
      "$(awk -v k="$rss_editing" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rss_any" 'BEGIN { print k / 1024 }')"
  done
done
echo
echo "Medians over $runs runs of lsp_probe.py ($requests completion and hover requests, $doc_requests of each document request per run) and of lsp-first-byte.py (as many of each document request, a server per request kind); RSS is the largest VmHWM of the runs. $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)."
