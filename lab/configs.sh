# shellcheck shell=bash
# Configuration files for lab/up.sh: every daemon's configuration under
# /var/lib/kuryr-lab/etc, the ebtables shim, the dockerd wrapper, kuryr.conf
# and env.sh. Sourced by lab/up.sh after lab/lib.sh.

mysql_url() {
  printf 'mysql+pymysql://kuryr-lab:kuryr-lab@localhost/%s?unix_socket=%s&charset=utf8mb4' \
    "$1" "$LAB_MYSQL_SOCKET"
}

write_keystone_config() {
  mkdir -p "$LAB_ETC/keystone" "$LAB_STATE/keystone"
  cat >"$LAB_ETC/keystone/keystone.conf" <<EOF
[DEFAULT]
log_file = $LAB_LOG/keystone.log

[database]
connection = $(mysql_url keystone)

[token]
provider = fernet

[fernet_tokens]
key_repository = $LAB_STATE/keystone/fernet-keys

[fernet_receipts]
key_repository = $LAB_STATE/keystone/fernet-keys

[credential]
key_repository = $LAB_STATE/keystone/credential-keys
EOF
  # keystone-wsgi-public takes no --config-file option; it reads
  # OS_KEYSTONE_CONFIG_FILES from the environment, which env= sets.
  cat >"$LAB_ETC/keystone/uwsgi.ini" <<EOF
[uwsgi]
plugins = python3
http-socket = 127.0.0.1:5000
wsgi-file = /usr/bin/keystone-wsgi-public
env = OS_KEYSTONE_CONFIG_FILES=$LAB_ETC/keystone/keystone.conf
master = true
processes = 1
threads = 4
# Without die-on-term, uWSGI treats SIGTERM as a reload.
die-on-term = true
buffer-size = 65535
EOF
}

