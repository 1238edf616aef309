#!/usr/bin/env bash
# Runs every test of kubefile-ls on a fresh machine: installs what the tests need (helm from npm,
# docker-registry/skopeo/umoci from Debian, tree-sitter CLI from crates.io, editors for the
# editor tests), then the grammar checks, the whole cargo test suite and the editor tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# One clean build: incremental caches would only cost disk (over 1 GB).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

echo "== installing test tools"
KUBEFILE_LS_HELM="$(bash scripts/install-helm.sh | tail -n 1)"
export KUBEFILE_LS_HELM
echo "helm: $KUBEFILE_LS_HELM"
bash scripts/start-registry.sh --install

echo "== grammar: generated parser up to date, tree-sitter test"
bash tree-sitter-kubefile/scripts/check-generated.sh

echo "== cargo test --workspace"
cargo test --workspace --locked

echo "== kubefile-ls check on the bundled example"
report="$(cargo run --quiet --locked -p kubefile-ls -- check --format json examples/nginx-app)"
for code in missing-registry-copy unknown-label copy-source-not-found split-exec-form undefined-variable; do
  grep -q "\"code\": \"$code\"" <<<"$report" || { echo "example: expected a $code diagnostic"; exit 1; }
done
echo "example: all expected diagnostics reported"

echo "== editors (Neovim, code-server)"
bash scripts/test-editors.sh
