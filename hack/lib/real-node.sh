# shellcheck shell=bash
# Sourced by hack/cluster: one real node (kubelet + containerd v2 + runc + a CNI bridge + CoreDNS) next to the KWOK
# nodes, so that pods can run real containers. Uses from hack/cluster: HACK_DIR HPCJOB_CACHE STATE_DIR PKI LOGS PIDS
# KUBECONFIG_FILE APISERVER_PORT PORT_BASE, and log, die, wait_for, kubectl_, bin_dir, running_pid, stop_component.
#
# Everything that can be moved lives under $NODE_DIR. What kubelet, containerd and libcni put in machine-wide places
# no setting moves (cgroups /sys/fs/cgroup/*/kubepods, /var/log/containers symlinks, /var/lib/kubelet/device-plugins,
# libcni's cache /var/lib/cni/results, shim sockets in /run/containerd/s, kernel sysctls kubelet tunes) is undone by
# down_real_node, which then reports anything still left.

REAL_NODES="${HPCJOB_REAL_NODES:-1}"
REAL_NODE=hpcjob-real-0
NODE_KIND_LABEL=hpcjob.dev/node-kind
NODE_CIDR="${HPCJOB_NODE_CIDR:-10.88.0.1/24}"   # the node's own address on its bridge; the /24 around it is the pods'
NODE_IP="${NODE_CIDR%/*}"
NODE_SUBNET="${NODE_IP%.*}.0/24"
NODE_BRIDGE="${HPCJOB_NODE_BRIDGE:-hpcjob0}"
NODE_DIR="$STATE_DIR/real-node"
NODE_SOCK="$NODE_DIR/containerd/containerd.sock"
KUBELET_PORT=$((PORT_BASE + 250))
KUBELET_HEALTHZ_PORT=$((PORT_BASE + 248))
NODE_PROCS=(containerd coredns apiserver-forwarder kubelet)   # start order; down goes the other way round
# kubelet sets these machine-wide (kubelet's setupKernelTunables); they are recorded at up and put back at down.
HOST_SYSCTLS=(net.ipv4.ip_forward vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops)
HOST_STATE="$NODE_DIR/host-sysctls.before"

node_bin_dir() { bash "$HACK_DIR/build-node.sh" --print-bin-dir; }
pause_archive() { echo "$(dirname "$(node_bin_dir)")/images/pause.tar"; }
pause_image() { tar -xOf "$(pause_archive)" index.json | sed -n 's/.*"io.containerd.image.name":"\([^"]*\)".*/\1/p'; }
# ctr would repeat containerd's cgroup v1 deprecation warning on every call.
node_ctr() {
  CONTAINERD_NAMESPACE="${CONTAINERD_NAMESPACE:-k8s.io}" \
    CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS="${CONTAINERD_SUPPRESS_DEPRECATION_WARNINGS:-1}" \
    "$(node_bin_dir)/ctr" --address "$NODE_SOCK" "$@"
}

node_exe() {
  case "$1" in
    containerd | coredns) echo "$(node_bin_dir)/$1" ;;
    kubelet) echo "$(bin_dir)/kubelet" ;;
    apiserver-forwarder) readlink -f "$(command -v socat)" ;;
  esac
}
node_pid() { running_pid "node-$1" "$(node_exe "$1")"; }
real_node_running() { node_pid kubelet >/dev/null && node_pid containerd >/dev/null; }

# Prints why the real node cannot run here (nothing when it can).
real_node_skip_reason() {
  [ "$REAL_NODES" = 0 ] && { echo "HPCJOB_REAL_NODES=0"; return; }
  [ "$(id -u)" = 0 ] || { echo "not root (kubelet, containerd and the node's bridge need root)"; return; }
  grep -qw overlay /proc/filesystems || { echo "the kernel has no overlay filesystem (containerd's snapshotter)"; return; }
  [[ "$NODE_CIDR" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/24$ ]] || { echo "HPCJOB_NODE_CIDR=$NODE_CIDR is not an a.b.c.d/24"; return; }
  [ "${NODE_IP##*.}" != 0 ] && [ "${NODE_IP##*.}" != 255 ] || echo "HPCJOB_NODE_CIDR=$NODE_CIDR: the node needs a host address"
}

