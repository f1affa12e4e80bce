#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, without Docker: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, containerd + kubelet, kube-proxy and kube-router as host
# processes; CoreDNS and metrics-server as pods on images made from their static binaries.
#
#   cluster.sh up [--owner-pid PID]   start it (PID: tear it down when that process ends)
#   cluster.sh down                   stop it and restore the host as it was
#   cluster.sh env                    print KUBECONFIG=..., NODE_IP=... for callers
#   cluster.sh status                 exit 0 when the API server answers
#
# Everything it makes lives under $GALION_CLUSTER_DIR (default .galion/cluster); what it must put
# elsewhere (links, nftables and iptables rules, ipsets, network namespaces, cgroups, sysctls, the
# kubelet's /var/log/containers links) is recorded and removed by `down`. An nftables guard drops,
# and counts, any packet of the pod or service ranges that would leave through the external interface.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRIPTS="$ROOT/scripts/cluster"
export GALION_CACHE_DIR="${GALION_CACHE_DIR:-$HOME/.cache/galion}"
STATE="${GALION_CLUSTER_DIR:-$ROOT/.galion/cluster}"
BIN="$(bash "$SCRIPTS/install-cluster-tools.sh" --print-bin)"
export PATH="$BIN:$PATH"

POD_CIDR="${GALION_CLUSTER_POD_CIDR:-10.244.0.0/16}"
SERVICE_CIDR="${GALION_CLUSTER_SERVICE_CIDR:-10.96.0.0/16}"
API_SERVICE_IP="${SERVICE_CIDR%.*/*}.1"   # first address of the service range
DNS_SERVICE_IP="${SERVICE_CIDR%.*/*}.10"
NODE_NAME=galion-node
CLUSTER_DOMAIN=cluster.local
GUARD_TABLE=galion_egress_guard
BRIDGE=galion0
ADDON_IMAGES="pause coredns metrics-server traefik"
SYSCTLS="net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables kernel.panic kernel.panic_on_oops vm.overcommit_memory"

