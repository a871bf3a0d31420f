# Launcher entrypoint (POSIX sh): launcher.sh <command> [args...]
# Writes the job's ssh_config and hostfile into the run directory (from the pod's environment), waits until every
# worker's sshd lets the job's key in (wait.sh), then runs the command and exits with its exit code. Exits 124 when
# a worker is still unreachable after HPCJOB_WAIT_TIMEOUT_SECONDS, and 125 when its own setup fails.
. "${HPCJOB_CONFIG_DIR:-/etc/hpcjob/config}/common.sh"
. "$HPCJOB_CONFIG_DIR/wait.sh"

[ $# -gt 0 ] || hpcjob_fail "launcher.sh: no command given"

hpcjob_ensure_user
hpcjob_private_copy "$HPCJOB_SSH_DIR/id_key" "$HPCJOB_RUN_DIR/id_key"
hpcjob_write_ssh_config
hpcjob_write_hostfile
hostfile=$HPCJOB_HOSTFILE
ssh_config=$HPCJOB_SSH_CONFIG

hpcjob_wait_workers

# Whether the user's mpirun line already names its hosts.
names_hosts() {
  for arg in "$@"; do
    case $arg in
      -hostfile | --hostfile | -machinefile | --machinefile | -default-hostfile | --default-hostfile | -H | -host | \
        --host | -hosts | -f) return 0 ;;
    esac
  done
  return 1
}

# Settings for MPI started in any way (also from a script); a value the pod already sets wins. Variables are
# forwarded only on an mpirun line (below): a list exported here would clash with a script's own `mpirun -x`.
forwarded=$(hpcjob_forward_names)
case $HPCJOB_MPI_IMPLEMENTATION in
  OpenMPI)
    # Open MPI 5 (PRRTE) does not read the ORTE names of Open MPI 4: both.
    export OMPI_MCA_orte_default_hostfile="${OMPI_MCA_orte_default_hostfile:-$hostfile}"
    export PRTE_MCA_prte_default_hostfile="${PRTE_MCA_prte_default_hostfile:-$hostfile}"
    export OMPI_MCA_plm_rsh_args="${OMPI_MCA_plm_rsh_args:--F $ssh_config}"
    export PRTE_MCA_plm_ssh_args="${PRTE_MCA_plm_ssh_args:--F $ssh_config}"
    ;;
  MPICH)
    export HYDRA_HOST_FILE="${HYDRA_HOST_FILE:-$hostfile}"
    export HYDRA_LAUNCHER="${HYDRA_LAUNCHER:-ssh}"
    export HYDRA_LAUNCHER_EXTRA_ARGS="${HYDRA_LAUNCHER_EXTRA_ARGS:--F $ssh_config}"
    ;;
  IntelMPI)
    export I_MPI_HYDRA_HOST_FILE="${I_MPI_HYDRA_HOST_FILE:-$hostfile}"
    export I_MPI_HYDRA_BOOTSTRAP="${I_MPI_HYDRA_BOOTSTRAP:-ssh}"
    export I_MPI_HYDRA_BOOTSTRAP_EXEC_EXTRA_ARGS="${I_MPI_HYDRA_BOOTSTRAP_EXEC_EXTRA_ARGS:--F $ssh_config}"
    ;;
  *) hpcjob_fail "unknown HPCJOB_MPI_IMPLEMENTATION '$HPCJOB_MPI_IMPLEMENTATION'" ;;
esac

# When the command is mpirun/mpiexec itself, the hostfile and the forwarded variables also go on its command
# line, which every version reads (environment names differ between Open MPI 4 and 5).
case ${1##*/} in
  mpirun* | mpiexec*)
    program=$1
    shift
    names_hosts "$@" && has_hosts=yes || has_hosts=no
    # Open MPI refuses -x beside mca_base_env_list: when the pod sets that list, the names join it instead.
    if [ "$HPCJOB_MPI_IMPLEMENTATION" = OpenMPI ] && [ -n "${OMPI_MCA_mca_base_env_list:-}" ] && [ -n "$forwarded" ]; then
      OMPI_MCA_mca_base_env_list="$OMPI_MCA_mca_base_env_list;$(echo "$forwarded" | paste -sd ';' -)"
      forwarded=""
    fi
    # Prepended one by one, so in reverse to read in name order.
    for name in $(echo "$forwarded" | sort -r); do
      if [ "$HPCJOB_MPI_IMPLEMENTATION" = OpenMPI ]; then
        set -- -x "$name" "$@"
      else
        eval "value=\${$name}"
        set -- -genv "$name" "$value" "$@"
      fi
    done
    if [ "$has_hosts" = no ]; then
      if [ "$HPCJOB_MPI_IMPLEMENTATION" = OpenMPI ]; then set -- --hostfile "$hostfile" "$@"; else set -- -f "$hostfile" "$@"; fi
    fi
    set -- "$program" "$@"
    ;;
esac

# The command line as logged: forwarded variables may hold tokens or passwords, and a log is read by more people
# than the pod's environment, so only their names are shown (-genv/-env NAME VALUE, -x NAME=VALUE).
shown_command() {
  shown="" next=""
  for arg in "$@"; do
    case $next in
      name) shown="$shown $arg" next=value ;;
      value) shown="$shown <hidden>" next="" ;;
      x) case $arg in *=*) shown="$shown ${arg%%=*}=<hidden>" ;; *) shown="$shown $arg" ;; esac; next="" ;;
      *)
        shown="$shown $arg"
        case $arg in -genv | -env | --genv | --env) next=name ;; -x) next=x ;; esac
        ;;
    esac
  done
  echo "${shown# }"
}

hpcjob_log "running: $(shown_command "$@")"
exec "$@"
