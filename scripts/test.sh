#!/usr/bin/env bash
# `npm test`: installs what the tests need (Node 24, pnpm, dependencies, Redis, a Kafka broker,
# chart tools), builds, and runs every test. Closes with "N passed, N failed".
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
mkdir -p "$GALION_ROOT/.galion"
results="$GALION_ROOT/.galion/jest-results.json"
rm -f "$results"
set +e
log "linting (eslint)"
pnpm exec eslint packages services
lint_status=$?
pnpm exec jest --ci --json --outputFile="$results" "$@"
status=$?
[ "$status" -eq 0 ] && status=$lint_status
set -e
if [ -f "$results" ]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  ' "$results"
else
  echo "0 passed, 1 failed"
fi
exit "$status"