log() { printf '\033[1m[cluster]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A port of the NodePort range (30000-32767) that nothing on the node listens on.
free_node_port() {
  python3 -c '
import random, socket
for port in random.sample(range(30000, 32768), 200):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
'
}

# The address pods reach the node (and the dependencies the node runs) at: the source address of
# the default route. Kept in the state so every later command uses the same one.
detect_node_ip() {
  ip -4 route get 192.0.2.254 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1
}
detect_external_interface() {
  ip -4 route show default | sed -n 's/.* dev \([^ ]*\).*/\1/p' | head -1
}

load_state() {
  [ -f "$STATE/cluster.env" ] || return 1
  # shellcheck disable=SC1091
  source "$STATE/cluster.env"
}

# --- processes -----------------------------------------------------------------------------------

start_daemon() { # name command args...
  local name="$1"; shift
  # fd 8 is the lock of this command: the daemon must not hold it.
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null 8>&- &
  echo $! >"$STATE/pids/$name"
}

stop_daemon() { # name [seconds]
  local name="$1" wait_s="${2:-15}" pid
  [ -f "$STATE/pids/$name" ] || return 0
  pid="$(cat "$STATE/pids/$name")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((wait_s * 5)) ]; do sleep 0.2; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pids/$name"
}

wait_for() { # description seconds command...
  local what="$1" seconds="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${seconds}s (logs in $STATE/logs)"
    sleep 0.2
  done
}

kubectl_admin() { kubectl --kubeconfig "$STATE/kubeconfig" "$@"; }

# --- PKI -----------------------------------------------------------------------------------------

make_cert() { # name subject [sans] [ca-name]
  local name="$1" subject="$2" sans="${3:-}" ca="${4:-ca}" pki="$STATE/pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>/dev/null
  local ext="$pki/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [ -n "$sans" ] && echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 30 -sha256 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$ext"
}

make_ca() { # name cn
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -sha256 \
    -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$STATE/pki/$1.key" -out "$STATE/pki/$1.crt" 2>/dev/null
}

make_kubeconfig() { # file cert-name
  local file="$1" cert="$2" pki="$STATE/pki"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: galion
    cluster:
      server: https://$NODE_IP:$API_PORT
      certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
  - name: $cert
    user:
      client-certificate-data: $(base64 -w0 "$pki/$cert.crt")
      client-key-data: $(base64 -w0 "$pki/$cert.key")
contexts:
  - name: galion
    context: { cluster: galion, user: $cert }
current-context: galion
EOF
  chmod 600 "$file"
}

make_pki() {
  mkdir -p "$STATE/pki"
  make_ca ca galion-cluster-ca
  make_ca front-proxy-ca galion-front-proxy-ca
  make_cert apiserver "/CN=kube-apiserver" \
    "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
  make_cert apiserver-kubelet-client "/O=kubelet-api-admins/CN=kube-apiserver-kubelet-client"
  make_cert front-proxy-client "/CN=front-proxy-client" "" front-proxy-ca
  make_cert admin "/O=system:masters/CN=galion-admin"
  make_cert controller-manager "/CN=system:kube-controller-manager"
  make_cert scheduler "/CN=system:kube-scheduler"
  make_cert kube-proxy "/CN=system:kube-proxy"
  make_cert kube-router "/CN=galion:kube-router"
  make_cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  make_cert kubelet-serving "/CN=$NODE_NAME" "IP:$NODE_IP,DNS:$NODE_NAME"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$STATE/pki/sa.key" 2>/dev/null
  openssl pkey -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub" 2>/dev/null
  chmod 600 "$STATE"/pki/*.key
  for who in admin controller-manager scheduler kube-proxy kube-router kubelet; do
    make_kubeconfig "$STATE/$who.kubeconfig" "$who"
  done
  mv "$STATE/admin.kubeconfig" "$STATE/kubeconfig"
}

# --- host state ----------------------------------------------------------------------------------

save_host_state() {
  : >"$STATE/sysctls.saved"
  local key
  for key in $SYSCTLS; do
    echo "$key=$(sysctl -n "$key" 2>/dev/null || echo '')" >>"$STATE/sysctls.saved"
  done
  ls /var/run/netns 2>/dev/null | sort >"$STATE/netns.before" || true
  nft list tables 2>/dev/null | sort >"$STATE/nft-tables.before" || true
  ipset list -n 2>/dev/null | sort >"$STATE/ipsets.before" || true
  ls /var/log/containers 2>/dev/null | sort >"$STATE/logs-containers.before" || true
  [ -d /var/log/containers ] && echo yes >"$STATE/var-log-containers.existed" || true
}

restore_host_state() {
  local line key value
  if [ -f "$STATE/sysctls.saved" ]; then
    while IFS= read -r line; do
      key="${line%%=*}"; value="${line#*=}"
      [ -n "$value" ] && sysctl -q -w "$key=$value" >/dev/null 2>&1 || true
    done <"$STATE/sysctls.saved"
  fi
}

install_egress_guard() {
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
  nft -f - <<EOF
table inet $GUARD_TABLE {
  set cluster_ranges { type ipv4_addr; flags interval; elements = { $POD_CIDR, $SERVICE_CIDR } }
  chain forward {
    type filter hook forward priority -10; policy accept;
    oifname "$EXTERNAL_IF" ip saddr @cluster_ranges log prefix "galion-egress-guard: " level warn
    oifname "$EXTERNAL_IF" ip saddr @cluster_ranges counter drop comment "pod traffic leaving the machine"
    oifname "$EXTERNAL_IF" ip daddr @cluster_ranges log prefix "galion-egress-guard: " level warn
    oifname "$EXTERNAL_IF" ip daddr @cluster_ranges counter drop comment "cluster addresses routed off the machine"
  }
  chain output {
    type filter hook output priority -10; policy accept;
    oifname "$EXTERNAL_IF" ip daddr @cluster_ranges log prefix "galion-egress-guard: " level warn
    oifname "$EXTERNAL_IF" ip daddr @cluster_ranges counter drop comment "cluster addresses routed off the machine"
  }
}
EOF
}

# --- configuration -------------------------------------------------------------------------------

write_configs() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/cni/ipam" "$STATE/kubelet" "$STATE/pod-logs"
  local pause_image
  pause_image="$(cat "$STATE/pause-image")"
  cat >"$STATE/containerd/config.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$STATE/containerd/containerd.sock"
[ttrpc]
  address = "$STATE/containerd/containerd.sock.ttrpc"
[debug]
  address = "$STATE/containerd/debug.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # This VM cannot give a process a negative OOM score; containerd must not try.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = ""
EOF
  cat >"$STATE/cni/net.d/10-galion.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "galion",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "loopback" }
  ]
}
EOF
  # Pods that ask for the node's resolver get none: no name is resolved outside the cluster.
  echo "# the local cluster resolves cluster.local only (CoreDNS); nothing is forwarded" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $STATE/pki/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $STATE/pki/kubelet-serving.crt
tlsPrivateKeyFile: $STATE/pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$STATE/containerd/containerd.sock
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
# The VM refuses negative OOM scores, the kubelet's default for itself.
oomScoreAdj: 0
# Images cannot be pulled again here: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 200Mi, nodefs.available: "2%", imagefs.available: "2%" }
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $STATE/resolv.conf
podLogsDir: $STATE/pod-logs
rotateCertificates: false
serverTLSBootstrap: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
registerNode: true
maxPods: 110
shutdownGracePeriod: 0s
EOF
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $STATE/kube-proxy.kubeconfig }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
iptables: { localhostNodePorts: false }
# Leave the host's conntrack limits alone.
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
}

# --- add-ons -------------------------------------------------------------------------------------

apply_addons() {
  local coredns_image metrics_image
  coredns_image="$(cat "$STATE/coredns-image")"
  metrics_image="$(cat "$STATE/metrics-server-image")"
  kubectl_admin -n kube-system create configmap galion-node-ca --from-file=ca.crt="$STATE/pki/ca.crt" \
    --dry-run=client -o yaml | kubectl_admin apply -f - >>"$STATE/logs/addons.log"
  sed -e "s|@DNS_SERVICE_IP@|$DNS_SERVICE_IP|g" -e "s|@COREDNS_IMAGE@|$coredns_image|g" \
    -e "s|@METRICS_SERVER_IMAGE@|$metrics_image|g" -e "s|@CLUSTER_DOMAIN@|$CLUSTER_DOMAIN|g" \
    "$SCRIPTS/manifests/addons.yaml" | kubectl_admin apply -f - >>"$STATE/logs/addons.log"
}

import_image() { # archive
  ctr --address "$STATE/containerd/containerd.sock" -n k8s.io images import --no-unpack=false "$1" >>"$STATE/logs/images.log" 2>&1 ||
    { tail -20 "$STATE/logs/images.log" >&2; die "could not import $1"; }
}

# --- up ------------------------------------------------------------------------------------------

up() {
  local owner_pid=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --owner-pid) owner_pid="$2"; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [ "$(id -u)" = 0 ] || die "the local cluster needs root (containerd, kubelet, network namespaces, nftables)"
  if load_state && kubectl_admin get --raw /readyz >/dev/null 2>&1; then
    log "already running (KUBECONFIG=$STATE/kubeconfig)"
    return 0
  fi
  [ -d "$STATE" ] && down
  bash "$SCRIPTS/install-cluster-tools.sh"
  local started=$SECONDS
  mkdir -p "$STATE/logs" "$STATE/pids"
  NODE_IP="$(detect_node_ip)"; EXTERNAL_IF="$(detect_external_interface)"
  [ -n "$NODE_IP" ] || die "no IPv4 address with a default route: the node needs one for pods to reach it"
  NODE_POD_CIDR="${POD_CIDR%.*.*/*}.0.0/24"
  API_PORT="$(free_port)"; ETCD_PORT="$(free_port)"; ETCD_PEER_PORT="$(free_port)"
  KUBELET_PORT="$(free_port)"; KUBELET_HEALTHZ_PORT="$(free_port)"
  KUBE_PROXY_HEALTHZ_PORT="$(free_port)"; KUBE_PROXY_METRICS_PORT="$(free_port)"
  CM_PORT="$(free_port)"; SCHEDULER_PORT="$(free_port)"; KUBE_ROUTER_HEALTH_PORT="$(free_port)"
  INGRESS_HTTPS_PORT="${GALION_CLUSTER_HTTPS_PORT:-$(free_node_port)}"; INGRESS_HTTP_PORT="${GALION_CLUSTER_HTTP_PORT:-$(free_node_port)}"
  cat >"$STATE/cluster.env" <<EOF
NODE_IP=$NODE_IP
EXTERNAL_IF=$EXTERNAL_IF
NODE_NAME=$NODE_NAME
NODE_POD_CIDR=$NODE_POD_CIDR
POD_CIDR=$POD_CIDR
SERVICE_CIDR=$SERVICE_CIDR
API_PORT=$API_PORT
KUBECONFIG=$STATE/kubeconfig
CONTAINERD_ADDRESS=$STATE/containerd/containerd.sock
GUARD_TABLE=$GUARD_TABLE
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
KUBELET_PORT=$KUBELET_PORT
KUBELET_HEALTHZ_PORT=$KUBELET_HEALTHZ_PORT
KUBE_PROXY_HEALTHZ_PORT=$KUBE_PROXY_HEALTHZ_PORT
KUBE_PROXY_METRICS_PORT=$KUBE_PROXY_METRICS_PORT
CM_PORT=$CM_PORT
SCHEDULER_PORT=$SCHEDULER_PORT
KUBE_ROUTER_HEALTH_PORT=$KUBE_ROUTER_HEALTH_PORT
INGRESS_HTTPS_PORT=$INGRESS_HTTPS_PORT
INGRESS_HTTP_PORT=$INGRESS_HTTP_PORT
INGRESS_CLASS=traefik
EOF
  if [ -n "$owner_pid" ]; then
    setsid bash "${BASH_SOURCE[0]}" watch "$owner_pid" >>"$STATE/logs/watchdog.log" 2>&1 </dev/null 8>&- &
    echo $! >"$STATE/pids/watchdog"
  fi
  # Images for the node's own pods (pause, CoreDNS, metrics-server, Traefik), made from their static binaries.
  bash "$SCRIPTS/build-images.sh" pause | awk '{print $2 " " $3}' >"$STATE/pause.ref"
  for image in coredns metrics-server traefik; do
    bash "$SCRIPTS/build-images.sh" static "$image" "$BIN/$image" "$(cut -d" " -f1 "$BIN/.$image.version")" | awk '{print $2 " " $3}' >"$STATE/$image.ref"
  done
  for image in $ADDON_IMAGES; do cut -d' ' -f1 "$STATE/$image.ref" >"$STATE/$image-image"; done

  save_host_state
  make_pki
  write_configs
  install_egress_guard
  # The pod bridge, made before the CNI plugin would, so the service range can be routed to it: a
  # connection to a Service that kube-proxy has not programmed yet then stays on the node (and
  # times out) instead of taking the default route off the machine.
  ip link add "$BRIDGE" type bridge 2>/dev/null || true
  ip link set "$BRIDGE" up
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE"
  sysctl -q -w net.ipv4.ip_forward=1 >/dev/null
  sysctl -q -w net.bridge.bridge-nf-call-iptables=1 >/dev/null 2>&1 || log "bridge netfilter is not available: policies between pods on the bridge would not be enforced"

  start_daemon etcd etcd --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648 --log-level warn
  start_daemon containerd containerd --config "$STATE/containerd/config.toml"
  wait_for "etcd" 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

  local pki="$STATE/pki"
  start_daemon kube-apiserver kube-apiserver \
    --advertise-address "$NODE_IP" --bind-address "$NODE_IP" --secure-port "$API_PORT" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --client-ca-file "$pki/ca.crt" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" --proxy-client-key-file "$pki/front-proxy-client.key" \
    --enable-aggregator-routing=true --allow-privileged=true --profiling=false --v=1
  wait_for "kube-apiserver" 60 kubectl_admin get --raw /readyz
  log "API server ready at https://$NODE_IP:$API_PORT ($((SECONDS - started)) s)"

  # The API server's own client to kubelets (logs, exec, metrics) and kube-router's watch rights.
  kubectl_admin apply -f "$SCRIPTS/manifests/rbac.yaml" >>"$STATE/logs/addons.log"

  start_daemon kube-controller-manager kube-controller-manager \
    --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$CM_PORT" --leader-elect=false \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --root-ca-file "$pki/ca.crt" --service-account-private-key-file "$pki/sa.key" --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" --node-cidr-mask-size 24 --service-cluster-ip-range "$SERVICE_CIDR" \
    --profiling=false --v=1
  start_daemon kube-scheduler kube-scheduler \
    --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false --v=1

  wait_for "containerd" 30 ctr --address "$STATE/containerd/containerd.sock" version
  for image in $ADDON_IMAGES; do import_image "$(cut -d' ' -f2 "$STATE/$image.ref")"; done
  start_daemon kubelet kubelet --config "$STATE/kubelet/config.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
    --root-dir "$STATE/kubelet/root" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v=1
  start_daemon kube-proxy kube-proxy --config "$STATE/kube-proxy.yaml" --v=1
  wait_for "the node" 60 kubectl_admin wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s
  log "node Ready ($((SECONDS - started)) s)"
  # kube-router looks its node up once at start: only once the kubelet has registered it.
  start_daemon kube-router kube-router --kubeconfig "$STATE/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false \
    --health-port "$KUBE_ROUTER_HEALTH_PORT" --metrics-port 0 --v=1
  wait_for "kube-router" 60 curl -fsS "http://127.0.0.1:$KUBE_ROUTER_HEALTH_PORT/healthz"
  apply_addons
  wait_for "CoreDNS" 90 kubectl_admin -n kube-system wait --for=condition=Available deployment/coredns --timeout=1s
  log "CoreDNS Ready ($((SECONDS - started)) s)"
  sed -e "s|@TRAEFIK_IMAGE@|$(cat "$STATE/traefik-image")|g" -e "s|@NODE_IP@|$NODE_IP|g" \
    -e "s|@HTTPS_PORT@|$INGRESS_HTTPS_PORT|g" -e "s|@HTTP_PORT@|$INGRESS_HTTP_PORT|g" \
    "$SCRIPTS/manifests/traefik.yaml" | kubectl_admin apply -f - >>"$STATE/logs/addons.log"
  wait_for "metrics-server" 90 kubectl_admin get --raw /apis/metrics.k8s.io/v1beta1/nodes
  wait_for "Traefik" 90 kubectl_admin -n galion-ingress wait --for=condition=Available deployment/traefik --timeout=1s
  local daemon
  for daemon in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kube-router; do
    kill -0 "$(cat "$STATE/pids/$daemon")" 2>/dev/null || die "$daemon has exited; its log: $STATE/logs/$daemon.log"
  done
  log "cluster ready in $((SECONDS - started)) s: KUBECONFIG=$STATE/kubeconfig"
}

