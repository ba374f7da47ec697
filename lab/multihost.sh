#!/usr/bin/env bash
# Two more Docker hosts for the multi-host tests, added to a running lab.
#
# Usage: lab/multihost.sh up|down|status
#
# Each host is a network namespace (lab-os-mh1, lab-os-mh2) with its own
# dockerd, linuxbridge agent and kuryr daemon, under the Neutron host names
# kuryr-mh1 and kuryr-mh2. A veth pair between the two namespaces carries
# their VXLAN traffic (10.254.253.0/24). Both dockerds keep their global
# networks in one etcd (v2 API) that runs in lab-os, and a relay in each host
# namespace forwards Keystone, Neutron, RabbitMQ and etcd on its 127.0.0.1
# to lab-os. The lab itself (lab-os and its daemons) is left as it is.
# `down` removes the hosts' containers and networks, their ports and agent
# records in Neutron, their processes and namespaces, and etcd's data.
set -euo pipefail

# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lab/packages.sh
source "$LAB_DIR/packages.sh"

MH_HOSTS=(mh1 mh2)
MH_STATE=$LAB_STATE/mh
MH_RUN=$LAB_RUN/mh
MH_ETCD_DATA=$MH_STATE/etcd
MH_ETCD_PORT=2379
MH_ETCD_PEER_PORT=2380
# The ports a host namespace reaches in lab-os: Keystone, Neutron, RabbitMQ
# and etcd.
MH_RELAY_PORTS=(5000 9696 5672 "$MH_ETCD_PORT")
MH_UNDERLAY_LINK=kuryr-mh-ul0
declare -A MH_UNDERLAY_IP=([mh1]=10.254.253.11 [mh2]=10.254.253.12)

LAB_DAEMON_CMDLINE[mh-etcd]=etcd
for mh_host in "${MH_HOSTS[@]}"; do
  LAB_DAEMON_CMDLINE[$mh_host-relay]=relay.py
  LAB_DAEMON_CMDLINE[$mh_host-dockerd]=dockerd
  LAB_DAEMON_CMDLINE[$mh_host-agent]=neutron-linuxbridge-agent
done
unset mh_host

mh_namespace() {
  printf '%s%s' "$LAB_TEST_NS_PREFIX" "$1"
}

# The Neutron host name of the agent and of the kuryr daemon on HOST.
mh_host_name() {
  printf 'kuryr-%s' "$1"
}

mh_docker_socket() {
  printf '%s/%s/docker.sock' "$MH_RUN" "$1"
}

mh_docker() {
  local host=$1
  shift
  DOCKER_HOST=unix://$(mh_docker_socket "$host") /usr/bin/docker "$@"
}

# ---------------------------------------------------------------- checks

main_lab_ready() {
  netns_exists "$LAB_NS" || die "the lab is not up: run lab/up.sh first"
  daemon_alive neutron-server || die "neutron-server of the lab is not running: run lab/up.sh first"
  [[ $(recorded_l2_mode) == linuxbridge ]] ||
    die "the lab runs in $(recorded_l2_mode) mode, and the two hosts need linuxbridge with VXLAN: run lab/up.sh without LAB_L2"
  [[ -f $LAB_BIN/lab-dockerd && -r $LAB_RUN/cgroup-mounts ]] || die "lab/up.sh has not written its files yet: run lab/up.sh first"
}

# etcd-server's postinst would start etcd in the host namespace unless
# policy-rc.d forbids it, as for the lab's other packages.
install_etcd() {
  local pid host_net_inode
  if [[ -z $(missing_packages etcd-server) ]]; then
    return 0
  fi
  log "installing etcd-server"
  ensure_policy_rc_denies
  if [[ -n $(packages_without_candidate etcd-server) ]]; then
    apt_update
  fi
  apt_install etcd-server
  restore_policy_rc
  host_net_inode=$(stat -L -c %i /proc/self/ns/net)
  for pid in $(pgrep -x etcd || true); do
    if [[ $(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) == "$host_net_inode" ]]; then
      die "an etcd (pid $pid) runs in the host network namespace; stop it before using the lab"
    fi
  done
}

# ---------------------------------------------------------------- namespaces

setup_namespaces() {
  local host namespace
  for host in "${MH_HOSTS[@]}"; do
    namespace=$(mh_namespace "$host")
    netns_exists "$namespace" || ip netns add "$namespace"
    ip -n "$namespace" link set lo up
  done
  if ! ip -n lab-os-mh1 link show "$MH_UNDERLAY_LINK" >/dev/null 2>&1; then
    ip -n lab-os-mh1 link add "$MH_UNDERLAY_LINK" type veth peer name "$MH_UNDERLAY_LINK" netns lab-os-mh2
  fi
  for host in "${MH_HOSTS[@]}"; do
    namespace=$(mh_namespace "$host")
    ip -n "$namespace" addr replace "${MH_UNDERLAY_IP[$host]}/24" dev "$MH_UNDERLAY_LINK"
    ip -n "$namespace" link set "$MH_UNDERLAY_LINK" up
  done
}

