# Sourced by the hack/build-*.sh scripts that build an upstream Go module into the cache outside the repository.
# The script defines say() (its messages); this file gives it Go, a work directory with a build log, and steps.
#
#   go_build_start WORK    Go on PATH, WORK made and entered, build.log emptied, the compile cache in WORK/gocache
#   step WHAT CMD...       runs CMD with its output in the build log; on failure prints the log's end and exits
#   go_module_field MODULE VERSION FIELD   a field of `go mod download -json`: Dir (the unpacked source), GoMod,
#                                          or Hash (the tag's commit)

go_build_start() {
  local work="$1"
  [ -x /usr/local/go/bin/go ] && case ":$PATH:" in *":/usr/local/go/bin:"*) ;; *) PATH="/usr/local/go/bin:$PATH" ;; esac
  command -v go >/dev/null || { say "Go is required (none on PATH or in /usr/local/go)"; exit 1; }
  BUILD_LOG="$work/build.log"
  mkdir -p "$work"
  cd "$work"
  : > "$BUILD_LOG"
  export CGO_ENABLED=0
  # The compile cache serves this build only (the caller removes it on exit); the binaries are what is kept.
  export GOCACHE="$work/gocache"
  GO_BUILD_STARTED=$SECONDS
}

step() {
  local what="$1"; shift
  say "[$((SECONDS - GO_BUILD_STARTED))s] $what (details: $BUILD_LOG)"
  echo "=== $what" >> "$BUILD_LOG"
  "$@" >> "$BUILD_LOG" 2>&1 || { say "failed: $what; last lines of $BUILD_LOG:"; tail -n 25 "$BUILD_LOG" >&2; exit 1; }
}

go_module_field() { go mod download -json "$1@$2" | sed -n "s/^\s*\"$3\": \"\(.*\)\",\{0,1\}$/\1/p"; }

# The closing line of a build: how long it took and where its output is.
go_build_done() { say "[$((SECONDS - GO_BUILD_STARTED))s] done: $1"; }
