#!/usr/bin/env bash
# Checks a draft's evidence: every citation [path:line] must point at an existing line of an
# artifact (printed beside it, to compare with the claim), and every claim line ("- ...") must
# cite something. Exits 1 when a citation does not resolve or a claim cites nothing.
#   check-citations.sh <draft.md>
set -euo pipefail
draft=${1:?usage: check-citations.sh <draft.md>}
[ -f "$draft" ] || { echo "no draft: $draft" >&2; exit 2; }
citations=0
bad=0
while IFS= read -r cite; do
  file=${cite%:*}
  line=${cite##*:}
  citations=$((citations + 1))
  if [ -f "$file" ] && text=$(sed -n "${line}p" "$file") && [ -n "$text" ]; then
    echo "ok $file:$line: $text"
  else
    echo "UNRESOLVED $file:$line"
    bad=$((bad + 1))
  fi
done < <(grep -oE '\[[^] :]+:[0-9]+\]' "$draft" | tr -d '[]')
uncited=0
while IFS= read -r claim; do
  echo "UNCITED $claim"
  uncited=$((uncited + 1))
done < <(grep -E '^- ' "$draft" | grep -vE '\[[^] :]+:[0-9]+\]' || true)
echo "== $citations citations, $bad unresolved, $uncited uncited claims"
[ "$bad" -eq 0 ] && [ "$uncited" -eq 0 ]
