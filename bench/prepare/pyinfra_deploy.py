# The host preparation `nimbus deploy` does, as a pyinfra deploy, for bench/deploy.sh.
# Host data (bench/deploy.sh writes the inventory): controller, network_host,
# management_subnet, provider_address, names (address -> hostname of every host).
from io import StringIO

from pyinfra import host
from pyinfra.operations import apt, files, server, systemd

data = host.data
if host.name == data.controller:
    chrony = "local stratum 10\nallow %s\n" % data.management_subnet
else:
    chrony = "server %s iburst\n" % data.controller
chrony += "driftfile /var/lib/chrony/chrony.drift\nmakestep 1.0 3\nrtcsync\n"

apt.packages(name="chrony installed", packages=["chrony"])
conf = files.put(name="chrony.conf", src=StringIO(chrony), dest="/etc/chrony/chrony.conf", mode="644")
systemd.service(name="chrony running", service="chrony.service", running=True, enabled=True, restarted=conf.changed)
systemd.service(name="firewall off", service="nftables.service", running=False, enabled=False)
files.block(
    name="/etc/hosts block",
    path="/etc/hosts",
    content="\n".join("%s %s" % (address, name) for address, name in data.names),
    marker="# {mark} NIMBUS hosts",
)
files.put(name="br_netfilter at boot", src=StringIO("br_netfilter\n"), dest="/etc/modules-load.d/nimbus.conf")
files.put(
    name="sysctl file",
    src=StringIO(
        "net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nnet.bridge.bridge-nf-call-ip6tables = 1\n"
    ),
    dest="/etc/sysctl.d/90-nimbus.conf",
)
for key in ["net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"]:
    server.sysctl(name=key, key=key, value=1)

if host.name == data.network_host:
    files.put(
        name="br-ex netdev",
        src=StringIO("[NetDev]\nName=br-ex\nKind=bridge\n"),
        dest="/etc/systemd/network/05-nimbus-br-ex.netdev",
    )
    files.put(
        name="br-ex network",
        src=StringIO(
            "[Match]\nName=br-ex\n\n[Network]\nAddress=%s\nLinkLocalAddressing=no\nConfigureWithoutCarrier=yes\n"
            % data.provider_address
        ),
        dest="/etc/systemd/network/05-nimbus-br-ex.network",
    )
    files.put(
        name="eth1 on br-ex",
        src=StringIO("[Match]\nName=eth1\n\n[Network]\nBridge=br-ex\nLinkLocalAddressing=no\n"),
        dest="/etc/systemd/network/05-nimbus-eth1.network",
    )
    # pyinfra's shell operation always counts as a change; the guard keeps it idempotent.
    server.shell(
        name="br-ex applied",
        commands=[
            '[ "$(basename "$(readlink /sys/class/net/eth1/master)")" = br-ex ] && '
            'ip -o addr show dev br-ex | grep -qF " %s " || '
            "{ networkctl reload && networkctl reconfigure eth1 && ip -4 addr flush dev eth1 scope global && "
            "networkctl reconfigure br-ex; }" % data.provider_address
        ],
    )
