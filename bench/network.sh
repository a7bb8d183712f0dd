#!/usr/bin/env bash
# The network service (release `nimbus-server network`, Neutron v2.0) and its agents
# (`nimbus-agent network-agent`, the L2 agent, and `nimbus-agent network-gateway`, DHCP and
# L3), standalone on loopback beside a Nimbus identity service, data under /var/tmp (ext4,
# SQLite with synchronous=FULL as in production):
#   1. API latency over one keep-alive connection with an admin token (bench/network/load.py):
#      $NETWORKS network creates, as many DHCP subnet creates, $PORTS port creates on one
#      network, $LISTS lists of all ports with those existing, then the deletes. No agent
#      runs during this phase (the L2 agent of a network host would make a bridge per network).
#   2. Port create → wired and leased, with both agents on this host, on a VXLAN tenant
#      network (local 127.0.0.1) with a DHCP /24: POST a port, PUT its binding:host_id, a
#      netns nb-vm… with a veth (host end tap<port id>, eth0 with the port's MAC), a DHCP
#      lease in the namespace (a raw-socket client sending a DISCOVER every 50 ms, so that
#      no client back-off is measured; then checked with busybox udhcpc). Twice $WIRINGS
#      ports: the tap right after the binding (each port kept until the API shows it
#      ACTIVE, one port a second), then the tap 0.5 s after it (as when an instance boots).
#   3. RSS (VmRSS) of the API and of each agent, idle and after the load; peak (VmHWM).
# Ratios against the published anchors (reference/anchors.md). Root only, after `make server`.
# It refuses to run where `brq-`/`vxlan-N` devices or the nimbus_sg nftables tables exist
# (its L2 agent would take them over), and leaves the host as it found it.
set -euo pipefail
cd "$(dirname "$0")/.."
server=${NIMBUS_SERVER:-.build-server/release/nimbus-server}
agent=${NIMBUS_AGENT:-.build-server/release/nimbus-agent}
networks=${NETWORKS:-200}
ports=${PORTS:-1000}
lists=${LISTS:-50}
wirings=${WIRINGS:-10}
identity_url=http://127.0.0.1:5201
network_url=http://127.0.0.1:9701
host=nb-bench-host # the binding:host_id both agents serve
password=bench-secret
neutron_password=bench-neutron
# Anchors: Neutron network / port create medians (Rally, 200 nodes), OVN port bound → wired
# average, a DevStack gate node's neutron memory.
anchor_network_ms=197
anchor_port_ms=370
anchor_wired_ms=1150
anchor_memory_mb=1750

[ "$(id -u)" = 0 ] || { echo "run as root: the agents make bridges, namespaces and nftables tables" >&2; exit 1; }
if [ ! -x "$server" ] || [ ! -x "$agent" ]; then echo "no $server or $agent: run make server" >&2; exit 1; fi
for tool in ip bridge nft dnsmasq busybox nsenter conntrack sysctl curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run make deps" >&2; exit 1; }
done
for url in "$identity_url" "$network_url"; do
  if curl -s -o /dev/null --max-time 1 "$url"; then echo "something answers on $url already" >&2; exit 1; fi
done

# What was measured (read now: the binaries may be rebuilt while this runs).
built() { echo "$(date -r "$1" '+%F %T') sha256 $(sha256sum "$1" | cut -c1-12)"; }
dirty=
[ -z "$(git status --porcelain -- Sources Package.swift)" ] || dirty=" + uncommitted changes in Sources/"
identification="network service at $(git rev-parse --short HEAD)$dirty, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start
nimbus-server built $(built "$server"), nimbus-agent built $(built "$agent")"

# What of the host's network state this benchmark could make, one name a line.
host_state() {
  {
    ip netns list | awk '{print "netns " $1}'
    ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}'
    nft list tables | sed 's/^table /nft /'
  } | grep -E ' (nb-|qdhcp-|qrouter-|brq-|vxlan-|tap|(bridge|inet) nimbus_sg)' | sort || true
}
before=$(host_state)
if grep -qE ' (nb-vm.*|brq-.*|vxlan-[0-9]+|(bridge|inet) nimbus_sg.*)$' <<<"$before"; then
  echo "the host has devices or tables this benchmark's L2 agent would take over:" >&2
  echo "$before" >&2
  exit 1
