#!/usr/bin/env bash
# Follows one id (REQ-002, DES-010, ...) through the artifacts' traceability graph: every line
# that mentions it (the evidence, as file:line: text), then the ids one hop away - each
# mentioning artifact's own id and the ids named on the same lines - with where each appears.
#   trace.sh <id> [artifacts dir]
set -euo pipefail
id=${1:?usage: trace.sh <id> [artifacts dir]}
dir=${2:-artifacts}
[[ $id =~ ^(REQ|DES|TST|INC)-[0-9]+$ ]] || { echo "not an artifact id: $id" >&2; exit 2; }
[ -d "$dir" ] || { echo "no artifacts folder: $dir" >&2; exit 2; }
ids='\b(REQ|DES|TST|INC)-[0-9]+\b'
hits=$(grep -rnw -- "$id" "$dir" | sort -t: -k1,1 -k2,2n || true)
[ -n "$hits" ] || { echo "$id is not mentioned in $dir"; exit 1; }
files=$(cut -d: -f1 <<<"$hits" | sort -u)
echo "== $id: $(wc -l <<<"$hits") mentions in $(wc -l <<<"$files") artifacts"
echo "$hits"
echo "== linked ids"
{
  while IFS= read -r file; do head -n 3 "$file" | grep -oE "$ids" | head -n 1 || true; done <<<"$files"
  cut -d: -f3- <<<"$hits" | grep -oE "$ids" || true
} | sort -u | grep -vx -- "$id" | while IFS= read -r other; do
  echo "$other: $(grep -rlw -- "$other" "$dir" | sort | tr '\n' ' ')"
done
