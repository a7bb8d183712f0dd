#!/usr/bin/env bash
# Builds the Nimbus guest image: a small cirros-like bootable qcow2 made only from
# Debian packages (docs/guest-image.md says what is in it and why).
#
#   templates/guest-image/build.sh [OUTPUT.qcow2]     (default .build/guest-image/nimbus-guest.qcow2)
#
# The .debs are fetched once with `apt-get download` into the output's folder (debs/)
# and reused; delete that folder to take newer package versions. Nothing is mounted
# and no loop device is used: every file system is built as a plain image file. Root is
# needed only for file ownership in the images; unprivileged, the assembly runs under
# fakeroot. With the same .debs and the same host tools the image is bit-identical
# (fixed timestamps, UUIDs, salts, sorted archives); OUTPUT.manifest records both.
#
# Environment: SOURCE_DATE_EPOCH (every timestamp in the image, default 2025-01-01),
# GUEST_PASSWORD (cirros's console password, default gocubsgo, as on cirros).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
STAGE=all
if [ "${1:-}" = --assemble ]; then STAGE=assemble; shift; fi   # the fakeroot half
OUT=$(realpath -m "${1:-$REPO/.build/guest-image/nimbus-guest.qcow2}")
CACHE=$(dirname "$OUT")
DEBS=$CACHE/debs
WORK=$CACHE/work
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1735689600}
export LC_ALL=C TZ=UTC
export PATH=$PATH:/usr/sbin:/sbin    # mke2fs, sfdisk, depmod... for an unprivileged user
PASSWORD=${GUEST_PASSWORD:-gocubsgo}

# Disk layout (MiB): MBR + SYSLINUX in the first MiB, FAT16 /boot, ext4 root to the end.
DISK_MIB=128
BOOT_START_MIB=1
BOOT_MIB=24
ROOT_START_MIB=$((BOOT_START_MIB + BOOT_MIB))
ROOT_MIB=$((DISK_MIB - ROOT_START_MIB))
# Fixed identities, so that two builds are the same bytes. The guest makes its SSH host
# keys at first boot; nothing secret is in the image.
ROOT_UUID=4e494d42-5553-4775-6573-74526f6f7466
ROOT_HASH_SEED=4e494d42-5553-4775-6573-744861736821
BOOT_VOLID=4E494D42
DISK_ID=0x4e494d42
SALT=nimbusguest

# cryptomgr.notests: no crypto self-tests at boot (0.4 s under TCG). console=ttyS0 last:
# /dev/console, so init's output, is the serial port. (acpi=noirq would save another
# 0.5 s of ACPI interpretation, but this kernel then falls back to the 8259 PIC: no
# APIC, one CPU only, and the ACPI power button is lost: measured, not used.)
KERNEL_CMDLINE="root=LABEL=nimbus-root console=tty0 console=ttyS0,115200n8 quiet cryptomgr.notests"

# The Debian packages, and why each is there. The kernel meta-package is resolved to
# the versioned linux-image package it depends on.
PACKAGES=(
  linux-image-cloud-amd64              # kernel + modules (virtio, ata_piix, isofs, vfat...)
  busybox-static                       # init, sh, udhcpc, ip, free, mount, getty, wget...
  busybox                              # the login shell: its ash looks up PATH first
  dropbear-bin libtomcrypt1 libtommath1 libgmp10 libcrypt1 zlib1g  # SSH server
  sudo libaudit1 libcap-ng0 libpam0g libpam-modules libselinux1 libpcre2-8-0  # real sudo
  util-linux libblkid1 libmount1 libsmartcols1 libudev1 libuuid1 libcap2  # lsblk, blkid, mkfs
  e2fsprogs libext2fs2 libcom-err2     # mkfs.ext4, resize2fs (growroot), e2fsck
  iputils-ping libidn2-0 libunistring2 # ping for any user (busybox's needs root)
  libc6                                # glibc for all the dynamic programs above
  syslinux syslinux-common             # bootloader (MBR code, FAT installer)
)

