#!/usr/bin/env bash
# Case-insensitive fixed-string search through a notes directory.
set -euo pipefail
dir=${1:?usage: search.sh <notes dir> <term>}
term=${2:?usage: search.sh <notes dir> <term>}
[ -d "$dir" ] || { echo "no notes directory: $dir" >&2; exit 2; }
matches=$(grep -rniF --include='*.md' -- "$term" "$dir" || true)
if [ -n "$matches" ]; then
  printf '%s\n' "$matches" | sed "s#^$dir/##"
  echo "== $(printf '%s\n' "$matches" | wc -l) matches for \"$term\""
else
  echo "== 0 matches for \"$term\""
fi
