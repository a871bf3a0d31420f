#!/usr/bin/env bash
# Checks the archives of hack/images/build.sh without Kubernetes: each image is unpacked (skopeo, umoci) and its
# programs run in a chroot, in private mount/PID/UTS namespaces, as the image's own user.
#   hack/images/check.sh [IMAGE...]   IMAGE: openmpi4 openmpi5 mpich operator (default: those built)
# MPI images: hpcjob-ring with 4 ranks (lines, token sum), --print-env, and `--fail-rank 2 --exit-code 3` making
# mpirun exit 3; the MPI version; no sshd host keys. Operator: Node.js 24, and the CRD and entrypoint scripts
# found where the compiled modules look for them. Needs root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARCHIVE_DIR=$("$ROOT/hack/images/build.sh" --print-dir)
WORK=""
FAILED=0

cleanup() { [ -z "$WORK" ] || rm -rf "$WORK"; }
trap cleanup EXIT

ok() { echo "  ok: $*"; }
bad() {
  echo "  FAILED: $*" >&2
  FAILED=1
}

# The image's root filesystem from its archive, as a container runtime would see it.
unpack() {
  local image=$1
  skopeo copy --quiet "docker-archive:$ARCHIVE_DIR/$image.tar" "oci:$WORK/oci:check"
  umoci unpack --image "$WORK/oci:check" "$WORK/bundle" >/dev/null
  # What kubelet would mount: a hosts file that names the pod's host.
  printf '127.0.0.1 localhost\n127.0.1.1 hpcjob-check\n' >"$WORK/bundle/rootfs/etc/hosts"
}

# Runs a command in the unpacked image as USER (uid:gid), with /proc, /dev, /sys and a fresh /tmp. The mounts
# live in a private mount namespace and go away with it; the network namespace has only loopback, so MPI does not
# wander over the machine's interfaces.
in_image() {
  local user=$1
  shift
  unshare --mount --propagation private --pid --uts --net --fork sh -c '
    r=$1 user=$2; shift 2
    hostname hpcjob-check
    ip link set lo up
    mount -t proc proc "$r/proc"
    mkdir -p "$r/dev" "$r/sys" && mount --rbind /dev "$r/dev" && mount --rbind /sys "$r/sys"
    mount -t tmpfs -o mode=1777 tmp "$r/tmp"
    home=$(chroot "$r" getent passwd "${user%%:*}" | cut -d: -f6)
    exec chroot --userspec="$user" "$r" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME="${home:-/}" HPCJOB_CHECK_VAR="hello world" sh -c "cd \"\${HOME}\" && exec \"\$@\"" sh "$@"
  ' sh "$WORK/bundle/rootfs" "$user" "$@"
}

# mpirun with 4 ranks on this 2-core machine: Open MPI refuses more ranks than cores without oversubscribing.
mpirun_cmd() {
  case $1 in
    openmpi*) echo mpirun --oversubscribe -np 4 ;;
    mpich) echo mpirun -np 4 ;;
  esac
}

check_ring() {
  local image=$1 out rc=0 r
  # shellcheck disable=SC2046 # the words of the mpirun line
  out=$(in_image 1000:1000 $(mpirun_cmd "$image") hpcjob-ring --print-env HPCJOB_CHECK_VAR,HPCJOB_NOT_SET 2>&1) || rc=$?
  echo "$out" | sed 's/^/    /'
  [ "$rc" = 0 ] || bad "ring exited $rc"
  for r in 0 1 2 3; do
    echo "$out" | grep -qx "hpcjob-ring: rank $r of 4 on hpcjob-check" || bad "no line for rank $r"
    echo "$out" | grep -qx "hpcjob-ring: rank $r on hpcjob-check env HPCJOB_CHECK_VAR=hello world" || bad "rank $r env"
    echo "$out" | grep -qx "hpcjob-ring: rank $r on hpcjob-check env HPCJOB_NOT_SET unset" || bad "rank $r unset"
  done
  echo "$out" | grep -qx "hpcjob-ring: token passed 4 ranks, sum 6" && ok "ring of 4 ranks, sum 6" || bad "no token line"
}

