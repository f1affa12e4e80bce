#!/usr/bin/env bash
# Installs what the local Kubernetes cluster (scripts/cluster/cluster.sh) runs, pinned, into
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/cluster/bin
#     kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#                  built from k8s.io/kubernetes through scripts/cluster/modules/kubernetes
#     etcd         built from go.etcd.io/etcd/server/v3 through scripts/cluster/modules/etcd
#     traefik      the Ingress controller, through scripts/cluster/modules/traefik
#     coredns kube-router metrics-server crictl   `go install`ed at pinned versions
#     prometheus   with Kubernetes service discovery only (Debian's is built without it), for the
#                  cluster tests' Prometheus that reads the release's ServiceMonitors
# and the node's runtime from Debian: containerd, runc, the CNI plugins, iptables, nftables, ipset,
# conntrack, plus buildah and mmdebstrap for the images (scripts/cluster/build-images.sh).
# Idempotent and silent when everything is there: a stamp of this script and the wrapper modules
# decides. Built one after the other: a 2-core machine gains nothing from parallel links.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/cluster"
BIN="$CACHE/bin"
MODULES="$ROOT/scripts/cluster/modules"
if [ "${1:-}" = "--print-bin" ]; then echo "$BIN"; exit 0; fi
if [ "${1:-}" = "--print-crds" ]; then echo "$CACHE/crds"; exit 0; fi

KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16 # pinned in modules/etcd/go.mod
TRAEFIK_VERSION=v3.6.12 # pinned in modules/traefik/go.mod
COREDNS_VERSION=v1.12.1
KUBE_ROUTER_VERSION=v2.1.0
METRICS_SERVER_VERSION=v0.8.0
CRICTL_VERSION=v1.34.0
# Prometheus 3.16.0; its Go module is versioned v0.<minor>.<patch>.
PROMETHEUS_VERSION=v0.316.0
PROMETHEUS_RELEASE=3.16.0
# The ServiceMonitor and PrometheusRule CRDs, as the Prometheus Operator publishes them (the same
# release as the API types the chart checks use, scripts/charts/tools/go.mod).
PROMETHEUS_OPERATOR_VERSION=v0.94.1
CRDS="monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml"
DEBIAN_PACKAGES="containerd runc containernetworking-plugins iptables nftables ipset conntrack buildah mmdebstrap uidmap openssl"

log() { printf '\033[1m[cluster-tools]\033[0m %s\n' "$*" >&2; }
# Runs a build with its output in a log, shown only when it fails.
quietly() { # log-name command...
  local file="$CACHE/logs/$1.log"; shift
  mkdir -p "$CACHE/logs"
  "$@" >"$file" 2>&1 || { tail -40 "$file" >&2; log "failed; the whole log is $file"; exit 1; }
}

stamp_want() {
  cat "${BASH_SOURCE[0]}" "$MODULES"/*/go.mod "$MODULES"/*/go.sum | sha1sum | cut -c1-40
}

have_all() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl etcd traefik coredns kube-router metrics-server crictl prometheus; do
    [ -x "$BIN/$b" ] || return 1
  done
  for b in containerd runc ctr nft ipset conntrack iptables buildah mmdebstrap openssl; do
    command -v "$b" >/dev/null 2>&1 || return 1
  done
  [ -x /usr/lib/cni/bridge ] || return 1
  for b in $CRDS; do [ -f "$CACHE/crds/$b" ] || return 1; done
}

mkdir -p "$CACHE"
exec 9>"$CACHE/install.lock"
flock 9

if [ -f "$BIN/.stamp" ] && [ "$(cat "$BIN/.stamp")" = "$(stamp_want)" ] && have_all; then
  exit 0
fi

missing_packages=""
for p in $DEBIAN_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing_packages="$missing_packages $p"
done
if [ -n "$missing_packages" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "missing Debian packages:$missing_packages (apt-get install -y$missing_packages, as root)"
    exit 1
  fi
  log "installing$missing_packages (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$CACHE/apt.log"
  # Debian starts no services here (no init system), so installing containerd runs nothing.
  if ! apt-get install -y -q --no-install-recommends $missing_packages >"$apt_log" 2>&1; then
    apt-get update -q >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; exit 1; }
    apt-get install -y -q --no-install-recommends $missing_packages >>"$apt_log" 2>&1 || { cat "$apt_log" >&2; exit 1; }
  fi
