#!/usr/bin/env bash
# Runs a test peer that binds every interface (0.0.0.0) inside new network and PID namespaces,
# where only loopback exists, and bridges its port to a Unix socket the test connects through:
#   unshare --net --pid --fork --mount-proc --kill-child in-netns.sh <socket> <port> <command...>
# Prints "bridge ..." once the bridge listens; the peer's port may open a little later.
set -euo pipefail
socket=$1
port=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
ip link set lo up
trap 'exit 0' TERM INT
"$@" &
node "$here/unix-bridge.mjs" "$socket" "127.0.0.1:$port" &
wait -n
