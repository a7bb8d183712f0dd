#!/usr/bin/env bash
# Volumes on an all-in-one cloud in a sandbox node ("vbench", 10.236/10.237; the volume
# agent on the same node, its pool a directory of sparse qcow2 files):
#   1. $VOLUMES volumes one after another: POST → available (polled every 20 ms); a
#      snapshot of each → available; a 2 GiB volume from the snapshot → available; all
#      deleted.
#   2. $VOLUMES volumes created at once → available; 50 GET /volumes/detail.
#   3. RSS of the block-storage API and the volume agent after the load.
# Ratios against the anchors (reference/anchors.md: Rally with Ceph, create ≈ 2.6 s).
# Root only, after `make release server clients`; the sandbox is removed after.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
[ -x "$bin" ] || bin=.build/debug/nimbus
export NIMBUS_SERVER_BINARY=${NIMBUS_SERVER_BINARY:-$PWD/.build-server/release/nimbus-server}
export NIMBUS_AGENT_BINARY=${NIMBUS_AGENT_BINARY:-$PWD/.build-server/release/nimbus-agent}
volumes=${VOLUMES:-10}
python=$PWD/.venv/bin/python
# Anchor: Rally's CinderVolumes.create_volume median with Ceph RBD.
anchor_create_ms=2600

[ "$(id -u)" = 0 ] || { echo "run as root: the sandbox needs namespaces" >&2; exit 1; }
for file in "$NIMBUS_SERVER_BINARY" "$NIMBUS_AGENT_BINARY" "$python"; do
  [ -e "$file" ] || { echo "no $file: run make release server clients" >&2; exit 1; }
done
built() { echo "$(date -r "$1" '+%F %T') sha256 $(sha256sum "$1" | cut -c1-12)"; }
dirty=
[ -z "$(git status --porcelain -- Sources Package.swift)" ] || dirty=" + uncommitted changes in Sources/"
identification="block storage at $(git rev-parse --short HEAD)$dirty, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start
nimbus-server built $(built "$NIMBUS_SERVER_BINARY"), nimbus-agent built $(built "$NIMBUS_AGENT_BINARY")"

work=$(mktemp -d /tmp/nimbus-bench-volumes.XXXXXX)
cleanup() {
  "$bin" sandbox down --name vbench --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" sandbox up --name vbench --nodes 1 --management-network 10.236.0.0/24 --provider-network 10.237.0.0/24 \
  --answer-file "$work/answers.txt" >/dev/null
"$bin" deploy "$work/answers.txt" >"$work/deploy.log" 2>&1 || { tail -30 "$work/deploy.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/keystonerc_admin"
node() { "$bin" sandbox ssh --name vbench node1 "$@"; }
# The volume agent reports in within its first heartbeat.
for _ in $(seq 50); do
  "$python" - <<'PY' && break || sleep 0.2
import os, sys
from keystoneauth1 import loading, session
loader = loading.get_plugin_loader("password")
auth = loader.load_from_options(auth_url=os.environ["OS_AUTH_URL"], username=os.environ["OS_USERNAME"],
    password=os.environ["OS_PASSWORD"], project_name=os.environ["OS_PROJECT_NAME"],
    user_domain_name="Default", project_domain_name="Default")
s = session.Session(auth=auth)
pools = s.get("/scheduler-stats/get_pools", endpoint_filter={"service_type": "block-storage"}).json()["pools"]
sys.exit(0 if pools else 1)
PY
done

line=$("$python" bench/block-storage/load.py volumes "$volumes" | grep '^RESULT')
rss() { node "awk '/VmRSS/ {print int(\$2 / 1024)}' /proc/\$(systemctl show -p MainPID --value $1)/status"; }
api_rss=$(rss nimbus-block-storage)
agent_rss=$(rss nimbus-volume)

value() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
create=$(value "$line" create_available_p50_ms)
together=$(value "$line" together_available_p50_ms)
echo "$identification"
echo "$line"
echo "volume create → available, one at a time: p50 $create ms ($(ratio $anchor_create_ms "$create")× Rally's $anchor_create_ms ms with Ceph)"
echo "volume create → available, $volumes at once: p50 $together ms ($(ratio $anchor_create_ms "$together")×)"
echo "snapshot → available: p50 $(value "$line" snapshot_available_p50_ms) ms; 2 GiB volume from it: p50 $(value "$line" from_snapshot_available_p50_ms) ms"
echo "volume list (detail, $volumes volumes): p50 $(value "$line" list_detail_p50_ms) ms"
echo "RSS after the load: block-storage API $api_rss MiB, volume agent $agent_rss MiB"
