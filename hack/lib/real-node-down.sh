# shellcheck shell=bash
# Sourced by hack/lib/real-node.sh: taking the real node down in the order that leaves nothing behind (pods first
# while kubelet runs, then the runtime, the processes by PID, mounts, links, cgroups and kernel settings), and the
# check of what is left. Uses the names real-node.sh and hack/cluster define.

no_pods_on_node() {
  [ -z "$(kubectl_ get pods -A --field-selector "spec.nodeName=$REAL_NODE" -o name 2>/dev/null)" ]
}
no_tasks() { [ -z "$(node_ctr tasks ls -q 2>/dev/null)" ]; }
no_containers() { [ -z "$(node_ctr containers ls -q 2>/dev/null)" ]; }

# Pods go while kubelet still runs, so that their sandboxes are stopped through CNI DEL (veths, netns, IPs freed).
# Fails when that cannot happen (kubelet or the API server not running).
drain_real_node() {
  node_pid kubelet >/dev/null && apiserver_ready || return 1
  kubectl_ cordon "$REAL_NODE" >/dev/null 2>&1 || true
  kubectl_ delete pods -A --field-selector "spec.nodeName=$REAL_NODE" --grace-period=2 --wait=false >/dev/null 2>&1 || true
  wait_for "pods on $REAL_NODE to end" 90 no_pods_on_node || log "warning: pods are still bound to $REAL_NODE"
}

# Once the pods are gone their containers have stopped and their sandboxes are torn down (CNI DEL). kubelet's
# garbage collection deletes the stopped containers only once a minute: a few seconds are given to it, and what it
# leaves is metadata in containerd's store under $NODE_DIR, deleted by kubelet after the next up.
empty_runtime() {
  node_pid containerd >/dev/null || return 0
  wait_for "containers on $REAL_NODE to stop" 60 no_tasks || true
  if ! wait_for "kubelet to remove its containers" 10 no_containers 2>/dev/null; then
    log "$(node_ctr containers ls -q | wc -l) stopped container(s) stay in containerd's store until kubelet's next cleanup"
  fi
  kill_tasks
}

# Whatever still runs (no drain possible, or a container that outlived it) is killed through containerd.
kill_tasks() {
  node_pid containerd >/dev/null || return 0
  local id
  for id in $(node_ctr tasks ls -q 2>/dev/null); do
    node_ctr tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    node_ctr tasks delete -f "$id" >/dev/null 2>&1 || true
  done
}

# A shim outlives containerd while its pod's containers were only killed (not removed through CRI); this node's
# shims run our shim binary and name this node's socket.
stop_shims() {
  local shim exe pid
  shim="$(node_bin_dir)/containerd-shim-runc-v2"
  for exe in /proc/[0-9]*/exe; do
    [ "$(readlink "$exe" 2>/dev/null)" = "$shim" ] || continue
    pid="${exe//[!0-9]/}"
    tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "-address $NODE_SOCK " || continue
    kill -TERM "$pid" 2>/dev/null || true
    wait_for "shim $pid to exit" 5 bash -c "! kill -0 $pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    log "stopped a leftover containerd shim (pid $pid)"
  done
}

unmount_under() {
  local m
  for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

remove_kubepods_cgroups() {
  local d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    if [ -d "$d" ]; then find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; fi
  done
}

# Mounts (pod network namespaces among them: containerd mounts them under its state dir here, never in the
# machine's /run/netns), veths, bridge, cgroups, runtime state, and machine-wide directories left empty.
remove_node_leftovers() {
  unmount_under "$NODE_DIR"
  local link
  for link in $(ip -o link show master "$NODE_BRIDGE" 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
    ip link delete "$link" 2>/dev/null || true
  done
  ip link delete "$NODE_BRIDGE" 2>/dev/null || true
  remove_kubepods_cgroups
  rm -rf --one-file-system "$NODE_DIR/containerd/state" "$NODE_DIR/kubelet/root" "$NODE_DIR/cni/ipam"
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock
  rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /var/lib/cni/results /var/lib/cni \
    /run/containerd/s /run/containerd 2>/dev/null || true
}

# Prints one line per thing the real node left behind.
node_leftovers() {
  awk -v d="$NODE_DIR/" 'index($2, d) == 1 { print "mount " $2 }' /proc/self/mounts
  # The CNI bridge plugin names the host end of a pod's veth "veth" and 8 hex digits.
  ip -o link show type veth 2>/dev/null | awk -F': ' '$2 ~ /^veth[0-9a-f]{8}@/ { print "veth " $2 }'
  ip link show "$NODE_BRIDGE" >/dev/null 2>&1 && echo "link $NODE_BRIDGE"
  ls -d /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods 2>/dev/null | sed 's/^/cgroup /'
  ss -Hltnu 2>/dev/null | awk -v ip="$NODE_IP:" -v hz="127.0.0.1:$KUBELET_HEALTHZ_PORT" \
    'index($5, ip) == 1 || $5 == hz { print "port " $1 " " $5 }'
  # Processes of this node name its directory (containerd, shims, kubelet, CoreDNS) or bind its address (socat);
  # other containerd instances on the machine are not this node's.
  local cmdline
  for cmdline in /proc/[0-9]*/cmdline; do
    tr '\0' ' ' 2>/dev/null < "$cmdline" | grep -qF -e "$NODE_DIR/" -e "bind=$NODE_IP," \
      && echo "process ${cmdline//[!0-9]/} $(tr '\0' ' ' 2>/dev/null < "$cmdline" | cut -c1-100)"
  done
  [ "$(sysctl -n net.ipv4.ip_forward)" = "$1" ] || echo "sysctl net.ipv4.ip_forward=$(sysctl -n net.ipv4.ip_forward), was $1 before up"
  return 0
}

down_real_node() {
  [ -d "$NODE_DIR" ] || return 0
  local started=$SECONDS i left forward
  forward="$(sed -n 's/^net.ipv4.ip_forward=//p' "$HOST_STATE" 2>/dev/null || true)"
  forward="${forward:-$(sysctl -n net.ipv4.ip_forward)}"
  if drain_real_node; then empty_runtime; else kill_tasks; fi
  for (( i=${#NODE_PROCS[@]}-1; i>=0; i-- )); do stop_component "node-${NODE_PROCS[$i]}" "$(node_exe "${NODE_PROCS[$i]}")"; done
  stop_shims
  remove_node_leftovers
  check_ip_forward
  restore_host_state
  left="$(node_leftovers "$forward")"
  if [ -n "$left" ]; then log "real node: left behind after down:"; sed 's/^/  /' <<<"$left" >&2
  else log "real node down in $((SECONDS - started))s; checked: nothing left (mounts incl. pod netns, links, cgroups, ports, processes; ip_forward=$forward as found)"; fi
}
