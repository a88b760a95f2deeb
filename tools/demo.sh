#!/usr/bin/env bash
# demo.sh -- the main job, from a fresh checkout on a fresh Debian 12
# machine, as root: install the prerequisites, build, start vuswitch with
# two vhost-user ports, boot two QEMU guests on them, make guest A send to
# guest B with the kernel's pktgen while `vuswitchctl stats --watch` shows
# the switch's counters live, print the final counters, stop everything.
#
#   sudo tools/demo.sh [FRAMES [FRAME_SIZE]]     (default 200000 frames, 64 B)
#
# The guests run under TCG (no KVM here): they, not the switch, limit the
# rate, as the switch's busy % shows.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
frames=${1:-200000}
size=${2:-64}
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (QEMU guests, guest image, apt-get)" >&2; exit 1; }

echo "== installing prerequisites and building (build/) =="
bash "$top/tests/install-deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" >/dev/null

export VU_BUILDDIR=$top/build VU_TEST_NAME=demo
. "$top/tests/lib/peers.sh"
vu_test_init
ensure_guest_image
D=$VU_TEST_DIR
ctl() { "$VU_BUILDDIR/tools/vuswitchctl" --control "$VUSWITCH_CONTROL" "$@"; }

echo "== starting vuswitch: ports a and b, one worker on CPU $(( $(nproc) - 1 )) =="
start_vuswitch --cores "$(( $(nproc) - 1 ))" \
    --port "a=vhost:$D/a.sock" --port "b=vhost:$D/b.sock"
echo "== booting two QEMU guests (TCG) =="
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)
start_guest A "$D/a.sock" "$MAC_A" idle cmd=1 ip=10.0.0.1/24 peer_ip=10.0.0.2 peer_mac="$MAC_B"
start_guest B "$D/b.sock" "$MAC_B" idle cmd=1 ip=10.0.0.2/24 peer_ip=10.0.0.1 peer_mac="$MAC_A"
wait_guest_ready A 120
wait_guest_ready B 120
guest_cmd A 'vu_wait_peer 60' >/dev/null || fail "guest A cannot reach guest B"
ctl ports

echo "== guest A: pktgen, $frames frames of $size B to guest B; live counters =="
guest_cmd A "vu_set count=$frames pkt_size=$size delay=0; vu_pktgen" 600 >/dev/null &
pktgen=$!
if [ -t 1 ]; then
    ctl stats --watch 1 &
    watch=$!
    wait "$pktgen" || true
    sleep 2
    kill -INT "$watch" 2>/dev/null; wait "$watch" 2>/dev/null || true
else
    while kill -0 "$pktgen" 2>/dev/null; do ctl stats | sed -n '3,6p'; sleep 2; done
fi
echo
echo "guest A: $(tr -d '\r' <"${GUEST_LOG[A]}" | grep -a 'VUTEST tx_done' | tail -n 1)"
guest_cmd B 'vu_stats final' >/dev/null
echo "guest B: received $(guest_stat "${GUEST_LOG[B]}" rx_packets final) frames"
echo "== final counters =="
ctl stats
ctl fdb
echo "== stopping =="
stop_vuswitch
echo "demo: done"
