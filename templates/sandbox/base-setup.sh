#!/bin/sh
# Runs once inside a freshly debootstrapped sandbox base rootfs (chroot), as part of the
# base recipe: any change to this file makes `nimbus sandbox up` build a new base.
# $1: Debian packages to download for the nodes' local repository.
set -eu

# Every node gets its own machine id (at boot) and SSH host key (from nimbus).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*

# systemd-networkd manages eth0/eth1 from the files nimbus writes into each node.
mkdir -p /etc/systemd/system/multi-user.target.wants /etc/systemd/system/sockets.target.wants
ln -sf /lib/systemd/system/systemd-networkd.service \
  /etc/systemd/system/multi-user.target.wants/systemd-networkd.service
ln -sf /lib/systemd/system/systemd-networkd.socket \
  /etc/systemd/system/sockets.target.wants/systemd-networkd.socket

# chrony in a container: Debian's unit needs CAP_SYS_TIME, which nodes never get.
# chronyd -x serves and follows time without touching the clock.
mkdir -p /etc/systemd/system/chrony.service.d
cat > /etc/systemd/system/chrony.service.d/nimbus-sandbox.conf <<'UNIT'
[Unit]
ConditionCapability=

[Service]
ExecStart=
ExecStart=!/usr/sbin/chronyd $DAEMON_OPTS -x
UNIT

# sshd: only the ed25519 host key nimbus installs.
mkdir -p /etc/ssh/sshd_config.d
printf 'HostKey /etc/ssh/ssh_host_ed25519_key\nPermitRootLogin prohibit-password\n' \
  > /etc/ssh/sshd_config.d/nimbus-sandbox.conf

# Quiet, small nodes: no periodic jobs, no gettys.
for unit in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \
  console-getty.service getty@tty1.service systemd-journald-audit.socket; do
  ln -sf /dev/null "/etc/systemd/system/$unit"
done
mkdir -p /etc/systemd/journald.conf.d
printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=8M\n' > /etc/systemd/journald.conf.d/nimbus-sandbox.conf

# The packages deploy installs on nodes, fetched now into apt's cache; nimbus moves them
# into the local repository that nodes use instead of the internet.
if [ -n "${1:-}" ]; then
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only --no-install-recommends $1
fi

# Nodes have no route out: apt reads only the local repository, bind-mounted read-only.
echo 'deb [trusted=yes] file:/opt/nimbus-repo ./' > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*
mkdir -p /opt/nimbus-repo
