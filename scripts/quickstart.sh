#!/usr/bin/env bash
# The quick start: builds kuryr-ts, brings up the lab (OpenStack, dockerd and
# the kuryr daemon in the lab-os namespace), runs the walkthrough and shows
# the Neutron resources it made. Everything stays up for exploring; stop it
# with `bash lab/down.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $EUID -ne 0 ]]; then
  echo "the quick start needs root: it runs OpenStack and dockerd in a network namespace" >&2
  exit 1
fi

show() { printf '\n$ %s\n' "$*"; "$@"; }

[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build
bash lab/up.sh

# shellcheck source=/dev/null
source /var/lib/kuryr-lab/env.sh

# A previous quick start may have left the walkthrough's objects behind.
docker rm -f web web2 >/dev/null 2>&1 || true
docker network rm bar >/dev/null 2>&1 || true

show docker network create --driver kuryr --ipam-driver kuryr \
  --subnet 10.10.0.0/16 --gateway 10.10.0.1 --ip-range 10.10.0.0/24 bar
show docker run --net bar -itd --name web busybox
show docker exec web ip addr show eth0
# A second container on the same Neutron network, to show traffic between them.
show docker run --net bar -itd --name web2 busybox
web2_ip="$(docker inspect -f '{{(index .NetworkSettings.Networks "bar").IPAddress}}' web2)"
show docker exec web ping -c 2 "$web2_ip"

network_id="$(docker network inspect -f '{{.Id}}' bar)"
token="$(curl -si -H 'Content-Type: application/json' http://127.0.0.1:5000/v3/auth/tokens \
  -d '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"adminpass"}}},"scope":{"project":{"name":"admin","domain":{"id":"default"}}}}}' \
  | awk 'tolower($1)=="x-subject-token:"{print $2}' | tr -d '\r')"
neutron() { curl -s -H "X-Auth-Token: $token" "http://127.0.0.1:9696/v2.0/$1"; }

printf '\nNeutron network for Docker network bar (%s):\n' "${network_id:0:12}"
neutron "networks?tags=kuryr.net.uuid.lh:${network_id:0:32}" | jq '.networks[] | {id, name, status, mtu, tags}'
printf '\nNeutron subnet and subnet pool:\n'
neutron "subnets?name=kuryr-subnet-10.10.0.0/16" | jq '.subnets[] | {id, name, cidr, gateway_ip, allocation_pools, subnetpool_id}'
neutron "subnetpools?name=kuryrPool-10.10.0.0/16" | jq '.subnetpools[] | {id, name, prefixes}'
printf '\nNeutron ports of containers web and web2:\n'
neutron "ports?device_owner=kuryr:container" | jq '.ports[] | {id, status, mac_address, fixed_ips, "binding:host_id", "binding:vif_type", tags}'

cat <<'DONE'

The walkthrough ran. Explore with:
  source /var/lib/kuryr-lab/env.sh    # sets DOCKER_HOST and OS_* for the lab
  docker network inspect bar
Clean up with:
  docker rm -f web web2 && docker network rm bar
  bash lab/down.sh                    # stops the lab; --purge also deletes its state
DONE
