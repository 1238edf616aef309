#!/usr/bin/env bash
# Fills fuzz/corpus/<target> with seeds from the cluster-image corpus (or $KUBEFILE_LS_CORPUS):
#   analysis, format: every build file;
#   lists: per context, its first manifest, its shim lists, .sealignore and .dockerignore joined
#          with NUL bytes (the layout the `lists` target splits its input into);
#   reference: every shim list line and every `image:` value of the manifests, one per file.
# The corpus directories are git-ignored.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="${KUBEFILE_LS_CORPUS:-$fuzz_dir/../../../shared/corpus/cluster-image}"
[ -d "$corpus" ] || { echo "no corpus at $corpus (set KUBEFILE_LS_CORPUS)" >&2; exit 1; }
for target in analysis format lists reference; do mkdir -p "$fuzz_dir/corpus/$target"; done

n=0
while IFS= read -r path; do
  n=$((n + 1))
  cp "$corpus/$path" "$fuzz_dir/corpus/analysis/build-file-$n"
  cp "$corpus/$path" "$fuzz_dir/corpus/format/build-file-$n"
done < <(tail -n +2 "$corpus/INDEX.tsv" | cut -f1)
echo "analysis, format: $n build files"

n=0
while IFS= read -r -d '' shim_dir; do
  context="$(dirname "$(dirname "$shim_dir")")"
  n=$((n + 1))
  manifest="$(find "$context/manifests" -type f \( -name '*.yaml' -o -name '*.yml' \) 2>/dev/null | sort | head -n 1 || true)"
  {
    [ -n "$manifest" ] && head -c 4096 "$manifest"
    printf '\0'
    find "$shim_dir" -type f -print0 | sort -z | xargs -0 cat
    printf '\0\0'
    cat "$context/.sealignore" 2>/dev/null || true
    printf '\0'
    cat "$context/.dockerignore" 2>/dev/null || true
  } > "$fuzz_dir/corpus/lists/context-$n"
done < <(find "$corpus" -type d -path '*/images/shim' -print0)
echo "lists: $n contexts"

n=0
while IFS= read -r line; do
  n=$((n + 1))
  printf '%s' "$line" > "$fuzz_dir/corpus/reference/image-$n"
done < <({
  find "$corpus" -path '*/images/shim/*' -type f -exec cat {} +
  find "$corpus" -path '*/manifests/*' -type f \( -name '*.yaml' -o -name '*.yml' \) -exec grep -h 'image:' {} + |
    sed -E 's/.*image:[[:space:]]*//; s/^["'\'']//; s/["'\'']$//'
} | tr -d '\r' | grep -v '^[[:space:]]*$' | sort -u)
echo "reference: $n image references"
