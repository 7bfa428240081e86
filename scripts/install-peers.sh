#!/usr/bin/env bash
# Installs the real peers the adapter tests run against into .peers/ (no-op when up to date):
#   .peers/python        Ray (ray[default], its Jobs API) and eclipse-zenoh, from PyPI
#   .peers/bin/zenoh-router  a Zenoh router with the remote-api plugin (test/peers/zenoh-router),
#                        built from crates; the build's target dir is cached outside the clone
#                        ($AURAISON_PEERS_CACHE, default ~/.cache/auraison), so a fresh clone on
#                        the same host does not build it again.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=.peers
CACHE=${AURAISON_PEERS_CACHE:-$HOME/.cache/auraison}
PYTHON_PACKAGES=("ray[default]==2.60.0" "eclipse-zenoh==1.10.2")
mkdir -p "$PEERS/bin"

stamp() { printf '%s' "$*" | sha256sum | cut -c1-16; }

python_stamp=$(stamp "${PYTHON_PACKAGES[*]}")
if [ "$(cat "$PEERS/python.stamp" 2>/dev/null)" != "$python_stamp" ]; then
  start=$SECONDS
  rm -rf "$PEERS/python"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$PEERS/python" "${PYTHON_PACKAGES[@]}"
  echo "$python_stamp" >"$PEERS/python.stamp"
  echo "peers: Python packages installed in $((SECONDS - start)) s"
fi

router_stamp=$(stamp "$(cat test/peers/zenoh-router/Cargo.toml test/peers/zenoh-router/Cargo.lock test/peers/zenoh-router/src/main.rs)")
if [ "$(cat "$PEERS/zenoh-router.stamp" 2>/dev/null)" != "$router_stamp" ] || [ ! -x "$PEERS/bin/zenoh-router" ]; then
  start=$SECONDS
  CARGO_TARGET_DIR="$CACHE/zenoh-router-target" cargo build --quiet --release --locked \
    --manifest-path test/peers/zenoh-router/Cargo.toml
  cp "$CACHE/zenoh-router-target/release/zenoh-router" "$PEERS/bin/zenoh-router"
  echo "$router_stamp" >"$PEERS/zenoh-router.stamp"
  echo "peers: zenoh-router built in $((SECONDS - start)) s"
fi
