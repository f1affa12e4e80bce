#!/usr/bin/env bash
# `npm run bench [suite ...]`: Galion's benchmarks, figures and ratios measured side by side in one run.
# BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 20) tune every suite.
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
# The gateway suite holds 1,000 client connections (and the gateway twice as many sockets): as many
# open files as the hard limit allows, inherited by every service the suites start.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node "$GALION_ROOT/apps/bench/dist/main.js" "$@"
