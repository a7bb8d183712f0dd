#!/usr/bin/env bash
# Boots the Nimbus guest image under QEMU/TCG the way the compute agent will (machine
# pc, virtio disk and NIC, config drive on the IDE CD-ROM, serial console to a file)
# and prints how long it takes to reach the serial login prompt and the first
# successful SSH command, for each RAM size, RUNS times, with the medians.
#
#   templates/guest-image/boot-test.sh [IMAGE]      (default .build/guest-image/nimbus-guest.qcow2)
#
# Environment: MEMS (MiB, default "64 96 128"), RUNS (default 3), TIMEOUT (s per boot,
# default 60), RNG (1: a virtio-rng device, as the compute agent should attach; 0: none),
# CONFIG_DRIVE (cdrom: IDE CD-ROM, ISO 9660, the default; virtio: a VFAT virtio disk;
# none: no drive, the same files served as the metadata service at 169.254.169.254),
# MACHINE (pc, the default; q35 needs CONFIG_DRIVE=virtio: the kernel has no AHCI),
# KEEP (1: keep the work folder). Needs qemu-system-x86, qemu-utils, genisoimage,
# dosfstools, mtools, openssh-client. Touches nothing but a temporary folder and
# loopback ports.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGE=$(realpath "${1:-$HERE/../../.build/guest-image/nimbus-guest.qcow2}")
MEMS=${MEMS:-64 96 128}
RUNS=${RUNS:-3}
TIMEOUT=${TIMEOUT:-60}
RNG=${RNG:-1}
CONFIG_DRIVE=${CONFIG_DRIVE:-cdrom}
MACHINE=${MACHINE:-pc}
HOSTNAME_WANT=nimbus-boot-test
CHECK_CMD='id; hostname; free; lsblk; ip a; sudo id; blkid -L config-2; curl --version; mkfs.ext4 -V || true'

[ -f "$IMAGE" ] || { echo "boot-test.sh: no image $IMAGE (make guest-image)" >&2; exit 1; }
for tool in qemu-system-x86_64 qemu-img genisoimage mkfs.fat mcopy ssh ssh-keygen; do
  command -v "$tool" >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v "$tool" >/dev/null ||
    { echo "boot-test.sh: $tool is missing" >&2; exit 1; }
done

DIR=$(mktemp -d /tmp/nimbus-boot-test.XXXXXX)
QEMU_PID=
cleanup() {
  [ -n "$QEMU_PID" ] && kill "$QEMU_PID" 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# A throwaway key pair and a config drive as nova makes one (same mkisofs flags).
ssh-keygen -q -t ed25519 -N '' -C boot-test -f "$DIR/key"
mkdir -p "$DIR/cd/openstack/latest"
pub=$(cat "$DIR/key.pub")
cat > "$DIR/cd/openstack/latest/meta_data.json" <<EOF
{"uuid": "5d7e3b0c-9a52-4c1e-8f3b-2a6d1c0e9f47", "hostname": "$HOSTNAME_WANT.novalocal",
 "name": "$HOSTNAME_WANT", "launch_index": 0, "availability_zone": "nova",
 "project_id": "boot-test", "public_keys": {"boot-test": "$pub\n"},
 "keys": [{"name": "boot-test", "type": "ssh", "data": "$pub\n"}], "meta": {}, "devices": []}
EOF
echo '{"links": [], "networks": [], "services": []}' > "$DIR/cd/openstack/latest/network_data.json"
printf '#!/bin/sh\necho user-data-ran > /run/user-data-marker\n' > "$DIR/cd/openstack/latest/user_data"
NET=user,id=n0
if [ "$CONFIG_DRIVE" = none ]; then
  # A metadata service: QEMU's user network on 169.254.169.0/24, a guestfwd to
  # 169.254.169.254:80 that runs this HTTP/1.0 responder once per connection.
  cat > "$DIR/metadata.sh" <<'EOF'
#!/bin/bash
read -r _ path _
path=${path%$'\r'}
while read -r line && [ -n "${line%$'\r'}" ]; do :; done
f="$(dirname "$0")/cd/${path#/}"
if [ -f "$f" ] && [[ $path != *..* ]]; then
  printf 'HTTP/1.0 200 OK\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$(stat -c %s "$f")"
  cat "$f"
else
  printf 'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
fi
EOF
  chmod +x "$DIR/metadata.sh"
  NET="$NET,net=169.254.169.0/24,host=169.254.169.2,dhcpstart=169.254.169.15"
  NET="$NET,guestfwd=tcp:169.254.169.254:80-cmd:$DIR/metadata.sh"
  CD_ARGS=()
elif [ "$CONFIG_DRIVE" = virtio ]; then
  mkfs.fat -n config-2 -C "$DIR/config.img" 1024 >/dev/null 2>&1
  MTOOLS_SKIP_CHECK=1 mcopy -s -i "$DIR/config.img" "$DIR/cd/openstack" ::/
  CD_ARGS=(-drive "file=$DIR/config.img,if=virtio,format=raw,readonly=on")
else
  genisoimage -quiet -o "$DIR/config.iso" -ldots -allow-lowercase -allow-multidot -l -J -r \
    -V config-2 "$DIR/cd" 2>/dev/null
  CD_ARGS=(-cdrom "$DIR/config.iso")
fi
RNG_ARGS=()
# shellcheck disable=SC2054 # QEMU's own comma-separated options
[ "$RNG" = 1 ] && RNG_ARGS=(-object rng-random,id=rng0,filename=/dev/urandom -device virtio-rng-pci,rng=rng0)
SSH_OPTS=(-i "$DIR/key" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ConnectTimeout=2)

echo "image: $IMAGE ($(stat -c %s "$IMAGE") bytes)"
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); $(qemu-system-x86_64 --version | head -n 1)"
echo "qemu: -accel tcg -machine $MACHINE -cpu qemu64 -smp 1, virtio disk + virtio-net (user, hostfwd), config drive $CONFIG_DRIVE, rng $RNG"
printf '%-6s %-4s %-10s %-10s %s\n' MiB run login_s ssh_s result