# Installs and builds what the node needs; prints a reason and fails when that does not work.
prepare_real_node() {
  [ "$REAL_NODES" -le 1 ] || log "HPCJOB_REAL_NODES=$REAL_NODES: only one real node is supported; starting one"
  ensure_apt_packages runc containernetworking-plugins socat bind9-dnsutils || { echo "Debian packages could not be installed"; return 1; }
  bash "$HACK_DIR/build-node.sh" >/dev/null || { echo "hack/build-node.sh failed (see its output above)"; return 1; }
}

# The first up of a node records the sysctls it may change; down restores them and forgets the record.
record_host_state() {
  [ -f "$HOST_STATE" ] && return 0
  local s
  for s in "${HOST_SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done > "$HOST_STATE"
}

check_ip_forward() {
  local before now
  before="$(sed -n 's/^net.ipv4.ip_forward=//p' "$HOST_STATE" 2>/dev/null || true)"
  now="$(sysctl -n net.ipv4.ip_forward)"
  [ -z "$before" ] || [ "$before" = "$now" ] || log "warning: net.ipv4.ip_forward changed from $before to $now"
}

restore_host_state() {
  [ -f "$HOST_STATE" ] || return 0
  local line
  while IFS= read -r line; do
    [ "$(sysctl -n "${line%%=*}")" = "${line#*=}" ] || sysctl -qw "$line"
  done < "$HOST_STATE"
  rm -f "$HOST_STATE"
}

# The bridge is made here, not by the CNI plugin, so that the plugin never acts as gateway (which would turn on
# ip_forward); it carries the node address that kubelet, CoreDNS and the API forwarder bind to.
ensure_bridge() {
  if ! ip link show "$NODE_BRIDGE" >/dev/null 2>&1; then
    local other
    other="$(ip -o route show to match "$NODE_IP" | grep -v '^default' || true)"
    [ -z "$other" ] || die "$NODE_SUBNET is routed already ($other); set HPCJOB_NODE_CIDR to a free a.b.c.1/24"
    ip link add "$NODE_BRIDGE" type bridge
  fi
  ip -o addr show dev "$NODE_BRIDGE" | grep -q " $NODE_CIDR " || ip addr add "$NODE_CIDR" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
}

make_node_cert() {
  local name="node-$REAL_NODE"
  [ -f "$PKI/$name.crt" ] && return 0
  (
    cd "$PKI" || exit 1
    printf 'extendedKeyUsage=clientAuth\n' > "$name.ext"
    openssl req -newkey rsa:2048 -nodes -keyout "$name.key" -out "$name.csr" \
      -subj "/O=system:nodes/CN=system:node:$REAL_NODE" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$name.crt" -days 3650 \
      -extfile "$name.ext" 2>/dev/null
    rm -f "$name.csr" "$name.ext"
    chmod 600 "$name.key"
  )
}

write_containerd_config() {
  mkdir -p "$NODE_DIR/containerd"
  cat > "$NODE_DIR/containerd/config.toml" <<EOF
version = 3
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"
[grpc]
  address = "$NODE_SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$NODE_DIR/containerd/opt"
# NRI would open a socket in /var/run/nri; nothing here uses it.
[plugins."io.containerd.nri.v1.nri"]
  disable = true
[plugins."io.containerd.cri.v1.images".pinned_images]
  sandbox = "$(pause_image)"
[plugins."io.containerd.cri.v1.runtime"]
  # This VM lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  # Pod network namespaces are mounted under the state dir, not in the machine's /run/netns.
  netns_mounts_under_state_dir = true
[plugins."io.containerd.cri.v1.runtime".cni]
  bin_dirs = ["/usr/lib/cni"]
  conf_dir = "$NODE_DIR/cni/net.d"
[plugins."io.containerd.cri.v1.runtime".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
  BinaryName = "$(command -v runc)"
  Root = "$NODE_DIR/containerd/runc"
  SystemdCgroup = false
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
EOF
}

# No gateway, no masquerade, no routes: pods reach each other, the node address (CoreDNS, the API forwarder) and
# nothing beyond the bridge.
write_cni_config() {
  mkdir -p "$NODE_DIR/cni/net.d" "$NODE_DIR/cni/ipam"
  cat > "$NODE_DIR/cni/net.d/10-hpcjob.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "hpcjob",
  "plugins": [
    {
      "type": "bridge", "bridge": "$NODE_BRIDGE", "isGateway": false, "isDefaultGateway": false,
      "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$NODE_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$NODE_SUBNET", "gateway": "$NODE_IP" }]]
      }
    }
  ]
}
EOF
}

