#!/bin/bash
# install-deps.sh -- installs every Debian 12 package the build and the
# whole test suite need (tests/run-all.sh calls it first), then builds the
# test guest's kernel and initramfs cache (tests/vm/build-guest.sh), so
# that the tests themselves never touch the network.
#
#   tests/install-deps.sh            install what is missing (root)
#   tests/install-deps.sh --list     print the package list
#   tests/install-deps.sh --check    exit 1 if something is missing
#
# Recommended packages are installed too, as on the machines the suite was
# developed on (e.g. the DPDK drivers are only Recommends of dpdk).
# Idempotent and fast: one dpkg-query tells what is missing; apt-get runs
# only then.  Extra packages: VU_EXTRA_PACKAGES="pkg ...".  VU_SKIP_GUEST=1
# skips the guest image.
set -euo pipefail

PACKAGES=(
    # build
    autoconf automake libtool pkg-config make gcc clang
    libnuma-dev liburing-dev libpcap-dev libcunit1-dev
    # QEMU guests (tests/vm): QEMU 7.2, busybox initramfs, kernel modules
    qemu-system-x86 busybox-static cpio gzip xz-utils kmod
    # DPDK testpmd: generator (net_virtio_user) and reference switch
    # (net_vhost); these PMDs and the ring mempool are only Recommends of
    # dpdk, so they are named here
    dpdk dpdk-dev librte-net-vhost23 librte-net-virtio23 librte-mempool-ring23
    # user-mode Linux front end
    user-mode-linux
    # TAP, netns, capture, harness tools (setpriv, flock, taskset, pgrep)
    iproute2 tcpdump util-linux procps python3
    # libFuzzer runtime (only a Recommends of libclang-common-14-dev)
    libclang-rt-14-dev
)
# shellcheck disable=SC2206 # a space-separated list is wanted
[ -z "${VU_EXTRA_PACKAGES:-}" ] || PACKAGES+=(${VU_EXTRA_PACKAGES})

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { echo "install-deps: $*" >&2; }

# One dpkg-query for all; a package it does not know is missing too.
missing_packages() {
    local ok
    ok=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null |
        awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
    printf '%s\n' "${PACKAGES[@]}" | grep -vxF -f <(echo "$ok") || true
}

case ${1:-} in
--list) printf '%s\n' "${PACKAGES[@]}"; exit 0 ;;
--check)
    m=$(missing_packages)
    [ -z "$m" ] || { log "missing: $(echo "$m" | tr '\n' ' ')"; exit 1; }
    exit 0
    ;;
"") ;;
*) echo "usage: $0 [--list|--check]" >&2; exit 2 ;;
esac

mapfile -t missing < <(missing_packages)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { log "missing ${missing[*]}; run as root to install them"; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    aptlog=$(mktemp /tmp/install-deps.XXXXXX.log)
    apt_get() {
        apt-get -q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 "$@" >>"$aptlog" 2>&1
    }
    log "installing ${missing[*]}"
    if ! { apt_get update && apt_get install "${missing[@]}"; }; then
        tail -n 30 "$aptlog" >&2
        log "apt-get failed; full log in $aptlog"
        exit 1
    fi
    rm -f "$aptlog"
    mapfile -t missing < <(missing_packages)
    [ ${#missing[@]} -eq 0 ] || { log "still missing after apt-get: ${missing[*]}"; exit 1; }
fi

# Hugepages and hugetlbfs are set up by the tests that need them
# (tests/lib/peers.sh: hugepages_setup), not here: they do not survive a
# reboot anyway.

if [ "${VU_SKIP_GUEST:-0}" != 1 ] && [ "$(id -u)" -eq 0 ]; then
    if ! out=$("$here/vm/build-guest.sh" 2>&1); then
        echo "$out" >&2
        log "building the test guest failed"
        exit 1
    fi
fi
log "all ${#PACKAGES[@]} packages present"
