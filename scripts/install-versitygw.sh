#!/usr/bin/env bash
# Installs versitygw (Apache-2.0), the S3-compatible server the media tests store their files in (its
# posix backend keeps each object as a file in a folder), built with `go install` from its Go module
# at a pinned version into
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/s3/bin/versitygw
# Idempotent, serialised with flock, and silent when it is already there. `--print-bin` prints the
# binary's path.
set -euo pipefail

VERSITYGW_MODULE=github.com/versity/versitygw
VERSITYGW_VERSION=v1.8.0
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/s3"
BIN="$CACHE/bin"
if [ "${1:-}" = "--print-bin" ]; then echo "$BIN/versitygw"; exit 0; fi

log() { printf '\033[1m[s3-tools]\033[0m %s\n' "$*" >&2; }
# The stamp says what was built (the binary's own version is whatever the ldflags below set).
installed() { [ -x "$BIN/versitygw" ] && [ "$(cat "$BIN/.versitygw-version" 2>/dev/null)" = "$VERSITYGW_VERSION" ]; }

if installed; then exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock 9
if installed; then exit 0; fi

command -v go >/dev/null 2>&1 || { log "Go is required to build versitygw $VERSITYGW_VERSION"; exit 1; }
log "building versitygw $VERSITYGW_VERSION (go install; a few minutes the first time)"
mkdir -p "$BIN"
rm -f "$BIN/.versitygw-version"
build_log="$CACHE/versitygw-build.log"
GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath \
  -ldflags "-s -w -X main.Version=$VERSITYGW_VERSION" "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION" >"$build_log" 2>&1 \
  || { tail -n 40 "$build_log" >&2; exit 1; }
echo "$VERSITYGW_VERSION" >"$BIN/.versitygw-version"
