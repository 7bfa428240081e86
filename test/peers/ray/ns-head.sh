#!/usr/bin/env bash
# A Ray head for the ray adapter's tests, run inside new network and PID namespaces:
#   unshare --net --pid --fork --mount-proc -- ns-head.sh <work dir> <bridge socket>
# Ray binds the host's non-loopback address whatever it is told, so it runs where there is only
# loopback and nothing outside the machine can reach it. The dashboard (Jobs API) is reached
# from the test through a Unix socket bridge. This script is the PID namespace's init: when it
# exits, the kernel ends every Ray process in it, and no other Ray on the host is touched.
set -euo pipefail
work=$1
socket=$2
here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up
mkdir -p "$work"
trap 'exit 0' TERM INT
ray start --head --node-ip-address=127.0.0.1 --port=6379 --dashboard-host=127.0.0.1 \
  --dashboard-port=8265 --num-cpus=2 --object-store-memory=100000000 \
  --temp-dir="$work/ray" --disable-usage-stats >"$work/ray-start.log" 2>&1 ||
  { cat "$work/ray-start.log"; exit 1; }
node "$here/../unix-bridge.mjs" "$socket" 127.0.0.1:8265 &
for _ in $(seq 1 300); do
  if python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8265/api/version", timeout=2)' 2>/dev/null; then
    echo "ray head ready"
    while true; do
      sleep 1 &
      wait $!
    done
  fi
  sleep 0.2
done
echo "the Ray dashboard did not come up"
cat "$work/ray-start.log"
exit 1
