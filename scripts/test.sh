#!/usr/bin/env bash
# `npm test`: installs what the tests need (Node 24, pnpm, dependencies, Redis, a Kafka broker,
# chart tools, the local Kubernetes cluster's components), builds, and runs every test: the main
# run, then the cluster tier. Closes with "N passed, N failed" over both.
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
mkdir -p "$GALION_ROOT/.galion"
results="$GALION_ROOT/.galion/jest-results.json"
rm -f "$results"
set +e
log "linting (eslint)"
pnpm exec eslint packages services apps tests
lint_status=$?
pnpm exec jest --ci --json --outputFile="$results" "$@"
status=$?
[ "$status" -eq 0 ] && status=$lint_status
# The cluster tier (tests/cluster): Galion on the local Kubernetes cluster, after the main run so
# the two do not share the machine's cores. GALION_CLUSTER_TESTS=0 leaves it out of a local run.
cluster_results="$GALION_ROOT/.galion/jest-cluster-results.json"
rm -f "$cluster_results"
if [ "${GALION_CLUSTER_TESTS:-1}" != 0 ]; then
  log "cluster tests (tests/cluster: the local Kubernetes cluster)"
  pnpm exec jest --ci --json --outputFile="$cluster_results" -c tests/cluster/jest.config.js
  cluster_status=$?
  [ "$status" -eq 0 ] && status=$cluster_status
fi
set -e
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0); skipped += r.numPendingTests;
  }
  if (!fs.existsSync(process.argv[1])) failed += 1;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" "$cluster_results"
exit "$status"
