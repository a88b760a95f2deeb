#!/bin/bash
# build-guest.sh -- builds the tiny test guest the integration tests boot:
# a Debian kernel and a busybox initramfs whose /init is tests/vm/guest-init.
#
#   tests/vm/build-guest.sh [CACHE_DIR]        (default: tests/vm/cache)
#
# Outputs, in CACHE_DIR:
#   vmlinuz          the Debian kernel (linux-image-<version>-amd64)
#   vmlinux          the same kernel decompressed (an ELF with a PVH entry
#                    point): QEMU boots it directly, which under TCG saves
#                    about 6 s of xz decompression per boot
#   initrd.img       busybox-static + guest-init + the virtio-net/pktgen
#                    modules + vu-channels (vu-channels.c, built here with
#                    gcc -static: busybox has no ethtool), for QEMU guests
#
# Idempotent and cheap when nothing changed: the kernel is fetched once
# (`apt-get download` of the exact package linux-image-amd64 depends on,
# then `dpkg -x`; it is never installed on the host) and the initramfs is
# rebuilt only when guest-init, vu-channels.c, this script, the kernel or
# busybox changed.
# Concurrent callers (make check -j) serialise on CACHE_DIR/.lock.
#
# Needs: apt-get, dpkg, busybox-static, cpio, gzip, flock, gcc and glibc's
# static libc.a (libc6-dev) (tests/install-deps.sh).
# Creating /dev/console in the image needs root; without it the guest's
# /init reopens the console itself.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${1:-$here/cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Modules the QEMU guest loads, in load order (see guest-init).
QEMU_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
              virtio_pci failover net_failover virtio_net pktgen"

log() { echo "build-guest: $*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in apt-cache apt-get dpkg cpio gzip xz flock sha256sum od gcc; do
    command -v "$tool" >/dev/null || die "$tool not found (run tests/install-deps.sh)"
done
[ -x /bin/busybox ] || die "/bin/busybox not found (apt-get install busybox-static)"
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static /bin/busybox || die "/bin/busybox is not static (install busybox-static)"

exec 9>"$cache/.lock"
flock 9

# ---- kernel ---------------------------------------------------------------

# The exact kernel package linux-image-amd64 points to, e.g.
# linux-image-6.1.0-56-amd64 (never a wildcard: that would fetch dozens).
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

fetch_kernel() {
    local pkg=$1 tmp deb kdir
    tmp=$(mktemp -d "$cache/kernel.tmp.XXXXXX")
    # apt's sandbox user must be able to write the .deb.
    chmod 755 "$tmp"
    log "downloading $pkg"
    if ! (cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then
        log "apt-get download failed; refreshing the package lists once"
        apt-get update -q >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download -q "$pkg" >/dev/null) ||
            { rm -rf "$tmp"; die "cannot download $pkg"; }
    fi
    deb=$(ls "$tmp"/*.deb)
    log "extracting $(basename "$deb")"
    dpkg -x "$deb" "$tmp/x"
    kdir=$(find "$tmp/x" -type d -path '*/lib/modules/*' -name kernel | head -n 1)
    [ -n "$kdir" ] || { rm -rf "$tmp"; die "no modules in $deb"; }
    rm -rf "$cache/modules"
    mkdir -p "$cache/modules"
    local m f
    for m in $QEMU_MODULES; do
        f=$(find "$kdir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n 1)
        [ -n "$f" ] || { rm -rf "$tmp"; die "module $m not in $pkg"; }
        case $f in
        *.xz) xz -dc "$f" >"$cache/modules/$m.ko" ;;
        *.zst) zstd -qdc "$f" >"$cache/modules/$m.ko" ;;
        *) cp "$f" "$cache/modules/$m.ko" ;;
        esac
    done
    cp "$(ls "$tmp"/x/boot/vmlinuz-*)" "$cache/vmlinuz.new"
    mv "$cache/vmlinuz.new" "$cache/vmlinuz"
    extract_vmlinux "$cache/vmlinuz" "$cache/vmlinux"
    echo "$pkg" >"$cache/kernel.pkg"
    rm -rf "$tmp"
}

# extract_vmlinux BZIMAGE OUT: the ELF kernel inside an xz-compressed
# bzImage (what the kernel's scripts/extract-vmlinux does).  Best effort:
# without it, guests boot the bzImage, only slower.
extract_vmlinux() {
    local off
    rm -f "$2"
    off=$(grep -abo $'\xfd7zXZ\x00' "$1" | head -n 1 | cut -d: -f1)
    [ -n "$off" ] || { log "no xz payload in $1; booting the bzImage"; return 0; }
    # xz complains about the trailing data after the stream; that is fine.
    tail -c +$((off + 1)) "$1" | xz -dc >"$2.new" 2>/dev/null || true
    if [ "$(head -c 4 "$2.new" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        mv "$2.new" "$2"
    else
        rm -f "$2.new"
        log "could not extract vmlinux; booting the bzImage"
    fi
}

pkg=$(kernel_package || true)
have=$(cat "$cache/kernel.pkg" 2>/dev/null || true)
if [ -s "$cache/vmlinuz" ] && [ -n "$have" ] && [ -d "$cache/modules" ] &&
    { [ -z "$pkg" ] || [ "$pkg" = "$have" ]; }; then
    :   # cached kernel is current (or apt cannot tell us otherwise)
    [ -s "$cache/vmlinux" ] || extract_vmlinux "$cache/vmlinuz" "$cache/vmlinux"
elif [ -n "$pkg" ]; then
    fetch_kernel "$pkg"
else
    die "apt-cache knows no linux-image-amd64 (run apt-get update)"
fi

# ---- initramfs ------------------------------------------------------------

# pack_initrd OUT MODULE_DIR MODULES...: /init, busybox and the modules.
pack_initrd() {
    local out=$1 moddir=$2 root m
    shift 2
    root=$(mktemp -d "$cache/initrd.tmp.XXXXXX")
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,etc,root,lib/modules}
    cp /bin/busybox "$root/bin/busybox"
    install -m 755 "$here/guest-init" "$root/init"
    gcc -static -O2 -Wall -Wextra -Werror -o "$root/bin/vu-channels" "$here/vu-channels.c" ||
        { rm -rf "$root"; die "cannot build vu-channels (needs gcc and libc6-dev)"; }
    for m in "$@"; do
        cp "$moddir/$m.ko" "$root/lib/modules/$m.ko"
    done
    # The kernel opens /dev/console before running /init.
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
    mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true
    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet | gzip -6 >"$out.new")
    mv "$out.new" "$out"
    rm -rf "$root"
}

# What the QEMU initrd is made of; any change rebuilds it.
stamp() {
    {
        sha256sum "$here/guest-init" "$here/vu-channels.c" "${BASH_SOURCE[0]}" /bin/busybox
        cat "$cache/kernel.pkg"
        echo "$*"
    } | sha256sum | cut -d' ' -f1
}

want=$(stamp qemu "$QEMU_MODULES")
if [ ! -s "$cache/initrd.img" ] || [ "$(cat "$cache/initrd.stamp" 2>/dev/null)" != "$want" ]; then
    log "packing initrd.img"
    # shellcheck disable=SC2086 # word splitting of the module list is wanted
    pack_initrd "$cache/initrd.img" "$cache/modules" $QEMU_MODULES
    echo "$want" >"$cache/initrd.stamp"
fi

log "ready: $cache/vmlinuz ($(cat "$cache/kernel.pkg")) $cache/initrd.img"
