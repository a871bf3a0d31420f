#!/usr/bin/env bash
# Installs what the MPI tests (test/mpi) need, when missing: Open MPI, MPICH, OpenSSH client and server,
# iproute2 (network namespaces), nss_wrapper (the entrypoints' path for uids without a passwd entry) and
# util-linux (unshare, setpriv). Idempotent; Debian/Ubuntu. Used by `npm test -- mpi` and CI.
set -euo pipefail
. "$(dirname "$0")/lib/apt.sh"
ensure_apt_packages openmpi-bin mpich openssh-server openssh-client iproute2 libnss-wrapper util-linux
