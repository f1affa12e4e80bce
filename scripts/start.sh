#!/usr/bin/env bash
# `npm start`: the whole platform in one process (all-in-one mode, embedded PostgreSQL).
source "$(dirname "$0")/lib.sh"
ensure_workspace
# Mailpit gives the local platform a mail page (verification and reset links); without Go the
# mail goes to the log instead.
bash "$GALION_ROOT/scripts/install-mailpit.sh" || log "Mailpit could not be built: mails will be written to the log"
# No S3 server here: media keeps its images in a folder of the data folder (start:distributed runs versitygw).
# The feed keeps its read model in a real Redis (Lua scripts, sorted sets): Debian's redis-server,
# installed as the tests' is; without it the platform runs without the feed.
if ! command -v redis-server >/dev/null 2>&1; then
  (
    mkdir -p "$GALION_CACHE_DIR"
    exec 9>"$GALION_CACHE_DIR/install-deps.lock"
    flock 9
    ensure_debian_package redis-server redis-server
  ) || log "redis-server could not be installed: the platform runs without the feed"
fi
exec node "$GALION_ROOT/apps/launcher/dist/all-in-one.js"
