#!/usr/bin/env bash
# The object storage service against OpenStack Swift 2.38 (PyPI, in .venv-swift: a proxy
# with 2 workers and one account, container and object server on loopback, tempauth with
# memcached, the usual middleware), on the same machine, under the same load:
#   - one 1 GiB object: PUT and GET with curl (one connection);
#   - 10,000 objects of 4 KiB: PUT and then GET from 8 threads with keep-alive
#     connections (bench/object/load.py).
# Reports MB/s and objects/s, RSS idle and the peak RSS of the services (Nimbus: the one
# nimbus-server process, its peak including start-up; Swift: the sum of its processes'
# peaks). Nimbus authenticates
# through its identity service (tokens cached 5 s), Swift through tempauth (tokens in
# memcached): both validate once and cache. Run as root after `make server bench-tools`.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${NIMBUS_SERVER:-.build-server/release/nimbus-server}
venv=${SWIFT_VENV:-.venv-swift}
count=${COUNT:-10000}
size=${SIZE:-4096}
concurrency=${CONCURRENCY:-8}
big_mib=${BIG_MIB:-1024}
work=$(mktemp -d /var/tmp/nimbus-bench-object.XXXXXX)
password=bench-secret
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  pkill -f "$work/swift" 2>/dev/null || true
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