# Programs taken from the packages (paths inside them); their shared libraries follow.
PROGRAMS=(
  bin/busybox
  usr/sbin/dropbear usr/bin/dropbearkey usr/bin/dbclient
  usr/bin/sudo usr/libexec/sudo/sudoers.so lib/x86_64-linux-gnu/security/pam_permit.so
  bin/lsblk sbin/blkid sbin/mkfs usr/bin/resizepart sbin/wipefs
  sbin/mke2fs sbin/mkfs.ext2 sbin/mkfs.ext3 sbin/mkfs.ext4 sbin/resize2fs
  sbin/e2fsck sbin/fsck.ext2 sbin/fsck.ext3 sbin/fsck.ext4 sbin/tune2fs sbin/e2label
  bin/ping bin/ping4 bin/ping6
  lib/x86_64-linux-gnu/libresolv.so.2                 # for the dynamic busybox (login shell)
  etc/mke2fs.conf
)
LIBDIRS=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu usr/libexec/sudo)

# Kernel modules. The initramfs gets the disk drivers; the root file system gets these
# and the rest rcS loads (with their dependencies, found by modinfo).
INITRAMFS_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
  virtio_blk scsi_common scsi_mod sd_mod virtio_scsi libata ata_piix ata_generic)
ROOTFS_MODULES=("${INITRAMFS_MODULES[@]}" failover net_failover virtio_net sr_mod cdrom
  isofs fat vfat nls_cp437 nls_ascii nls_utf8 virtio-rng virtio_balloon virtio_console
  button evdev)

# Files of templates/guest-image/rootfs that are programs (the rest are 0644 data).
EXECUTABLES=(etc/init.d/rcS etc/init.d/rcK etc/udhcpc/default.script etc/acpi/PWRF/00000080
  usr/sbin/nimbus-init usr/bin/curl)

