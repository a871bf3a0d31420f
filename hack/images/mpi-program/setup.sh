# shellcheck shell=sh
# Finishes an MPI job image from inside it (POSIX sh, as root), after its packages are installed. Run by the
# Dockerfiles (`RUN sh setup.sh`) and by build.sh (in the mmdebstrap root), so both builds give the same image:
#   sh setup.sh DIR    where DIR holds hpcjob-ring.c
set -eu
src=${1:?usage: setup.sh DIR}

# The user for jobs that set no runAsUser; the images say USER 1000:1000 (numeric: kubelet's runAsNonRoot check
# cannot resolve names). sshd's StrictModes wants a home that belongs to the user and is not group-writable.
if ! getent passwd 1000 >/dev/null; then
  useradd --uid 1000 --user-group --create-home --shell /bin/sh mpiuser
fi
chmod 0755 /home/mpiuser

# Our test program, built with this image's own MPI compiler wrapper so it matches the installed library.
mpicc -O2 -Wall -o /usr/local/bin/hpcjob-ring "$src/hpcjob-ring.c"
chmod 0755 /usr/local/bin/hpcjob-ring

# openssh-server's installation made host keys: every job brings its own, and an image must not share one.
rm -f /etc/ssh/ssh_host_*

# Package lists and caches are only needed while installing.
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