# ---------------------------------------------------------------- configuration

write_host_configs() {
  local host=$1 dir=$MH_STATE/$1
  mkdir -p "$dir/etc/neutron" "$dir/etc/kuryr" "$dir/etc/docker" "$dir/neutron/lock" "$dir/log" \
    "$MH_RUN/$host/plugins" "$MH_RUN/$host/docker-exec"
  cat >"$dir/etc/neutron/neutron.conf" <<EOF
[DEFAULT]
host = $(mh_host_name "$host")
transport_url = rabbit://guest:guest@127.0.0.1:5672/
state_path = $dir/neutron

[oslo_concurrency]
lock_path = $dir/neutron/lock

[experimental]
linuxbridge = true
EOF
  cat >"$dir/etc/neutron/linuxbridge_agent.ini" <<EOF
[linux_bridge]
physical_interface_mappings =

[vxlan]
enable_vxlan = true
local_ip = ${MH_UNDERLAY_IP[$host]}
l2_population = true

[securitygroup]
enable_security_group = true
firewall_driver = iptables

[agent]
polling_interval = 2
root_helper = env PATH=$LAB_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  cat >"$dir/etc/kuryr/kuryr.conf" <<EOF
[DEFAULT]
bindir = /usr/libexec/kuryr
capability_scope = global
host = $(mh_host_name "$host")
socket_path = $MH_RUN/$host/plugins/kuryr.sock
state_dir = $dir/kuryr

EOF
  kuryr_neutron_section >>"$dir/etc/kuryr/kuryr.conf"
}

# dockerd finds plugin sockets only in /run/docker/plugins and keeps its key
# in /etc/docker, both shared by every dockerd on the machine. `ip netns
# exec` gives each dockerd a private mount namespace, where this wrapper
# mounts the host's own directories over those two. dockerd also gets a UTS
# namespace with the host's name, because the members of its cluster need
# distinct names. Then the lab's wrapper starts dockerd.
write_dockerd_wrapper() {
  cat >"$LAB_BIN/lab-mh-dockerd" <<EOF
#!/bin/bash
# Written by kuryr-ts lab/multihost.sh. Usage: lab-mh-dockerd PLUGIN_DIR
# CONFIG_DIR HOST_NAME DOCKERD_ARGUMENTS...
set -euo pipefail
plugins=\$1
config=\$2
name=\$3
shift 3
mount --bind "\$plugins" /run/docker/plugins
mount --bind "\$config" /etc/docker
exec unshare --uts -- /bin/bash -c 'hostname "\$1" && shift && exec "\$@"' lab-mh-dockerd "\$name" \\
  $LAB_BIN/lab-dockerd "\$@"
EOF
  chmod 755 "$LAB_BIN/lab-mh-dockerd"
}

write_env_files() {
  local host
  for host in "${MH_HOSTS[@]}"; do
    printf 'export DOCKER_HOST=unix://%s\n' "$(mh_docker_socket "$host")" >"$MH_STATE/$host/env.sh"
  done
}

write_configs() {
  local host
  mkdir -p "$MH_STATE" "$MH_RUN" /run/docker/plugins /etc/docker
  for host in "${MH_HOSTS[@]}"; do
    write_host_configs "$host"
  done
  write_dockerd_wrapper
  write_env_files
}

# ---------------------------------------------------------------- daemons

etcd_responds() {
  in_ns curl -fsS -m 2 "http://127.0.0.1:$MH_ETCD_PORT/v2/keys/"
}

start_etcd() {
  mkdir -p "$MH_ETCD_DATA"
  start_in_ns mh-etcd /usr/bin/etcd --name kuryr-mh --data-dir "$MH_ETCD_DATA" \
    --listen-client-urls "http://127.0.0.1:$MH_ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$MH_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$MH_ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$MH_ETCD_PEER_PORT" \
    --initial-cluster "kuryr-mh=http://127.0.0.1:$MH_ETCD_PEER_PORT" \
    --enable-v2=true --log-level warn
}

# The relay binds 127.0.0.1 in the host namespace it is started in, then
# forwards each connection to the same port in lab-os.
start_relay() {
  local host=$1 target=$LAB_NS
  LAB_NS=$(mh_namespace "$host") start_in_ns "$host-relay" /usr/bin/python3 "$LAB_DIR/relay.py" \
    --netns "$target" "${MH_RELAY_PORTS[@]}"
}

