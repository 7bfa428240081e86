#!/usr/bin/env bash
# Shortest route between two waypoints over the maze's corridors (Dijkstra):
#   route.sh <from> <to> [maze dir]   prints the waypoints after <from>, one a line, then the length.
set -euo pipefail
from=${1:?usage: route.sh <from> <to> [maze dir]}
to=${2:?usage: route.sh <from> <to> [maze dir]}
maze=${3:-maze}
[ -f "$maze/corridors.tsv" ] || { echo "no corridors file: $maze/corridors.tsv" >&2; exit 2; }
awk -F'\t' -v from="$from" -v to="$to" '
  /^#/ || NF < 3 { next }
  { len[$1, $2] = $3; len[$2, $1] = $3; node[$1]; node[$2] }
  END {
    if (!(from in node)) { print "unknown waypoint: " from > "/dev/stderr"; exit 2 }
    if (!(to in node)) { print "unknown waypoint: " to > "/dev/stderr"; exit 2 }
    for (n in node) dist[n] = -1
    dist[from] = 0
    for (;;) {
      best = ""
      for (n in node) if (!(n in done) && dist[n] >= 0 && (best == "" || dist[n] < dist[best])) best = n
      if (best == "" || best == to) break
      done[best]
      for (n in node) if (((best, n) in len) && (dist[n] < 0 || dist[best] + len[best, n] < dist[n])) {
        dist[n] = dist[best] + len[best, n]; prev[n] = best
      }
    }
    if (dist[to] < 0) { print "no route from " from " to " to > "/dev/stderr"; exit 1 }
    k = 0
    for (n = to; n != from; n = prev[n]) path[k++] = n
    for (i = k - 1; i >= 0; i--) print path[i]
    print "length_m " dist[to]
  }' "$maze/corridors.tsv"
