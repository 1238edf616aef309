#!/usr/bin/env bash
# Benchmark of `kubefile-ls build` (BENCHMARKS.md, "Build" → "vs buildah"):
#
#   * assembly: `kubefile-ls build --save-image=false` (Kubefile → OCI layout) against
#     `buildah bud --storage-driver vfs --isolation chroot` (Kubefile → image in buildah's store;
#     `+ push` adds `buildah push oci:`, the same output as ours) on the same contexts: a few
#     corpus contexts (missing COPY sources stubbed as empty directories), the bundled example
#     with its saved registry/, and the example with 128 MiB of incompressible registry blobs;
#   * the full pipeline (extract → save → assemble) on the example, images pulled from a local
#     docker-registry, registry/ emptied before each run.
#
# Each number is the median of RUNS (default 5) runs, wall clock, release build.
# Usage: scripts/bench-build.sh [RUNS]. Needs buildah, docker-registry, skopeo, umoci, helm.
# Env: KUBEFILE_LS (a release binary; default: cargo build --release), KUBEFILE_LS_HELM.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-5}"
corpus="$repo/../shared/corpus/cluster-image"
corpus_contexts=(
  applications/argo-rollouts/latest
  applications/bitnami-postgresql/latest
  applications/calico/latest
  applications/ceph-csi-rbd/latest
)

bash "$repo/scripts/start-registry.sh" --install
helm="${KUBEFILE_LS_HELM:-$(command -v helm || bash "$repo/scripts/install-helm.sh" | tail -n 1)}"
bin="${KUBEFILE_LS:-}"
if [[ -z "$bin" ]]; then
  cargo build --quiet --release --locked --manifest-path "$repo/Cargo.toml" -p kubefile-ls
  bin="$repo/target/release/kubefile-ls"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : int((a[NR/2] + a[NR/2+1]) / 2)}'; }
# time_ms SETUP_CMD CMD...: median wall time of CMD over $runs runs, SETUP_CMD run untimed before each.
time_ms() {
  local setup="$1"; shift
  for _ in $(seq "$runs"); do
    eval "$setup"
    local start; start=$(now_ms)
    "$@" >/dev/null 2>"$work/last.err" || { cat "$work/last.err" >&2; return 1; }
    echo $(($(now_ms) - start))
  done | median
}

# The example's images and their saved registry/ (build-demo.sh, kept in $work/demo).
KUBEFILE_LS="$bin" KUBEFILE_LS_HELM="$helm" bash "$repo/scripts/build-demo.sh" --keep "$work/demo" >"$work/demo.log" 2>&1 || { tail -n 30 "$work/demo.log" >&2; exit 1; }

contexts=()
for c in "${corpus_contexts[@]}"; do
  dir="$work/ctx/$(basename "$(dirname "$c")")"
  mkdir -p "$dir"
  cp -r "$corpus/$c/." "$dir"
  file="$dir/Kubefile"; [[ -f "$file" ]] || file="$dir/Dockerfile"
  # Sources the corpus does not carry (registry/, omitted binaries) become empty directories.
  awk 'toupper($1) == "COPY" { for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }' "$file" |
    while read -r src; do [[ -e "$dir/$src" ]] || mkdir -p "$dir/$src"; done
  contexts+=("$dir")
done
contexts+=("$work/demo/cluster-app")
big="$work/ctx/cluster-app-128mib"
cp -r "$work/demo/cluster-app" "$big"
mkdir -p "$big/registry/docker/registry/v2/blobs/sha256/00"
for i in $(seq 8); do head -c $((16 << 20)) /dev/urandom >"$big/registry/docker/registry/v2/blobs/sha256/00/blob$i"; done
contexts+=("$big")

echo "machine: $(nproc) cores, $(uname -m), $(buildah --version | cut -d' ' -f1-3), kubefile-ls release build; median of $runs runs"
echo
echo "| context | files, size | kubefile-ls build | buildah bud (vfs) | buildah bud + push oci: | speed-up (bud / ours) |"
echo "|---|---|---|---|---|---|"
for ctx in "${contexts[@]}"; do
  name="$(basename "$ctx")"
  file="$ctx/Kubefile"; [[ -f "$file" ]] || file="$ctx/Dockerfile"
  files="$(find "$ctx" -type f | wc -l)"
  size="$(du -sh "$ctx" | cut -f1)"
  out="$work/out-$name"
  ours=$(time_ms "rm -rf '$out.oci'" "$bin" build --save-image=false --output "oci:$out.oci:v1" "$ctx")
  root="$work/buildah-$name"
  buildah_cmd=(buildah --storage-driver vfs --root "$root/root" --runroot "$root/run")
  bud=$(time_ms "rm -rf '$root'" "${buildah_cmd[@]}" bud --isolation chroot -f "$file" -t "localhost/$name:v1" "$ctx")
  bud_push=$(time_ms "rm -rf '$root' '$out-buildah.oci'" \
    env CTX="$ctx" FILE="$file" OUT="$out-buildah.oci" \
    sh -c '"$@" bud --isolation chroot -f "$FILE" -t localhost/b:v1 "$CTX" && "$@" push localhost/b:v1 "oci:$OUT:v1"' \
    sh "${buildah_cmd[@]}")
  rm -rf "$root" "$out.oci" "$out-buildah.oci"
  echo "| $name | $files, $size | ${ours} ms | ${bud} ms | ${bud_push} ms | $(awk -v a="$bud" -v b="$ours" 'BEGIN {printf "%.1f×", a / (b > 0 ? b : 1)}') |"
done

# Full pipeline: the example's images served again on 127.0.0.1:5055 (where its manifests point).
read -r _ source_pid < <(bash "$repo/scripts/start-registry.sh" --port 5055 "$work/demo/source-registry")
pids+=("$source_pid")
pipeline_ctx="$work/pipeline/cluster-app"
mkdir -p "$(dirname "$pipeline_ctx")"
cp -r "$repo/examples/cluster-app" "$pipeline_ctx"
full=$(time_ms "rm -rf '$pipeline_ctx/registry' '$work/pipeline/out.oci'" \
  "$bin" build --helm "$helm" -t localhost/cluster-app:v1 --output "oci:$work/pipeline/out.oci:v1" "$pipeline_ctx")
echo
echo "| pipeline | kubefile-ls build (extract: manifests + helm chart + shim list → save 4 images → assemble) |"
echo "|---|---|"
echo "| examples/cluster-app, registry/ empty, loopback registry | ${full} ms |"
