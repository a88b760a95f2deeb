#!/usr/bin/env bash
# Real peers: two QEMU guests.  Drops are forced and must show up under the
# right reason, with every frame still accounted for:
#  - frames above the ingress port's MTU (guest A at MTU 9000 sends 4000 B
#    frames into a port with mtu=1500): rx drop mtu_exceeded at port a;
#  - a destination that stops taking frames (guest B brings eth0 down, so
#    its driver stops refilling its receive ring): tx drop no_rx_buffers
#    at port b;
# and after each: frames taken from A = delivered to B + dropped, exactly.
# Needs root and qemu-system-x86 (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
ensure_guest_image
D=$VU_TEST_DIR
start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$D/a.sock,mtu=1500" --port "b=vhost:$D/b.sock,mtu=1500"
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)
start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 mtu=9000 ip=10.0.0.1/24 \
    peer_ip=10.0.0.2 peer_mac="$MAC_B"
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 ip=10.0.0.2/24 \
    peer_ip=10.0.0.1 peer_mac="$MAC_A"
wait_guest_ready ga 120
wait_guest_ready gb 120
guest_cmd ga 'vu_wait_peer 60' >/dev/null || fail "A cannot reach B"

# 1. Over the MTU: all N dropped at ingress, none delivered.
N=500
a_rx0=$(stat a rx_packets) b_tx0=$(stat b tx_packets)
guest_cmd ga "vu_set count=$N pkt_size=4000 delay=1000000; vu_pktgen" 120 >/dev/null ||
    fail "pktgen failed"
wait_counter a rx_packets $((a_rx0 + N)) 30
sleep 1
assert_eq "frames taken from A" "$N" $(( $(stat a rx_packets) - a_rx0 ))
assert_eq "mtu_exceeded drops at A" "$N" "$(stat a drops.mtu_exceeded)"
assert_eq "frames delivered to B" 0 $(( $(stat b tx_packets) - b_tx0 ))
check_conservation_pair a b

# 2. B stops taking frames: its ring fills, the rest is no_rx_buffers.
guest_cmd gb 'ip link set eth0 down' >/dev/null || fail "cannot bring B's eth0 down"
N=2000
a_rx0=$(stat a rx_packets) b_tx0=$(stat b tx_packets)
guest_cmd ga "vu_set count=$N pkt_size=60 delay=100000; vu_pktgen" 120 >/dev/null ||
    fail "pktgen failed"
wait_counter a rx_packets $((a_rx0 + N)) 30
sleep 1
taken=$(( $(stat a rx_packets) - a_rx0 ))
delivered=$(( $(stat b tx_packets) - b_tx0 ))
full=$(stat b drops.no_rx_buffers)
assert_eq "frames taken from A" "$N" "$taken"
[ "$full" -gt 0 ] || fail "no no_rx_buffers drops although B's ring was full"
[ "$delivered" -lt "$N" ] || fail "B took all $N frames with its link down"
assert_eq "delivered + no_rx_buffers" "$N" $((delivered + full))
check_conservation_pair a b
vuswitch_alive || fail "vuswitch died"
stop_vuswitch
pass "mtu_exceeded and no_rx_buffers counted, counters conserve"
