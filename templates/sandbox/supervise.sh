#!/bin/sh
# Supervises one sandbox node: makes its network namespace and veths, runs systemd-nspawn,
# and starts it again (with a fresh namespace) after an in-node reboot, which makes nspawn
# exit with 133. SIGTERM powers the node off cleanly and removes its network.
# Started detached by `nimbus sandbox up` as: setsid -f /bin/sh supervise.sh NODE.env
set -u
. "$1"

log() { echo "$(date '+%F %T') $*" >> "$NODE_DIR/supervisor.log"; }

# Deleting a namespace finishes asynchronously: wait until its veths are gone.
wait_gone() {
  n=0
  while ip link show "$1" >/dev/null 2>&1; do
    n=$((n + 1))
    if [ "$n" -ge 100 ]; then ip link del "$1" 2>/dev/null; return 0; fi
    sleep 0.05
  done
}

net_down() {
  if ip netns del "$NETNS" 2>/dev/null; then
    wait_gone "$VETH_M"
    wait_gone "$VETH_P"
  fi
  # Veths left without their namespace (a crash between the two): remove them now.
  ip link del "$VETH_M" 2>/dev/null
  ip link del "$VETH_P" 2>/dev/null
  return 0
}

net_up() {
  net_down
  ip netns add "$NETNS" &&
    ip link add "$VETH_M" type veth peer name eth0 address "$MAC_M" netns "$NETNS" &&
    ip link add "$VETH_P" type veth peer name eth1 address "$MAC_P" netns "$NETNS" &&
    ip link set "$VETH_M" master "$BRIDGE_M" up &&
    ip link set "$VETH_P" master "$BRIDGE_P" up &&
    ip -n "$NETNS" link set lo up
}

stop=0
child=""
trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT
echo $$ > "$NODE_DIR/supervisor.pid"
log "supervisor $$ starting $NODE"

while [ "$stop" -eq 0 ]; do
  if ! net_up >> "$NODE_DIR/supervisor.log" 2>&1; then
    log "network setup failed"
    break
  fi
  # The console goes to console.log: with --console=passive nobody reads its pseudo TTY,
  # and once its buffer is full the node's systemd blocks writing a status line (a
  # shutdown with many units, libvirt's, never ended).
  SYSTEMD_NSPAWN_API_VFS_WRITABLE=network systemd-nspawn --quiet --register=no --keep-unit \
    --boot --console=read-only --network-namespace-path="/run/netns/$NETNS" --resolv-conf=off \
    --link-journal=no --timezone=off --capability=CAP_NET_ADMIN --directory="$ROOT" \
    --hostname="$NODE" --machine="$NETNS" --bind-ro="$REPO:/opt/nimbus-repo" \
    > "$NODE_DIR/console.log" 2>&1 &
  child=$!
  echo "$child" > "$NODE_DIR/nspawn.pid"
  status=0
  wait "$child" || status=$?
  # A signal interrupts wait; wait again for nspawn's own exit status.
  while kill -0 "$child" 2>/dev/null; do
    status=0
    wait "$child" || status=$?
  done
  child=""
  log "systemd-nspawn exited with $status"
  [ "$status" -eq 133 ] && [ "$stop" -eq 0 ] && continue
  break
done

rm -f "$NODE_DIR/nspawn.pid"
net_down
log "supervisor $$ stopped"
rm -f "$NODE_DIR/supervisor.pid"
