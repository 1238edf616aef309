#!/usr/bin/env bash
# Fails when the committed parser (src/parser.c, src/grammar.json, src/node-types.json) is not what
# grammar.js generates, then runs the grammar's corpus and highlight tests.
#
# The parser is regenerated into a scratch copy of the grammar directory, so the working tree is
# never touched and uncommitted edits to grammar.js are compared against the src/ files next to
# them. Needs tree-sitter CLI 0.27.1 (installed with cargo when missing or at another version):
# the generated code depends on the CLI version, so any other version would report differences.
set -euo pipefail

readonly WANTED_VERSION="0.27.1"
grammar_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

tree_sitter="tree-sitter"
if ! command -v "$tree_sitter" >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/tree-sitter" ]; then
  tree_sitter="${CARGO_HOME:-$HOME/.cargo}/bin/tree-sitter"
fi
installed_version="$("$tree_sitter" --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$installed_version" != "$WANTED_VERSION" ]; then
  echo "tree-sitter ${installed_version:-not found}; installing tree-sitter-cli $WANTED_VERSION" >&2
  cargo install tree-sitter-cli --locked --version "$WANTED_VERSION"
  tree_sitter="${CARGO_HOME:-$HOME/.cargo}/bin/tree-sitter"
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cp "$grammar_dir/grammar.js" "$grammar_dir/tree-sitter.json" "$scratch/"
mkdir -p "$scratch/src"
cp "$grammar_dir/src/scanner.c" "$scratch/src/"
(cd "$scratch" && "$tree_sitter" generate --js-runtime native)

status=0
for file in parser.c grammar.json node-types.json; do
  if ! diff -q "$grammar_dir/src/$file" "$scratch/src/$file" >/dev/null; then
    echo "error: src/$file does not match grammar.js; run \`tree-sitter generate --js-runtime native\` in tree-sitter-kubefile/ and commit the result" >&2
    diff -u "$grammar_dir/src/$file" "$scratch/src/$file" | head -n 40 >&2 || true
    status=1
  fi
done
for header in alloc.h array.h parser.h; do
  if ! diff -q "$grammar_dir/src/tree_sitter/$header" "$scratch/src/tree_sitter/$header" >/dev/null; then
    echo "error: src/tree_sitter/$header differs from what tree-sitter $WANTED_VERSION generates" >&2
    status=1
  fi
done
[ "$status" -eq 0 ] || exit "$status"
echo "generated parser is up to date with grammar.js"

# The CLI warns about a missing user config; an empty one keeps the output clean and the run
# independent of whatever the machine has configured.
echo '{"parser-directories": []}' >"$scratch/config.json"
(cd "$grammar_dir" && "$tree_sitter" test --config-path "$scratch/config.json")