fi

command -v go >/dev/null || { log "Go is required to build the cluster's components"; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$BIN"

# A binary is rebuilt when its recorded version differs from the pin.
built_at() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1.version" 2>/dev/null)" = "$2" ]; }
record() { echo "$2" >"$BIN/.$1.version"; }

k8s_stamp="$KUBERNETES_VERSION $(cat "$MODULES/kubernetes/go.mod" "$MODULES/kubernetes/go.sum" | sha1sum | cut -c1-12)"
k8s_commands="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
k8s_missing=""
for c in $k8s_commands; do built_at "$c" "$k8s_stamp" || k8s_missing="$k8s_missing $c"; done
if [ -n "$k8s_missing" ]; then
  log "building Kubernetes $KUBERNETES_VERSION:$k8s_missing (a cold build takes 20-40 minutes on 2 cores)"
  minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
  ldflags="-s -w"
  # Without these the components report v0.0.0-master, and clients refuse version skew checks.
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  packages=""
  for c in $k8s_missing; do packages="$packages k8s.io/kubernetes/cmd/$c"; done
  (cd "$MODULES/kubernetes" && quietly kubernetes go build -trimpath -ldflags "$ldflags" -o "$BIN/" $packages)
  for c in $k8s_missing; do record "$c" "$k8s_stamp"; done
fi

module_build() { # binary version module-dir package
  local binary="$1" version="$2" dir="$3" package="$4" ldflags="${5:-}"
  local stamp="$version $(cat "$MODULES/$dir/go.mod" "$MODULES/$dir/go.sum" | sha1sum | cut -c1-12)"
  built_at "$binary" "$stamp" && return
  log "building $binary $version"
  (cd "$MODULES/$dir" && quietly "$binary" go build -trimpath -ldflags "-s -w $ldflags" -o "$BIN/$binary" "$package")
  record "$binary" "$stamp"
}
module_build etcd "$ETCD_VERSION" etcd go.etcd.io/etcd/server/v3
module_build traefik "$TRAEFIK_VERSION" traefik github.com/traefik/traefik/v3/cmd/traefik \
  "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION"

go_install() { # binary version package@version [ldflags [build tags]]
  local binary="$1" version="$2" target="$3" ldflags="${4:-}" tags="${5:-}"
  built_at "$binary" "$version${tags:+ $tags}" && return
  log "building $binary $version"
  GOBIN="$BIN" quietly "$binary" go install -trimpath ${tags:+-tags "$tags"} -ldflags "-s -w $ldflags" "$target"
  record "$binary" "$version${tags:+ $tags}"
}
go_install coredns "$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION"
go_install kube-router "$KUBE_ROUTER_VERSION" "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION" \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION"
go_install metrics-server "$METRICS_SERVER_VERSION" "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
go_install crictl "$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION" \
  "-X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION"
# Only the Kubernetes discovery: the cloud ones would add the AWS, Azure and GCP SDKs to the build.
go_install prometheus "$PROMETHEUS_VERSION" "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" \
  "-X github.com/prometheus/common/version.Version=$PROMETHEUS_RELEASE" remove_all_sd,enable_kubernetes_sd

if [ "$(cat "$CACHE/crds/.version" 2>/dev/null)" != "$PROMETHEUS_OPERATOR_VERSION" ]; then
  log "fetching the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION CRDs (Go module)"
  module_dir="$(cd "$CACHE" && GOFLAGS= go mod download -json "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  mkdir -p "$CACHE/crds"
  for b in $CRDS; do cp "$module_dir/example/prometheus-operator-crd/$b" "$CACHE/crds/$b"; done
  echo "$PROMETHEUS_OPERATOR_VERSION" >"$CACHE/crds/.version"
fi

have_all || { log "some cluster tools are still missing after installation"; exit 1; }
stamp_want >"$BIN/.stamp"
log "cluster tools ready in $BIN"
