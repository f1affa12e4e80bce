#!/usr/bin/env bash
# `npm run bench [suite ...]`: Galion's benchmarks, figures and ratios measured side by side in one run.
# BENCH_SECONDS (default 10) and BENCH_CONCURRENCY (default 20) tune every suite.
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
exec node "$GALION_ROOT/packages/bench/dist/main.js" "$@"