# One boot: sets T_LOGIN, T_SSH (a dash when not reached) and RESULT.
boot() { # mem run
  local mem=$1 run=$2 port mon t0 t_login=- t_ssh=- result=timeout out
  port=$(free_port); mon=$(free_port)
  rm -f "$DIR/disk.qcow2" "$DIR/console.log"
  qemu-img create -q -f qcow2 -F qcow2 -b "$IMAGE" "$DIR/disk.qcow2" 1G
  t0=$(now)
  qemu-system-x86_64 -accel tcg -machine "$MACHINE" -cpu qemu64 -m "$mem" -smp 1 -no-reboot \
    -display none -serial "file:$DIR/console.log" -monitor "tcp:127.0.0.1:$mon,server=on,wait=off" \
    -drive "file=$DIR/disk.qcow2,if=virtio,format=qcow2" "${CD_ARGS[@]}" "${RNG_ARGS[@]}" \
    -netdev "$NET,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 \
    > "$DIR/qemu.log" 2>&1 &
  QEMU_PID=$!
  while :; do
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then result="qemu exited"; break; fi
    if [ "$t_login" = - ] && grep -aq "login: " "$DIR/console.log" 2>/dev/null; then
      t_login=$(elapsed "$t0" "$(now)")
    fi
    if out=$(ssh "${SSH_OPTS[@]}" -p "$port" cirros@127.0.0.1 "$CHECK_CMD" 2>/dev/null); then
      t_ssh=$(elapsed "$t0" "$(now)"); result=ok; break
    fi
    [ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -ge "$TIMEOUT" ] && break
    sleep 0.2
  done
  if [ "$result" = ok ]; then
    [ "$t_login" = - ] && grep -aq "login: " "$DIR/console.log" && t_login=$(elapsed "$t0" "$(now)")
    echo "$out" > "$DIR/ssh-$mem-$run.out"
    check "$out" "$port" || result="ok, but: $CHECK_PROBLEMS"
    if [ "$run" = 1 ]; then
      # A clean ACPI shutdown, as "openstack server stop" asks for one.
      local t_off
      t_off=$(now)
      # (The monitor drops a command whose connection closes at once: keep it open.)
      { exec 7<>"/dev/tcp/127.0.0.1/$mon" && echo system_powerdown >&7 && sleep 0.5; exec 7>&-; } 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$QEMU_PID" 2>/dev/null && SHUTDOWN="no poweroff within 10 s" ||
        SHUTDOWN="ACPI poweroff in $(elapsed "$t_off" "$(now)") s"
    fi
  else
    local why
    why=$(tr -d '\r' < "$DIR/console.log" 2>/dev/null | grep -aE 'Kernel panic|Out of memory|deadlocked|nimbus-init' | tail -n 1 || true)
    [ -n "$why" ] && result="$result; last console line: ${why:0:90}"
    [ -s "$DIR/console.log" ] || result="$result; console empty"
  fi
  kill "$QEMU_PID" 2>/dev/null || true
  wait "$QEMU_PID" 2>/dev/null || true
  QEMU_PID=
  cp "$DIR/console.log" "$DIR/console-$mem-$run.log" 2>/dev/null || true
  T_LOGIN=$t_login T_SSH=$t_ssh RESULT=$result
}

