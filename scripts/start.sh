#!/usr/bin/env bash
# `npm start`: the whole platform in one process (all-in-one mode, embedded PostgreSQL).
source "$(dirname "$0")/lib.sh"
ensure_workspace
exec node "$GALION_ROOT/services/all-in-one/dist/main.js"
