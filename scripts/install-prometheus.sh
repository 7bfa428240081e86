#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the server and promtool), which the metrics tests run
# against (test/central/tenant/metrics.node.test.ts); a no-op when both are on PATH already.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then exit 0; fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
start=$SECONDS
# Where there is no init the package's own service does not start, which is fine: the tests
# start their own server on a free port.
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
echo "prometheus: $(promtool --version 2>&1 | head -1) installed in $((SECONDS - start)) s"
