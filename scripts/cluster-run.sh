#!/usr/bin/env bash
# `npm run cluster`: Galion on the local Kubernetes cluster with the dev profile (see
# docs/local-cluster.md). Needs root and Linux; installs and builds what it needs on the first run.
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
exec node "$GALION_ROOT/apps/launcher/dist/cluster.js"
