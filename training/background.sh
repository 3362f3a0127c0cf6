#!/usr/bin/env bash
# Run a long command (a training stage longer than one remote call) detached, in its own
# session, and wait on it later by its pid file. Waiting by name (`pgrep -f training.train`)
# also matches the shell that runs the wait, so it never ends: use this instead.
#
#   bash training/background.sh start NAME CMD [ARG...]   # returns at once
#   bash training/background.sh wait NAME [SECONDS]       # until CMD exits or SECONDS pass (default 540)
#   bash training/background.sh status NAME
#
# Files in $BG_DIR (default runs/bg): NAME.log (CMD's stdout + stderr), NAME.pid, and NAME.rc
# (CMD's exit status, written when it ends). `wait` prints the log's last lines and exits with
# CMD's status once it has ended, or 3 while it still runs; `status` prints running / exited N.
set -euo pipefail
DIR=${BG_DIR:-runs/bg}
cmd=${1:?usage: background.sh start|wait|status NAME ...}
name=${2:?usage: background.sh $cmd NAME ...}
shift 2
log=$DIR/$name.log pidf=$DIR/$name.pid rcf=$DIR/$name.rc
mkdir -p "$DIR"

running() { [[ -f $pidf ]] && kill -0 "$(cat "$pidf")" 2>/dev/null && [[ ! -f $rcf ]]; }

case $cmd in
  start)
    (( $# )) || { echo "background.sh start $name: no command" >&2; exit 2; }
    if running; then echo "background.sh: $name is already running (pid $(cat "$pidf"))" >&2; exit 2; fi
    rm -f "$rcf"
    # setsid: its own session, so it outlives the call that started it; the rc file is
    # written by the wrapper shell after CMD ends, whatever its status.
    setsid bash -c '"$@"; echo $? > "$0"' "$rcf" "$@" > "$log" 2>&1 < /dev/null &
    echo $! > "$pidf"
    echo "started $name (pid $!): $*; log $log" ;;
  wait)
    limit=${1:-540} t0=$SECONDS
    while running && (( SECONDS - t0 < limit )); do sleep 2; done
    tail -n 5 "$log" 2>/dev/null | tr '\r' '\n' | tail -n 5 || true
    if [[ -f $rcf ]]; then echo "$name exited $(cat "$rcf")"; exit "$(cat "$rcf")"; fi
    if running; then echo "$name still running after ${limit}s"; exit 3; fi
    echo "background.sh: $name is not running and left no exit status (killed, or never started)" >&2; exit 2 ;;
  status)
    if [[ -f $rcf ]]; then echo "exited $(cat "$rcf")"; elif running; then echo running
    elif [[ -f $pidf ]]; then echo "ended without an exit status (killed?)"; else echo "not started"; fi ;;
  *) echo "background.sh: unknown command $cmd (start, wait, status)" >&2; exit 2 ;;
esac
