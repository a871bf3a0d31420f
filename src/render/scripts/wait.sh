# The launcher's wait for the workers (sourced by launcher.sh after common.sh, POSIX sh). hpcjob_wait_workers
# returns once the sshd of every worker lets the job's key in, and exits 124 when some are still unreachable after
# HPCJOB_WAIT_TIMEOUT_SECONDS: workers start in any order, and their names resolve only once their pods exist.
#
# The probes run in HPCJOB_WAIT_PARALLELISM lanes, background subshells: lane k of P owns workers k, k+P, k+2P, ...
# and probes them one after the other, then, once a second, again those that did not answer, until none is left or
# the wait is over. Lanes never wait for each other, so a host that does not answer holds up only its own lane, for
# at most one probe's bound at a time. They share only files in $HPCJOB_RUN_DIR/wait, one set per lane:
#   ok.<k>       an index per line, for each worker that answered (progress is counted from these);
#   pending.<k>  "index reason" per line, for each worker that did not answer in the lane's last pass;
#   stop         made at the deadline: every lane ends after its current probe.
# A worker is named by its index only: its hostname follows from it, and 100,000 indexes are a small list.

HPCJOB_WAIT_TIMEOUT_SECONDS=${HPCJOB_WAIT_TIMEOUT_SECONDS:-300}
HPCJOB_WAIT_PARALLELISM=${HPCJOB_WAIT_PARALLELISM:-32}
HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS=${HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS:-5}
# Seconds between progress lines, and how many unreachable hosts a failure names before it counts the rest
# (variables, so that tests can change them after sourcing).
hpcjob_progress_seconds=10
hpcjob_report_hosts=20

hpcjob_nl='
'
hpcjob_cr=$(printf '\r')

# One try at host $1: 0 when ssh logs in and runs `true`; else 1, with a one-line reason in hpcjob_reason. ssh
# reports a name that does not resolve itself, so no lookup of its own. Tests replace this function after
# sourcing the file: it is called in the lanes' shells, so a replacement needs no process of its own.
hpcjob_probe_host() {
  hpcjob_reason=$(hpcjob_bounded ssh -F "${HPCJOB_SSH_CONFIG:-$HPCJOB_RUN_DIR/ssh_config}" \
    -o ConnectTimeout="$HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS" "$1" true 2>&1 </dev/null) && return 0
  _code=$?
  _last=${hpcjob_reason##*"$hpcjob_nl"}
  _last=${_last%"$hpcjob_cr"}
  case $_code:$_last in
    124:*) hpcjob_reason="no answer within ${hpcjob_timeout}s" ;;
    *"Could not resolve hostname"*) hpcjob_reason="does not resolve" ;;
    # "ssh: connect to host <host> port <port>: Connection refused": the host is named already.
    *"connect to host "*": "*) hpcjob_reason=${_last##*: } ;;
    *:) hpcjob_reason="ssh exited with $_code" ;;
    *) hpcjob_reason=${_last#ssh: } ;;
  esac
  return 1
}

# ConnectTimeout bounds the connection and ssh's handshake, not a name lookup nor what follows the handshake:
# `timeout` (where it works as in coreutils and current busybox) ends any try a second after that.
hpcjob_bounded() {
  if [ -n "${hpcjob_timeout:-}" ]; then timeout "$hpcjob_timeout" "$@"; else "$@"; fi
}

# Probes worker $1: its index to fd 4 when it answers, else "index reason" to fd 3.
hpcjob_wait_try() {
  if hpcjob_probe_host "$HPCJOB_JOB_NAME-worker-$1.$HPCJOB_HOST_DOMAIN"; then
    echo "$1" >&4
  else
    echo "$1 ${hpcjob_reason:-unreachable}" >&3
  fi
}

# Lane $1 of $2 (in its own subshell, fd 4 open on its ok file), files in $3. The first pass takes its indexes
# from arithmetic, later passes from pending.<lane>. At the stop, the hosts not tried in this pass keep their
# last reason.
hpcjob_wait_lane() {
  _lane=$1 _step=$2 _dir=$3 _pass=1
  while :; do
    {
      if [ "$_pass" = 1 ]; then
        _i=$_lane
        while [ "$_i" -lt "$HPCJOB_WORKERS" ]; do
          if [ -e "$_dir/stop" ]; then
            while [ "$_i" -lt "$HPCJOB_WORKERS" ]; do
              echo "$_i not tried before the deadline" >&3
              _i=$((_i + _step))
            done
            break
          fi
          hpcjob_wait_try "$_i"
          _i=$((_i + _step))
        done
      else
        _n=0
        # shellcheck disable=SC2013 # the indexes, one word each: one process for the pass, not a read per byte
        for _i in $(cut -d ' ' -f 1 "$_dir/pending.$_lane"); do
          _n=$((_n + 1))
          if [ -e "$_dir/stop" ]; then
            sed -n "$_n,\$p" "$_dir/pending.$_lane" >&3
            break
          fi
          hpcjob_wait_try "$_i"
        done
      fi
    } 3>"$_dir/next.$_lane"
    mv -f "$_dir/next.$_lane" "$_dir/pending.$_lane" || return 1
    [ -s "$_dir/pending.$_lane" ] && [ ! -e "$_dir/stop" ] || return 0
    sleep 1
    _pass=$((_pass + 1))
  done
}

