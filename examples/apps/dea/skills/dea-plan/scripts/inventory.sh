#!/usr/bin/env bash
# The engineering artifacts under a folder: one line each with its title, its own id (the first
# id in its first three lines) and every id it mentions (REQ-, DES-, TST-, INC-).
#   inventory.sh [artifacts dir]
set -euo pipefail
dir=${1:-artifacts}
[ -d "$dir" ] || { echo "no artifacts folder: $dir" >&2; exit 2; }
ids='\b(REQ|DES|TST|INC)-[0-9]+\b'
count=0
while IFS= read -r file; do
  title=$(grep -m1 '^# ' "$file" | sed 's/^# //' || true)
  own=$(head -n 3 "$file" | grep -oE "$ids" | head -n 1 || true)
  mentions=$(grep -oE "$ids" "$file" | sort -u | tr '\n' ' ' || true)
  echo "$file | ${title:-(untitled)} | id: ${own:--} | mentions: ${mentions:-none}"
  count=$((count + 1))
done < <(find "$dir" -type f \( -name '*.md' -o -name '*.txt' \) | sort)
echo "== $count artifacts"
