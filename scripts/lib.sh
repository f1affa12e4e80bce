#!/usr/bin/env bash
# Shared set-up for the project's scripts: a Node 24 runtime, pnpm, installed and built workspace.
# Everything downloaded is cached under $GALION_CACHE_DIR so later runs start fast.
set -euo pipefail

GALION_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GALION_ROOT
export GALION_CACHE_DIR="${GALION_CACHE_DIR:-$HOME/.cache/galion}"
NODE_MAJOR=24
PNPM_VERSION=10.34.9

log() { printf '\033[1m[galion]\033[0m %s\n' "$*" >&2; }

# Installs a Debian package when its command is missing (as root, with apt-get). The package index is
# refreshed only when the first attempt fails, since that costs a download. Returns 1, saying what to
# install, when it cannot. Callers hold $GALION_CACHE_DIR/install-deps.lock (one installer at a time).
ensure_debian_package() {
  local command_name="$1" package="$2" apt_log="$GALION_CACHE_DIR/install-deps-apt.log"
  if command -v "$command_name" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: '$command_name' is missing; install the Debian package '$package' as root (apt-get install -y $package)" >&2
    return 1
  fi
  mkdir -p "$GALION_CACHE_DIR"
  log "installing $package (apt-get)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >"$apt_log" 2>&1; then
    apt-get update -q >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; return 1; }
  fi
}

ensure_node() {
  if node --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; then return; fi
  local tools="$GALION_CACHE_DIR/node${NODE_MAJOR}"
  if ! "$tools/node_modules/.bin/node" --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; then
    log "installing Node ${NODE_MAJOR} (the machine has $(node --version 2>/dev/null || echo none))"
    mkdir -p "$tools"
    (cd "$tools" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$tools" "node@${NODE_MAJOR}" >/dev/null)
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
}

ensure_pnpm() {
  if pnpm --version 2>/dev/null | grep -q "^${PNPM_VERSION}$"; then return; fi
  local tools="$GALION_CACHE_DIR/pnpm-${PNPM_VERSION}"
  if [ ! -x "$tools/node_modules/.bin/pnpm" ]; then
    log "installing pnpm ${PNPM_VERSION}"
    mkdir -p "$tools"
    (cd "$tools" && npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$tools" "pnpm@${PNPM_VERSION}" >/dev/null)
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
}

ensure_workspace() {
  ensure_node
  ensure_pnpm
  cd "$GALION_ROOT"
  export npm_config_store_dir="${npm_config_store_dir:-$GALION_CACHE_DIR/pnpm-store}"
  local stamp="node_modules/.galion-install-stamp"
  local want
  want="$(cat pnpm-lock.yaml package.json */*/package.json 2>/dev/null | sha1sum | cut -c1-40)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing dependencies (pnpm install)"
    if [ -f pnpm-lock.yaml ]; then
      pnpm install --frozen-lockfile --reporter=append-only --config.confirmModulesPurge=false >&2
    else
      pnpm install --reporter=append-only --config.confirmModulesPurge=false >&2
    fi
    echo "$want" > "$stamp"
  fi
  # tsc -b, then the bundles of @galion/track (esbuild): the gateway serves its track.min.js.
  log "building (tsc -b, @galion/track)"
  pnpm run --silent build >&2
  ensure_web_app
}

# The web app (apps/web) is built by Vite into apps/web/dist, which the gateway serves; it is
# rebuilt only when its sources, those of @galion/track (which it bundles) or the lockfile changed.
ensure_web_app() {
  local stamp="apps/web/dist/.galion-build-stamp" want
  want="$(find apps/web packages/track/src -path apps/web/node_modules -prune -o -path apps/web/dist -prune -o -type f -print | sort | xargs cat pnpm-lock.yaml | sha1sum | cut -c1-40)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "building the web app (vite build)"
  pnpm --filter @galion/web run --silent build >&2
  echo "$want" >"$stamp"
}
