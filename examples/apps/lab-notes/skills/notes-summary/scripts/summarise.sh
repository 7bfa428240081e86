#!/usr/bin/env bash
# Overview of a notes directory: titles, open TODOs, measurements, totals.
set -euo pipefail
dir=${1:-notes}
[ -d "$dir" ] || { echo "no notes directory: $dir" >&2; exit 2; }

shopt -s nullglob
notes=("$dir"/*.md)
echo "== notes (${#notes[@]})"
for note in "${notes[@]}"; do
  title=$(grep -m1 '^# ' "$note" | sed 's/^# //' || true)
  echo "$(basename "$note" .md)  ${title:-(untitled)}"
done

echo "== open TODOs"
todos=0
for note in "${notes[@]}"; do
  while IFS= read -r line; do
    echo "$(basename "$note" .md): ${line#*- \[ \] }"
    todos=$((todos + 1))
  done < <(grep '^- \[ \] ' "$note" || true)
done

echo "== measurements"
measurements=0
for note in "${notes[@]}"; do
  while IFS= read -r line; do
    echo "$(basename "$note" .md): ${line#measured: }"
    measurements=$((measurements + 1))
  done < <(grep '^measured: ' "$note" || true)
done

echo "== totals"
echo "notes=${#notes[@]} open_todos=$todos measurements=$measurements"
