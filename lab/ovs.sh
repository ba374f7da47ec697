# shellcheck shell=bash
# Open vSwitch for LAB_L2=ovs: ovsdb-server and ovs-vswitchd inside lab-os,
# with the userspace (netdev) datapath because the kernel has no openvswitch
# module. Sourced by lab/up.sh after lab/lib.sh.

LAB_OVS_DB=$LAB_OVS_DBDIR/conf.db
LAB_OVS_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema

# Create the database, or convert it after an openvswitch upgrade.
ensure_ovs_database() {
  mkdir -p "$LAB_OVS_RUNDIR" "$LAB_OVS_DBDIR"
  if [[ ! -e $LAB_OVS_DB ]]; then
    ovsdb-tool create "$LAB_OVS_DB" "$LAB_OVS_SCHEMA"
    log "created the OVS database $LAB_OVS_DB"
  elif [[ $(ovsdb-tool needs-conversion "$LAB_OVS_DB" "$LAB_OVS_SCHEMA") == yes ]]; then
    ovsdb-tool convert "$LAB_OVS_DB" "$LAB_OVS_SCHEMA"
    log "converted the OVS database to the installed schema"
  fi
}

ovsdb_responds() {
  in_ns env OVS_RUNDIR="$LAB_OVS_RUNDIR" ovs-vsctl --timeout=2 --no-wait show
}

# The agent reaches ovsdb over TCP (its ovsdb_connection) and every other
# client through the unix socket in OVS_RUNDIR. Both daemons stay in the
# foreground so that start_in_ns records their own pids.
start_ovs_daemons() {
  ensure_ovs_database
  start_in_ns ovsdb-server env OVS_RUNDIR="$LAB_OVS_RUNDIR" /usr/sbin/ovsdb-server "$LAB_OVS_DB" \
    --remote="punix:$LAB_OVS_RUNDIR/db.sock" --remote=ptcp:6640:127.0.0.1 \
    --pidfile="$LAB_OVS_RUNDIR/ovsdb-server.pid" --unixctl="$LAB_OVS_RUNDIR/ovsdb-server.ctl" \
    --log-file="$LAB_LOG/ovsdb-server.log"
  wait_until "ovsdb-server" 30 ovsdb_responds ||
    die "ovsdb-server did not respond within 30 s; see $LAB_LOG/ovsdb-server.log"
  in_ns env OVS_RUNDIR="$LAB_OVS_RUNDIR" ovs-vsctl --no-wait init
  start_in_ns ovs-vswitchd env OVS_RUNDIR="$LAB_OVS_RUNDIR" /usr/sbin/ovs-vswitchd \
    "unix:$LAB_OVS_RUNDIR/db.sock" \
    --pidfile="$LAB_OVS_RUNDIR/ovs-vswitchd.pid" --unixctl="$LAB_OVS_RUNDIR/ovs-vswitchd.ctl" \
    --log-file="$LAB_LOG/ovs-vswitchd.log"
}

stop_ovs_daemons() {
  stop_daemon ovs-vswitchd 20
  stop_daemon ovsdb-server 20
}
