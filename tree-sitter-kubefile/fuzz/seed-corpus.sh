#!/usr/bin/env bash
# Fills fuzz/corpus/parse with seeds: every build file of the cluster-image corpus and the input
# of every test in test/corpus/*.txt. The corpus directory is git-ignored.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
grammar_dir="$(dirname "$fuzz_dir")"
corpus="${KUBEFILE_LS_CORPUS:-$grammar_dir/../../shared/corpus/cluster-image}"
out="$fuzz_dir/corpus/parse"
mkdir -p "$out"

if [ -d "$corpus" ]; then
  n=0
  while IFS= read -r -d '' file; do
    n=$((n + 1))
    cp "$file" "$out/cluster-image-$n"
  done < <(find "$corpus" -type f \( -name Kubefile -o -name Dockerfile -o -name '*.dockerfile' \
    -o -name 'Kubefile.*' -o -name 'Dockerfile.*' \) -print0)
  echo "copied $n build files from $corpus"
else
  echo "no corpus at $corpus (set KUBEFILE_LS_CORPUS); using the test inputs only" >&2
fi

# A test's input is the text between its header and its `---` divider, minus the final newline.
for txt in "$grammar_dir"/test/corpus/*.txt; do
  awk -v prefix="$out/$(basename "$txt" .txt)-" '
    /^===+\r?$/ { if (state == 0) { state = 1 } else if (state == 1) { state = 2; n++; body = ""; first = 1 } else { state = 1 }; next }
    state == 2 && /^---+\r?$/ { printf "%s", body > (prefix n); close(prefix n); state = 3; next }
    state == 2 { body = first ? $0 : body "\n" $0; first = 0 }
  ' "$txt"
done
echo "$(ls "$out" | wc -l) seeds in $out"
