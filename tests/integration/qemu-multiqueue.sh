#!/usr/bin/env bash
# Real peers: two QEMU guests with two vCPUs and multiqueue virtio-net
# (queues=2, mq=on) on two ports with queues=2, served by two workers.
# Asserts: both queue pairs of both ports are set up and spread over both
# workers (vuswitchctl ports), the guests ping each other and exchange a
# pktgen burst with exact counts, and the counters conserve.
# Needs root and qemu-system-x86 (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
ensure_guest_image
D=$VU_TEST_DIR
start_vuswitch --cores 0,1 \
    --port "a=vhost:$D/a.sock,queues=2" --port "b=vhost:$D/b.sock,queues=2"
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)
start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 queues=2 smp=2 \
    ip=10.0.0.1/24 peer_ip=10.0.0.2 peer_mac="$MAC_B"
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 queues=2 smp=2 \
    ip=10.0.0.2/24 peer_ip=10.0.0.1 peer_mac="$MAC_A"
wait_guest_ready ga 180
wait_guest_ready gb 180

guest_cmd ga 'vu_wait_peer 90' >/dev/null || fail "A cannot reach B"
ctl ports >"$T/ports.txt"
[ "$(grep -c 'queues: *2 configured, 2 active' "$T/ports.txt")" = 2 ] ||
    fail "expected 2 active queue pairs on both ports: $(cat "$T/ports.txt")"
grep -q 'on worker 0' "$T/ports.txt" && grep -q 'on worker 1' "$T/ports.txt" ||
    fail "queues are not spread over both workers: $(cat "$T/ports.txt")"

guest_cmd ga 'vu_ping 3' >/dev/null || fail "A -> B ping failed"
guest_cmd gb 'vu_ping 3' >/dev/null || fail "B -> A ping failed"

N=500
b_tx0=$(stat b tx_packets)
guest_cmd ga "vu_set count=$N pkt_size=60 delay=2000000; vu_pktgen" 120 >/dev/null ||
    fail "pktgen failed"
wait_counter b tx_packets $((b_tx0 + N)) 60
sleep 1
assert_eq "frames delivered to B" "$N" $(( $(stat b tx_packets) - b_tx0 ))
check_conservation_pair a b
stop_vuswitch
pass "QEMU multiqueue (2 queue pairs) over two workers"
