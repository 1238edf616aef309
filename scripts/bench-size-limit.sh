#!/usr/bin/env bash
# Document size limit benchmark (the `maxDocumentSize` default, issue 9).
#
# Builds kubefile-ls in release mode, generates synthetic Kubefiles of the given sizes with
# ../shared/tools/lsp_probe.py, and for each measures over stdio the time from didOpen to the
# first publishDiagnostics and the server's peak RSS (VmHWM): once with the default limit, and
# once with the limit lifted (`maxDocumentSize` 1 TB, i.e. parsed and analysed whatever the
# size; skipped above 10 MB, which takes minutes and gigabytes).
#
# Usage: scripts/bench-size-limit.sh [SIZES_IN_MB...]   (default: 1 2 4 5 10 50)
# Env:   LSP_PROBE (path to lsp_probe.py)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
probe=${LSP_PROBE:-$root/../shared/tools/lsp_probe.py}
[ -f "$probe" ] || { echo "lsp_probe.py not found at $probe (set LSP_PROBE)" >&2; exit 2; }
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 2 4 5 10 50)
cargo build --quiet --release -p kubefile-ls --manifest-path "$root/Cargo.toml"
server="$root/target/release/kubefile-ls"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "open_ms peak_rss_MiB" for one probe run of file $1 with initializationOptions $2.
measure() {
  python3 "$probe" --file "$1" --language-id dockerfile -n 0 --diag-timeout 600 --timeout 600 \
    --init-options "$2" --json "$work/report.json" -- "$server" >/dev/null
  python3 - "$work/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f %.0f" % (r.get("open_to_diagnostics_ms") or -1, ((r.get("memory") or {}).get("root_VmHWM_kB") or 0) / 1024))
PY
}

echo "| size (MB) | bytes | default limit: open → diagnostics (ms) | peak RSS (MiB) | no limit: open → diagnostics (ms) | peak RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|---:|"
for mb in "${sizes[@]}"; do
  mkdir -p "$work/$mb"
  file="$work/$mb/Kubefile"
  # lsp_probe's generator writes about 34 bytes per line.
  python3 "$probe" gen --lines $((mb * 30830)) --out "$file" >/dev/null
  read -r open rss < <(measure "$file" '{}')
  if [ "$mb" -le 10 ]; then
    read -r open_all rss_all < <(measure "$file" '{"maxDocumentSize": 1000000000000}')
  else
    open_all=-; rss_all=-
  fi
  echo "| $mb | $(stat -c %s "$file") | $open | $rss | $open_all | $rss_all |"
done
