#!/usr/bin/env bash
# Installs schemathesis, which the contract test (tests/contract) runs against the whole platform,
# from PyPI into a virtualenv at a pinned version:
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/schemathesis/venv-<version>/bin/schemathesis
# Idempotent, serialised with flock, and silent when it is already there. `--print-bin` prints the
# binary's path.
#
# Python: the newest 3.12+ found (python3.13, python3.12, then pyenv's), else python3. On 3.11,
# hypothesis can hit a CPython bug with threads ("AST constructor recursion depth mismatch"), so
# the contract test runs one worker there.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/schemathesis"
VENV="$CACHE/venv-$SCHEMATHESIS_VERSION"
if [ "${1:-}" = "--print-bin" ]; then echo "$VENV/bin/schemathesis"; exit 0; fi

log() { printf '\033[1m[schemathesis]\033[0m %s\n' "$*" >&2; }
installed() { [ -x "$VENV/bin/schemathesis" ] && [ -f "$VENV/.complete" ]; }

if installed; then exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.install.lock"
flock 9
if installed; then exit 0; fi

pick_python() {
  local candidate
  for candidate in python3.13 python3.12 "$HOME"/.pyenv/versions/3.13*/bin/python3 "$HOME"/.pyenv/versions/3.12*/bin/python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12, 2))' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  echo python3
}
python="$(pick_python)"
log "installing schemathesis $SCHEMATHESIS_VERSION with $("$python" --version 2>&1) (pip, into a virtualenv)"
rm -rf "$VENV"
"$python" -m venv "$VENV"
install_log="$CACHE/install.log"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >"$install_log" 2>&1 \
  || { tail -n 40 "$install_log" >&2; exit 1; }
touch "$VENV/.complete"
