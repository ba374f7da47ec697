# shellcheck shell=bash
# Shared constants and helpers for lab/up.sh, lab/down.sh and lab/status.sh.
# Sourcing it defines functions and variables and runs nothing else.
# The variables are used by the scripts that source this file:
# shellcheck disable=SC2034

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_NS=lab-os
LAB_TEST_NS_PREFIX=lab-os-
LAB_STATE=/var/lib/kuryr-lab
LAB_RUN=/run/kuryr-lab
LAB_ETC=$LAB_STATE/etc
LAB_LOG=$LAB_STATE/log
LAB_BIN=$LAB_STATE/bin
LAB_PIDS=$LAB_RUN/pids
LAB_MYSQL_SOCKET=$LAB_STATE/run/mysqld/mysqld.sock
LAB_DOCKER_SOCKET=$LAB_RUN/docker.sock
LAB_DOCKER_HOST=unix://$LAB_DOCKER_SOCKET
LAB_HOSTNAME=$(hostname)
LAB_ADMIN_PASSWORD=adminpass
LAB_UNDERLAY_IP=10.254.254.1
LAB_LOCK_FILE=/run/lock/kuryr-lab.lock

# The Neutron L2 back end: linuxbridge (the default) or ovs. lab/up.sh
# records the mode it started in $LAB_L2_MODE_FILE, where lab/status.sh and
# the tests read it.
LAB_L2=${LAB_L2:-linuxbridge}
LAB_L2_MODE_FILE=$LAB_RUN/l2-mode
# Open vSwitch runs with its own run and database directories, so it never
# meets a system OVS. Every OVS client (ovs-vsctl, the agent, the Kuryr
# daemon) needs OVS_RUNDIR set to find the database socket.
LAB_OVS_DIR=$LAB_STATE/ovs
# The OVS agent's firewall: openvswitch (the default, flows with conntrack)
# or iptables_hybrid (iptables on a Linux bridge per port).
LAB_OVS_FIREWALL=${LAB_OVS_FIREWALL:-openvswitch}
# Seconds to wait for the OVS agent after SIGTERM. The Zed agent leaves its
# loop about 1.5 s after SIGTERM, but its process then lingers until it is
# killed (seen on every stop in this lab), so a long wait only delays.
LAB_OVS_AGENT_STOP_TIMEOUT=8
LAB_OVS_RUNDIR=$LAB_OVS_DIR/run
LAB_OVS_DBDIR=$LAB_OVS_DIR/db

# The pyenv python3 comes first in PATH on this image, and the OpenStack
# entry points need Debian's interpreter, so the system directories go first.
export PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/bin

# Each daemon: the name used for its pid file, and a fixed string that its
# /proc/PID/cmdline must contain before the pid file is trusted.
declare -A LAB_DAEMON_CMDLINE=(
  [mariadb]=mariadbd
  [rabbitmq]=beam.smp
  [keystone]=uwsgi
  [neutron-server]=neutron-server
  [agent]=neutron-linuxbridge-agent
  [ovs-agent]=neutron-openvswitch-agent
  [ovsdb-server]=ovsdb-server
  [ovs-vswitchd]=ovs-vswitchd
  [dockerd]=dockerd
  [relay]=relay.py
)
# The order in which lab/status.sh lists the daemons of each L2 mode.
LAB_DAEMONS_LINUXBRIDGE=(mariadb rabbitmq keystone neutron-server agent dockerd relay)
LAB_DAEMONS_OVS=(mariadb rabbitmq keystone neutron-server ovsdb-server ovs-vswitchd ovs-agent dockerd relay)

log() {
  printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# Exit unless LAB_L2 and LAB_OVS_FIREWALL name supported values.
check_l2_mode() {
  case $LAB_L2 in
    linuxbridge | ovs) ;;
    *) die "invalid LAB_L2=$LAB_L2: use linuxbridge (the default) or ovs" ;;
  esac
  case $LAB_OVS_FIREWALL in
    openvswitch | iptables_hybrid) ;;
    *) die "invalid LAB_OVS_FIREWALL=$LAB_OVS_FIREWALL: use openvswitch (the default) or iptables_hybrid" ;;
  esac
}

# Print the mode that lab/up.sh last started the lab in. Labs started
# before the OVS mode existed have no mode file and run linuxbridge.
recorded_l2_mode() {
  if [[ -r $LAB_L2_MODE_FILE ]]; then
    cat "$LAB_L2_MODE_FILE"
  else
    printf 'linuxbridge'
  fi
}

# Print the Neutron agent binary of L2 mode MODE.
agent_binary() {
  case $1 in
    ovs) printf 'neutron-openvswitch-agent' ;;
    *) printf 'neutron-linuxbridge-agent' ;;
  esac
}

now() {
  printf '%s' "$EPOCHREALTIME"
}

