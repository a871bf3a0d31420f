# Worker entrypoint (POSIX sh): runs the job's sshd in the foreground as the container's user, which may be
# any non-root uid. Only the job's public key may log in; sshd keeps StrictModes on.
. "${HPCJOB_CONFIG_DIR:-/etc/hpcjob/config}/common.sh"

hpcjob_ensure_user
home=$(hpcjob_home)

# StrictModes checks the authorized keys file and every directory above it up to the home directory: they must
# belong to the user (or root) and not be writable by group or others. The Secret mount and an emptyDir fail
# that, so the key goes into a private directory in the home.
[ -d "$home" ] && [ -O "$home" ] && [ -w "$home" ] ||
  hpcjob_fail "home directory '$home' of uid $(id -u) must exist and belong to it (sshd StrictModes)"
case $(ls -ld "$home" | cut -c1-10) in
  ?????w???? | ????????w?) hpcjob_fail "home directory '$home' is writable by group or others (sshd StrictModes)" ;;
esac
keys="$home/.hpcjob"
mkdir -p "$keys" && chmod 0700 "$keys" || hpcjob_fail "cannot create $keys"
hpcjob_private_copy "$HPCJOB_SSH_DIR/authorized_keys" "$keys/authorized_keys"

# sshd's own files: a writable directory, the host key private to the user.
state="$HPCJOB_RUN_DIR/sshd"
mkdir -p "$state" && chmod 0700 "$state" || hpcjob_fail "cannot create $state"
hpcjob_private_copy "$HPCJOB_SSH_DIR/host_key" "$state/host_key"
# Ranks on this worker may start ssh themselves (Open MPI's tree spawn): the same private key and ssh_config as
# the launcher.
hpcjob_private_copy "$HPCJOB_SSH_DIR/id_key" "$HPCJOB_RUN_DIR/id_key"
hpcjob_write_ssh_config

{
  echo "# Written by the hpcjob worker entrypoint."
  echo "Port $HPCJOB_SSH_PORT"
  echo "HostKey $state/host_key"
  echo "PidFile $state/sshd.pid"
  echo "AuthorizedKeysFile $keys/authorized_keys"
  echo "StrictModes yes"
  echo "PubkeyAuthentication yes"
  echo "PasswordAuthentication no"
  echo "KbdInteractiveAuthentication no"
  echo "HostbasedAuthentication no"
  echo "PermitRootLogin prohibit-password"
  # PAM needs root; a non-root sshd can only log in its own user anyway.
  echo "UsePAM no"
  echo "X11Forwarding no"
  echo "AllowAgentForwarding no"
  echo "PrintMotd no"
  echo "PermitUserEnvironment no"
  hpcjob_sshd_setenv
} >"$state/sshd_config" || hpcjob_fail "cannot write $state/sshd_config"

sshd=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$sshd" ] || hpcjob_fail "sshd not found: the image needs an OpenSSH server"
# root's sshd separates privileges into this directory; a non-root sshd does not use it.
[ "$(id -u)" != 0 ] || mkdir -p /run/sshd
hpcjob_log "sshd on port $HPCJOB_SSH_PORT as $(id -un) (uid $(id -u))"
# sshd re-executes itself, so it needs its absolute path.
exec "$sshd" -D -e -f "$state/sshd_config"