# --- down ----------------------------------------------------------------------------------------

down() {
  load_state || { [ -d "$STATE" ] && rm -rf "$STATE"; return 0; }
  log "stopping the cluster"
  stop_daemon kube-router
  stop_daemon kube-proxy
  stop_daemon kube-controller-manager
  stop_daemon kube-scheduler
  stop_daemon kubelet
  if [ -S "$STATE/containerd/containerd.sock" ] && [ -f "$STATE/pids/containerd" ]; then
    # Pods go first, through the runtime, so CNI releases their addresses and network namespaces.
    crictl --runtime-endpoint "unix://$STATE/containerd/containerd.sock" rmp --all --force >/dev/null 2>&1 || true
  fi
  stop_daemon kube-apiserver
  stop_daemon containerd
  # Shims outlive containerd; they are ours when their command line names our state dir.
  pkill -KILL -f "containerd-shim.*$STATE" 2>/dev/null || true
  stop_daemon etcd
  local leftover
  for leftover in "$STATE"/pids/*; do
    [ -e "$leftover" ] && [ "$(basename "$leftover")" != watchdog ] && stop_daemon "$(basename "$leftover")"
  done
  kube-proxy --cleanup >>"$STATE/logs/cleanup.log" 2>&1 || true
  kube-router --cleanup-config >>"$STATE/logs/cleanup.log" 2>&1 || true
  # The kubelet's KUBE-FIREWALL chain (it drops martian packets to 127/8), which no cleanup removes.
  local ipt
  for ipt in iptables ip6tables; do
    "$ipt" -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -F KUBE-FIREWALL 2>/dev/null && "$ipt" -X KUBE-FIREWALL 2>/dev/null || true
  done
  nft delete table inet "$GUARD_TABLE" 2>/dev/null || true
  # Tables the iptables front end made for the cluster, now empty.
  local family table
  nft list tables 2>/dev/null | sort | comm -13 "$STATE/nft-tables.before" - 2>/dev/null | while read -r _ family table; do
    nft delete table "$family" "$table" 2>/dev/null || true
  done
  # kube-router's ipsets, once no rule (those tables included) refers to them.
  local set attempt remaining
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    remaining="$(ipset list -n 2>/dev/null | sort | comm -13 "$STATE/ipsets.before" - 2>/dev/null)"
    [ -n "$remaining" ] || break
    for set in $remaining; do ipset destroy "$set" 2>/dev/null || true; done
    sleep 0.5
  done
  # Anything still mounted under the state dir (volumes, container root filesystems).
  # No mount left (a cluster that never got as far as the kubelet) is not an error.
  { grep " $STATE/" /proc/mounts || true; } | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  local ns
  for ns in $(ls /var/run/netns 2>/dev/null | sort | comm -13 "$STATE/netns.before" - 2>/dev/null); do
    ip netns delete "$ns" 2>/dev/null || true
  done
  ip link delete "$BRIDGE" 2>/dev/null || true
  local link
  for link in $(ls /var/log/containers 2>/dev/null | sort | comm -13 "$STATE/logs-containers.before" - 2>/dev/null); do
    rm -f "/var/log/containers/$link"
  done
  [ -f "$STATE/var-log-containers.existed" ] || rmdir /var/log/containers 2>/dev/null || true
  # Any container process still alive (its shim gone) dies with its pod cgroup; then the kubelet's
  # cgroups go, leaves first.
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy/kubepods" ] && find "$hierarchy/kubepods" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  done
  sleep 0.5
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy/kubepods" ] && find "$hierarchy/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$hierarchy/kubepods.slice" ] && find "$hierarchy/kubepods.slice" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  restore_host_state
  stop_daemon watchdog 1
  rm -rf "$STATE"
  log "stopped; the host is as it was"
}

watch_owner() { # pid
  trap '' INT TERM HUP
  while kill -0 "$1" 2>/dev/null; do sleep 1; done
  rm -f "$STATE/pids/watchdog"
  lock
  down
}

# One up or down at a time (a test's teardown and its watchdog may both ask).
lock() { mkdir -p "$(dirname "$STATE")"; exec 8>"$STATE.lock"; flock 8; }

# In braces, so bash reads the whole command before running it: an edit to this file while a
# cluster starts cannot change what the running command does next.
{
case "${1:-}" in
  up) shift; lock; up "$@" ;;
  down) lock; down ;;
  watch) watch_owner "$2" ;;
  env) load_state || die "not running"; cat "$STATE/cluster.env" ;;
  status) load_state && kubectl_admin get --raw /readyz >/dev/null 2>&1 ;;
  *) echo "usage: cluster.sh up [--owner-pid PID] | down | env | status" >&2; exit 2 ;;
esac
  exit $?
}
