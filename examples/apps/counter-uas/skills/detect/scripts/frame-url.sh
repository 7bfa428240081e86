#!/usr/bin/env bash
# A camera frame as a data: URL, for the perception model's `images`:
#   frame-url.sh <frame file (png or jpg)>
set -euo pipefail
frame=${1:?usage: frame-url.sh <frame file>}
[ -f "$frame" ] || { echo "no frame: $frame" >&2; exit 2; }
case $frame in
  *.png) type=image/png ;;
  *.jpg | *.jpeg) type=image/jpeg ;;
  *) echo "not a png or jpg frame: $frame" >&2; exit 2 ;;
esac
printf 'data:%s;base64,%s\n' "$type" "$(base64 -w0 "$frame")"
