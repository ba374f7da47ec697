#!/usr/bin/env bash
# Show each lab daemon with its pid, whether it is alive and its memory
# (PSS of all its processes), then whether the services respond.
# Exits 1 if any daemon or check is down.
set -euo pipefail

# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FAILURES=0
L2_MODE=$(recorded_l2_mode)
if [[ $L2_MODE == ovs ]]; then
  LAB_DAEMONS=("${LAB_DAEMONS_OVS[@]}")
else
  LAB_DAEMONS=("${LAB_DAEMONS_LINUXBRIDGE[@]}")
fi
declare -A GROUP_PSS_KB=()
declare -A GROUP_PROCESSES=()

agent_group() {
  if [[ $L2_MODE == ovs ]]; then
    printf ovs-agent
  else
    printf agent
  fi
}

# Print which daemon a process belongs to, from its command line.
process_group() {
  local cmdline=$1
  case $cmdline in
    *mariadbd*) printf mariadb ;;
    *beam.smp* | *epmd* | *erl_child_setup* | *inet_gethost* | *rabbit*) printf rabbitmq ;;
    *uwsgi*) printf keystone ;;
    *neutron-server*) printf neutron-server ;;
    *neutron-linuxbridge-agent*) printf agent ;;
    *neutron-openvswitch-agent*) printf ovs-agent ;;
    # Both agents start privsep helpers, and only one agent runs at a time.
    *privsep-helper*) agent_group ;;
    *ovsdb-server*) printf ovsdb-server ;;
    *ovs-vswitchd*) printf ovs-vswitchd ;;
    *dockerd* | *containerd*) printf dockerd ;;
    *relay.py*) printf relay ;;
    *) printf other ;;
  esac
}

# Sum the PSS of every process in lab-os, plus the relay, per daemon.
collect_memory() {
  local pid cmdline group pids=()
  if netns_exists "$LAB_NS"; then
    mapfile -t pids < <(ip netns pids "$LAB_NS" 2>/dev/null)
  fi
  if pid=$(daemon_pid relay); then
    pids+=("$pid")
  fi
  for pid in $(printf '%s\n' "${pids[@]}" | sort -un); do
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
    group=$(process_group "$cmdline")
    GROUP_PSS_KB[$group]=$((${GROUP_PSS_KB[$group]:-0} + $(pid_pss_kb "$pid")))
    GROUP_PROCESSES[$group]=$((${GROUP_PROCESSES[$group]:-0} + 1))
  done
}

mib() {
  awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'
}

print_daemons() {
  local name pid state total=0
  printf '%-16s %8s %-6s %6s %10s\n' DAEMON PID STATE PROCS 'PSS(MiB)'
  for name in "${LAB_DAEMONS[@]}"; do
    if pid=$(daemon_pid "$name"); then
      state=alive
    elif [[ $name == relay && -s $LAB_RUN/relay.skipped ]]; then
      pid=-
      state=skip
    else
      pid=-
      state=DOWN
      FAILURES=$((FAILURES + 1))
    fi
    printf '%-16s %8s %-6s %6s %10s\n' "$name" "$pid" "$state" \
      "${GROUP_PROCESSES[$name]:-0}" "$(mib "${GROUP_PSS_KB[$name]:-0}")"
    total=$((total + ${GROUP_PSS_KB[$name]:-0}))
  done
  if [[ -n ${GROUP_PROCESSES[other]:-} ]]; then
    printf '%-16s %8s %-6s %6s %10s\n' 'other (kuryr)' - - "${GROUP_PROCESSES[other]}" \
      "$(mib "${GROUP_PSS_KB[other]}")"
    total=$((total + GROUP_PSS_KB[other]))
  fi
  printf '%-16s %8s %-6s %6s %10s\n' total '' '' '' "$(mib "$total")"
}

report_check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    printf '%-46s ok\n' "$what"
  else
    printf '%-46s DOWN\n' "$what"
    FAILURES=$((FAILURES + 1))
  fi
}

keystone_responds() {
  in_ns curl -fsS -m 5 -o /dev/null http://127.0.0.1:5000/v3
}

neutron_get() {
  in_ns curl -fsS -m 5 -H "X-Auth-Token: $TOKEN" "http://127.0.0.1:9696/v2.0$1"
}

neutron_responds() {
  [[ -n $TOKEN ]] && neutron_get '/networks?limit=1' >/dev/null
}

agent_alive() {
  [[ -n $TOKEN ]] || return 1
  [[ $(neutron_get "/agents?binary=$(agent_binary "$L2_MODE")&host=$LAB_HOSTNAME" |
    jq -r '.agents[0].alive // false') == true ]]
}

dockerd_responds() {
  [[ $(curl -fsS -m 5 --unix-socket "$LAB_DOCKER_SOCKET" http://docker/_ping) == OK ]]
}

relay_responds() {
  curl -fsS -m 5 -o /dev/null "http://127.0.0.1:$1/"
}

print_checks() {
  local port
  TOKEN=""
  if netns_exists "$LAB_NS"; then
    TOKEN=$(admin_token 2>/dev/null || true)
  fi
  printf '\n'
  report_check "namespace $LAB_NS exists" netns_exists "$LAB_NS"
  report_check "Keystone responds (lab-os 127.0.0.1:5000)" keystone_responds
  report_check "Neutron responds (lab-os 127.0.0.1:9696)" neutron_responds
  report_check "$L2_MODE agent alive in GET /v2.0/agents" agent_alive
  report_check "dockerd responds ($LAB_DOCKER_SOCKET)" dockerd_responds
  for port in 5000 9696; do
    if grep -qx "$port" "$LAB_RUN/relay.skipped" 2>/dev/null; then
      printf '%-46s skipped (port in use)\n' "relay on host 127.0.0.1:$port"
    else
      report_check "relay on host 127.0.0.1:$port" relay_responds "$port"
    fi
  done
}

main() {
  collect_memory
  print_daemons
  print_checks
  if ((FAILURES > 0)); then
    printf '\n%d item(s) down\n' "$FAILURES"
    exit 1
  fi
  printf '\nall up\n'
}

main "$@"
