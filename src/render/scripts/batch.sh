# Batch script runner (POSIX sh), the launcher's program for a job with spec.batchScript: launcher.sh runs it
# once every worker answers. It sets up what the script expects from Slurm or LSF, then runs the script itself,
# unchanged, and exits with its exit code.
. "${HPCJOB_CONFIG_DIR:-/etc/hpcjob/config}/common.sh"

# SLURM_* or LSB_* describing this job's hosts, and where output files go (rendered by the operator).
. "$HPCJOB_CONFIG_DIR/batch-env.sh"
[ "$HPCJOB_BATCH_DIALECT" != LSF ] || export LSB_DJOB_HOSTFILE="$HPCJOB_CONFIG_DIR/batch-hosts"

# srun and the script's mpirun read the hostfile launcher.sh wrote; run on its own (by hand, in a test), this
# writes it.
[ -r "${HPCJOB_HOSTFILE:-}" ] || hpcjob_write_hostfile

# With SLURM_JOB_ID set, Open MPI would take the job for a Slurm allocation and start its daemons with srun;
# it must use ssh and the job's hostfile like any other job.
export OMPI_MCA_plm="${OMPI_MCA_plm:-rsh}" PRTE_MCA_plm="${PRTE_MCA_plm:-ssh}"
export OMPI_MCA_ras="${OMPI_MCA_ras:-^slurm,lsf}" PRTE_MCA_ras="${PRTE_MCA_ras:-^slurm,lsf}"

# srun, which runs its tasks through the job's MPI (the srun file beside this one), first on the PATH.
bin="$HPCJOB_RUN_DIR/bin"
mkdir -p "$bin" && cp "$HPCJOB_CONFIG_DIR/srun" "$bin/srun" && chmod 0755 "$bin/srun" || hpcjob_fail "cannot install srun in $bin"
export PATH="$bin:$PATH"

# The script is executed as a file, so its #! line chooses the shell (a ConfigMap file cannot be executable).
script="$HPCJOB_RUN_DIR/batch-script"
cp "$HPCJOB_CONFIG_DIR/batch-script" "$script" && chmod 0700 "$script" || hpcjob_fail "cannot copy the batch script to $script"

run_script() {
  if head -c 2 "$script" | grep -q '^#!'; then "$script"; else /bin/sh "$script"; fi
}

out=${HPCJOB_BATCH_OUTPUT:-}
err=${HPCJOB_BATCH_ERROR:-}
if [ -z "$out" ] && [ -z "$err" ]; then
  hpcjob_log "running the ${HPCJOB_BATCH_DIALECT:-batch} script"
  run_script
  exit $?
fi

# Output files as the scheduler would write them (stderr joins the output file unless it has its own), and
# everything still in the launcher's log: each stream goes through tee from a fifo.
hpcjob_log "running the ${HPCJOB_BATCH_DIALECT:-batch} script; output also in ${out:-$err}"
exec 3>&1 4>&2
tees=""
if [ -n "$out" ]; then
  mkfifo "$HPCJOB_RUN_DIR/out.fifo" || hpcjob_fail "cannot make a fifo in $HPCJOB_RUN_DIR"
  tee -a "$out" <"$HPCJOB_RUN_DIR/out.fifo" >&3 &
  tees="$tees $!"
  exec >"$HPCJOB_RUN_DIR/out.fifo"
fi
if [ -n "$err" ]; then
  mkfifo "$HPCJOB_RUN_DIR/err.fifo" || hpcjob_fail "cannot make a fifo in $HPCJOB_RUN_DIR"
  tee -a "$err" <"$HPCJOB_RUN_DIR/err.fifo" >&4 &
  tees="$tees $!"
  exec 2>"$HPCJOB_RUN_DIR/err.fifo"
elif [ -n "$out" ]; then
  exec 2>&1
fi
run_script
code=$?
# Closing the fifos ends the tees; their last lines are written before this exits.
exec 1>&3 2>&4
for pid in $tees; do wait "$pid"; done
exit "$code"