fi

work=$(mktemp -d /var/tmp/nimbus-bench-network.XXXXXX)
chmod 755 "$work" # dnsmasq reads its files as nobody
pids=()
agent_pids=()
wired=() # network ids the agents served
vnis=()
cleanup() {
  set +e
  for pid in "${agent_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${agent_pids[@]}"; do wait "$pid" 2>/dev/null; done
  # The dnsmasq processes the gateway started (they outlive it by design).
  for file in "$work"/gateway/dhcp/*/pid; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    grep -qF "$work" "/proc/$pid/cmdline" 2>/dev/null && kill "$pid"
  done
  for namespace in $(ip netns list | awk '$1 ~ /^nb-vm/ {print $1}'); do ip netns del "$namespace"; done
  for network in "${wired[@]}"; do
    ip netns del "qdhcp-$network" 2>/dev/null
    bridge=brq-${network:0:11}
    for tap in $(ip -o link show master "$bridge" 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
      ip link del "$tap" 2>/dev/null
    done
    ip link del "$bridge" 2>/dev/null
  done
  for vni in "${vnis[@]}"; do ip link del "vxlan-$vni" 2>/dev/null; done
  nft list table bridge nimbus_sg_l2 >/dev/null 2>&1 && nft delete table bridge nimbus_sg_l2
  nft list table inet nimbus_sg >/dev/null 2>&1 && nft delete table inet nimbus_sg
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  local after
  after=$(host_state)
  if [ "$after" != "$before" ]; then
    echo "the host differs from before the run:" >&2
    diff <(echo "$before") <(echo "$after") >&2
  fi
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
# anon / file-backed, and of the latter the executable's code (its r-xp mapping).
code() { awk -v exe="$(readlink "/proc/$1/exe")" '/^[0-9a-f]+-[0-9a-f]+ / {on = $2 == "r-xp" && $6 == exe} on && /^Rss:/ {k += $2} END {print k + 0}' "/proc/$1/smaps"; }
split() { echo "$(mib "$(kib "$1" RssAnon)") / $(mib "$(kib "$1" RssFile)") ($(mib "$(code "$1")"))"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# --- identity (tokens; the agents' service user) and the network API -------------------
mkdir -p "$work/identity" "$work/network"
cat >"$work/identity/spec.json" <<JSON
{"admin_password": "$password", "region": "RegionOne",
 "service_users": {"neutron": "$neutron_password"},
 "catalog": [
  {"type": "identity", "name": "keystone",
   "urls": {"public": "$identity_url/v3", "internal": "$identity_url/v3", "admin": "$identity_url/v3"}},
  {"type": "network", "name": "neutron",
   "urls": {"public": "$network_url", "internal": "$network_url", "admin": "$network_url"}}]}
JSON
cat >"$work/network/network.conf" <<CONF
[DEFAULT]
bind = 127.0.0.1:9701
state_dir = $work/network/state
[auth]
identity_url = $identity_url/v3
[ml2]
vni_ranges = 4100:4399
bridge_mappings = extnet:br-ex
physical_mtu = 1500
CONF
start_identity "$work/identity" 5201
"$server" network serve --config "$work/network/network.conf" 2>"$work/network/log" &
pids+=($!)
network_pid=$!
wait_for "$network_url/"
sleep 1
api_idle=$(kib "$network_pid" VmRSS)

login='{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "'$password'"}}}, "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}'
response=$(curl -sfi -H 'Content-Type: application/json' -d "$login" "$identity_url/v3/auth/tokens" | tr -d '\r')
token=$(awk -F': ' 'tolower($1) == "x-subject-token" {print $2}' <<<"$response")
project=$(sed -n '/^{/p' <<<"$response" | json 'd["token"]["project"]["id"]')
if [ -z "$token" ] || [ -z "$project" ]; then echo "could not get an admin token" >&2; exit 1; fi

# --- 1. API latency ------------------------------------------------------------------------
python3 bench/network/load.py api "$network_url" "$token" "$project" "$networks" "$ports" "$lists" \
  "$work/ids.json" | tee "$work/results"
api_loaded=$(kib "$network_pid" VmRSS)
api_loaded_split=$(split "$network_pid")
python3 bench/network/load.py delete "$network_url" "$token" "$work/ids.json" | tee -a "$work/results"
api_after_deletes=$(kib "$network_pid" VmRSS)

# --- 2. port create → leased, with the agents ----------------------------------------------
network_body=$(curl -sf -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
  -d '{"network": {"name": "nb-wire"}}' "$network_url/v2.0/networks")
wire=$(json 'd["network"]["id"]' <<<"$network_body")
wired+=("$wire")
vnis+=("$(json 'd["network"]["provider:segmentation_id"]' <<<"$network_body")")
curl -sf -o /dev/null -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
  -d '{"subnet": {"name": "nb-wire", "network_id": "'"$wire"'", "ip_version": 4, "cidr": "10.233.0.0/24"}}' \
  "$network_url/v2.0/subnets"

agent_conf() { # name serves_all_networks security_groups
  mkdir -m 755 "$work/$1"
  cat >"$work/$1.conf" <<CONF
[DEFAULT]
host = $host
state_dir = $work/$1
[channel]
api_url = $network_url
[auth]
identity_url = $identity_url/v3
user = neutron
password = $neutron_password
project = services
[l2]
tunnel_ip = 127.0.0.1
bridge_mappings =
serves_all_networks = $2
security_groups = $3
CONF
}
agent_conf l2 true true
agent_conf gateway true false
"$agent" network-agent --config "$work/l2.conf" 2>"$work/l2.log" &
agent_pids+=($!)
l2_pid=$!
"$agent" network-gateway --config "$work/gateway.conf" 2>"$work/gateway.log" &
agent_pids+=($!)
gateway_pid=$!
# Ready: the network's bridge with its VXLAN device, its DHCP namespace with dnsmasq, and
# three alive agents (linuxbridge, dhcp, l3) in the API's registry.
ready=
for _ in $(seq 300); do
  if [ -n "$(ip -o link show master "brq-${wire:0:11}" type vxlan 2>/dev/null)" ] &&
    ip netns list | grep -q "^qdhcp-$wire" && [ -f "$work/gateway/dhcp/$wire/pid" ] &&
    [ "$(curl -sf -H "X-Auth-Token: $token" "$network_url/agent/v1/agents" |
      json 'sum(1 for a in d["agents"] if a["alive"])' 2>/dev/null)" = 3 ]; then
    ready=1
    break
  fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "the agents did not wire network $wire (see $work/*.log; KEEP=1 keeps them)" >&2; exit 1; }
sleep 2
l2_idle=$(kib "$l2_pid" VmRSS)
gateway_idle=$(kib "$gateway_pid" VmRSS)
ticks=$(getconf CLK_TCK)
l2_cpu=$(cpu_ticks "$l2_pid")
gateway_cpu=$(cpu_ticks "$gateway_pid")
sleep 5
l2_idle_cpu=$(awk -v a="$l2_cpu" -v b="$(cpu_ticks "$l2_pid")" -v t="$ticks" 'BEGIN {printf "%.1f", (b - a) / t / 5 * 100}')
gateway_idle_cpu=$(awk -v a="$gateway_cpu" -v b="$(cpu_ticks "$gateway_pid")" -v t="$ticks" 'BEGIN {printf "%.1f", (b - a) / t / 5 * 100}')

python3 bench/network/load.py wire "$network_url" "$token" "$wire" "$host" "$wirings" | tee -a "$work/results"
sleep 1
l2_loaded=$(kib "$l2_pid" VmRSS)
gateway_loaded=$(kib "$gateway_pid" VmRSS)
api_final=$(kib "$network_pid" VmRSS)
l2_peak=$(kib "$l2_pid" VmHWM)
gateway_peak=$(kib "$gateway_pid" VmHWM)
api_peak=$(kib "$network_pid" VmHWM)
api_split=$(split "$network_pid")
l2_split=$(split "$l2_pid")
gateway_split=$(split "$gateway_pid")

# --- teardown through the API: the agents must remove what they made ----------------------
curl -sf -o /dev/null -X DELETE -H "X-Auth-Token: $token" "$network_url/v2.0/networks/$wire"
started=$(date +%s.%N)
removed=
for _ in $(seq 150); do
  [ "$(host_state)" = "$before" ] && { removed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}'); break; }
  sleep 0.1
done
# SIGTERM: how long each agent takes to stop (systemd's TimeoutStopSec is 20 s).
stop_seconds=()
for pid in "${agent_pids[@]}"; do
  started=$(date +%s.%N)
  kill "$pid"
  wait "$pid" || true
  stop_seconds+=("$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')")
done
agent_pids=()

# --- the tables ----------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
result() { grep "^RESULT $1 " "$work/results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {r = a / b; printf (r < 10 ? "%.1f×" : "%.0f×"), r}'; }
echo
echo "$identification"
echo "load average $(cut -d' ' -f1 /proc/loadavg) at the end (other work on the machine shows in the p99s)"
echo
echo "API latency, one keep-alive connection, admin token (ms)"
echo "| operation | n | p50 | p99 | max | Neutron median (Rally, 200 nodes) | Neutron / Nimbus p50 |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row() { # name label anchor
  local line
  line=$(result "$1")
  local anchor="—" versus="—"
  if [ -n "$3" ]; then anchor="$3 ms" versus=$(ratio "$3" "$(field p50 "$line")"); fi
  echo "| $2 | $(field n "$line") | $(field p50 "$line") | $(field p99 "$line") | $(field max "$line") | $anchor | $versus |"
}
list=$(result port_list)
row network_create "network create" "$anchor_network_ms"
row subnet_create "subnet create (/24, DHCP: makes its DHCP port)" ""
row port_create "port create (on one /22)" "$anchor_port_ms"
row port_list "port list ($(field ports "$list") ports, $(($(field bytes "$list") / 1024)) KiB)" ""
row port_delete "port delete" ""
row network_delete "network delete (with its subnet and DHCP port)" ""
port_p50=$(field p50 "$(result port_create)")
echo "target: port create p50 under 5 ms: $(awk -v p="$port_p50" 'BEGIN {print (p < 5 ? "met" : "missed")}') ($port_p50 ms)"

wire_values() { # sequence key [key subtracted] → one value a line, sorted
  grep "^WIRE seq=$1 " "$work/results" | while read -r line; do
    local a b
    a=$(field "$2" "$line")
    b=${3:+$(field "$3" "$line")}
    [ "$a" = - ] || [ "${b:-0}" = - ] || echo $((a - ${b:-0}))
  done | sort -n
}
median_max() { awk '{v[NR] = $1} END {if (!NR) {print "- -"; exit}; m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%g %g\n", m, v[NR]}'; }
stage() { # label sequence key [key subtracted] [anchor]
  local median max
  read -r median max < <(wire_values "$2" "$3" "${4:-}" | median_max)
  local anchor="" versus=""
  if [ -n "${5:-}" ]; then anchor="average $5 ms (min 13, p95 1,710)" versus=$(ratio "$5" "$median"); fi
  echo "| $1 | $median ms | $max ms | $anchor | $versus |"
}
for sequence in now later; do
  echo
  if [ "$sequence" = now ]; then
    echo "port create → wired and leased, the tap right after the binding ($wirings ports, ms after POST /v2.0/ports is sent)"
  else
    echo "the tap 0.5 s after the binding, once the agent has handled it ($wirings ports, ms after POST /v2.0/ports is sent)"
  fi
  echo "| i | POST+PUT binding | netns+veth (tap) | tap plugged (L2 agent) | first DISCOVER | OFFER | leased (ACK) | DISCOVERs | busybox udhcpc check | API shows ACTIVE |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  grep "^WIRE seq=$sequence " "$work/results" | while read -r line; do
    echo "| $(field i "$line") | $(field bound "$line") | $(field veth "$line") | $(field plugged "$line") | $(field discover "$line") | $(field offer "$line") | $(field leased "$line") | $(field discovers "$line") | $(field busybox "$line") | $(field active "$line") |"
  done
done
echo
echo "| stage | median | max | anchor (OVN, ovn-heater: port bound → wired) | anchor / Nimbus median |"
echo "| --- | --- | --- | --- | --- |"
stage "tap right after the binding: POST → tap plugged" now plugged
stage "tap right after the binding: **POST → wired and leased**" now leased "" "$anchor_wired_ms"
stage "tap right after the binding: POST → API shows ACTIVE" now active
stage "tap 0.5 s after the binding: tap → plugged" later plugged veth "$anchor_wired_ms"
stage "tap 0.5 s after the binding: tap → leased" later leased veth "$anchor_wired_ms"
stage "tap 0.5 s after the binding: POST → leased" later leased
read -r now_median now_max < <(wire_values now leased | median_max)
echo "target: port wired and leased under 1 s (tap right after the binding): $(awk -v p="$now_max" -v m="$now_median" 'BEGIN {print (p < 1000 ? "met, every port" : m < 1000 ? "met by the median, not the max" : "missed")}') (median $now_median ms, max $now_max ms)"

echo
echo "memory (VmRSS, MiB)"
echo "| process | idle | after the load | of which anon / file (the executable's code) | peak (VmHWM) | CPU while idle |"
echo "| --- | --- | --- | --- | --- | --- |"
echo "| nimbus-server network | $(mib "$api_idle") | $(mib "$api_loaded") after the API load; $(mib "$api_after_deletes") after the deletes; $(mib "$api_final") at the end | $api_loaded_split after the API load; $api_split at the end | $(mib "$api_peak") | |"
echo "| nimbus-agent network-agent (L2) | $(mib "$l2_idle") | $(mib "$l2_loaded") | $l2_split | $(mib "$l2_peak") | $l2_idle_cpu % |"
echo "| nimbus-agent network-gateway (DHCP, L3) | $(mib "$gateway_idle") | $(mib "$gateway_loaded") | $gateway_split | $(mib "$gateway_peak") | $gateway_idle_cpu % |"
total=$((api_loaded + l2_loaded + gateway_loaded))
echo "all three after the load: $(mib "$total") MiB against DevStack's neutron $anchor_memory_mb MB: 1/$(awk -v t="$total" -v a="$anchor_memory_mb" 'BEGIN {printf "%.0f", a * 1e6 / (t * 1024)}')"
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k * 1024 / 1e6}'; }
verdict=met
for k in "$api_loaded" "$api_final" "$l2_loaded" "$gateway_loaded"; do [ "$((k * 1024))" -lt 30000000 ] || verdict=missed; done
echo "target: RSS under 30 MB per process after the load: $verdict (MB: API $(mb "$api_loaded") after the API load and $(mb "$api_final") at the end, L2 agent $(mb "$l2_loaded"), gateway $(mb "$gateway_loaded"); peaks $(mb "$api_peak"), $(mb "$l2_peak"), $(mb "$gateway_peak"))"
echo
echo "SIGTERM → exit: L2 agent ${stop_seconds[0]} s, gateway ${stop_seconds[1]} s"
if [ -n "$removed" ]; then
  echo "teardown: the agents removed their namespace, dnsmasq, bridge, VXLAN device and nftables tables ${removed} s after the network's delete"
else
  echo "teardown: 15 s after the network's delete the agents still had:" >&2
  diff <(echo "$before") <(host_state) >&2 || true
fi
