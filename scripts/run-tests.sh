#!/usr/bin/env bash
# Runs node's test runner on the given tiers: unit (src/**/*.test.ts),
# host (src/**/*.host.test.ts, root), e2e (test/lab and test/e2e, the lab),
# multihost (test/multihost, the lab plus lab/multihost.sh up) and ovs (the
# walkthrough and test/ovs, the lab in OVS mode).
# Node 20's --test takes no glob patterns, so the file list is built here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=()
for tier in "$@"; do
  case "$tier" in
    unit) mapfile -t -O "${#files[@]}" files < <(find src bench -name '*.test.ts' ! -name '*.host.test.ts' | sort) ;;
    host) mapfile -t -O "${#files[@]}" files < <(find src -name '*.host.test.ts' | sort) ;;
    e2e)
      # The lab smoke test first: it proves the lab before kuryr is tested on it.
      mapfile -t -O "${#files[@]}" files < <(find test/lab -name '*.test.ts' 2>/dev/null | sort)
      mapfile -t -O "${#files[@]}" files < <(find test/e2e -name '*.test.ts' 2>/dev/null | sort)
      ;;
    multihost) mapfile -t -O "${#files[@]}" files < <(find test/multihost -name '*.test.ts' 2>/dev/null | sort) ;;
    ovs)
      files+=(test/e2e/10-walkthrough.test.ts)
      mapfile -t -O "${#files[@]}" files < <(find test/ovs -name '*.test.ts' 2>/dev/null | sort)
      ;;
    *) echo "unknown test tier \"$tier\": use unit, host, e2e, multihost or ovs" >&2; exit 2 ;;
  esac
done
if ((${#files[@]} == 0)); then
  echo "no test files found for tiers: $*" >&2
  exit 1
fi
# The spec report goes to the terminal; a TAP copy gives the totals for the
# closing "N passed, N failed" line that CI reads.
tap_file="$(mktemp)"
trap 'rm -f "$tap_file"' EXIT
rc=0
node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap_file" \
  "${files[@]}" || rc=$?
passed="$(awk '/^# pass /{print $3}' "$tap_file" | tail -n 1)"
failed="$(awk '/^# fail /{print $3}' "$tap_file" | tail -n 1)"
echo
echo "${passed:-0} passed, ${failed:-0} failed"
# test-all.sh adds up the tiers it runs for one closing total.
if [[ -n "${TEST_TOTALS_FILE:-}" ]]; then echo "${passed:-0} ${failed:-0}" >>"$TEST_TOTALS_FILE"; fi
exit "$rc"
