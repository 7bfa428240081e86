#!/usr/bin/env bash
# Installs the real peers the adapter tests run against into .peers/ (no-op when up to date):
#   .peers/python        Ray (ray[default], its Jobs API) and eclipse-zenoh, from PyPI
#   .peers/ros-mcp       ros-mcp (the design's ros-mcp-server, which turtlebot-maze uses) and the
#                        FastMCP it runs on, from PyPI; apart from Ray, whose pins differ. ros-mcp
#                        asks for the desktop opencv-python; the headless build has the same cv2
#                        (it decodes camera images) without the GUI libraries, at half the size.
#   .peers/bin/zenoh-router  a Zenoh router with the remote-api plugin (test/peers/zenoh-router),
#                        built from crates; the build's target dir is cached outside the clone
#                        ($AURAISON_PEERS_CACHE, default ~/.cache/auraison), so a fresh clone on
#                        the same host does not build it again.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=.peers
CACHE=${AURAISON_PEERS_CACHE:-$HOME/.cache/auraison}
PYTHON_PACKAGES=("ray[default]==2.60.0" "eclipse-zenoh==1.10.2")
ROS_MCP=ros-mcp==3.1.2
ROS_MCP_DEPENDENCIES=("fastmcp==2.14.7" "mcp==1.30.0" "websocket-client==1.8.0" "jsonschema==4.25.1"
  "pillow==11.3.0" "opencv-python-headless==4.11.0.86")
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

ros_mcp_stamp=$(stamp "$ROS_MCP ${ROS_MCP_DEPENDENCIES[*]}")
if [ "$(cat "$PEERS/ros-mcp.stamp" 2>/dev/null)" != "$ros_mcp_stamp" ]; then
  start=$SECONDS
  rm -rf "$PEERS/ros-mcp"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --target "$PEERS/ros-mcp" "${ROS_MCP_DEPENDENCIES[@]}"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
    --no-deps --target "$PEERS/ros-mcp" "$ROS_MCP"
  echo "$ros_mcp_stamp" >"$PEERS/ros-mcp.stamp"
  echo "peers: ros-mcp installed in $((SECONDS - start)) s"
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
