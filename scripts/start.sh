#!/usr/bin/env bash
# `npm start`: the whole platform in one process (all-in-one mode, embedded PostgreSQL).
source "$(dirname "$0")/lib.sh"
ensure_workspace
exec node "$GALION_ROOT/services/launcher/dist/all-in-one.js"