T0=${T0:-$(date +%s%N)}; export T0
log() { printf '==> [%5.1f s] %s\n' "$(( ($(date +%s%N) - T0) / 1000000 ))e-3" "$*"; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

check_tools() {
  local missing=() tool pkg
  for tool in apt-get:apt dpkg-deb:dpkg qemu-img:qemu-utils mkfs.fat:dosfstools \
    mcopy:mtools sfdisk:fdisk mke2fs:e2fsprogs debugfs:e2fsprogs cpio:cpio gzip:gzip \
    readelf:binutils modinfo:kmod depmod:kmod; do
    pkg=${tool#*:}; tool=${tool%%:*}
    command -v "$tool" >/dev/null || missing+=("$pkg")
  done
  if [ "$(id -u)" != 0 ] && ! command -v fakeroot >/dev/null; then missing+=(fakeroot); fi
  [ ${#missing[@]} = 0 ] || die "missing host tools; install: apt-get install $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
}

# apt-get download whatever is not in debs/ yet (any cached version of a package is kept).
download() {
  local want=() pkg kernel
  mkdir -p "$DEBS"
  for pkg in "${PACKAGES[@]}"; do
    if [ "$pkg" = linux-image-cloud-amd64 ]; then
      compgen -G "$DEBS/linux-image-*-cloud-amd64_*.deb" >/dev/null && continue
      kernel=$(apt-cache depends "$pkg" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
      [ -n "$kernel" ] || die "apt-cache knows no $pkg (run apt-get update)"
      want+=("$kernel")
    else
      compgen -G "$DEBS/${pkg}_*.deb" >/dev/null || want+=("$pkg")
    fi
  done
  [ ${#want[@]} = 0 ] && { log "all ${#PACKAGES[@]} packages cached in $DEBS"; return; }
  log "apt-get download ${want[*]}"
  local sandbox=()
  [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
  (cd "$DEBS" && apt-get download -q "${sandbox[@]}" "${want[@]}") >/dev/null ||
    die "apt-get download failed (run apt-get update?)"
}

# The path (relative to the packages) that a packaged symlink points to, one level.
link_target() { # relative path of a symlink
  local t
  t=$(readlink "$PKG/$1")
  case "$t" in
    /*) echo "${t#/}" ;;
    *) realpath -m -s --relative-to="$PKG" "$PKG/$(dirname "$1")/$t" ;;
  esac
}

# cp one path from the extracted packages into the root, with its symlink chain.
copy_path() { # relative path
  local rel=$1
  while :; do
    [ -e "$PKG/$rel" ] || [ -L "$PKG/$rel" ] || die "no $rel in the packages"
    if [ ! -e "$ROOT/$rel" ] && [ ! -L "$ROOT/$rel" ]; then
      mkdir -p "$ROOT/$(dirname "$rel")"
      cp -a "$PKG/$rel" "$ROOT/$rel"
    fi
    [ -L "$PKG/$rel" ] || break
    rel=$(link_target "$rel")
  done
  echo "$rel"
}

find_lib() { # soname -> path relative to the packages
  local dir
  for dir in "${LIBDIRS[@]}"; do
    if [ -e "$PKG/$dir/$1" ]; then echo "$dir/$1"; return; fi
  done
  die "no library $1 in the packages (add its package to PACKAGES)"
}

# Copies the programs and, transitively, every shared library they need (NEEDED).
copy_programs() {
  local queue=("${PROGRAMS[@]}") rel file lib seen=" "
  copy_path lib64/ld-linux-x86-64.so.2 >/dev/null
  while [ ${#queue[@]} -gt 0 ]; do
    rel=${queue[0]}; queue=("${queue[@]:1}")
    case "$seen" in *" $rel "*) continue ;; esac
    seen="$seen$rel "
    file=$(copy_path "$rel")
    [ "$(head -c 4 "$PKG/$file" | tr -d '\177')" = ELF ] || continue
    for lib in $(readelf -d "$PKG/$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
      queue+=("$(find_lib "$lib")")
    done
  done
}

# Module name -> its path in the packages ("-" and "_" are the same in module names).
declare -A MODULES=()
index_modules() {
  local f n
  while read -r f; do
    n=${f##*/}; n=${n%.ko}; MODULES[${n//-/_}]=$f
  done < <(cd "$PKG" && find "lib/modules/$KVER/kernel" -name '*.ko' | sort)
}

# CLOSURE := the named modules and their dependencies (modinfo), dependencies first.
declare -A CLOSURE_SEEN=()
modules_closure() {
  CLOSURE=(); CLOSURE_SEEN=()
  local m
  for m in "$@"; do closure_add "$m"; done
}
closure_add() {
  local m=${1//-/_} dep
  [ -n "${CLOSURE_SEEN[$m]:-}" ] && return
  CLOSURE_SEEN[$m]=1
  [ -n "${MODULES[$m]:-}" ] || die "no kernel module $1 in $KVER"
  for dep in $(modinfo -F depends "$PKG/${MODULES[$m]}" | tr ',' ' '); do closure_add "$dep"; done
  CLOSURE+=("$m")
}

build_rootfs() {
  log "root file system"
  mkdir -p "$ROOT"/{bin,lib,lib64,usr/bin,usr/lib,etc/dropbear,proc,sys,dev,run,tmp,mnt,root,home/cirros,var/lib/nimbus,var/log}
  # sbin is bin: dropbear gives non-root sessions PATH=/usr/bin:/bin, and users (and
  # tests) run ip, blkid, mkfs... without sudo or a PATH of their own.
  ln -s bin "$ROOT/sbin"
  ln -s bin "$ROOT/usr/sbin"
  chmod 1777 "$ROOT/tmp"; chmod 700 "$ROOT/root"
  ln -s /run "$ROOT/var/run"
  copy_programs
  ln -s dbclient "$ROOT/usr/bin/ssh"
  # The static busybox's ash runs its own applets before anything in PATH (so "ping"
  # would be busybox's, which needs root, "mke2fs" its ext2-only one): scripts use it
  # (/bin/sh, fast to start), users get the dynamic busybox's ash (/bin/ash), which
  # finds the real programs first.
  install -D -m 0755 "$WORK/busybox-shell/bin/busybox" "$ROOT/usr/lib/nimbus/busybox-shell"
  ln -s /usr/lib/nimbus/busybox-shell "$ROOT/bin/ash"
  # busybox for everything the real programs above do not provide.
  local applet
  for applet in $("$ROOT/bin/busybox" --list-full); do
    [ "$applet" = linuxrc ] && continue
    [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
  done
  # The image's own files (templates/guest-image/rootfs).
  (cd "$HERE/rootfs" && find . -type f | sort) | while read -r f; do
    install -D -m 0644 "$HERE/rootfs/$f" "$ROOT/$f"
  done
  for f in "${EXECUTABLES[@]}"; do chmod 0755 "$ROOT/$f"; done
  chmod 0440 "$ROOT/etc/sudoers"
  local hash
  hash=$("$ROOT/bin/busybox" mkpasswd -m sha512 -S "$SALT" "$PASSWORD")
  cat > "$ROOT/etc/shadow" <<EOF
root:*:20089:0:99999:7:::
daemon:*:20089:0:99999:7:::
nobody:*:20089:0:99999:7:::
cirros:$hash:20089:0:99999:7:::
EOF
  chmod 0640 "$ROOT/etc/shadow"
  ln -s /proc/self/mounts "$ROOT/etc/mtab"
  ln -s /run/resolv.conf "$ROOT/etc/resolv.conf"
  cat > "$ROOT/etc/os-release" <<EOF
NAME="Nimbus guest"
ID=nimbus-guest
ID_LIKE=cirros
PRETTY_NAME="Nimbus guest (cirros-like, Debian $(cat "$PKG/etc/debian_version" 2>/dev/null || echo 12) packages)"
VERSION_ID=$KVER
HOME_URL="docs/guest-image.md"
EOF
  cp "$MANIFEST_PKGS" "$ROOT/etc/nimbus-guest-packages"
  # Kernel modules, with modules.dep for busybox modprobe.
  local m
  modules_closure "${ROOTFS_MODULES[@]}"
  for m in "${CLOSURE[@]}"; do copy_path "${MODULES[$m]}" >/dev/null; done
  for f in modules.builtin modules.builtin.modinfo modules.order; do
    copy_path "lib/modules/$KVER/$f" >/dev/null
  done
  depmod -b "$ROOT" "$KVER"
  chown -hR 0:0 "$ROOT"
  chown -hR 1000:1000 "$ROOT/home/cirros"
  chmod 0755 "$ROOT/home/cirros"
  chmod 4755 "$ROOT/usr/bin/sudo"   # after chown, which clears it
}

build_initramfs() {
  log "initramfs"
  local dir=$WORK/initramfs m
  mkdir -p "$dir"/{bin,dev,proc,sys,newroot,lib/modules}
  cp -a "$PKG/bin/busybox" "$dir/bin/busybox"
  for m in sh mount umount insmod findfs switch_root usleep cut cat echo; do
    ln -s busybox "$dir/bin/$m"
  done
  install -m 0755 "$HERE/initramfs-init" "$dir/init"
  modules_closure "${INITRAMFS_MODULES[@]}"
  for m in "${CLOSURE[@]}"; do cp "$PKG/${MODULES[$m]}" "$dir/lib/modules/$m.ko"; done
  mknod -m 600 "$dir/dev/console" c 5 1
  find "$dir" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  (cd "$dir" && find . | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9 -n > "$WORK/initrd.gz"
}

build_root_image() {
  log "ext4 root ($ROOT_MIB MiB)"
  find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  truncate -s "${ROOT_MIB}M" "$WORK/root.img"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH MKE2FS_CONFIG=$PKG/etc/mke2fs.conf \
    mke2fs -q -F -t ext4 -T default -b 4096 -i 16384 -m 1 -L nimbus-root -U "$ROOT_UUID" \
    -E "hash_seed=$ROOT_HASH_SEED,lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0" \
    -d "$ROOT" "$WORK/root.img"
  # mke2fs -d copies each file's ctime, which touch cannot set: fix them afterwards.
  (cd "$ROOT" && find . -mindepth 1 | sort) |
    sed "s|^\.\(.*\)|sif \1 ctime @$SOURCE_DATE_EPOCH|" > "$WORK/ctime.debugfs"
  E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH debugfs -w -f "$WORK/ctime.debugfs" "$WORK/root.img" >/dev/null 2>&1
  e2fsck -fn "$WORK/root.img" >/dev/null 2>&1 || die "e2fsck found errors in the root image"
}

build_boot_image() {
  log "FAT16 /boot ($BOOT_MIB MiB) with SYSLINUX"
  local f
  sed "s|@APPEND@|$KERNEL_CMDLINE|" "$HERE/syslinux.cfg" > "$WORK/syslinux.cfg"
  cp "$PKG/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
  for f in vmlinuz initrd.gz syslinux.cfg; do touch -d "@$SOURCE_DATE_EPOCH" "$WORK/$f"; done
  mkfs.fat -F 16 -n NIMBUSBOOT -i "$BOOT_VOLID" --invariant -C "$WORK/boot.img" $((BOOT_MIB * 1024)) >/dev/null
  MTOOLS_SKIP_CHECK=1 mcopy -m -i "$WORK/boot.img" "$WORK/vmlinuz" "$WORK/initrd.gz" "$WORK/syslinux.cfg" ::/
  MTOOLS_SKIP_CHECK=1 "$PKG/usr/bin/syslinux" --install "$WORK/boot.img"
}

build_disk() {
  log "disk: MBR, /boot at ${BOOT_START_MIB} MiB, root at ${ROOT_START_MIB} MiB, ${DISK_MIB} MiB in all"
  local raw=$WORK/disk.raw
  truncate -s "${DISK_MIB}M" "$raw"
  sfdisk -q --no-reread --no-tell-kernel "$raw" >/dev/null <<EOF
label: dos
label-id: $DISK_ID
unit: sectors
start=$((BOOT_START_MIB * 2048)), size=$((BOOT_MIB * 2048)), type=6, bootable
start=$((ROOT_START_MIB * 2048)), size=$((ROOT_MIB * 2048)), type=83
EOF
  dd if="$PKG/usr/lib/SYSLINUX/mbr.bin" of="$raw" bs=440 count=1 conv=notrunc status=none
  dd if="$WORK/boot.img" of="$raw" bs=1M seek="$BOOT_START_MIB" conv=notrunc status=none
  dd if="$WORK/root.img" of="$raw" bs=1M seek="$ROOT_START_MIB" conv=notrunc status=none
  log "qcow2"
  # Not compressed (-c): the BIOS reads the 14 MB kernel through int 13h, and from
  # compressed clusters that took 4.5 s more under TCG. One coroutine (-m 1): the
  # clusters are written in order, so the file is reproducible.
  qemu-img convert -q -f raw -O qcow2 -m 1 "$raw" "$OUT.tmp"
  mv "$OUT.tmp" "$OUT"
}

write_manifest() {
  local sum
  sum=$(sha256sum "$OUT" | cut -d' ' -f1)
  {
    echo "# Nimbus guest image: $(basename "$OUT")"
    echo "sha256 $sum"
    echo "size $(stat -c %s "$OUT")"
    echo "virtual_size $((DISK_MIB * 1048576))"
    echo "kernel $KVER"
    echo "kernel_cmdline $KERNEL_CMDLINE"
    echo "source_date_epoch $SOURCE_DATE_EPOCH"
    echo "# host tools (another version may give other bytes): package version"
    dpkg-query -W -f 'tool ${Package} ${Version}\n' e2fsprogs dosfstools mtools fdisk \
      qemu-utils cpio gzip kmod 2>/dev/null || true
    echo "# packages: name version sha256"
    cat "$MANIFEST_PKGS"
  } > "$OUT.manifest"
  echo "$sum  $(basename "$OUT")" > "$OUT.sha256"
}

assemble() {
  PKG=$WORK/pkgs
  ROOT=$WORK/rootfs
  MANIFEST_PKGS=$WORK/packages.txt
  rm -rf "$WORK"
  mkdir -p "$PKG" "$ROOT"
  local deb pkg
  : > "$MANIFEST_PKGS"
  for pkg in "${PACKAGES[@]}"; do
    [ "$pkg" = linux-image-cloud-amd64 ] && pkg='linux-image-*-cloud-amd64'
    deb=$(find "$DEBS" -name "${pkg}_*.deb" | sort -V | tail -n 1)
    [ -n "$deb" ] || die "no $pkg in $DEBS"
    # busybox has the same /bin/busybox as busybox-static: unpacked apart.
    if [ "$pkg" = busybox ]; then dpkg-deb -x "$deb" "$WORK/busybox-shell"
    else dpkg-deb -x "$deb" "$PKG"; fi
    printf '%s %s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" \
      "$(sha256sum "$deb" | cut -d' ' -f1)" >> "$MANIFEST_PKGS"
  done
  log "unpacked ${#PACKAGES[@]} packages"
  KVER=$(ls "$PKG/lib/modules")
  [ "$(echo "$KVER" | wc -w)" = 1 ] || die "expected one kernel in $DEBS, found: $KVER"
  index_modules
  build_rootfs
  build_initramfs
  build_root_image
  build_boot_image
  build_disk
  write_manifest
  rm -rf "$WORK"
}

if [ "$STAGE" = assemble ]; then assemble; exit; fi

start=$(date +%s.%N)
check_tools
mkdir -p "$CACHE"
download
if [ "$(id -u)" = 0 ]; then
  assemble
else
  log "not root: assembling under fakeroot"
  fakeroot -- "$BASH" "$0" --assemble "$OUT"
fi
end=$(date +%s.%N)
log "$OUT: $(stat -c %s "$OUT") bytes (virtual $DISK_MIB MiB), built in $(awk "BEGIN {printf \"%.1f\", $end - $start}") s"
