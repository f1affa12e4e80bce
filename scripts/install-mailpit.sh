#!/usr/bin/env bash
# Installs Mailpit, the SMTP server the tests and `npm start` deliver Galion's mail to (it keeps
# every message and shows it in a web page and an HTTP API), built with `go install` from its Go
# module at a pinned version into
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/mail/bin/mailpit
# Idempotent, serialised with flock, and silent when it is already there. `--print-bin` prints the
# binary's path. (Never `mailpit version` to check it: that asks the network for the latest release;
# the version stamp says what was built.)
set -euo pipefail

MAILPIT_MODULE=github.com/axllent/mailpit
MAILPIT_VERSION=v1.33.1
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/mail"
if [ "${1:-}" = "--print-bin" ]; then echo "$CACHE/bin/mailpit"; exit 0; fi

. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
install_go_tool mailpit "$CACHE" "$MAILPIT_VERSION" "$MAILPIT_MODULE@$MAILPIT_VERSION" \
  "-X $MAILPIT_MODULE/config.Version=$MAILPIT_VERSION" mail-tools