write_kubelet_config() {
  mkdir -p "$NODE_DIR/kubelet/root" "$NODE_DIR/pod-logs"
  echo "nameserver $NODE_IP" > "$NODE_DIR/kubelet/resolv.conf"
  write_kubeconfig "$NODE_DIR/kubelet/kubeconfig" "$PKI/node-$REAL_NODE"
  cat > "$NODE_DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
# The API server reaches logs/exec anonymously; the port is bound to the node address only.
authentication: { anonymous: { enabled: true }, webhook: { enabled: false } }
authorization: { mode: AlwaysAllow }
containerRuntimeEndpoint: unix://$NODE_SOCK
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $NODE_DIR/kubelet/resolv.conf
podLogsDir: $NODE_DIR/pod-logs
registerWithTaints:
- { key: $NODE_KIND_LABEL, value: real, effect: NoSchedule }
maxPods: 60
serializeImagePulls: false
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2% }
EOF
}

# Names under cluster.local (and reverse lookups) come from the API; every other name is NXDOMAIN here, so nothing
# is ever forwarded off the machine.
write_corefile() {
  mkdir -p "$NODE_DIR/coredns"
  cat > "$NODE_DIR/coredns/Corefile" <<EOF
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
    bind $NODE_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KUBECONFIG_FILE
    }
    cache 5
}
.:53 {
    bind $NODE_IP
    errors
    template ANY ANY {
        rcode NXDOMAIN
    }
}
EOF
}

# One argument per line.
node_args() {
  case "$1" in
    containerd) printf '%s\n' --config "$NODE_DIR/containerd/config.toml" ;;
    coredns) printf '%s\n' -conf "$NODE_DIR/coredns/Corefile" ;;
    apiserver-forwarder)
      printf '%s\n' -d "TCP-LISTEN:$APISERVER_PORT,bind=$NODE_IP,fork,reuseaddr" "TCP:127.0.0.1:$APISERVER_PORT" ;;
    kubelet)
      printf '%s\n' --config="$NODE_DIR/kubelet/config.yaml" --kubeconfig="$NODE_DIR/kubelet/kubeconfig" \
        --root-dir="$NODE_DIR/kubelet/root" --cert-dir="$NODE_DIR/kubelet/pki" --hostname-override="$REAL_NODE" --node-ip="$NODE_IP" \
        --node-labels="$NODE_KIND_LABEL=real" ;;
  esac
}

start_node_proc() {
  local name="$1" args
  node_pid "$name" >/dev/null && return 0
  mapfile -t args < <(node_args "$name")
  # The runc shim is found on PATH, next to containerd.
  setsid env PATH="$(node_bin_dir):$PATH" "$(node_exe "$name")" "${args[@]}" >>"$LOGS/node-$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/node-$name.pid"
  log "started real-node $name (pid $!, log $LOGS/node-$name.log)"
}

