#!/usr/bin/env bash
# Builds the managed plugin bundle (config.json and rootfs/) from this host's
# Node.js, iproute2 and a build of this checkout, without a registry or a
# Docker image build. Then, as root:
#   docker plugin create kuryr/kuryr-ts BUNDLE_DIR
# Usage: packaging/plugin/build.sh BUNDLE_DIR
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUNDLE="${1:?usage: packaging/plugin/build.sh BUNDLE_DIR}"
ROOTFS="$BUNDLE/rootfs"

rm -rf "$BUNDLE"
mkdir -p "$ROOTFS"/{usr/bin,usr/sbin,usr/local/bin,lib64,opt/kuryr,tmp,etc/kuryr,var/log/kuryr,var/run/openvswitch,run/docker/plugins}
chmod 1777 "$ROOTFS/tmp"

# The programs the daemon runs, and every shared library they load.
binaries=("$(command -v node)" "$(command -v env)" "$(command -v ip)")
cp "${binaries[0]}" "$ROOTFS/usr/bin/node"
cp "${binaries[1]}" "$ROOTFS/usr/bin/env"
cp "${binaries[2]}" "$ROOTFS/usr/sbin/ip"
for binary in "${binaries[@]}"; do
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
done | sort -u | while read -r library; do
  mkdir -p "$ROOTFS$(dirname "$library")"
  cp -L "$library" "$ROOTFS$library"
done

# kuryr-ts itself, with its production dependencies only.
(cd "$REPO_DIR" && npm run --silent build)
cp "$REPO_DIR/package.json" "$REPO_DIR/package-lock.json" "$ROOTFS/opt/kuryr/"
cp -r "$REPO_DIR/dist" "$ROOTFS/opt/kuryr/"
(cd "$ROOTFS/opt/kuryr" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
chmod 755 "$ROOTFS/opt/kuryr/dist/cli/main.js"
ln -s /opt/kuryr/dist/cli/main.js "$ROOTFS/usr/local/bin/kuryr"

cp "$REPO_DIR/packaging/plugin/config.json" "$BUNDLE/config.json"
echo "plugin bundle ready in $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
