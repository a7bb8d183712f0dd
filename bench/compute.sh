#!/usr/bin/env bash
# Servers on an all-in-one cloud in a sandbox node ("cbench", 10.238/10.239), the guest
# image of `make guest-image` on the notes' int1 behind router1, class1 allowing TCP 22
# and ICMP, a 96 MiB flavor; the guest runs under QEMU/TCG (no KVM here):
#   1. $SEQUENTIAL servers one after another: POST → ACTIVE (polled every 50 ms), then
#      DELETE → 404; the first includes the image's download to the host.
#   2. $CONCURRENT servers created at once: each POST → ACTIVE; then $LISTS
#      GET /servers/detail with them there.
#   3. One server with a floating IP: POST → the first successful SSH command.
#   4. RSS of the compute API and agent, and libvirtd's, after the load.
# Ratios against the published anchors (reference/anchors.md: Rally, concurrency 4).
# Root only, after `make release server guest-image clients`; the sandbox is removed after.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
[ -x "$bin" ] || bin=.build/debug/nimbus
export NIMBUS_SERVER_BINARY=${NIMBUS_SERVER_BINARY:-$PWD/.build-server/release/nimbus-server}
export NIMBUS_AGENT_BINARY=${NIMBUS_AGENT_BINARY:-$PWD/.build-server/release/nimbus-agent}
image=${GUEST_IMAGE:-.build/guest-image/nimbus-guest.qcow2}
sequential=${SEQUENTIAL:-5}
concurrent=${CONCURRENT:-4}
lists=${LISTS:-50}
os=$PWD/.venv/bin/openstack
python=$PWD/.venv/bin/python
# Anchors: server create → ACTIVE median, boot + delete median, boot + floating IP + SSH
# + delete average, nova server list median; a DevStack gate node's nova memory.
anchor_active_ms=5070
anchor_boot_delete_ms=5100
anchor_ssh_ms=28400
anchor_list_ms=920
anchor_memory_mb=1950

[ "$(id -u)" = 0 ] || { echo "run as root: the sandbox needs namespaces" >&2; exit 1; }
for file in "$NIMBUS_SERVER_BINARY" "$NIMBUS_AGENT_BINARY" "$image" "$os"; do
  [ -e "$file" ] || { echo "no $file: run make release server guest-image clients" >&2; exit 1; }
done
built() { echo "$(date -r "$1" '+%F %T') sha256 $(sha256sum "$1" | cut -c1-12)"; }
dirty=
[ -z "$(git status --porcelain -- Sources Package.swift)" ] || dirty=" + uncommitted changes in Sources/"
identification="compute at $(git rev-parse --short HEAD)$dirty, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg) at the start
nimbus-server built $(built "$NIMBUS_SERVER_BINARY"), nimbus-agent built $(built "$NIMBUS_AGENT_BINARY")"

