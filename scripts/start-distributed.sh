#!/usr/bin/env bash
# `npm run start:distributed`: every service as its own process against real PostgreSQL, Redis,
# Kafka and an S3 server (versitygw, for media) started on loopback, as in a cluster.
source "$(dirname "$0")/lib.sh"
ensure_workspace
bash "$GALION_ROOT/scripts/install-deps.sh"
exec node "$GALION_ROOT/apps/launcher/dist/distributed.js"
