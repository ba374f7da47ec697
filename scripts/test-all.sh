#!/usr/bin/env bash
# The one test command: checks and builds the code, brings the lab up (with
# the kuryr daemon) and runs every test tier against it, the multi-host tier
# on two more Docker hosts (lab/multihost.sh). It then switches
# the lab to Open vSwitch and runs the OVS tier. The lab is stopped even when
# a test fails. Needs root on Debian 12; the first run installs the lab's
# packages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $EUID -ne 0 ]]; then
  echo "the test command needs root: it runs OpenStack and dockerd in a network namespace" >&2
  exit 1
fi

step() { printf '\n=== %s\n' "$*"; }

step "lint and type check"
npx eslint src test bench
npx tsc -p tsconfig.json --noEmit

step "build"
npm run --silent build

TEST_TOTALS_FILE="$(mktemp)"
export TEST_TOTALS_FILE

# Stops the lab, then prints the total over all tiers as the closing line.
stop_lab() {
  local rc=$?
  step "stop the lab"
  bash lab/down.sh || echo "lab/down.sh failed" >&2
  awk '{ passed += $1; failed += $2 } END { printf "\ntotal: %d passed, %d failed\n", passed, failed }' "$TEST_TOTALS_FILE"
  rm -f "$TEST_TOTALS_FILE"
  exit "$rc"
}
trap stop_lab EXIT

step "start the lab"
bash lab/up.sh

step "tests: unit, host and end to end"
bash scripts/run-tests.sh unit host e2e

# Two more Docker hosts on the lab's Neutron, for the multi-host tier. A
# failing tier leaves them to lab/down.sh, which removes them first.
step "start two more Docker hosts"
bash lab/multihost.sh up

step "tests: two hosts"
bash scripts/run-tests.sh multihost

step "stop the two Docker hosts"
bash lab/multihost.sh down

step "switch the lab to Open vSwitch"
LAB_L2=ovs bash lab/up.sh

step "tests: Open vSwitch"
bash scripts/run-tests.sh ovs
