#!/usr/bin/env bash
# Builds what the real node of hack/cluster runs besides the kubelet (which build-control-plane.sh builds):
# containerd v2 with its runc shim and ctr, CoreDNS, and a tiny pause program packaged as an OCI image archive
# for the pod sandboxes. Everything goes to a cache outside the repository, once per version; prints the bin dir.
#
#   hack/build-node.sh                  build what is missing, print the bin dir
#   hack/build-node.sh --print-bin-dir  print the bin dir only
#
# The sandbox image archive lies next to the bin dir: <bin dir>/../images/pause.tar (see PAUSE_IMAGE below).
set -euo pipefail

CONTAINERD_VERSION="${CONTAINERD_VERSION:-v2.3.7}"
COREDNS_VERSION="${COREDNS_VERSION:-v1.15.0}"
# Bump when the pause program or its packaging below changes: the image name carries it.
PAUSE_VERSION=1
PAUSE_IMAGE="localhost/hpcjob/pause:$PAUSE_VERSION"
CACHE_ROOT="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"
NODE_ROOT="$CACHE_ROOT/node-containerd-$CONTAINERD_VERSION-coredns-$COREDNS_VERSION-pause-$PAUSE_VERSION"
BIN_DIR="$NODE_ROOT/bin"
PAUSE_ARCHIVE="$NODE_ROOT/images/pause.tar"
BINARIES=(containerd containerd-shim-runc-v2 ctr coredns pause)

say() { echo "build-node: $*" >&2; }

all_present() {
  local b
  for b in "${BINARIES[@]}"; do [ -x "$BIN_DIR/$b" ] || return 1; done
  [ -f "$PAUSE_ARCHIVE" ]
}

if [ "${1:-}" = "--print-bin-dir" ]; then echo "$BIN_DIR"; exit 0; fi
if all_present; then echo "$BIN_DIR"; exit 0; fi

[ -x /usr/local/go/bin/go ] && case ":$PATH:" in *":/usr/local/go/bin:"*) ;; *) PATH="/usr/local/go/bin:$PATH" ;; esac
command -v go >/dev/null || { say "Go is required (none on PATH or in /usr/local/go)"; exit 1; }
WORK="$CACHE_ROOT/build/node"
BUILD_LOG="$WORK/build.log"
mkdir -p "$BIN_DIR" "$WORK" "$(dirname "$PAUSE_ARCHIVE")"
: > "$BUILD_LOG"
export CGO_ENABLED=0
# The compile cache is only useful during this build; the binaries are what is kept.
export GOCACHE="$WORK/gocache"
trap 'rm -rf "$GOCACHE" "$WORK/gobin" "$WORK/pause"' EXIT

# Runs one build step with its output in the log; on failure shows the end of the log.
step() {
  local what="$1"; shift
  say "$what (details: $BUILD_LOG)"
  echo "=== $what" >> "$BUILD_LOG"
  "$@" >> "$BUILD_LOG" 2>&1 || { say "failed: $what; last lines of $BUILD_LOG:"; tail -n 25 "$BUILD_LOG" >&2; exit 1; }
}

# `go install pkg@version` builds from the module's own go.mod; neither module has replace directives, so no
# wrapper module is needed (unlike k8s.io/kubernetes). Binaries land in a scratch GOBIN, then move over whole.
go_install() {
  rm -rf "$WORK/gobin"
  GOBIN="$WORK/gobin" go install -trimpath "$@"
  mv "$WORK"/gobin/* "$BIN_DIR/"
}

build_containerd() {
  local mod=github.com/containerd/containerd/v2
  [ -x "$BIN_DIR/containerd" ] && [ -x "$BIN_DIR/containerd-shim-runc-v2" ] && [ -x "$BIN_DIR/ctr" ] && return 0
  step "building containerd $CONTAINERD_VERSION (containerd, containerd-shim-runc-v2, ctr)" \
    go_install -tags 'no_btrfs no_devmapper no_zfs' \
    -ldflags "-s -w -X $mod/version.Version=$CONTAINERD_VERSION -X $mod/version.Package=$mod" \
    "$mod/cmd/containerd@$CONTAINERD_VERSION" "$mod/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "$mod/cmd/ctr@$CONTAINERD_VERSION"
}

build_coredns() {
  [ -x "$BIN_DIR/coredns" ] && return 0
  # The module root is CoreDNS's main package; its plugin list (core/plugin/zplugin.go) is generated upstream
  # and part of the module, so the default plugins (kubernetes, template, ...) are in.
  step "building CoreDNS $COREDNS_VERSION" go_install -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

# The sandbox process: sleeps until SIGTERM/SIGINT; as PID 1 of a pod it also reaps orphaned children.
write_pause_source() {
  mkdir -p "$WORK/pause"
  printf 'module hpcjob.local/pause\n\ngo 1.22\n' > "$WORK/pause/go.mod"
  cat > "$WORK/pause/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	child := make(chan os.Signal, 16)
	signal.Notify(child, syscall.SIGCHLD)
	for {
		select {
		case <-stop:
			os.Exit(0)
		case <-child:
			reap()
		}
	}
}

// reap collects every child that has exited; SIGCHLD signals coalesce, so one may stand for several.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
GO
}

build_pause() {
  [ -x "$BIN_DIR/pause" ] && return 0
  write_pause_source
  step "building the pause program" bash -c "cd '$WORK/pause' && go build -trimpath -ldflags '-s -w' -o '$BIN_DIR/pause.tmp' ."
  mv "$BIN_DIR/pause.tmp" "$BIN_DIR/pause"
}

# Stores a file as a content-addressed blob of the layout; prints "<digest> <size>".
add_blob() {
  local file="$1" layout="$2" hex size
  hex="$(sha256sum "$file" | cut -d' ' -f1)"
  size="$(stat -c %s "$file")"
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

# An OCI image layout written by hand (one uncompressed layer holding /pause), tarred as an OCI archive that
# `ctr images import` reads; the io.containerd.image.name annotation gives the image its full name.
package_pause() {
  [ -f "$PAUSE_ARCHIVE" ] && return 0
  say "packaging the sandbox image $PAUSE_IMAGE"
  local dir="$WORK/pause-image" arch layer config manifest
  rm -rf "$dir" && mkdir -p "$dir/rootfs" "$dir/layout"
  arch="$(go env GOARCH)"
  install -m 0755 "$BIN_DIR/pause" "$dir/rootfs/pause"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$dir/layer.tar" -C "$dir/rootfs" pause
  read -r layer layer_size < <(add_blob "$dir/layer.tar" "$dir/layout")
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$arch" "$layer" > "$dir/config.json"
  read -r config config_size < <(add_blob "$dir/config.json" "$dir/layout")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "$config" "$config_size" "$layer" "$layer_size" > "$dir/manifest.json"
  read -r manifest manifest_size < <(add_blob "$dir/manifest.json" "$dir/layout")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$manifest_size" "$arch" "$PAUSE_IMAGE" "$PAUSE_VERSION" > "$dir/layout/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$dir/layout/oci-layout"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$PAUSE_ARCHIVE.tmp" -C "$dir/layout" oci-layout index.json blobs
  mv "$PAUSE_ARCHIVE.tmp" "$PAUSE_ARCHIVE"
  rm -rf "$dir"
}

build_containerd
build_coredns
build_pause
package_pause
all_present
say "done; binaries in $BIN_DIR, sandbox image archive $PAUSE_ARCHIVE"
echo "$BIN_DIR"