# Print the seconds elapsed since START (an EPOCHREALTIME value), 1 decimal.
elapsed_since() {
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

netns_exists() {
  [[ -e /run/netns/$1 ]]
}

in_ns() {
  ip netns exec "$LAB_NS" "$@"
}

pid_file() {
  printf '%s/%s.pid' "$LAB_PIDS" "$1"
}

# Succeed if PID is alive and its cmdline contains PATTERN. This guards
# against a stale pid file whose number now belongs to another process.
pid_matches() {
  local pid=$1 pattern=$2 cmdline
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$pattern"* ]]
}

# Print the pid of daemon NAME if its pid file names a live process of ours.
daemon_pid() {
  local name=$1 file pid
  file=$(pid_file "$name")
  [[ -r $file ]] || return 1
  pid=$(<"$file")
  pid_matches "$pid" "${LAB_DAEMON_CMDLINE[$name]}" || return 1
  printf '%s' "$pid"
}

daemon_alive() {
  daemon_pid "$1" >/dev/null
}

# Start daemon NAME in the lab namespace unless it already runs. The
# command's first word is exec'd by `ip netns exec`, so $! is the daemon's
# own pid. setsid detaches it from the caller's session and signals.
start_in_ns() {
  local name=$1
  shift
  if daemon_alive "$name"; then
    log "$name already running (pid $(daemon_pid "$name"))"
    return 0
  fi
  mkdir -p "$LAB_PIDS" "$LAB_LOG"
  setsid ip netns exec "$LAB_NS" "$@" </dev/null >>"$LAB_LOG/$name.out" 2>&1 9>&- &
  printf '%s\n' "$!" >"$(pid_file "$name")"
  log "$name started (pid $!)"
}

# Send SIGTERM to daemon NAME and wait up to TIMEOUT seconds, then SIGKILL.
# Only a pid that passes daemon_pid is ever signalled.
stop_daemon() {
  local name=$1 timeout=${2:-20} pid deadline
  if ! pid=$(daemon_pid "$name"); then
    rm -f "$(pid_file "$name")"
    return 0
  fi
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && pid_matches "$pid" "${LAB_DAEMON_CMDLINE[$name]}"; do
    if ((SECONDS >= deadline)); then
      log "$name did not exit within ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$name")"
}

# Serialize lab/up.sh and lab/down.sh, which may be started by several people
# and CI on one machine. Every long-lived child must be started with 9>&-:
# an inherited descriptor would hold the lock for the child's lifetime.
acquire_lab_lock() {
  mkdir -p "$(dirname "$LAB_LOCK_FILE")"
  exec 9>>"$LAB_LOCK_FILE"
  if ! flock -n 9; then
    log "another lab/up.sh or lab/down.sh holds $LAB_LOCK_FILE; waiting up to 600 s"
    flock -w 600 9 || die "timed out waiting for $LAB_LOCK_FILE"
  fi
}

# Run COMMAND until it succeeds or TIMEOUT seconds pass.
wait_until() {
  local what=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "timed out after ${timeout}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}

tcp_port_open_in_ns() {
  in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Print the PSS of PID in kB (0 if the process is gone).
pid_pss_kb() {
  awk '/^Pss:/ { print $2; found = 1 } END { if (!found) print 0 }' \
    "/proc/$1/smaps_rollup" 2>/dev/null || printf '0\n'
}

# Print the namespace names this lab owns: lab-os and every lab-os-*.
lab_namespaces() {
  local name
  for name in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
    if [[ $name == "$LAB_NS" || $name == "$LAB_TEST_NS_PREFIX"* ]]; then
      printf '%s\n' "$name"
    fi
  done
}

# Print the pids in NAMESPACE, but only those still in it when asked again:
# a pid read a moment ago may belong to a new process by now.
namespace_pids() {
  local namespace=$1 pid inode
  inode=$(stat -L -c %i "/run/netns/$namespace" 2>/dev/null) || return 0
  for pid in $(ip netns pids "$namespace" 2>/dev/null); do
    if [[ $(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) == "$inode" ]]; then
      printf '%s\n' "$pid"
    fi
  done
}

# End the leftovers inside NAMESPACE: epmd and RabbitMQ helpers, neutron
# workers that outlive their parent, privsep helpers, test pings. Every
# process in a lab namespace was started by the lab.
sweep_namespace() {
  local namespace=$1 pids deadline
  mapfile -t pids < <(namespace_pids "$namespace")
  ((${#pids[@]} > 0)) || return 0
  log "sending SIGTERM to ${#pids[@]} leftover processes in $namespace: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while (($(namespace_pids "$namespace" | wc -l) > 0)); do
    if ((SECONDS >= deadline)); then
      mapfile -t pids < <(namespace_pids "$namespace")
      log "sending SIGKILL to processes still in $namespace: ${pids[*]}"
      kill -KILL "${pids[@]}" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
}

# Print a Keystone token for the admin user. The request is sent inside the
# lab namespace, so it works without the relay.
admin_token() {
  in_ns curl -fsS -i -H 'Content-Type: application/json' \
    http://127.0.0.1:5000/v3/auth/tokens -d "{\"auth\": {\"identity\": {\"methods\": [\"password\"],
      \"password\": {\"user\": {\"name\": \"admin\", \"domain\": {\"id\": \"default\"},
      \"password\": \"$LAB_ADMIN_PASSWORD\"}}},
      \"scope\": {\"project\": {\"name\": \"admin\", \"domain\": {\"id\": \"default\"}}}}}" |
    awk 'tolower($1) == "x-subject-token:" { print $2 }' | tr -d '\r'
}

# Writes a tar stream of a busybox root file system built from the host's
# /bin/busybox, for `docker import`: the lab has no registry access.
busybox_rootfs_tar() {
  local rootfs applet
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$rootfs/etc/group"
  chmod 1777 "$rootfs/tmp"
  tar -C "$rootfs" -c .
  rm -rf "$rootfs"
}

# Prints the [neutron] section of a lab kuryr.conf: the kuryr service user's
# credentials for the lab's Keystone.
kuryr_neutron_section() {
  cat <<EOF
[neutron]
auth_url = http://127.0.0.1:5000/v3
auth_type = password
username = kuryr
password = kuryrpass
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne
endpoint_type = public
EOF
}
