# Shared by worker.sh and launcher.sh (sourced, POSIX sh): paths, messages, the user's passwd entry and the
# private copy of a key.
HPCJOB_CONFIG_DIR=${HPCJOB_CONFIG_DIR:-/etc/hpcjob/config}
HPCJOB_SSH_DIR=${HPCJOB_SSH_DIR:-/etc/hpcjob/ssh}
HPCJOB_RUN_DIR=${HPCJOB_RUN_DIR:-/run/hpcjob}
HPCJOB_SSH_PORT=${HPCJOB_SSH_PORT:-2222}
HPCJOB_MPI_IMPLEMENTATION=${HPCJOB_MPI_IMPLEMENTATION:-OpenMPI}

hpcjob_log() { echo "hpcjob: $*" >&2; }

# Exit codes of the entrypoints themselves (the launcher otherwise exits with the user's command's code).
HPCJOB_EXIT_SETUP=125
HPCJOB_EXIT_WORKERS_UNREACHABLE=124

hpcjob_fail() {
  hpcjob_log "$*"
  exit "$HPCJOB_EXIT_SETUP"
}

# ssh and sshd look the user up by uid; a uid given by runAsUser or OpenShift often has no passwd entry.
# Adds one whose home is a private directory under the run dir: appended to /etc/passwd when the image made it
# writable (as OpenShift images do), else through nss_wrapper when the image has it.
hpcjob_ensure_user() {
  _uid=$(id -u)
  getent passwd "$_uid" >/dev/null 2>&1 && return 0
  _home="$HPCJOB_RUN_DIR/home"
  mkdir -p "$_home" && chmod 0700 "$_home" || hpcjob_fail "cannot create $_home"
  _line="hpcjob$_uid:x:$_uid:$(id -g):hpcjob job user:$_home:/bin/sh"
  if [ -w /etc/passwd ]; then
    echo "$_line" >>/etc/passwd || hpcjob_fail "cannot append to /etc/passwd"
    return 0
  fi
  for _lib in /usr/lib/*/libnss_wrapper.so /usr/lib64/libnss_wrapper.so /usr/lib/libnss_wrapper.so; do
    [ -f "$_lib" ] || continue
    { cat /etc/passwd && echo "$_line"; } >"$HPCJOB_RUN_DIR/passwd" || hpcjob_fail "cannot write $HPCJOB_RUN_DIR/passwd"
    export LD_PRELOAD="$_lib${LD_PRELOAD:+ $LD_PRELOAD}"
    export NSS_WRAPPER_PASSWD="$HPCJOB_RUN_DIR/passwd" NSS_WRAPPER_GROUP=/etc/group
    return 0
  done
  hpcjob_fail "uid $_uid has no passwd entry and /etc/passwd is not writable: make /etc/passwd group-writable" \
    "in the image, install nss_wrapper (libnss-wrapper), or run as a user the image defines"
}

# The user's home directory from the passwd database.
hpcjob_home() {
  getent passwd "$(id -u)" | cut -d: -f6
}

# A copy only its owner can read: ssh refuses a private key that others can read, and the Secret's files may be
# group-readable (fsGroup) or owned by root.
hpcjob_private_copy() {
  rm -f "$2" && (umask 077 && cat "$1" >"$2") && chmod 0600 "$2" || hpcjob_fail "cannot copy $1 to $2"
}

# Sessions started by sshd get a fresh environment: pass on where the image keeps MPI (PATH, libraries) and,
# with nss_wrapper, the user's passwd entry. sshd keeps only the first SetEnv line it reads, so all the variables
# go on one line; a value with a double quote cannot be written there and is left out, loudly.
hpcjob_sshd_setenv() {
  line=""
  for name in PATH LD_LIBRARY_PATH LD_PRELOAD NSS_WRAPPER_PASSWD NSS_WRAPPER_GROUP; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || continue
    case $value in
      *\"*) hpcjob_log "not passing $name to ranks: its value contains a double quote" ;;
      *) line="$line $name=\"$value\"" ;;
    esac
  done
  [ -z "$line" ] || echo "SetEnv$line"
}

# Ranks started over ssh do not inherit this pod's environment: the names of the variables to pass them, when set
# here: NCCL_*, UCX_*, those listed in HPCJOB_FORWARD_ENV and those in $1 (comma-separated), one per line.
hpcjob_forward_names() {
  {
    env | sed -n -e 's/^\(NCCL_[A-Za-z0-9_]*\)=.*/\1/p' -e 's/^\(UCX_[A-Za-z0-9_]*\)=.*/\1/p'
    echo "${HPCJOB_FORWARD_ENV:-},${1:-}" | tr ',' '\n'
  } | while read -r name; do
    case $name in "" | [0-9]* | *[!A-Za-z0-9_]*) continue ;; esac
    eval "[ -n \"\${$name+set}\" ]" && echo "$name"
  done | sort -u
}
