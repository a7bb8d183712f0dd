#!/usr/bin/env bash
# `make demo` timed in its parts, from a fresh node disk (the cached base kept): sandbox up,
# `nimbus deploy` of the all-in-one cloud with Packstack's demo (provisioning: flavors,
# public/private networks, router1, the 33 MiB cirros upload, keystonerc_demo), then
# scripts/demo-instance.sh: key pair, rules, demo-vm booted under TCG, floating IP, until its
# SSH answers. Median of $RUNS (default 3). Anchor: Packstack all-in-one ≈ 15 min with its
# demo (reference/anchors.md). Run as root after `make server guest-image clients`; uses
# the sandbox "bdemo" and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
[ -x "$bin" ] || bin=.build/debug/nimbus
export NIMBUS_SERVER_BINARY=${NIMBUS_SERVER_BINARY:-$PWD/.build-server/release/nimbus-server}
export NIMBUS_AGENT_BINARY=${NIMBUS_AGENT_BINARY:-$PWD/.build-server/release/nimbus-agent}
export NIMBUS_GUEST_IMAGE=${NIMBUS_GUEST_IMAGE:-$PWD/.build/guest-image/nimbus-guest.qcow2}
export OPENSTACK=${OPENSTACK:-$PWD/.venv/bin/openstack}
runs=${RUNS:-3}
state=/var/lib/nimbus/sandbox/bdemo
work=$(mktemp -d /tmp/nimbus-bench-demo.XXXXXX)
net=(--name bdemo --management-network 10.248.0.0/24 --provider-network 10.249.0.0/24 --answer-file "$work/answers.txt")

timed() { # command… → milliseconds; fails loudly
  local start end
  start=$(date +%s%N)
  "$@" >"$work/out" 2>&1 || { echo "failed: $*" >&2; tail -20 "$work/out" >&2; exit 1; }
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

ups=() deploys=() provisions=() instances=() totals=()
for _ in $(seq "$runs"); do
  "$bin" sandbox down --name bdemo >/dev/null 2>&1 || true
  rm -rf "$state" "$work/answers.txt" "$work/keystonerc_"* "$work/key"*
  up=$(timed "$bin" sandbox up --nodes 1 "${net[@]}")
  deploy=$(timed "$bin" deploy "$work/answers.txt" --log-root "$work/logs")
  provision=$(grep -E 'provision\.(flavors|demo)' "$work/out" | grep -oE '[0-9]+\.[0-9]+ s' | awk '{s += $1} END {printf "%d", s * 1000}')
  instance=$(DEMO_KEY="$work/key" timed scripts/demo-instance.sh "$work")
  ups+=("$up") deploys+=("$deploy") provisions+=("$provision") instances+=("$instance")
  totals+=($((up + deploy + instance)))
done
echo "make demo's parts (median of $runs, ms): sandbox up $(median "${ups[@]}"), deploy $(median "${deploys[@]}")" \
  "(of which provisioning $(median "${provisions[@]}")), demo-vm to SSH $(median "${instances[@]}"), total $(median "${totals[@]}") (runs: ${totals[*]})"
"$bin" sandbox down --name bdemo >/dev/null
rm -rf "$state" "$work"
