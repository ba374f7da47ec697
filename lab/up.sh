#!/usr/bin/env bash
# Bring up the Kuryr lab: MariaDB, RabbitMQ, Keystone, neutron-server, the
# linuxbridge agent and dockerd, all inside the network namespace lab-os,
# plus a relay that exposes Keystone and Neutron on the host's 127.0.0.1.
# With LAB_L2=ovs, Open vSwitch and the OVS agent replace the linuxbridge
# agent. Idempotent: running daemons are kept, missing ones are (re)started,
# and a lab that is up in the other L2 mode is switched over.
set -euo pipefail

# shellcheck source=lab/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lab/packages.sh
source "$LAB_DIR/packages.sh"
# shellcheck source=lab/configs.sh
source "$LAB_DIR/configs.sh"
# shellcheck source=lab/ovs.sh
source "$LAB_DIR/ovs.sh"

UP_START=$(now)

# ---------------------------------------------------------------- timing

STEP_REPORT=()

# Run FUNCTION as a named step and record its wall time.
step() {
  local name=$1 started
  shift
  started=$(now)
  log "step $name"
  "$@"
  STEP_REPORT+=("$(printf '  %-20s %6ss' "$name" "$(elapsed_since "$started")")")
}

print_timings() {
  printf 'lab up: step timings\n'
  printf '%s\n' "${STEP_REPORT[@]}"
  printf '  %-20s %6ss\n' total "$(elapsed_since "$UP_START")"
}

# ---------------------------------------------------------------- namespace

# Create a veth pair that exists only inside lab-os.
ensure_ns_veth() {
  local near=$1 far=$2
  if ! ip -n "$LAB_NS" link show "$near" >/dev/null 2>&1; then
    ip -n "$LAB_NS" link add "$near" type veth peer name "$far"
  fi
  ip -n "$LAB_NS" link set "$near" up
  ip -n "$LAB_NS" link set "$far" up
}

# The agent needs an interface with a MAC address to derive its unique id
# (with only lo it exits "Unable to obtain MAC address"), a VXLAN local_ip
# and a physnet1 interface. Both veth pairs live only inside lab-os.
setup_namespace() {
  netns_exists "$LAB_NS" || ip netns add "$LAB_NS"
  ip -n "$LAB_NS" link set lo up
  ensure_ns_veth kuryr-lab-ul0 kuryr-lab-ul1
  ip -n "$LAB_NS" addr replace "$LAB_UNDERLAY_IP/24" dev kuryr-lab-ul0
  ensure_ns_veth kuryr-lab-phy0 kuryr-lab-phy1
}

# ---------------------------------------------------------------- base daemons

start_mariadb() {
  mkdir -p "$LAB_STATE/mysql" "$(dirname "$LAB_MYSQL_SOCKET")"
  if [[ ! -d $LAB_STATE/mysql/mysql ]]; then
    log "initialising the MariaDB datadir"
    mariadb-install-db --no-defaults --datadir="$LAB_STATE/mysql" --user=root \
      >>"$LAB_LOG/mariadb-install.log" 2>&1
  fi
  start_in_ns mariadb /usr/sbin/mariadbd --no-defaults --user=root \
    --datadir="$LAB_STATE/mysql" --socket="$LAB_MYSQL_SOCKET" \
    --pid-file="$LAB_STATE/run/mysqld/mariadbd.pid" \
    --bind-address=127.0.0.1 --port=3306 --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=64M --performance-schema=OFF \
    --log-error="$LAB_LOG/mariadb.log"
}

start_rabbitmq() {
  start_in_ns rabbitmq /bin/bash -c \
    "source '$LAB_ETC/rabbitmq/env.sh' && exec /usr/lib/rabbitmq/bin/rabbitmq-server"
}