# Memory in MiB of processes, summed: FIELD is VmRSS (now) or VmHWM (peak).
memory() { # field pid…
  local field=$1 total=0 pid
  shift
  for pid in "$@"; do
    total=$((total + $(awk -v f="$field:" '$1 == f {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)))
  done
  echo "$((total / 1024))"
}
peak() { memory VmHWM "$@"; }
rss() { memory VmRSS "$@"; }

seconds() { date +%s.%N; }

head -c $((big_mib << 20)) /dev/urandom > "$work/big.bin"

# Runs the load against STORAGE_URL with TOKEN; prints "put_mbs get_mbs put_ops get_ops".
measure() { # storage_url token
  local url=$1 token=$2 start end put_mbs get_mbs put_ops get_ops
  curl -sf -X PUT -H "X-Auth-Token: $token" -H "Content-Length: 0" "$url/big" >/dev/null
  curl -sf -X PUT -H "X-Auth-Token: $token" -H "Content-Length: 0" "$url/small" >/dev/null
  start=$(seconds)
  curl -sf -T "$work/big.bin" -H "X-Auth-Token: $token" "$url/big/big.bin" >/dev/null
  end=$(seconds)
  put_mbs=$(echo "$big_mib / ($end - $start)" | bc -l)
  start=$(seconds)
  curl -sf -H "X-Auth-Token: $token" -o /dev/null "$url/big/big.bin"
  end=$(seconds)
  get_mbs=$(echo "$big_mib / ($end - $start)" | bc -l)
  put_ops=$(python3 bench/object/load.py put "$url" "$token" small "$count" "$size" "$concurrency")
  get_ops=$(python3 bench/object/load.py get "$url" "$token" small "$count" "$size" "$concurrency")
  printf '%.0f %.0f %s %s\n' "$put_mbs" "$get_mbs" "$put_ops" "$get_ops"
}

# --- Nimbus: identity (for tokens) and the object service -------------------------------
mkdir -p "$work/nimbus"
cat > "$work/nimbus/spec.json" <<JSON
{"admin_password": "$password", "region": "RegionOne",
 "catalog": [{"type": "object-store", "name": "swift",
   "urls": {"public": "http://127.0.0.1:18080/v1/AUTH_\$(project_id)s"}}]}
JSON
cat > "$work/nimbus/object.conf" <<CONF
[DEFAULT]
bind = 127.0.0.1:18080
state_dir = $work/nimbus/object
[auth]
identity_url = http://127.0.0.1:5111/v3
CONF
start_identity "$work/nimbus" 5111
"$server" object serve --config "$work/nimbus/object.conf" 2>"$work/nimbus/object.log" &
pids+=($!)
nimbus_pid=$!
wait_for http://127.0.0.1:18080/info
login='{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "'$password'"}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}'
response=$(curl -si -H 'Content-Type: application/json' -d "$login" http://127.0.0.1:5111/v3/auth/tokens)
nimbus_token=$(echo "$response" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-subject-token" {print $2}')
project=$(echo "$response" | sed -n '/^{/p' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"]["project"]["id"])')
nimbus_idle=$(rss "$nimbus_pid")
read -r n_put_mbs n_get_mbs n_put_ops n_get_ops < <(measure "http://127.0.0.1:18080/v1/AUTH_$project" "$nimbus_token")
nimbus_peak=$(peak "$nimbus_pid")
kill "${pids[@]}"; wait 2>/dev/null || true; pids=()

# --- OpenStack Swift 2.38: proxy + account/container/object servers ---------------------
s=$work/swift
mkdir -p "$s/node/d1" "$s/etc"
cat > "$s/etc/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = nimbus-bench
[storage-policy:0]
name = Policy-0
default = yes
CONF
for ring in account:6212 container:6211 object:6210; do
  name=${ring%%:*} port=${ring##*:}
  "$venv/bin/swift-ring-builder" "$s/etc/$name.builder" create 10 1 1 >/dev/null
  "$venv/bin/swift-ring-builder" "$s/etc/$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
  "$venv/bin/swift-ring-builder" "$s/etc/$name.builder" rebalance >/dev/null || true
  cat > "$s/etc/$name-server.conf" <<CONF
[DEFAULT]
devices = $s/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $port
workers = 1
user = $(id -un)
swift_dir = $s/etc
log_facility = LOG_LOCAL1
log_level = WARNING
[pipeline:main]
pipeline = $name-server
[app:$name-server]
use = egg:swift#$name
CONF
done
cat > "$s/etc/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 18090
workers = 2
user = $(id -un)
swift_dir = $s/etc
log_level = WARNING
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck cache listing_formats tempauth copy slo dlo proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:tempauth]
use = egg:swift#tempauth
user_admin_admin = $password .admin
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:11299
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
CONF
memcached -u root -l 127.0.0.1 -p 11299 -m 64 &
pids+=($!)
swift_pids=()
for name in account container object proxy; do
  "$venv/bin/swift-$name-server" "$s/etc/$name-server.conf" >"$work/swift-$name.log" 2>&1 &
  swift_pids+=($!)
done
pids+=("${swift_pids[@]}")
wait_for http://127.0.0.1:18090/healthcheck
sleep 2
all_swift() { echo "${swift_pids[@]}" $(for p in "${swift_pids[@]}"; do pgrep -P "$p" || true; done); }
auth=$(curl -si -H "X-Auth-User: admin:admin" -H "X-Auth-Key: $password" http://127.0.0.1:18090/auth/v1.0 | tr -d '\r')
swift_token=$(echo "$auth" | awk -F': ' 'tolower($1) == "x-auth-token" {print $2}')
swift_url=$(echo "$auth" | awk -F': ' 'tolower($1) == "x-storage-url" {print $2}')
# shellcheck disable=SC2046
swift_idle=$(rss $(all_swift))
read -r s_put_mbs s_get_mbs s_put_ops s_get_ops < <(measure "$swift_url" "$swift_token")
# shellcheck disable=SC2046
swift_peak=$(peak $(all_swift))

ratio() { echo "scale=1; $1 / $2" | bc -l; }
echo "object storage, ${big_mib} MiB object and $count × $size B objects at concurrency $concurrency"
printf '%-34s %12s %12s %8s\n' "" "Nimbus" "Swift 2.38" "ratio"
row() { printf '%-34s %12s %12s %7s×\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
row "1 GiB PUT (MB/s)" "$n_put_mbs" "$s_put_mbs"
row "1 GiB GET (MB/s)" "$n_get_mbs" "$s_get_mbs"
row "4 KiB PUT (objects/s)" "$n_put_ops" "$s_put_ops"
row "4 KiB GET (objects/s)" "$n_get_ops" "$s_get_ops"
printf '%-34s %12s %12s\n' "RSS idle (MiB)" "$nimbus_idle" "$swift_idle"
printf '%-34s %12s %12s\n' "peak RSS during the load (MiB)" "$nimbus_peak" "$swift_peak"
