#!/usr/bin/env bash
# A stand-in simulation: a fixed instrument offset on the nominal line, so answers are repeatable.
set -euo pipefail
nominal="${1:?usage: simulate.sh <nominal-nm> [measured-nm]}"
simulated=$(awk -v n="$nominal" 'BEGIN { printf "%.2f", n + 0.12 }')
echo "simulated centre: ${simulated} nm"
if [ $# -ge 2 ]; then
  awk -v s="$simulated" -v m="$2" 'BEGIN { printf "measured %.2f nm, difference %.2f nm\n", m, m - s }'
fi
