#!/usr/bin/env bash
# `npm start`: the whole platform in one process (all-in-one mode, embedded PostgreSQL).
source "$(dirname "$0")/lib.sh"
ensure_workspace
# Mailpit gives the local platform a mail page (verification and reset links); without Go the
# mail goes to the log instead.
bash "$GALION_ROOT/scripts/install-mailpit.sh" || log "Mailpit could not be built: mails will be written to the log"
exec node "$GALION_ROOT/apps/launcher/dist/all-in-one.js"