work=$(mktemp -d /tmp/nimbus-bench-compute.XXXXXX)
cleanup() {
  "$bin" sandbox down --name cbench --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$bin" sandbox up --name cbench --nodes 1 --management-network 10.238.0.0/24 --provider-network 10.239.0.0/24 \
  --answer-file "$work/answers.txt" >/dev/null
"$bin" deploy "$work/answers.txt" >"$work/deploy.log" 2>&1 || { tail -30 "$work/deploy.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$work/keystonerc_admin"
node() { "$bin" sandbox ssh --name cbench node1 "$@"; }
{
  $os network create --external --provider-network-type flat --provider-physical-network extnet ext1
  $os subnet create --network ext1 --subnet-range 10.239.0.0/24 --gateway 10.239.0.1 \
    --allocation-pool start=10.239.0.210,end=10.239.0.220 --no-dhcp ext1-subnet
  $os network create int1
  $os subnet create --network int1 --subnet-range 192.168.0.0/24 --gateway 192.168.0.254 int1-subnet
  $os router create router1
  $os router set --external-gateway ext1 router1
  $os router add subnet router1 int1-subnet
  $os security group create class1
  $os security group rule create --ingress --protocol tcp --dst-port 22 class1
  $os security group rule create --ingress --protocol icmp class1
  $os image create --disk-format qcow2 --container-format bare --public --min-ram 80 --file "$image" nimbus-guest
  $os flavor create --vcpus 1 --ram 96 --disk 1 m1.guest
  ssh-keygen -q -t ed25519 -N "" -f "$work/key"
  $os keypair create --public-key "$work/key.pub" bench-key
} >"$work/setup.log" 2>&1 || { tail -20 "$work/setup.log" >&2; exit 1; }

seq_line=$("$python" bench/compute/load.py sequential nimbus-guest m1.guest "$sequential" | grep '^RESULT')
con_line=$("$python" bench/compute/load.py concurrent nimbus-guest m1.guest "$concurrent" "$lists" | grep '^RESULT')
ssh_output=$("$python" bench/compute/load.py ssh nimbus-guest m1.guest "$work/key")
ssh_line=$(grep '^RESULT ssh' <<<"$ssh_output")
volume_line=$(grep '^RESULT volume' <<<"$ssh_output" || true)
rss() { node "awk '/VmRSS/ {print int(\$2 / 1024)}' /proc/\$(systemctl show -p MainPID --value $1)/status"; }
api_rss=$(rss nimbus-compute)
agent_rss=$(rss nimbus-compute-agent)
libvirt_rss=$(rss libvirtd)

value() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", a / b}'; }
cached=$(value "$seq_line" cached_active_p50_ms)
boot_delete=$(value "$seq_line" boot_delete_p50_ms)
con_active=$(value "$con_line" active_p50_ms)
list=$(value "$con_line" list_detail_p50_ms)
to_ssh=$(value "$ssh_line" ssh_ms)
echo "$identification"
echo "$seq_line"
echo "$con_line"
echo "$ssh_line"
echo "server create → ACTIVE, cached image, one at a time: p50 $cached ms ($(ratio $anchor_active_ms "$cached")× the Rally median $anchor_active_ms ms)"
echo "server create → ACTIVE, $concurrent at once: p50 $con_active ms ($(ratio $anchor_active_ms "$con_active")×)"
echo "boot + delete: p50 $boot_delete ms ($(ratio $anchor_boot_delete_ms "$boot_delete")× $anchor_boot_delete_ms ms)"
echo "boot → SSH through a floating IP (TCG guest): $to_ssh ms ($(ratio $anchor_ssh_ms "$to_ssh")× the VMTasks average $anchor_ssh_ms ms, which adds a delete)"
echo "server list (detail, $concurrent servers): p50 $list ms ($(ratio $anchor_list_ms "$list")× $anchor_list_ms ms)"
if [ -n "$volume_line" ]; then
  echo "$volume_line"
  echo "volume attach → /dev/vdb in the guest: $(value "$volume_line" attach_seen_ms) ms, in-use $(value "$volume_line" attach_in_use_ms) ms ($(ratio 2800 "$(value "$volume_line" attach_in_use_ms)")× Rally's attach ≈ 2.8 s); detach $(value "$volume_line" detach_ms) ms"
  echo "in the guest, 64 MiB: volume (NBD) write $(value "$volume_line" volume_write_mib_s) MiB/s, read $(value "$volume_line" volume_read_mib_s) MiB/s; local disk write $(value "$volume_line" local_write_mib_s) MiB/s, read $(value "$volume_line" local_read_mib_s) MiB/s"
  echo "RSS: block-storage API $(rss nimbus-block-storage) MiB, volume agent $(rss nimbus-volume) MiB"
fi
echo "RSS after the load: compute API $api_rss MiB, compute agent $agent_rss MiB, libvirtd $libvirt_rss MiB (DevStack's nova: $anchor_memory_mb MB)"
