#!/usr/bin/env bash
# Starts, stops or checks the kuryr-ts daemon inside the lab namespace, where
# dockerd and the linuxbridge agent run. The agent only plugs tap devices in
# its own namespace, and libnetwork moves the container end out of dockerd's.
#
# Usage: lab/kuryr.sh start|stop|restart|status
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_NS="${LAB_NS:-lab-os}"
STATE_DIR="${LAB_STATE_DIR:-/var/lib/kuryr-lab}"
RUN_DIR="${LAB_RUN_DIR:-/run/kuryr-lab}"
CONFIG_FILE="${KURYR_CONFIG_FILE:-$STATE_DIR/etc/kuryr/kuryr.conf}"
PID_FILE="$RUN_DIR/kuryr.pid"
LOG_FILE="$STATE_DIR/log/kuryr.log"
# lab/multihost.sh gives each of its daemons a socket of its own.
SOCKET="${KURYR_SOCKET:-/run/docker/plugins/kuryr.sock}"
ENTRY="$REPO_DIR/dist/cli/main.js"
# The OVS binder's ovs-vsctl calls find the lab's ovsdb-server (LAB_L2=ovs)
# through OVS_RUNDIR; in linuxbridge mode no OVS command runs.
export OVS_RUNDIR="$STATE_DIR/ovs/run"

log() { printf '[kuryr] %s\n' "$*" >&2; }

# Prints the daemon's PID when the PID file names a live kuryr process; a
# stale PID that now belongs to another process is never trusted.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$ENTRY serve" || return 1
  echo "$pid"
}

wait_for_socket() {
  local deadline=$((SECONDS + 15))
  while ((SECONDS < deadline)); do
    if [[ -S "$SOCKET" ]] && curl -sf --unix-socket "$SOCKET" -X POST http://kuryr/Plugin.Activate >/dev/null; then
      return 0
    fi
    # kill -0 rather than running_pid: until the forked shell has exec'd
    # setsid, its command line does not name kuryr yet.
    if ! kill -0 "$1" 2>/dev/null; then
      log "kuryr exited during start; last log lines:"
      tail -n 20 "$LOG_FILE" >&2 || true
      return 1
    fi
    sleep 0.2
  done
  log "kuryr did not answer on $SOCKET within 15 s"
  return 1
}

start() {
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    return 0
  fi
  if [[ ! -f "$ENTRY" ]]; then
    log "building kuryr-ts (dist/ is missing)"
    (cd "$REPO_DIR" && npm run --silent build)
  fi
  [[ -f "$CONFIG_FILE" ]] || { log "missing $CONFIG_FILE: run lab/up.sh first"; return 1; }
  mkdir -p "$RUN_DIR" "$(dirname "$LOG_FILE")"
  local started=$SECONDS
  # setsid detaches the daemon from this shell's session, so it outlives the
  # script; `ip netns exec` execs node, so $! is the daemon's own PID.
  setsid ip netns exec "$LAB_NS" "$(command -v node)" --max-semi-space-size=1 "$ENTRY" serve --config-file "$CONFIG_FILE" \
    >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  wait_for_socket $!
  log "running (pid $(cat "$PID_FILE"), socket $SOCKET, log $LOG_FILE) after $((SECONDS - started)) s"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 10 s; sending SIGKILL"
    kill -KILL "$pid"
  fi
  rm -f "$PID_FILE"
  log "stopped"
}

status() {
  if pid="$(running_pid)"; then
    log "running (pid $pid)"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
