#!/usr/bin/env bash
# Stop the Kuryr lab started by lab/up.sh and delete its namespaces.
#
# Usage: lab/down.sh [--purge]
#   --purge  also delete /var/lib/kuryr-lab and /run/kuryr-lab (databases,
#            Docker images, logs); the next lab/up.sh starts from scratch.
#
# Only processes named by our pid files (checked against /proc/PID/cmdline)
# and processes inside lab-os or lab-os-* are signalled.
set -euo pipefail

# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOWN_START=$(now)
PURGE=0

parse_arguments() {
  while (($# > 0)); do
    case $1 in
      --purge) PURGE=1 ;;
      -h | --help)
        sed -n '2,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
        exit 0
        ;;
      *) die "unknown argument: $1 (usage: lab/down.sh [--purge])" ;;
    esac
    shift
  done
}

# The two extra hosts of lab/multihost.sh go first, while Neutron still runs
# to delete their ports and agent records.
stop_multihost() {
  [[ -f $LAB_DIR/multihost.sh && -d $LAB_RUN/mh ]] || return 0
  LAB_LOCK_HELD=1 bash "$LAB_DIR/multihost.sh" down 9>&- || log "WARNING: lab/multihost.sh down failed; continuing"
}

stop_kuryr() {
  [[ -f $LAB_DIR/kuryr.sh ]] || return 0
  bash "$LAB_DIR/kuryr.sh" stop || log "WARNING: lab/kuryr.sh stop failed; continuing"
}

# dockerd stops its containers first (10 s each by default), hence 45 s.
# Both L2 modes' daemons are stopped; those not running are skipped.
stop_daemons() {
  local name
  stop_daemon dockerd 45
  stop_daemon relay 5
  # Nothing depends on these at shutdown, so they stop side by side.
  for name in agent neutron-server keystone; do
    stop_daemon "$name" 20 &
  done
  stop_daemon ovs-agent "$LAB_OVS_AGENT_STOP_TIMEOUT" &
  wait
  # The OVS agent is gone by now, so OVS can go too.
  for name in ovs-vswitchd ovsdb-server rabbitmq mariadb; do
    stop_daemon "$name" 30 &
  done
  wait
}

delete_namespaces() {
  local namespace
  for namespace in $(lab_namespaces); do
    sweep_namespace "$namespace"
    ip netns del "$namespace"
    log "deleted namespace $namespace"
  done
}

# dockerd's overlay mounts live in its private mount namespace and vanish
# with it. A mount seen here would make rm -rf descend into foreign data.
purge_state() {
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep -E "^($LAB_STATE|$LAB_RUN)(/|$)" || true)
  [[ -z $mounts ]] || die "not purging: still mounted: $mounts"
  rm -rf "$LAB_STATE" "$LAB_RUN"
  log "deleted $LAB_STATE and $LAB_RUN"
}

main() {
  parse_arguments "$@"
  acquire_lab_lock
  stop_multihost
  stop_kuryr
  stop_daemons
  delete_namespaces
  rm -f "$LAB_RUN/relay.skipped"
  if ((PURGE == 1)); then
    purge_state
  fi
  log "lab is down after $(elapsed_since "$DOWN_START")s"
}

main "$@"