write_neutron_config() {
  mkdir -p "$LAB_ETC/neutron" "$LAB_STATE/neutron/lock"
  cat >"$LAB_ETC/neutron/neutron.conf" <<EOF
[DEFAULT]
core_plugin = ml2
service_plugins = router,qos,trunk
auth_strategy = keystone
api_paste_config = /etc/neutron/api-paste.ini
bind_host = 127.0.0.1
bind_port = 9696
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 0
# With the default of 60 s, a SIGTERM took about 20 s to finish.
graceful_shutdown_timeout = 5
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
transport_url = rabbit://guest:guest@127.0.0.1:5672/
host = $LAB_HOSTNAME
state_path = $LAB_STATE/neutron

[database]
connection = $(mysql_url neutron)

[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000
auth_url = http://127.0.0.1:5000
auth_type = password
username = neutron
password = neutronpass
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = RegionOne

[oslo_concurrency]
lock_path = $LAB_STATE/neutron/lock

[experimental]
# Neutron Zed marks linuxbridge experimental and refuses to start without this.
linuxbridge = true
EOF
  # In OVS mode only the openvswitch driver is loaded: a stopped linuxbridge
  # agent counts as alive for up to 75 s (agent_down_time), and the
  # linuxbridge driver would bind ports to it meanwhile. Tenant networks are
  # local there, because VXLAN in OVS's userspace datapath needs a br-phy
  # bridge that carries the tunnel endpoint address.
  local tenant_network_types=vxlan mechanism_drivers=linuxbridge,l2population
  if [[ $LAB_L2 == ovs ]]; then
    tenant_network_types=local
    mechanism_drivers=openvswitch
  fi
  cat >"$LAB_ETC/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = local,flat,vxlan
tenant_network_types = $tenant_network_types
mechanism_drivers = $mechanism_drivers
extension_drivers = port_security,qos

[ml2_type_flat]
flat_networks = physnet1

[ml2_type_vxlan]
vni_ranges = 1001:2000

[securitygroup]
enable_ipset = true
EOF
  # The agent's qos extension stays off by default: this kernel lacks
  # act_police, so an egress bandwidth rule makes the agent loop on the port.
  local agent_extensions=""
  if [[ ${LAB_AGENT_QOS:-0} == 1 ]]; then
    agent_extensions=qos
  fi
  cat >"$LAB_ETC/neutron/linuxbridge_agent.ini" <<EOF
[linux_bridge]
physical_interface_mappings = physnet1:kuryr-lab-phy0

[vxlan]
enable_vxlan = true
local_ip = $LAB_UNDERLAY_IP
l2_population = true

[securitygroup]
enable_security_group = true
firewall_driver = iptables

[agent]
polling_interval = 2
extensions = $agent_extensions
# We run as root, so no sudo or rootwrap is needed. The env PATH puts the
# ebtables shim first for the agent's commands and its privsep daemon.
root_helper = env PATH=$LAB_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
  write_openvswitch_agent_config "$agent_extensions"
}

# The OVS agent uses the userspace (netdev) datapath because the kernel has
# no openvswitch module, and no tunnels (tenant networks are local). With
# LAB_OVS_FIREWALL=iptables_hybrid, Neutron requests the hybrid plug.
write_openvswitch_agent_config() {
  cat >"$LAB_ETC/neutron/openvswitch_agent.ini" <<EOF
[ovs]
integration_bridge = br-int
datapath_type = netdev
ovsdb_connection = tcp:127.0.0.1:6640
of_listen_address = 127.0.0.1

[agent]
tunnel_types =
polling_interval = 2
extensions = $1
root_helper = env PATH=$LAB_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

[securitygroup]
enable_security_group = true
firewall_driver = $LAB_OVS_FIREWALL
EOF
}

write_rabbitmq_config() {
  mkdir -p "$LAB_ETC/rabbitmq" "$LAB_STATE/rabbitmq/home" "$LAB_STATE/rabbitmq/mnesia" \
    "$LAB_LOG/rabbitmq"
  printf '[].\n' >"$LAB_ETC/rabbitmq/enabled_plugins"
  # An empty env file of our own keeps /etc/rabbitmq/rabbitmq-env.conf out.
  : >"$LAB_ETC/rabbitmq/rabbitmq-env.conf"
  cat >"$LAB_ETC/rabbitmq/env.sh" <<EOF
# Sourced before rabbitmq-server. HOME contains the Erlang cookie.
export HOME=$LAB_STATE/rabbitmq/home
export RABBITMQ_CONF_ENV_FILE=$LAB_ETC/rabbitmq/rabbitmq-env.conf
export RABBITMQ_CONFIG_FILE=$LAB_ETC/rabbitmq/rabbitmq
export RABBITMQ_ADVANCED_CONFIG_FILE=$LAB_ETC/rabbitmq/advanced.config
export RABBITMQ_ENABLED_PLUGINS_FILE=$LAB_ETC/rabbitmq/enabled_plugins
export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=5672
export RABBITMQ_DIST_PORT=25672
export RABBITMQ_MNESIA_BASE=$LAB_STATE/rabbitmq/mnesia
export RABBITMQ_LOG_BASE=$LAB_LOG/rabbitmq
export RABBITMQ_PID_FILE=$LAB_RUN/rabbitmq.pid
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
# One scheduler and no busy-waiting: the lab's broker is nearly idle.
export RABBITMQ_SERVER_ERL_ARGS="+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
# Makes the rabbitmq-server shell script exec the Erlang VM instead of
# keeping a shell parent, so our pid file names beam.smp itself and
# SIGTERM reaches the VM, which then shuts the broker down cleanly.
export RUNNING_UNDER_SYSTEMD=true
EOF
}

# ebtables-nft 1.8.9 cannot delete a rule with --among-src/--among-dst by
# its spec ("RULE_DELETE failed (Invalid argument)"), and the agent deletes
# such a MAC anti-spoofing rule on every port update. Without this shim the
# agent loops on the port and stops applying security group changes to it.
write_ebtables_shim() {
  mkdir -p "$LAB_BIN"
  cat >"$LAB_BIN/ebtables" <<'EOF'
#!/bin/bash
# Written by kuryr-ts lab/up.sh. Rewrites "-D CHAIN <spec with --among-*>"
# into "-D CHAIN <rule number>" because ebtables-nft 1.8.9 cannot delete
# such a rule by its spec. Every other call passes through unchanged.
set -euo pipefail
real=/usr/sbin/ebtables
args=("$@")
options=()
i=0
while ((i < ${#args[@]})); do
  case ${args[i]} in
    -t) options+=(-t "${args[i + 1]}"); i=$((i + 2)) ;;
    --concurrent) options+=(--concurrent); i=$((i + 1)) ;;
    *) break ;;
  esac
done
command=("${args[@]:i}")
if ((${#command[@]} > 2)) && [[ ${command[0]} == -D && " ${command[*]:2} " == *" --among-"* ]]; then
  chain=${command[1]}
  wanted=$(printf '%s ' "${command[@]:2}" | tr -s ' ' | sed 's/ $//')
  # --Ln prints each rule as "NUMBER SPEC", the spec exactly as -L does.
  while read -r number spec; do
    spec=$(printf '%s' "$spec" | tr -s ' ' | sed 's/ $//')
    if [[ $spec == "$wanted" ]]; then
      exec "$real" "${options[@]}" -D "$chain" "${number%.}"
    fi
  done < <("$real" "${options[@]}" -L "$chain" --Ln 2>/dev/null | grep -E '^[0-9]+\.? ')
fi
exec "$real" "$@"
EOF
  chmod 755 "$LAB_BIN/ebtables"
}

# `ip netns exec` remounts /sys in a private mount namespace, which hides the
# cgroup hierarchies, and dockerd then fails with "Devices cgroup isn't
# mounted". The wrapper mounts them again from a copy of the host's layout.
write_dockerd_wrapper() {
  mkdir -p "$LAB_BIN" "$LAB_RUN"
  awk '$2 ~ "^/sys/fs/cgroup(/|$)" { print $3, $4, $1, $2 }' /proc/self/mounts \
    >"$LAB_RUN/cgroup-mounts"
  cat >"$LAB_BIN/lab-dockerd" <<EOF
#!/bin/bash
# Written by kuryr-ts lab/up.sh. Re-mounts the host's cgroup layout inside
# the mount namespace of \`ip netns exec\`, then becomes dockerd.
set -euo pipefail
while read -r fstype options source target; do
  mkdir -p "\$target"
  mount -t "\$fstype" -o "\$options" "\$source" "\$target"
done <$LAB_RUN/cgroup-mounts
exec /usr/sbin/dockerd "\$@"
EOF
  chmod 755 "$LAB_BIN/lab-dockerd"
}

write_kuryr_config() {
  mkdir -p "$LAB_ETC/kuryr"
  cat >"$LAB_ETC/kuryr/kuryr.conf" <<EOF
[DEFAULT]
bindir = /usr/libexec/kuryr
state_dir = $LAB_STATE/kuryr

EOF
  kuryr_neutron_section >>"$LAB_ETC/kuryr/kuryr.conf"
}

write_env_file() {
  cat >"$LAB_STATE/env.sh" <<EOF
# Source this file to use the lab's dockerd, and its OpenStack APIs as admin.
export DOCKER_HOST=$LAB_DOCKER_HOST
export OS_AUTH_URL=http://127.0.0.1:5000/v3
export OS_USERNAME=admin
export OS_PASSWORD=$LAB_ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export OS_IDENTITY_API_VERSION=3
# For ovs-vsctl and ovs-ofctl on the lab's Open vSwitch (LAB_L2=ovs).
export OVS_RUNDIR=$LAB_OVS_RUNDIR
EOF
}

write_configs() {
  mkdir -p "$LAB_STATE" "$LAB_RUN" "$LAB_PIDS" "$LAB_LOG" "$LAB_ETC"
  write_keystone_config
  write_neutron_config
  write_rabbitmq_config
  write_ebtables_shim
  write_dockerd_wrapper
  write_kuryr_config
  write_env_file
}
