#!/bin/sh
# The instance `make demo` ends with: as the demo user (keystonerc_demo), a key pair
# `demo-key` (its private key in .build/demo/), SSH and ping allowed by the demo project's
# default security group, `demo-vm` on `private` (image cirros, flavor m1.micro), a floating
# IP from `public`; then waits until SSH answers and prints the one command that logs in.
# Everything is looked up first, so a second run changes nothing and prints the same.
#   scripts/demo-instance.sh [DIR-WITH-keystonerc_demo]
set -eu
DIR=${1:-.}
OPENSTACK=${OPENSTACK:-.venv/bin/openstack}
KEY=${DEMO_KEY:-.build/demo/id_ed25519}
SERVER=demo-vm
IMAGE=${DEMO_IMAGE:-cirros}
FLAVOR=${DEMO_FLAVOR:-m1.micro}
LOGIN=${DEMO_USER:-cirros}

[ -r "$DIR/keystonerc_demo" ] || { echo "no $DIR/keystonerc_demo: deploy with CONFIG_PROVISION_DEMO=y first" >&2; exit 1; }
. "$DIR/keystonerc_demo"
os() { "$OPENSTACK" "$@"; }

if [ ! -f "$KEY" ]; then
  mkdir -p "$(dirname "$KEY")"
  ssh-keygen -q -t ed25519 -N '' -C demo-key -f "$KEY"
fi
os keypair show demo-key >/dev/null 2>&1 || os keypair create --public-key "$KEY.pub" demo-key >/dev/null

rules=$(os security group rule list default --ingress -f value -c "IP Protocol" -c "Port Range")
echo "$rules" | grep -q '^tcp 22:22' || os security group rule create --protocol tcp --dst-port 22 default >/dev/null
echo "$rules" | grep -q '^icmp' || os security group rule create --protocol icmp default >/dev/null

if ! os server show "$SERVER" -f value -c id >/dev/null 2>&1; then
  echo "==> booting $SERVER ($IMAGE, $FLAVOR) on private"
  os server create --image "$IMAGE" --flavor "$FLAVOR" --network private --key-name demo-key --wait "$SERVER" >/dev/null
fi
status=$(os server show "$SERVER" -f value -c status)
[ "$status" = ACTIVE ] || { echo "$SERVER is $status, not ACTIVE" >&2; os server show "$SERVER" -f value -c fault >&2; exit 1; }

port=$(os port list --server "$SERVER" -f value -c ID | head -n1)
address=$(os floating ip list --port "$port" -f value -c "Floating IP Address" | head -n1)
if [ -z "$address" ]; then
  address=$(os floating ip create public -f value -c floating_ip_address)
  os server add floating ip "$SERVER" "$address"
fi

ssh_opts="-i $KEY -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
echo "==> waiting for $SERVER's SSH at $address"
tries=0
until ssh $ssh_opts -o LogLevel=ERROR -o ConnectTimeout=5 -o BatchMode=yes "$LOGIN@$address" true 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "$SERVER does not answer SSH at $address after 5 minutes; its console:" >&2
    os console log show --lines 30 "$SERVER" >&2 || true
    exit 1
  fi
  sleep 5
done
echo
echo "$SERVER is running, its floating IP $address. Log into it (password login: gocubsgo):"
echo "  ssh $ssh_opts $LOGIN@$address"