start_dockerd() {
  local host=$1 exec_root=$MH_RUN/$1/docker-exec
  if ! daemon_alive "$host-dockerd"; then
    rm -f "$MH_RUN/$host/dockerd.pid" "$exec_root/containerd/containerd.pid"
  fi
  mkdir -p "$MH_STATE/$host/docker" "$exec_root"
  LAB_NS=$(mh_namespace "$host") start_in_ns "$host-dockerd" "$LAB_BIN/lab-mh-dockerd" \
    "$MH_RUN/$host/plugins" "$MH_STATE/$host/etc/docker" "$(mh_host_name "$host")" \
    --data-root "$MH_STATE/$host/docker" --exec-root "$exec_root" \
    --pidfile "$MH_RUN/$host/dockerd.pid" -H "unix://$(mh_docker_socket "$host")" \
    --iptables=false --ip6tables=false --dns 127.0.0.1 \
    --cluster-store "etcd://127.0.0.1:$MH_ETCD_PORT" \
    --cluster-advertise "${MH_UNDERLAY_IP[$host]}:2376"
}

start_agent() {
  local host=$1 dir=$MH_STATE/$1
  LAB_NS=$(mh_namespace "$host") start_in_ns "$host-agent" /usr/bin/neutron-linuxbridge-agent \
    --config-file "$dir/etc/neutron/neutron.conf" \
    --config-file "$dir/etc/neutron/linuxbridge_agent.ini" \
    --log-file "$dir/log/linuxbridge-agent.log"
}

kuryr_command() {
  local host=$1
  shift
  LAB_NS=$(mh_namespace "$host") LAB_STATE_DIR=$MH_STATE/$host LAB_RUN_DIR=$MH_RUN/$host \
    KURYR_SOCKET=$MH_RUN/$host/plugins/kuryr.sock bash "$LAB_DIR/kuryr.sh" "$@" 9>&-
}

# ---------------------------------------------------------------- readiness

KS_TOKEN=""

neutron_request() {
  local method=$1 path=$2
  shift 2
  in_ns curl -fsS -m 20 -X "$method" -H "X-Auth-Token: $KS_TOKEN" \
    -H 'Content-Type: application/json' "http://127.0.0.1:9696/v2.0$path" "$@"
}

agent_alive() {
  [[ $(neutron_request GET "/agents?binary=neutron-linuxbridge-agent&host=$(mh_host_name "$1")" |
    jq -r '.agents[0].alive // false') == true ]]
}

