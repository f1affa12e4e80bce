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
if [ "${1:-}" = "--print-bin" ]; then echo "$CACHE/bin/versitygw"; exit 0; fi

. "$(dirname "${BASH_SOURCE[0]}")/go-tool.sh"
install_go_tool versitygw "$CACHE" "$VERSITYGW_VERSION" "$VERSITYGW_MODULE/cmd/versitygw@$VERSITYGW_VERSION" \
  "-X main.Version=$VERSITYGW_VERSION" s3-tools
