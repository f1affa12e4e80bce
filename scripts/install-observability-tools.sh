#!/usr/bin/env bash
# Installs the observability tools the live checks (tests/observability) start on loopback:
#   - Jaeger v2 all-in-one, built with `go install` from the main Jaeger Go module at a pinned
#     version (the v2 binary is cmd/jaeger; it serves the query API without the UI assets), into
#       ${GALION_CACHE_DIR:-$HOME/.cache/galion}/observability/bin/jaeger
#   - Prometheus and Alertmanager from Debian (`prometheus`, `prometheus-alertmanager`).
# Idempotent, serialised with flock, and silent when everything is already there.
# `--print-dir` prints the cache directory.
set -euo pipefail

CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/observability"
if [ "${1:-}" = "--print-dir" ]; then echo "$CACHE"; exit 0; fi

# Jaeger releases v1 and v2 from the same commit: the Go module carries the v1 tag, the v2 binary
# reports the v2 version. Module v1.76.0 is Jaeger v2.13.0 (released 2025-12-03).
JAEGER_MODULE=github.com/jaegertracing/jaeger
JAEGER_MODULE_VERSION=v1.76.0
JAEGER_VERSION=v2.13.0
# The module's go.mod has a replace directive, so `go install module@version` refuses it:
# it is built inside the downloaded module instead (which honours go.mod and go.sum).
BIN="$CACHE/bin"

log() { printf '\033[1m[observability-tools]\033[0m %s\n' "$*" >&2; }

jaeger_ok() {
  [ -x "$BIN/jaeger" ] && [ "$(cat "$BIN/.jaeger-version" 2>/dev/null)" = "$JAEGER_MODULE_VERSION" ]
}
alertmanager_ok() { command -v prometheus-alertmanager >/dev/null 2>&1 || command -v alertmanager >/dev/null 2>&1; }
debian_ok() { command -v prometheus >/dev/null 2>&1 && alertmanager_ok; }

if jaeger_ok && debian_ok; then exit 0; fi

mkdir -p "$CACHE"
# Jest workers and engineers may run this at once: one installer at a time.
exec 9>"$CACHE/.install.lock"
flock 9

if ! debian_ok; then
  packages=()
  command -v prometheus >/dev/null 2>&1 || packages+=(prometheus)
  alertmanager_ok || packages+=(prometheus-alertmanager)
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages: ${packages[*]}; install them as root (apt-get install -y ${packages[*]})"
    exit 1
  fi
  log "installing ${packages[*]} (apt-get)"
  apt_log="$CACHE/apt.log"
  export DEBIAN_FRONTEND=noninteractive
  # The package index is refreshed only when the first attempt fails, since that costs a download.
  if ! apt-get install -y -q --no-install-recommends "${packages[@]}" >"$apt_log" 2>&1; then
    apt-get update -q >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; exit 1; }
    apt-get install -y -q --no-install-recommends "${packages[@]}" >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; exit 1; }
  fi
  debian_ok || { log "prometheus or prometheus-alertmanager is still missing after apt-get"; exit 1; }
fi

if ! jaeger_ok; then
  command -v go >/dev/null 2>&1 || { log "Go (1.24 or newer) is required to build Jaeger $JAEGER_VERSION"; exit 1; }
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
  log "building Jaeger $JAEGER_VERSION ($JAEGER_MODULE@$JAEGER_MODULE_VERSION, cmd/jaeger; takes minutes the first time)"
  module_dir="$(go mod download -json "$JAEGER_MODULE@$JAEGER_MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$module_dir" ] && [ -d "$module_dir/cmd/jaeger" ] || { log "could not download $JAEGER_MODULE@$JAEGER_MODULE_VERSION"; exit 1; }
  mkdir -p "$BIN"
  rm -f "$BIN/.jaeger-version"
  build_log="$CACHE/jaeger-build.log"
  (cd "$module_dir" && GOBIN="$BIN" go install -trimpath \
    -ldflags "-s -w -X $JAEGER_MODULE/internal/version.latestVersion=$JAEGER_VERSION" ./cmd/jaeger) >"$build_log" 2>&1 \
    || { tail -n 40 "$build_log" >&2; exit 1; }
  "$BIN/jaeger" version 2>/dev/null | grep -q "\"gitVersion\":\"$JAEGER_VERSION\"" \
    || { log "the built jaeger does not report $JAEGER_VERSION"; exit 1; }
  echo "$JAEGER_MODULE_VERSION" >"$BIN/.jaeger-version"
  log "Jaeger $JAEGER_VERSION ready in $BIN"
fi