# How many workers answered so far (files in $1).
hpcjob_wait_reachable() {
  echo $(($(cat "$1"/ok.* | wc -l)))
}

# In the background beside the lanes (files in $1, started at $2): a progress line every
# hpcjob_progress_seconds, and the stop file at the deadline.
hpcjob_wait_watch() {
  _shown=$2 _sleep=""
  # Ended by the launcher once the lanes are done: its sleep with it (ended and reaped), so that nothing outlives
  # the wait, holds the launcher's output open or is left for the command to reap.
  trap '[ -z "$_sleep" ] || { kill "$_sleep" && wait "$_sleep"; } 2>/dev/null; exit 0' TERM
  while :; do
    sleep 1 &
    _sleep=$!
    wait "$_sleep"
    _now=$(date +%s)
    if [ $((_now - $2)) -ge "$HPCJOB_WAIT_TIMEOUT_SECONDS" ]; then
      : >"$1/stop"
      return 0
    fi
    if [ $((_now - _shown)) -ge "$hpcjob_progress_seconds" ]; then
      hpcjob_log "$(hpcjob_wait_reachable "$1")/$HPCJOB_WORKERS workers reachable after $((_now - $2))s"
      _shown=$_now
    fi
  done
}

# A positive whole number, or the launcher's setup fails.
hpcjob_wait_number() {
  case $2 in "" | *[!0-9]* | 0 | 0*) hpcjob_fail "$1 must be a whole number of at least 1, got '$2'" ;; esac
}

# Waits for workers 0..HPCJOB_WORKERS-1 (the launcher, which may run ranks too, needs no ssh to itself).
hpcjob_wait_workers() {
  case ${HPCJOB_WORKERS:-} in
    "" | *[!0-9]*) hpcjob_fail "HPCJOB_WORKERS must be a number, got '${HPCJOB_WORKERS:-}'" ;;
  esac
  hpcjob_wait_number HPCJOB_WAIT_TIMEOUT_SECONDS "$HPCJOB_WAIT_TIMEOUT_SECONDS"
  hpcjob_wait_number HPCJOB_WAIT_PARALLELISM "$HPCJOB_WAIT_PARALLELISM"
  hpcjob_wait_number HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS "$HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS"
  [ "$HPCJOB_WORKERS" -gt 0 ] || return 0
  _lanes=$HPCJOB_WAIT_PARALLELISM
  [ "$_lanes" -le "$HPCJOB_WORKERS" ] || _lanes=$HPCJOB_WORKERS
  _dir="$HPCJOB_RUN_DIR/wait"
  rm -rf "$_dir" && mkdir -p "$_dir" || hpcjob_fail "cannot create $_dir"
  hpcjob_timeout=""
  ! timeout 1 true 2>/dev/null || hpcjob_timeout=$((HPCJOB_WAIT_PROBE_TIMEOUT_SECONDS + 1))

  _start=$(date +%s)
  hpcjob_log "waiting for the sshd of $HPCJOB_WORKERS workers ($_lanes probes at once, up to" \
    "${HPCJOB_WAIT_TIMEOUT_SECONDS}s)"
  _pids="" _k=0
  while [ "$_k" -lt "$_lanes" ]; do
    hpcjob_wait_lane "$_k" "$_lanes" "$_dir" 4>"$_dir/ok.$_k" &
    _pids="$_pids $!"
    _k=$((_k + 1))
  done
  hpcjob_wait_watch "$_dir" "$_start" &
  _watch=$!
  # shellcheck disable=SC2086 # one word per lane
  wait $_pids
  kill "$_watch" 2>/dev/null
  wait "$_watch" 2>/dev/null

  _seconds=$(($(date +%s) - _start))
  # A lane that could not write its results (a full run directory) must not pass for one with none left.
  _k=0
  while [ "$_k" -lt "$_lanes" ]; do
    [ -e "$_dir/pending.$_k" ] || hpcjob_fail "probe lane $_k ended without its results in $_dir"
    _k=$((_k + 1))
  done
  # Counted and sorted from the lanes' files, without a copy: the run directory also holds the hostfile.
  _missing=$(($(cat "$_dir"/pending.* | wc -l)))
  if [ "$_missing" -eq 0 ]; then
    hpcjob_log "$HPCJOB_WORKERS/$HPCJOB_WORKERS workers reachable after ${_seconds}s"
    rm -rf "$_dir"
    return 0
  fi
  hpcjob_log "$((HPCJOB_WORKERS - _missing))/$HPCJOB_WORKERS workers reachable after ${_seconds}s"
  hpcjob_log "gave up after ${_seconds}s (HPCJOB_WAIT_TIMEOUT_SECONDS=$HPCJOB_WAIT_TIMEOUT_SECONDS) waiting for the" \
    "sshd of $_missing workers:"
  cat "$_dir"/pending.* | sort -n | head -n "$hpcjob_report_hosts" | while read -r _i _why; do
    hpcjob_log "  $HPCJOB_JOB_NAME-worker-$_i.$HPCJOB_HOST_DOMAIN: $_why"
  done
  [ "$_missing" -le "$hpcjob_report_hosts" ] || hpcjob_log "  ... and $((_missing - hpcjob_report_hosts)) more"
  rm -rf "$_dir"
  exit "$HPCJOB_EXIT_WORKERS_UNREACHABLE"
}
