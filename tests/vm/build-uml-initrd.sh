#!/bin/bash
# build-uml-initrd.sh -- packs the initramfs of the user-mode Linux test
# guest: busybox-static, tests/vm/uml-init as /init, and the virtio-net
# modules that match /usr/bin/linux.uml (virtio and virtio_uml are built
# into it).  Used by tests/integration/uml-ping.sh.
#
#   tests/vm/build-uml-initrd.sh OUT.img
#
# Takes about a second, so it is rebuilt every time: nothing to go stale.
# Needs: user-mode-linux, busybox-static, cpio, gzip.  Without root the
# image has no /dev/console node; uml-init mounts devtmpfs and reopens the
# console itself.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build-uml-initrd.sh OUT.img}
MODULES="failover net_failover virtio_net"

die() { echo "build-uml-initrd: error: $*" >&2; exit 1; }

for tool in cpio gzip; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } ||
    die "/bin/busybox missing or not static (apt-get install busybox-static)"
# The newest module tree: the one of the installed linux.uml.
moddir=$(find /usr/lib/uml/modules -mindepth 1 -maxdepth 1 -type d 2>/dev/null |
    sort -V | tail -n 1)
[ -n "$moddir" ] || die "no /usr/lib/uml/modules/VERSION (apt-get install user-mode-linux)"

root=$(mktemp -d "${TMPDIR:-/tmp}/uml-initrd.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$root/bin/busybox"
install -m 755 "$here/uml-init" "$root/init"
for m in $MODULES; do
    f=$(find "$moddir" -name "$m.ko" | head -n 1)
    [ -n "$f" ] || die "module $m not in $moddir"
    cp "$f" "$root/lib/modules/"
done
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
    cpio --null -o -H newc --quiet | gzip -6 >"$out.new")
mv "$out.new" "$out"
