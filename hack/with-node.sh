#!/usr/bin/env bash
# Runs a command with the supported Node.js first on PATH: hack/with-node.sh node dist/main.js ...
set -euo pipefail
. "$(dirname "$0")/lib/node.sh"
ensure_node
exec "$@"