# Three times: the code must not depend on which rank the MPI notices first.
check_fail() {
  local image=$1 out rc try
  for try in 1 2 3; do
    rc=0
    # shellcheck disable=SC2046
    out=$(in_image 1000:1000 $(mpirun_cmd "$image") hpcjob-ring --fail-rank 2 --exit-code 3 2>&1) || rc=$?
    [ "$try" != 1 ] || echo "$out" | sed 's/^/    /' | tail -n 12
    [ "$rc" = 3 ] && ok "--fail-rank 2 --exit-code 3: mpirun exited 3" || bad "mpirun exited $rc, not 3"
  done
}

# --sleep holds every rank before the ring (tests kill a worker meanwhile); a bad option is exit code 2.
check_options() {
  local image=$1 start=$SECONDS rc=0
  # shellcheck disable=SC2046
  in_image 1000:1000 $(mpirun_cmd "$image") hpcjob-ring --sleep 3 >/dev/null 2>&1 || rc=$?
  [ "$rc" = 0 ] && [ $((SECONDS - start)) -ge 3 ] && ok "--sleep 3 took $((SECONDS - start))s" || bad "--sleep (exit $rc)"
  rc=0
  # shellcheck disable=SC2046
  in_image 1000:1000 $(mpirun_cmd "$image") hpcjob-ring --exit-code 0 >/dev/null 2>&1 || rc=$?
  [ "$rc" = 2 ] && ok "bad option: exit 2" || bad "bad option: exit $rc, not 2"
}

check_mpi_image() {
  local image=$1 version
  case $image in
    openmpi*) version=$(in_image 1000:1000 ompi_info --version 2>&1 | head -n 1) ;;
    mpich) version=$(in_image 1000:1000 mpichversion 2>&1 | head -n 1) ;;
  esac
  echo "  version: $version"
  case $image:$version in
    openmpi4:*" v4.1."* | openmpi5:*" v5.0."* | mpich:*"Version:"*4.*) ok "MPI version" ;;
    *) bad "unexpected MPI version" ;;
  esac
  local r="$WORK/bundle/rootfs"
  compgen -G "$r/etc/ssh/ssh_host_*" >/dev/null && bad "sshd host keys in the image" || ok "no sshd host keys"
  [ "$(stat -c '%u %a' "$r/home/mpiuser")" = "1000 755" ] && ok "mpiuser home 0755" || bad "mpiuser home"
  for tool in sshd ssh hostname getent ps kill ip; do
    in_image 1000:1000 sh -c "command -v $tool" >/dev/null || bad "no $tool"
  done
  check_ring "$image"
  check_fail "$image"
  check_options "$image"
}

check_operator() {
  local out
  out=$(in_image 65532:65532 node --version) || true
  echo "  node: $out"
  case $out in v24.*) ok "Node.js 24" ;; *) bad "node --version: $out" ;; esac
  # The compiled modules find crds/ and the scripts relative to themselves, as in the Deployment.
  out=$(in_image 65532:65532 node --input-type=module -e "
    const s = await import('/app/dist/api/schema.js');
    const schema = s.loadSchema(s.CRD_PATH);
    const e = await import('/app/dist/render/entrypoints.js');
    console.log(s.CRD_PATH, Object.keys(schema.properties).join(','), Object.keys(e.ENTRYPOINT_FILES).join(','));
  " 2>&1) || true
  echo "  $out"
  case $out in /app/crds/hpcjob.yaml*launcher.sh*) ok "CRD and entrypoint scripts found" ;; *) bad "operator modules" ;; esac
}

check_image() {
  local image=$1
  echo "$image: $ARCHIVE_DIR/$image.tar"
  WORK=$(mktemp -d)
  unpack "$image"
  if [ "$image" = operator ]; then check_operator; else check_mpi_image "$image"; fi
  rm -rf "$WORK"
  WORK=""
}

main() {
  local images=("$@") image
  if [ ${#images[@]} -eq 0 ]; then
    for image in openmpi4 openmpi5 mpich operator; do
      [ ! -f "$ARCHIVE_DIR/$image.tar" ] || images+=("$image")
    done
  fi
  for image in "${images[@]}"; do check_image "$image"; done
  [ "$FAILED" = 0 ] && echo "all checks passed" || { echo "some checks failed" >&2 && return 1; }
}

main "$@"
