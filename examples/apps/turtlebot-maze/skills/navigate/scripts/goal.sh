#!/usr/bin/env bash
# The Nav2 NavigateToPose goal for each waypoint named, one JSON object a line:
#   goal.sh <waypoint>... [--maze <dir>]
set -euo pipefail
maze=maze
names=()
while [ $# -gt 0 ]; do
  case $1 in
    --maze) maze=$2; shift 2 ;;
    *) names+=("$1"); shift ;;
  esac
done
[ ${#names[@]} -gt 0 ] || { echo "usage: goal.sh <waypoint>... [--maze <dir>]" >&2; exit 2; }
for name in "${names[@]}"; do
  awk -F'\t' -v name="$name" '
    /^#/ { next }
    $1 == name {
      found = 1
      printf "{\"pose\":{\"header\":{\"frame_id\":\"map\"},\"pose\":{\"position\":{\"x\":%s,\"y\":%s,\"z\":0},\"orientation\":{\"x\":0,\"y\":0,\"z\":%.4f,\"w\":%.4f}}},\"behavior_tree\":\"\"}\n", $2, $3, sin($4 / 2), cos($4 / 2)
    }
    END { if (!found) { print "unknown waypoint: " name > "/dev/stderr"; exit 2 } }
  ' "$maze/waypoints.tsv"
done