containerd_ready() { node_ctr version; }
node_ready() {
  [ "$(kubectl_ get node "$REAL_NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
dns_answers() { [ -n "$(dig +short +time=1 +tries=1 "@$NODE_IP" kubernetes.default.svc.cluster.local A)" ]; }

ensure_pause_image() {
  node_ctr images ls -q | grep -qxF "$(pause_image)" && return 0
  node_ctr images import "$(pause_archive)" >/dev/null
}

up_real_node() {
  local started=$SECONDS
  mkdir -p "$NODE_DIR"
  record_host_state
  ensure_bridge
  make_node_cert
  write_containerd_config
  write_cni_config
  write_kubelet_config
  write_corefile
  start_node_proc containerd
  wait_for containerd 60 containerd_ready || { tail_log node-containerd; exit 1; }
  ensure_pause_image
  start_node_proc coredns
  start_node_proc apiserver-forwarder
  start_node_proc kubelet
  wait_for "real node $REAL_NODE Ready" 180 node_ready || { tail_log node-kubelet; exit 1; }
  wait_for "CoreDNS on $NODE_IP" 60 dns_answers || { tail_log node-coredns; exit 1; }
  log "real node $REAL_NODE Ready at $NODE_IP, DNS answering, in $((SECONDS - started))s" \
    "(pods for it: toleration and nodeSelector $NODE_KIND_LABEL=real)"
  import_images
  check_ip_forward
}

# Image archives (docker-archive or OCI archive tars, e.g. from hack/images/build.sh) are imported once per content.
# Each imported archive's record beside containerd's store holds its sha256, size and mtime: an archive with the
# recorded size and mtime is not hashed again, and it is imported again only when its sha256 changed or a name it
# carries is missing from the node.
IMAGE_DIR="$HPCJOB_CACHE/images"
IMPORTED="$NODE_DIR/containerd/imported"

# The image names an archive declares (docker-archive RepoTags, or the OCI index's io.containerd.image.name).
archive_names() {
  { tar -xOf "$1" manifest.json 2>/dev/null | grep -o '"RepoTags": *\[[^]]*\]' | sed 's/^"RepoTags": *//' | grep -o '"[^"]*"'
    tar -xOf "$1" index.json 2>/dev/null | grep -o '"io.containerd.image.name": *"[^"]*"' | sed 's/.*: *//'
  } | tr -d '"'
}

# Prints "sha256 size mtime", reusing the recorded sha256 while size and mtime are unchanged.
archive_digest() {
  local archive="$1" stamp recorded
  stamp="$(stat -c '%s %Y' "$archive")"
  recorded="$(cat "$IMPORTED/$(basename "$archive")" 2>/dev/null || true)"
  if [ -n "$recorded" ] && [ "${recorded#* }" = "$stamp" ]; then echo "$recorded"
  else echo "$(sha256sum "$archive" | cut -d' ' -f1) $stamp"; fi
}

already_imported() {
  local archive="$1" digest="$2" have name
  [ "$(cat "$IMPORTED/$(basename "$archive")" 2>/dev/null)" = "$digest" ] || return 1
  have="$(node_ctr images ls -q)"
  while IFS= read -r name; do
    [ -z "$name" ] || grep -qE "(^|/)${name//./\\.}\$" <<<"$have" || return 1
  done < <(archive_names "$archive")
}

# hack/images/build.sh renames a finished archive into place, so every *.tar here is whole. A failed import is
# reported, not fatal, so that one bad archive does not stop the cluster.
import_images() {
  local archive digest started kept=0
  mkdir -p "$IMPORTED"
  for archive in "$IMAGE_DIR"/*.tar; do
    [ -f "$archive" ] || continue
    digest="$(archive_digest "$archive")"
    if already_imported "$archive" "$digest"; then kept=$((kept + 1)); continue; fi
    started=$SECONDS
    if node_ctr images import "$archive" >>"$LOGS/node-images.log" 2>&1; then
      echo "$digest" > "$IMPORTED/$(basename "$archive")"
      log "imported $(basename "$archive") ($(archive_names "$archive" | paste -sd' ')) in $((SECONDS - started))s"
    else
      log "warning: importing $archive failed; see $LOGS/node-images.log"
    fi
  done
  [ "$kept" = 0 ] || log "$kept image archive(s) in $IMAGE_DIR already imported"
}

real_node_status() {
  local p pid
  for p in "${NODE_PROCS[@]}"; do
    if pid="$(node_pid "$p")"; then printf '%-24s running (pid %s)\n' "node $p" "$pid"
    else printf '%-24s stopped\n' "node $p"; fi
  done
  [ -f "$HOST_STATE" ] || return 0
  printf '%-24s %s (%s before up)\n' "node ip_forward" "$(sysctl -n net.ipv4.ip_forward)" \
    "$(sed -n 's/^net.ipv4.ip_forward=//p' "$HOST_STATE")"
}

# The way down: drain, stop, clean up, check.
# shellcheck source=real-node-down.sh
. "$HACK_DIR/lib/real-node-down.sh"
