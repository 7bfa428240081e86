#!/usr/bin/env bash
# Installs the gateways bench/gateway-comparison.ts compares Auraison's with, outside the
# project's dependency tree (bench/.peers/, gitignored): Portkey's open-source gateway from npm
# and the LiteLLM proxy from PyPI in its own virtualenv. Safe to run again.
#
#   bash bench/gateway-setup.sh
set -euo pipefail
cd "$(dirname "$0")"
PEERS="$PWD/.peers"
mkdir -p "$PEERS/portkey"

if [ ! -f "$PEERS/portkey/node_modules/@portkey-ai/gateway/build/start-server.js" ]; then
  echo "installing @portkey-ai/gateway into $PEERS/portkey"
  (cd "$PEERS/portkey" && { [ -f package.json ] || echo '{"private":true}' > package.json; } \
    && npm install --no-audit --no-fund --save-exact @portkey-ai/gateway)
fi

if [ ! -x "$PEERS/litellm/bin/litellm" ]; then
  echo "installing litellm[proxy] into $PEERS/litellm"
  python3 -m venv "$PEERS/litellm"
  "$PEERS/litellm/bin/pip" install --quiet --upgrade pip
  "$PEERS/litellm/bin/pip" install --quiet "litellm[proxy]"
fi

echo "portkey: $(node -p "require('$PEERS/portkey/node_modules/@portkey-ai/gateway/package.json').version")"
echo "litellm: $("$PEERS/litellm/bin/pip" show litellm | sed -n 's/^Version: //p')"
