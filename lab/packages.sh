# shellcheck shell=bash
# Package installation for lab/up.sh: installs what is missing with apt while
# policy-rc.d keeps the packages from starting their services in the host.
# Sourced by lab/up.sh after lab/lib.sh.

LAB_PACKAGES=(
  keystone neutron-server neutron-linuxbridge-agent mariadb-server
  rabbitmq-server ebtables ipset conntrack bridge-utils iptables iproute2
  iputils-ping curl jq docker.io busybox-static
)
# Only LAB_L2=ovs needs these.
LAB_OVS_PACKAGES=(openvswitch-switch neutron-openvswitch-agent)
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_BACKUP=/usr/sbin/policy-rc.d.kuryr-lab-saved

# Print which of the given packages are not installed.
missing_packages() {
  local pkg status
  for pkg in "$@"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [[ $status == installed ]] || printf '%s\n' "$pkg"
  done
}

policy_rc_denies() {
  [[ -x $POLICY_RC ]] || return 1
  local rc=0
  "$POLICY_RC" docker start >/dev/null 2>&1 || rc=$?
  ((rc == 101))
}

# Package postinst scripts call invoke-rc.d, which would start dockerd (and
# MariaDB, RabbitMQ) in the host namespace unless policy-rc.d exits 101.
ensure_policy_rc_denies() {
  policy_rc_denies && return 0
  if [[ -e $POLICY_RC ]]; then
    mv "$POLICY_RC" "$POLICY_RC_BACKUP"
  fi
  printf '#!/bin/sh\n# Temporary, written by kuryr-ts lab/up.sh during apt-get.\nexit 101\n' >"$POLICY_RC"
  chmod 755 "$POLICY_RC"
  POLICY_RC_CREATED=1
  trap restore_policy_rc EXIT
  log "created a temporary $POLICY_RC that denies service starts"
}

restore_policy_rc() {
  [[ ${POLICY_RC_CREATED:-0} == 1 ]] || return 0
  rm -f "$POLICY_RC"
  if [[ -e $POLICY_RC_BACKUP ]]; then
    mv "$POLICY_RC_BACKUP" "$POLICY_RC"
  fi
  POLICY_RC_CREATED=0
  trap - EXIT
}

packages_without_candidate() {
  local pkg policy
  for pkg in "$@"; do
    # Captured first: grep -q closing the pipe early would make apt-cache
    # fail with SIGPIPE, and pipefail would report that as "no candidate".
    policy=$(apt-cache policy "$pkg" 2>/dev/null || true)
    if ! grep -q 'Candidate: [^(]' <<<"$policy"; then
      printf '%s\n' "$pkg"
    fi
  done
}

apt_update() {
  log "running apt-get update"
  # An unreachable third-party source makes apt-get update exit non-zero
  # even when the Debian lists were refreshed, so this only warns. The
  # install that follows fails loudly if a package is really missing.
  apt-get update -o DPkg::Lock::Timeout=600 || log "apt-get update reported errors; continuing"
}

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "$@"
}

# The docker.io postinst must not have started a dockerd in the host
# namespace, where it would add docker0 and iptables rules to the host, and
# the openvswitch-switch postinst must not have started OVS there.
check_no_host_daemons() {
  local name pid net_inode host_net_inode lab_net_inode=""
  host_net_inode=$(stat -L -c %i /proc/self/ns/net)
  if netns_exists "$LAB_NS"; then
    lab_net_inode=$(stat -L -c %i "/run/netns/$LAB_NS")
  fi
  for name in dockerd ovs-vswitchd ovsdb-server; do
    for pid in $(pgrep -x "$name" || true); do
      net_inode=$(stat -L -c %i "/proc/$pid/ns/net" 2>/dev/null) || continue
      if [[ $net_inode == "$host_net_inode" ]]; then
        die "a $name (pid $pid) runs in the host network namespace; stop it before using the lab"
      elif [[ $net_inode != "$lab_net_inode" ]]; then
        log "note: a $name (pid $pid) runs in another network namespace; the lab leaves it alone"
      fi
    done
  done
}

install_packages() {
  local missing wanted=("${LAB_PACKAGES[@]}")
  if [[ $LAB_L2 == ovs ]]; then
    wanted+=("${LAB_OVS_PACKAGES[@]}")
  fi
  mapfile -t missing < <(missing_packages "${wanted[@]}")
  if ((${#missing[@]} == 0)); then
    log "all ${#wanted[@]} packages already installed"
    check_no_host_daemons
    return 0
  fi
  log "installing ${#missing[@]} missing packages: ${missing[*]}"
  ensure_policy_rc_denies
  if [[ -n $(packages_without_candidate "${missing[@]}") ]]; then
    apt_update
  fi
  if ! apt_install "${missing[@]}"; then
    # Stale package lists point at .deb versions the mirror no longer has.
    log "apt-get install failed; refreshing the package lists and retrying once"
    apt_update
    apt_install "${missing[@]}"
  fi
  restore_policy_rc
  check_no_host_daemons
}