dockerd_responds() {
  [[ $(curl -fsS -m 5 --unix-socket "$(mh_docker_socket "$1")" http://docker/_ping 2>/dev/null) == OK ]]
}

# Imports busybox:latest, built from Debian's busybox-static as lab/up.sh
# builds it, because the lab has no registry access.
import_busybox_image() {
  local host=$1
  if mh_docker "$host" image inspect busybox:latest >/dev/null 2>&1; then
    return 0
  fi
  busybox_rootfs_tar | mh_docker "$host" import -c 'CMD ["sh"]' - busybox:latest >/dev/null
  log "imported busybox:latest into $host"
}

wait_host_ready() {
  local host=$1
  wait_until "$host dockerd" 60 dockerd_responds "$host" ||
    die "the dockerd of $host did not respond within 60 s; see $LAB_LOG/$host-dockerd.out"
  import_busybox_image "$host"
  wait_until "$host agent alive" 90 agent_alive "$host" ||
    die "the agent of $host is not alive after 90 s; see $MH_STATE/$host/log/linuxbridge-agent.log"
}

# ---------------------------------------------------------------- up

up() {
  local started host
  started=$(now)
  main_lab_ready
  install_etcd
  setup_namespaces
  write_configs
  start_etcd
  for host in "${MH_HOSTS[@]}"; do
    start_relay "$host"
    start_agent "$host"
  done
  wait_until "etcd" 30 etcd_responds || die "etcd did not respond within 30 s; see $LAB_LOG/mh-etcd.out"
  for host in "${MH_HOSTS[@]}"; do
    start_dockerd "$host"
  done
  KS_TOKEN=$(admin_token)
  [[ -n $KS_TOKEN ]] || die "Keystone issued no admin token; see $LAB_LOG/keystone.log"
  for host in "${MH_HOSTS[@]}"; do
    wait_host_ready "$host"
    kuryr_command "$host" start || die "the kuryr daemon of $host did not start; see $MH_STATE/$host/log/kuryr.log"
  done
  log "two hosts up after $(elapsed_since "$started")s; DOCKER_HOST for each: $MH_STATE/mh1/env.sh, $MH_STATE/mh2/env.sh"
}

# ---------------------------------------------------------------- down

# Removes every container and kuryr network of the hosts while their kuryr
# daemons still run, so that the daemons delete the Neutron resources.
# Global networks are shared, so each is removed once.
remove_docker_resources() {
  local host ids
  for host in "${MH_HOSTS[@]}"; do
    dockerd_responds "$host" || continue
    mapfile -t ids < <(mh_docker "$host" ps -aq)
    if ((${#ids[@]} > 0)); then
      mh_docker "$host" rm -f "${ids[@]}" >/dev/null || log "WARNING: could not remove the containers of $host"
    fi
  done
  for host in "${MH_HOSTS[@]}"; do
    dockerd_responds "$host" || continue
    mapfile -t ids < <(mh_docker "$host" network ls -q --no-trunc --filter driver=kuryr)
    if ((${#ids[@]} > 0)); then
      mh_docker "$host" network rm "${ids[@]}" >/dev/null || log "WARNING: could not remove the kuryr networks of $host"
    fi
  done
}

# Deletes what a killed daemon left in Neutron: the ports bound to the two
# hosts and the agent records.
delete_neutron_leftovers() {
  local host id
  KS_TOKEN=$(admin_token 2>/dev/null || true)
  if [[ -z $KS_TOKEN ]]; then
    log "WARNING: Keystone issued no token; the hosts' Neutron ports and agents are not checked"
    return 0
  fi
  for host in "${MH_HOSTS[@]}"; do
    for id in $(neutron_request GET "/ports?binding:host_id=$(mh_host_name "$host")&fields=id" | jq -r '.ports[].id'); do
      neutron_request DELETE "/ports/$id" -o /dev/null && log "deleted leftover port $id of $host"
    done
    for id in $(neutron_request GET "/agents?host=$(mh_host_name "$host")&fields=id" | jq -r '.agents[].id'); do
      neutron_request DELETE "/agents/$id" -o /dev/null
    done
  done
}

down() {
  local started host namespace
  started=$(now)
  remove_docker_resources
  for host in "${MH_HOSTS[@]}"; do
    kuryr_command "$host" stop || true
  done

  for host in "${MH_HOSTS[@]}"; do
    stop_daemon "$host-dockerd" 45 &
    stop_daemon "$host-agent" 20 &
  done
  wait

  if netns_exists "$LAB_NS" && daemon_alive neutron-server; then
    delete_neutron_leftovers
  fi

  for host in "${MH_HOSTS[@]}"; do
    stop_daemon "$host-relay" 5
    namespace=$(mh_namespace "$host")
    if netns_exists "$namespace"; then
      sweep_namespace "$namespace"
      ip netns del "$namespace"
    fi
  done

  stop_daemon mh-etcd 10
  # The global networks in etcd belong to the removed hosts. Without the
  # hosts' runtime directory, lab/down.sh skips this script.
  rm -rf "$MH_ETCD_DATA"
  if [[ -n $(findmnt -rn -o TARGET | grep -E "^$MH_RUN(/|$)" || true) ]]; then
    log "WARNING: something is still mounted under $MH_RUN; it is kept"
  else
    rm -rf "$MH_RUN"
  fi
  log "two hosts down after $(elapsed_since "$started")s"
}

# ---------------------------------------------------------------- status

status() {
  local name host failures=0
  for name in mh-etcd mh1-relay mh1-dockerd mh1-agent mh2-relay mh2-dockerd mh2-agent; do
    if daemon_alive "$name"; then
      printf '%-14s %8s alive\n' "$name" "$(daemon_pid "$name")"
    else
      printf '%-14s %8s DOWN\n' "$name" -
      failures=$((failures + 1))
    fi
  done
  for host in "${MH_HOSTS[@]}"; do
    if kuryr_command "$host" status 2>/dev/null; then
      printf '%-14s %8s alive\n' "$host-kuryr" "$(cat "$MH_RUN/$host/kuryr.pid")"
    else
      printf '%-14s %8s DOWN\n' "$host-kuryr" -
      failures=$((failures + 1))
    fi
  done
  ((failures == 0)) || exit 1
}

main() {
  case ${1:-} in
    up | down)
      # lab/down.sh holds the lab lock already when it calls `down`.
      if [[ ${LAB_LOCK_HELD:-0} != 1 ]]; then
        acquire_lab_lock
      fi
      "$1"
      ;;
    status) status ;;
    *) die "usage: lab/multihost.sh up|down|status" ;;
  esac
}

main "$@"
