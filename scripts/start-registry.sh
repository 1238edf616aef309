#!/usr/bin/env bash
# Tools for the registry save tests and benchmark, and a local docker-registry for trying
# `kubefile-ls save` by hand.
#
#   scripts/start-registry.sh --install
#       Installs what the tests need if it is missing (Debian/Ubuntu, apt-get):
#       docker-registry (distribution 2.8), skopeo, umoci, buildah, apache2-utils (htpasswd).
#       Idempotent.
#
#   scripts/start-registry.sh [--install] [--port PORT] [--htpasswd FILE] STORAGE_DIR
#       Starts docker-registry on 127.0.0.1:PORT (a free port when not given) serving
#       STORAGE_DIR (distribution's rootdirectory: a build context's registry/ works as is),
#       in the background. Prints `ADDRESS PID`; stop it with `kill PID`.
set -euo pipefail

install=false
port=""
htpasswd=""
storage=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --install) install=true ;;
    --port) port="$2"; shift ;;
    --htpasswd) htpasswd="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "start-registry.sh: unknown option $1" >&2; exit 2 ;;
    *) storage="$1" ;;
  esac
  shift
done

missing_packages() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v umoci >/dev/null || missing+=(umoci)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  echo "${missing[@]:-}"
}

if $install; then
  packages="$(missing_packages)"
  if [[ -n "${packages// /}" ]]; then
    echo "start-registry.sh: installing ${packages}" >&2
    sudo=""
    [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    if ! $sudo apt-get install -y --no-install-recommends $packages >/dev/null; then
      $sudo apt-get update >/dev/null
      $sudo apt-get install -y --no-install-recommends $packages >/dev/null
    fi
  fi
  echo "start-registry.sh: $(docker-registry --version 2>/dev/null | head -n1); $(skopeo --version); umoci $(umoci --version 2>/dev/null | awk '{print $NF}'); $(buildah --version); htpasswd ok" >&2
  [[ -z "$storage" ]] && exit 0
fi

if [[ -z "$storage" ]]; then
  echo "usage: start-registry.sh [--install] [--port PORT] [--htpasswd FILE] STORAGE_DIR" >&2
  exit 2
fi
command -v docker-registry >/dev/null || { echo "docker-registry not found: run $0 --install" >&2; exit 1; }

mkdir -p "$storage"
storage="$(cd "$storage" && pwd)"
if [[ -z "$port" ]]; then
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
fi
config="$(mktemp -d)/config.yml"
{
  echo "version: 0.1"
  echo "log: {level: error, accesslog: {disabled: true}}"
  echo "storage:"
  echo "  filesystem: {rootdirectory: \"$storage\"}"
  echo "  delete: {enabled: true}"
  echo "  maintenance: {uploadpurging: {enabled: false}}"
  echo "http: {addr: \"127.0.0.1:$port\"}"
  echo "health: {storagedriver: {enabled: false}}"
  if [[ -n "$htpasswd" ]]; then
    echo "auth: {htpasswd: {realm: kubefile-ls, path: \"$(cd "$(dirname "$htpasswd")" && pwd)/$(basename "$htpasswd")\"}}"
  fi
} >"$config"
docker-registry serve "$config" >"${config%/*}/registry.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)"
  if [[ "$code" == 200 || "$code" == 401 ]]; then
    echo "127.0.0.1:$port $pid"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
echo "start-registry.sh: docker-registry did not start; log:" >&2
cat "${config%/*}/registry.log" >&2
kill "$pid" 2>/dev/null || true
exit 1
