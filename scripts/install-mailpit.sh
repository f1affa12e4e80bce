#!/usr/bin/env bash
# Installs Mailpit, the SMTP server the tests and `npm start` deliver Galion's mail to (it keeps
# every message and shows it in a web page and an HTTP API), built with `go install` from its Go
# module at a pinned version into
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/mail/bin/mailpit
# Idempotent, serialised with flock, and silent when it is already there. `--print-bin` prints the
# binary's path.
set -euo pipefail

MAILPIT_MODULE=github.com/axllent/mailpit
MAILPIT_VERSION=v1.33.1
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/mail"
BIN="$CACHE/bin"
if [ "${1:-}" = "--print-bin" ]; then echo "$BIN/mailpit"; exit 0; fi

log() { printf '\033[1m[mail-tools]\033[0m %s\n' "$*" >&2; }
# Never `mailpit version`: it asks GitHub for the latest release. The stamp says what was built.
installed() { [ -x "$BIN/mailpit" ] && [ "$(cat "$BIN/.mailpit-version" 2>/dev/null)" = "$MAILPIT_VERSION" ]; }

if installed; then exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock 9
if installed; then exit 0; fi

command -v go >/dev/null 2>&1 || { log "Go is required to build Mailpit $MAILPIT_VERSION"; exit 1; }
log "building Mailpit $MAILPIT_VERSION (go install; about a minute the first time)"
mkdir -p "$BIN"
rm -f "$BIN/.mailpit-version"
build_log="$CACHE/mailpit-build.log"
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath \
  -ldflags "-s -w -X $MAILPIT_MODULE/config.Version=$MAILPIT_VERSION" "$MAILPIT_MODULE@$MAILPIT_VERSION" >"$build_log" 2>&1 \
  || { tail -n 40 "$build_log" >&2; exit 1; }
echo "$MAILPIT_VERSION" >"$BIN/.mailpit-version"