# A dockerd that was killed can leave its containerd running, and pid files
# whose numbers a new process may reuse. Everything in lab-os is ours.
clear_stale_docker_state() {
  local pid comm
  for pid in $(ip netns pids "$LAB_NS" 2>/dev/null); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    if [[ $comm == containerd || $comm == containerd-shim* ]]; then
      log "stopping leftover $comm (pid $pid) of a dead dockerd"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$LAB_RUN/dockerd.pid" "$LAB_RUN/docker-exec/containerd/containerd.pid"
}

start_dockerd() {
  if ! daemon_alive dockerd; then
    clear_stale_docker_state
  fi
  mkdir -p "$LAB_STATE/docker" "$LAB_RUN/docker-exec"
  start_in_ns dockerd "$LAB_BIN/lab-dockerd" \
    --data-root "$LAB_STATE/docker" --exec-root "$LAB_RUN/docker-exec" \
    --pidfile "$LAB_RUN/dockerd.pid" -H "$LAB_DOCKER_HOST" \
    --iptables=false --ip6tables=false --dns 127.0.0.1
}

host_port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1" 2>/dev/null) ]]
}

# The relay must bind in the host namespace and enters lab-os by itself, so
# it is not started through start_in_ns.
start_relay() {
  local port ports=()
  if daemon_alive relay; then
    log "relay already running (pid $(daemon_pid relay))"
    return 0
  fi
  rm -f "$LAB_RUN/relay.skipped"
  for port in 5000 9696; do
    if host_port_in_use "$port"; then
      log "WARNING: host port 127.0.0.1:$port is already in use; the relay skips it"
      printf '%s\n' "$port" >>"$LAB_RUN/relay.skipped"
    else
      ports+=("$port")
    fi
  done
  if ((${#ports[@]} == 0)); then
    log "WARNING: no relay port is free; the APIs are reachable only inside $LAB_NS"
    return 0
  fi
  setsid /usr/bin/python3 "$LAB_DIR/relay.py" --netns "$LAB_NS" "${ports[@]}" \
    </dev/null >>"$LAB_LOG/relay.out" 2>&1 9>&- &
  printf '%s\n' "$!" >"$(pid_file relay)"
  log "relay started (pid $!) for ports ${ports[*]}"
}

start_base_daemons() {
  start_mariadb
  start_rabbitmq
  start_dockerd
  start_relay
}

# ---------------------------------------------------------------- databases

mariadb_responds() {
  mariadb --no-defaults -S "$LAB_MYSQL_SOCKET" -u root -e 'SELECT 1'
}

create_databases() {
  wait_until "MariaDB" 60 mariadb_responds || die "MariaDB did not respond within 60 s; see $LAB_LOG/mariadb.log"
  mariadb --no-defaults -S "$LAB_MYSQL_SOCKET" -u root <<'EOF'
CREATE DATABASE IF NOT EXISTS keystone CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS neutron CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'kuryr-lab'@'localhost' IDENTIFIED BY 'kuryr-lab';
GRANT ALL PRIVILEGES ON keystone.* TO 'kuryr-lab'@'localhost';
GRANT ALL PRIVILEGES ON neutron.* TO 'kuryr-lab'@'localhost';
EOF
}

package_version() {
  dpkg-query -W -f='${Version}' "$1"
}

# A stamp stores the package version that the last successful migration ran
# with, so warm starts skip the slow Python runs until a package upgrade.
stamp_current() {
  [[ -r $LAB_STATE/stamps/$1 && $(<"$LAB_STATE/stamps/$1") == "$2" ]]
}

write_stamp() {
  mkdir -p "$LAB_STATE/stamps"
  printf '%s' "$2" >"$LAB_STATE/stamps/$1"
}

# Every keystone-manage run ends with an "Exception ignored ... getcurrent"
# message from eventlet at exit, but the exit code is still 0.
keystone_manage() {
  in_ns /usr/bin/keystone-manage --config-file "$LAB_ETC/keystone/keystone.conf" "$@"
}

bootstrap_keystone() {
  local version sync_pid
  version=$(package_version keystone)
  if stamp_current keystone-db "$version"; then
    log "keystone database already bootstrapped"
    return 0
  fi
  keystone_manage db_sync &
  sync_pid=$!
  keystone_manage fernet_setup --keystone-user root --keystone-group root
  keystone_manage credential_setup --keystone-user root --keystone-group root
  wait "$sync_pid"
  keystone_manage bootstrap --bootstrap-password "$LAB_ADMIN_PASSWORD" \
    --bootstrap-username admin --bootstrap-project-name admin \
    --bootstrap-role-name admin --bootstrap-region-id RegionOne \
    --bootstrap-admin-url http://127.0.0.1:5000/v3 \
    --bootstrap-public-url http://127.0.0.1:5000/v3 \
    --bootstrap-internal-url http://127.0.0.1:5000/v3
  write_stamp keystone-db "$version"
}

migrate_neutron() {
  local version
  version=$(package_version neutron-common)
  if stamp_current neutron-db "$version"; then
    log "neutron database already migrated"
    return 0
  fi
  in_ns /usr/bin/neutron-db-manage --config-file "$LAB_ETC/neutron/neutron.conf" \
    --config-file "$LAB_ETC/neutron/ml2_conf.ini" upgrade heads
  write_stamp neutron-db "$version"
}

# Keystone's and Neutron's migrations are independent Python runs of several
# seconds each, so they run side by side.
run_migrations() {
  local keystone_pid neutron_pid failed=0
  bootstrap_keystone >>"$LAB_LOG/keystone-bootstrap.log" 2>&1 &
  keystone_pid=$!
  migrate_neutron >>"$LAB_LOG/neutron-db-manage.log" 2>&1 &
  neutron_pid=$!
  if ! wait "$keystone_pid"; then
    log "keystone bootstrap failed; see $LAB_LOG/keystone-bootstrap.log"
    failed=1
  fi
  if ! wait "$neutron_pid"; then
    log "neutron-db-manage failed; see $LAB_LOG/neutron-db-manage.log"
    failed=1
  fi
  ((failed == 0)) || exit 1
}

# ---------------------------------------------------------------- OpenStack daemons

# The L2 mode that the lab ran in before this run, from the mode file.
PREVIOUS_L2=""

start_openstack_daemons() {
  start_in_ns keystone /usr/bin/uwsgi --ini "$LAB_ETC/keystone/uwsgi.ini"
  # neutron-server reads ml2_conf.ini only at start, so a mode switch
  # restarts it with the configuration written for the new mode.
  if [[ $PREVIOUS_L2 != "$LAB_L2" ]] && daemon_alive neutron-server; then
    log "switching the L2 mode from $PREVIOUS_L2 to $LAB_L2; restarting neutron-server"
    stop_daemon neutron-server 30
  fi
  start_in_ns neutron-server /usr/bin/neutron-server \
    --config-file "$LAB_ETC/neutron/neutron.conf" \
    --config-file "$LAB_ETC/neutron/ml2_conf.ini" \
    --log-file "$LAB_LOG/neutron-server.log"
  # From here on neutron-server runs with this mode's configuration, so a
  # later failure and re-run does not restart it again.
  printf '%s\n' "$LAB_L2" >"$LAB_L2_MODE_FILE"
  wait_until "RabbitMQ port 5672" 90 tcp_port_open_in_ns 5672 ||
    die "RabbitMQ did not open port 5672 within 90 s; see $LAB_LOG/rabbitmq.out and $LAB_LOG/rabbitmq/"
  case $LAB_L2 in
    linuxbridge) start_linuxbridge_agent ;;
    ovs) start_openvswitch_agent ;;
  esac
}

# Stops the OVS agent and OVS first, in case the lab ran in OVS mode.
start_linuxbridge_agent() {
  stop_daemon ovs-agent "$LAB_OVS_AGENT_STOP_TIMEOUT"
  stop_ovs_daemons
  if ! daemon_alive agent; then
    AGENT_START_UTC=$(date -u '+%F %T')
  fi
  start_in_ns agent /usr/bin/neutron-linuxbridge-agent \
    --config-file "$LAB_ETC/neutron/neutron.conf" \
    --config-file "$LAB_ETC/neutron/linuxbridge_agent.ini" \
    --log-file "$LAB_LOG/linuxbridge-agent.log"
}

# Stops the linuxbridge agent first, in case the lab ran in linuxbridge
# mode, and restarts a running OVS agent whose firewall driver differs.
# Without OVS_RUNDIR the agent's ovs-ofctl calls fail with "br-int is not a
# bridge or a socket".
start_openvswitch_agent() {
  local firewall_file=$LAB_RUN/ovs-firewall
  stop_daemon agent 20
  start_ovs_daemons
  if daemon_alive ovs-agent && [[ $(cat "$firewall_file" 2>/dev/null) != "$LAB_OVS_FIREWALL" ]]; then
    log "the OVS agent's firewall driver changes to $LAB_OVS_FIREWALL; restarting the agent"
    stop_daemon ovs-agent "$LAB_OVS_AGENT_STOP_TIMEOUT"
  fi
  printf '%s\n' "$LAB_OVS_FIREWALL" >"$firewall_file"
  if ! daemon_alive ovs-agent; then
    AGENT_START_UTC=$(date -u '+%F %T')
  fi
  start_in_ns ovs-agent env OVS_RUNDIR="$LAB_OVS_RUNDIR" /usr/bin/neutron-openvswitch-agent \
    --config-file "$LAB_ETC/neutron/neutron.conf" \
    --config-file "$LAB_ETC/neutron/openvswitch_agent.ini" \
    --log-file "$LAB_LOG/openvswitch-agent.log"
}

# ---------------------------------------------------------------- Keystone resources

KS_TOKEN=""

keystone_responds() {
  in_ns curl -fsS -o /dev/null http://127.0.0.1:5000/v3
}

ks_request() {
  local method=$1 path=$2
  shift 2
  in_ns curl -fsS -X "$method" -H "X-Auth-Token: $KS_TOKEN" \
    -H 'Content-Type: application/json' "http://127.0.0.1:5000/v3$path" "$@"
}

# Print the id of the first item of COLLECTION that matches QUERY, or nothing.
ks_find_id() {
  local collection=$1 query=$2
  ks_request GET "/$collection?$query" | jq -r ".${collection}[0].id // empty"
}

ensure_project() {
  local name=$1 id
  id=$(ks_find_id projects "name=$name&domain_id=default")
  if [[ -z $id ]]; then
    id=$(ks_request POST /projects -d "{\"project\": {\"name\": \"$name\", \"domain_id\": \"default\"}}" |
      jq -r .project.id)
    log "created project $name"
  fi
  printf '%s' "$id"
}

ensure_user() {
  local name=$1 password=$2 project_id=$3 id
  id=$(ks_find_id users "name=$name&domain_id=default")
  if [[ -z $id ]]; then
    id=$(ks_request POST /users -d "{\"user\": {\"name\": \"$name\", \"domain_id\": \"default\",
      \"password\": \"$password\", \"default_project_id\": \"$project_id\"}}" | jq -r .user.id)
    log "created user $name"
  fi
  printf '%s' "$id"
}

# Keystone's PUT of a role assignment is idempotent, so it needs no lookup.
grant_role() {
  local project_id=$1 user_id=$2 role_name=$3 role_id
  role_id=$(ks_find_id roles "name=$role_name")
  [[ -n $role_id ]] || die "Keystone role $role_name not found"
  ks_request PUT "/projects/$project_id/users/$user_id/roles/$role_id" -o /dev/null
}

ensure_network_endpoints() {
  local service_id interface url=http://127.0.0.1:9696
  service_id=$(ks_find_id services "type=network")
  if [[ -z $service_id ]]; then
    service_id=$(ks_request POST /services -d \
      '{"service": {"name": "neutron", "type": "network", "description": "OpenStack Networking"}}' |
      jq -r .service.id)
    log "created service network"
  fi
  for interface in public internal admin; do
    if [[ -z $(ks_find_id endpoints "service_id=$service_id&interface=$interface&region_id=RegionOne") ]]; then
      ks_request POST /endpoints -o /dev/null -d "{\"endpoint\": {\"service_id\": \"$service_id\",
        \"interface\": \"$interface\", \"url\": \"$url\", \"region_id\": \"RegionOne\"}}"
      log "created $interface endpoint $url"
    fi
  done
}

setup_keystone_resources() {
  local service_id demo_id user_id
  wait_until "Keystone API" 60 keystone_responds || die "Keystone did not respond within 60 s; see $LAB_LOG/keystone.out"
  KS_TOKEN=$(admin_token)
  [[ -n $KS_TOKEN ]] || die "Keystone issued no admin token; see $LAB_LOG/keystone.log"

  service_id=$(ensure_project service)
  demo_id=$(ensure_project demo)

  user_id=$(ensure_user neutron neutronpass "$service_id")
  grant_role "$service_id" "$user_id" admin
  # binding:host_id is admin-only, so Kuryr's service user needs admin.
  user_id=$(ensure_user kuryr kuryrpass "$service_id")
  grant_role "$service_id" "$user_id" admin
  user_id=$(ensure_user demo demopass "$demo_id")
  grant_role "$demo_id" "$user_id" member

  ensure_network_endpoints
}

# ---------------------------------------------------------------- Neutron resources

neutron_request() {
  local method=$1 path=$2
  shift 2
  in_ns curl -fsS -X "$method" -H "X-Auth-Token: $KS_TOKEN" \
    -H 'Content-Type: application/json' "http://127.0.0.1:9696/v2.0$path" "$@"
}

neutron_responds() {
  neutron_request GET '/networks?limit=1' -o /dev/null
}

# A killed agent still counts as alive until its last heartbeat is older
# than agent_down_time (75 s), so a restarted agent must also have reported
# a started_at after its start.
AGENT_START_UTC=""

agent_alive() {
  local started_at
  started_at=$(neutron_request GET "/agents?binary=$(agent_binary "$LAB_L2")&host=$LAB_HOSTNAME" |
    jq -r '.agents[0] | select(.alive == true) | .started_at // empty')
  [[ -n $started_at && ! $started_at < $AGENT_START_UTC ]]
}

wait_neutron_and_agent() {
  local agent_log=$LAB_LOG/linuxbridge-agent.log
  if [[ $LAB_L2 == ovs ]]; then
    agent_log=$LAB_LOG/openvswitch-agent.log
  fi
  wait_until "Neutron API" 90 neutron_responds ||
    die "Neutron did not respond within 90 s; see $LAB_LOG/neutron-server.log"
  # After a neutron-server restart, the OVS agent's first RPC call
  # (has_alive_neutron_server) once got no reply. The agent retries after
  # its 60 s RPC timeout, so this waits longer than that.
  wait_until "$LAB_L2 agent alive" 120 agent_alive ||
    die "the $LAB_L2 agent is not alive after 120 s; see $agent_log"
  remove_other_agent_records
}

# After a mode switch, the stopped agent's record would stay in GET
# /v2.0/agents, alive for up to 75 s and then dead for good.
remove_other_agent_records() {
  local other=linuxbridge id
  if [[ $LAB_L2 == linuxbridge ]]; then
    other=ovs
  fi
  for id in $(neutron_request GET "/agents?binary=$(agent_binary "$other")&host=$LAB_HOSTNAME" | jq -r '.agents[].id'); do
    neutron_request DELETE "/agents/$id" -o /dev/null
    log "deleted the record of the stopped $(agent_binary "$other") ($id)"
  done
}

ensure_subnetpool() {
  local name=$1 prefix=$2 prefixlen=$3
  if [[ -n $(neutron_request GET "/subnetpools?name=$name" | jq -r '.subnetpools[0].id // empty') ]]; then
    return 0
  fi
  neutron_request POST /subnetpools -o /dev/null -d "{\"subnetpool\": {\"name\": \"$name\",
    \"prefixes\": [\"$prefix\"], \"default_prefixlen\": $prefixlen,
    \"shared\": true, \"is_default\": true}}"
  log "created subnet pool $name ($prefix, default /$prefixlen)"
}

# The admin token is scoped to the admin project, so the pools belong to it.
setup_subnetpools() {
  ensure_subnetpool kuryr 10.10.0.0/16 24
  ensure_subnetpool kuryr6 fd10:10::/48 64
}

# ---------------------------------------------------------------- Docker image

dockerd_responds() {
  DOCKER_HOST=$LAB_DOCKER_HOST /usr/bin/docker version
}

# busybox:latest is built from Debian's busybox-static because the lab has
# no registry access.
import_busybox_image() {
  wait_until "dockerd" 60 dockerd_responds || die "dockerd did not respond within 60 s; see $LAB_LOG/dockerd.out"
  if DOCKER_HOST=$LAB_DOCKER_HOST /usr/bin/docker image inspect busybox:latest >/dev/null 2>&1; then
    log "image busybox:latest already present"
    return 0
  fi
  busybox_rootfs_tar | DOCKER_HOST=$LAB_DOCKER_HOST /usr/bin/docker import -c 'CMD ["sh"]' - busybox:latest >/dev/null
  log "imported busybox:latest"
}

# ---------------------------------------------------------------- Kuryr

KURYR_FAILED=0

# Succeed if a Kuryr daemon runs without the lab's OVS_RUNDIR.
kuryr_lacks_ovs_rundir() {
  local pid
  pid=$(cat "$LAB_RUN/kuryr.pid" 2>/dev/null) || return 1
  pid_matches "$pid" "dist/cli/main.js serve" || return 1
  ! tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "OVS_RUNDIR=$LAB_OVS_RUNDIR"
}

# A failure here is reported after the timings, because everything else is
# up and usable by then.
start_kuryr() {
  if [[ ! -f $LAB_DIR/kuryr.sh ]]; then
    log "lab/kuryr.sh not found; the Kuryr plugin is not started"
    return 0
  fi
  if [[ ${LAB_KURYR:-1} == 0 ]]; then
    log "LAB_KURYR=0; the Kuryr plugin is not started"
    return 0
  fi
  # kuryr.sh gives the daemon OVS_RUNDIR, which a daemon started by an
  # older kuryr.sh lacks. In OVS mode such a daemon is restarted.
  local action=start
  if [[ $LAB_L2 == ovs ]] && kuryr_lacks_ovs_rundir; then
    action=restart
  fi
  if ! bash "$LAB_DIR/kuryr.sh" "$action" 9>&-; then
    KURYR_FAILED=1
  fi
}

# ---------------------------------------------------------------- main

main() {
  check_l2_mode
  acquire_lab_lock
  PREVIOUS_L2=$(recorded_l2_mode)
  log "L2 mode $LAB_L2 (LAB_L2); the lab last ran in $PREVIOUS_L2 mode"
  step packages install_packages
  step namespace setup_namespace
  step config-files write_configs
  step base-daemons start_base_daemons
  step databases create_databases
  step migrations run_migrations
  step openstack-daemons start_openstack_daemons
  step keystone-resources setup_keystone_resources
  step neutron-and-agent wait_neutron_and_agent
  step subnet-pools setup_subnetpools
  step docker-image import_busybox_image
  step kuryr start_kuryr
  print_timings
  if ((KURYR_FAILED == 1)); then
    die "OpenStack and dockerd are up, but lab/kuryr.sh start failed; see $LAB_LOG/kuryr.log"
  fi
  log "lab is up; source $LAB_STATE/env.sh to use it"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