# What the SSH output must show.
check() { # output port
  CHECK_PROBLEMS=
  grep -q "^uid=1000(cirros)" <<<"$1" || CHECK_PROBLEMS+=" id"
  grep -qx "$HOSTNAME_WANT" <<<"$1" || CHECK_PROBLEMS+=" hostname"
  grep -q "^uid=0(root)" <<<"$1" || CHECK_PROBLEMS+=" sudo"
  [ "$CONFIG_DRIVE" = none ] || grep -qE "^/dev/(sr0|vd[b-z])$" <<<"$1" || CHECK_PROBLEMS+=" blkid"
  grep -q "^Mem:" <<<"$1" || CHECK_PROBLEMS+=" free"
  grep -q "disk" <<<"$1" || CHECK_PROBLEMS+=" lsblk"
  grep -qE "inet (10.0.2|169.254.169).15/24" <<<"$1" || CHECK_PROBLEMS+=" ip/dhcp"
  grep -q "^curl " <<<"$1" || CHECK_PROBLEMS+=" curl"
  ssh "${SSH_OPTS[@]}" -p "$2" cirros@127.0.0.1 'mkfs.ext4 -V 2>&1' 2>/dev/null | grep -q "^mke2fs 1" ||
    CHECK_PROBLEMS+=" mkfs"
  ssh "${SSH_OPTS[@]}" -p "$2" root@127.0.0.1 id 2>/dev/null | grep -q "^uid=0(root)" ||
    CHECK_PROBLEMS+=" root-key"
  ssh "${SSH_OPTS[@]}" -p "$2" cirros@127.0.0.1 'cat /run/user-data-marker' 2>/dev/null |
    grep -q user-data-ran || CHECK_PROBLEMS+=" user_data"
  [ -z "$CHECK_PROBLEMS" ]
}

declare -A LOGIN SSHT OK TRIED
SHUTDOWN="not tried"
smallest=
for mem in $MEMS; do
  for run in $(seq 1 "$RUNS"); do
    boot "$mem" "$run"
    printf '%-6s %-4s %-10s %-10s %s\n' "$mem" "$run" "$T_LOGIN" "$T_SSH" "$RESULT"
    LOGIN[$mem]+="$T_LOGIN "; SSHT[$mem]+="$T_SSH "
    [ "$T_SSH" = - ] || OK[$mem]=$((${OK[$mem]:-0} + 1))
    TRIED[$mem]=$run
    # A RAM size whose first boot fails (64 MiB: every time) is not tried again.
    [ "$T_SSH" = - ] && [ "$run" = 1 ] && break
  done
done

median() { tr ' ' '\n' | { grep -v '^-*$' || true; } | sort -n | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
printf '%-6s %-16s %-16s %s\n' MiB login_median_s ssh_median_s reached_ssh
for mem in $MEMS; do
  printf '%-6s %-16s %-16s %s\n' "$mem" "$(median <<<"${LOGIN[$mem]}")" \
    "$(median <<<"${SSHT[$mem]}")" "${OK[$mem]:-0}/${TRIED[$mem]}"
  [ -z "$smallest" ] && [ "${OK[$mem]:-0}" = "${TRIED[$mem]}" ] && smallest=$mem
done
echo "smallest RAM at which every boot reached SSH: ${smallest:-none} MiB"
echo "shutdown: $SHUTDOWN"
first=$(find "$DIR" -name 'ssh-*-1.out' | sort -t- -k2 -n | head -n 1)
if [ -n "$first" ]; then
  echo; echo "SSH output of the first successful boot ($(basename "$first")):"; sed 's/^/  /' "$first"
fi
