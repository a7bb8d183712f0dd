#!/bin/bash
# Runs Tempest 47 (from .venv-tempest, `make clients`) against a Nimbus cloud.
#   Tests/Tempest/run.sh KEYSTONERC WORKSPACE [tempest run arguments…]
# Writes WORKSPACE/etc/tempest.conf from the keystonerc's admin credentials: dynamic
# credentials, only the services Nimbus carries out so far (identity, image, object
# storage, network when the cloud has an external network, compute when asked, block
# storage when its volume services are up), and the object storage
# middleware and network extensions it implements (the rest is declared off, so Tempest
# skips those tests instead of failing them).
set -euo pipefail
rc=$1 workspace=$2
shift 2
tempest=${TEMPEST:-$(cd "$(dirname "$0")/../.." && pwd)/.venv-tempest/bin/tempest}
# shellcheck disable=SC1090
. "$rc"
# A plain directory, not a `tempest init` workspace: nothing is registered in
# ~/.tempest, so runs from different checkouts never collide.
mkdir -p "$workspace/etc" "$workspace/logs"
openstack=${OPENSTACK:-$(cd "$(dirname "$0")/../.." && pwd)/.venv/bin/openstack}
# The network service is tested when the cloud has one, with an external network
# (Tempest's public network) and exactly the extensions it advertises.
neutron=false public_network= extensions=
if public_network=$("$openstack" network list --external -f value -c ID 2>/dev/null | head -n 1) &&
  [ -n "$public_network" ]; then
  neutron=true
  extensions=$("$openstack" extension list --network -f value -c Alias | paste -sd, -)
fi
# The compute service, when asked for (TEMPEST_COMPUTE=1) and the cloud has the guest
# image `nimbus-guest` and the flavor `m1.guest` (the all-in-one walk-through makes them);
# Tempest's projects then get their own networks and routers.
nova=false image_ref= flavor_ref= isolated=false
if [ "${TEMPEST_COMPUTE:-}" = 1 ] &&
  image_ref=$("$openstack" image show nimbus-guest -f value -c id 2>/dev/null) &&
  flavor_ref=$("$openstack" flavor show m1.guest -f value -c id 2>/dev/null); then
  nova=true isolated=true
fi
# The block-storage service, when its volume services are up.
cinder=false
if "$openstack" volume service list -f value -c Binary -c State 2>/dev/null | grep -q '^cinder-volume up$'; then
  cinder=true
  # Volumes from an image: the guest image when the cloud has it.
  [ -n "$image_ref" ] || image_ref=$("$openstack" image show nimbus-guest -f value -c id 2>/dev/null || true)
fi
image=$workspace/etc/tiny.img
[ -f "$image" ] || head -c 1048576 /dev/urandom > "$image"
cat > "$workspace/etc/tempest.conf" <<CONF
[DEFAULT]
log_dir = $workspace/logs
[auth]
admin_username = $OS_USERNAME
admin_password = $OS_PASSWORD
admin_project_name = $OS_PROJECT_NAME
admin_domain_name = Default
use_dynamic_credentials = true
create_isolated_networks = $isolated
[identity]
uri_v3 = $OS_AUTH_URL
auth_version = v3
region = $OS_REGION_NAME
[identity-feature-enabled]
trust = false
application_credentials = false
access_rules = false
project_tags = false
security_compliance = false
[service_available]
keystone = true
glance = true
swift = true
nova = $nova
neutron = $neutron
cinder = $cinder
horizon = false
placement = false
[image]
image_path = file://$image
http_image = file://$image
[image-feature-enabled]
import_image = false
os_glance_reserved = true
manage_locations = false
[object-storage]
operator_role = member
reseller_admin_role = ResellerAdmin
[object-storage-feature-enabled]
discoverability = true
discoverable_apis = slo,account_quotas,container_quotas
container_sync = false
object_versioning = false
[compute]
image_ref = $image_ref
image_ref_alt = $image_ref
flavor_ref = $flavor_ref
flavor_ref_alt = $flavor_ref
min_compute_nodes = 1
build_timeout = 180
[compute-feature-enabled]
console_output = true
config_drive = true
metadata_service = false
resize = false
cold_migration = false
live_migration = false
vnc_console = false
spice_console = false
serial_console = false
rescue = false
suspend = false
pause = false
shelve = false
snapshot = false
interface_attach = false
change_password = false
personality = false
attach_encrypted_volume = false
block_migration_for_live_migration = false
[volume]
catalog_type = block-storage
min_microversion = 3.0
max_microversion = 3.71
build_timeout = 120
volume_size = 1
[volume-feature-enabled]
backup = false
snapshot = true
clone = true
manage_snapshot = false
manage_volume = false
extend_attached_volume = false
extend_attached_encrypted_volume = false
extend_volume_with_snapshot = false
volume_revert = false
cluster_active_active = false
[network]
public_network_id = $public_network
project_network_cidr = 10.100.0.0/16
project_network_mask_bits = 28
[network-feature-enabled]
ipv6 = true
ipv6_subnet_attributes = true
api_extensions = $extensions
floating_ips = true
port_admin_state_change = true
port_security = true
[enforce_scope]
neutron = false
[validation]
run_validation = false
CONF
cd "$workspace"
exec "$tempest" run --config-file "$workspace/etc/tempest.conf" "$@"
