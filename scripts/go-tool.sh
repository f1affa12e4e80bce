#!/usr/bin/env bash
# Sourced by the install scripts of single-binary Go tools (Mailpit, versitygw): builds one tool with
# `go install` at a pinned version into $CACHE/bin, stamped with that version, serialised with flock,
# and silent when it is already there.
#   install_go_tool <name> <cache dir> <version> <package@version> <extra ldflags> <label>

install_go_tool() {
  local name="$1" cache="$2" version="$3" package="$4" ldflags="$5" label="$6"
  local bin="$cache/bin"
  log() { printf '\033[1m[%s]\033[0m %s\n' "$label" "$*" >&2; }
  # The stamp says what was built (a tool's own version command may ask the network, or say what the ldflags set).
  installed() { [ -x "$bin/$name" ] && [ "$(cat "$bin/.$name-version" 2>/dev/null)" = "$version" ]; }

  if installed; then return 0; fi
  mkdir -p "$cache"
  exec 9>"$cache/.install.lock"
  flock 9
  if installed; then return 0; fi

  command -v go >/dev/null 2>&1 || { log "Go is required to build $name $version"; return 1; }
  log "building $name $version (go install; a minute or more the first time)"
  mkdir -p "$bin"
  rm -f "$bin/.$name-version"
  local build_log="$cache/$name-build.log"
  GOTOOLCHAIN=local CGO_ENABLED=0 GOBIN="$bin" go install -trimpath -ldflags "-s -w $ldflags" "$package" >"$build_log" 2>&1 \
    || { tail -n 40 "$build_log" >&2; return 1; }
  echo "$version" >"$bin/.$name-version"
}
