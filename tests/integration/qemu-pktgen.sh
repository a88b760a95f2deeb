#!/usr/bin/env bash
# Real peers: three QEMU guests (TCG, the Linux virtio-net driver) on
# three vhost-user ports of vuswitch; A and C on packed rings (virtio-net
# packed=on), B on split rings.  Asserts, for frames of 60, 1500 and 8000
# bytes (ports and guests at MTU 9000, mergeable receive buffers), in
# each direction between A and B:
#  - the sender's kernel pktgen sends N frames; the receiver receives
#    exactly N (pktgen is rate-limited so that a TCG guest keeps up);
#  - vuswitch counted exactly N taken from the sender and N delivered;
#  - guest C, whose MAC the switch knows, sees none of them (learning);
#  - A and B ping each other.
# Needs root and qemu-system-x86 (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
ensure_guest_image
N=${VU_PKTGEN_COUNT:-1000}
DELAY=${VU_PKTGEN_DELAY:-1000000}       # ns between frames: 1000 pps, which
                                        # three TCG guests on one CPU keep up with

D=$VU_TEST_DIR
start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$D/a.sock,mtu=9000" --port "b=vhost:$D/b.sock,mtu=9000" \
    --port "c=vhost:$D/c.sock,mtu=9000"
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2) MAC_C=$(guest_mac 3)
start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 mtu=9000 ip=10.0.0.1/24 \
    peer_ip=10.0.0.2 peer_mac="$MAC_B" device=packed=on
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 mtu=9000 ip=10.0.0.2/24 \
    peer_ip=10.0.0.1 peer_mac="$MAC_A"
start_guest gc "$D/c.sock" "$MAC_C" idle cmd=1 mtu=9000 ip=10.0.0.3/24 \
    peer_ip=10.0.0.1 peer_mac="$MAC_A" device=packed=on
for g in ga gb gc; do wait_guest_ready "$g" 120; done
for p in a:packed b:split c:packed; do
    grep -q "${p%:*}: vring 0 started: ${p#*:}" "$VUSWITCH_LOG" ||
        fail "port ${p%:*}: rings are not ${p#*:}: $(grep 'started:' "$VUSWITCH_LOG")"
done

# Every guest sends once, so the switch learns all three MACs.
guest_cmd ga 'vu_wait_peer 60' >/dev/null || fail "A cannot reach B"
guest_cmd gc 'vu_wait_peer 60' >/dev/null || fail "C cannot reach A"
[ "$(ctl fdb --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["fdb"]))')" -ge 3 ] ||
    fail "the switch did not learn the three MACs: $(ctl fdb)"
mark_booted

guest_rx() { guest_cmd "$1" "vu_stats $2" >/dev/null; guest_stat "${GUEST_LOG[$1]}" rx_packets "$2"; }

# send FROM TO SIZE: FROM's pktgen sends N frames of SIZE bytes to TO.
send() {
    local from=$1 to=$2 size=$3 what="$1 -> $2, $3 B"
    local from_rx0 to_tx0 c_tx0 flood0 to_guest0 c_guest0 sent
    from_rx0=$(stat "$from" rx_packets) to_tx0=$(stat "$to" tx_packets)
    c_tx0=$(stat c tx_packets) flood0=$(stat "$from" rx_flooded)
    to_guest0=$(guest_rx "g$to" "${to}0_$from$size")
    c_guest0=$(guest_rx gc "c0_$from$size")

    # A jumbo frame takes several receive buffers: slower still.
    guest_cmd "g$from" "vu_set count=$N pkt_size=$size delay=$((size > 1500 ? 3 * DELAY : DELAY)); vu_pktgen" 120 >/dev/null ||
        fail "pktgen failed ($what)"
    sent=$(guest_result "${GUEST_LOG[g$from]}" sent)
    assert_eq "frames pktgen sent ($what)" "$N" "$sent"
    wait_counter "$to" tx_packets $((to_tx0 + N)) 30
    sleep 1

    assert_eq "frames vuswitch took from $from ($what)" "$N" $(( $(stat "$from" rx_packets) - from_rx0 ))
    assert_eq "frames vuswitch delivered to $to ($what)" "$N" $(( $(stat "$to" tx_packets) - to_tx0 ))
    assert_eq "frames vuswitch delivered to c ($what)" 0 $(( $(stat c tx_packets) - c_tx0 ))
    assert_eq "frames flooded ($what, $to is learnt)" 0 $(( $(stat "$from" rx_flooded) - flood0 ))
    assert_eq "frames guest $to received ($what)" "$N" $(( $(guest_rx "g$to" "${to}1_$from$size") - to_guest0 ))
    assert_eq "frames guest c received ($what)" 0 $(( $(guest_rx gc "c1_$from$size") - c_guest0 ))
}

for size in 60 1500 8000; do
    send a b "$size"
    send b a "$size"
done

guest_cmd ga 'vu_ping 3' >/dev/null || fail "A cannot ping B"
guest_cmd gb 'vu_ping 3' >/dev/null || fail "B cannot ping A"
for p in a b c; do
    assert_eq "drops on port $p since the guests booted" 0 "$(drops_since_boot $p)"
done
stop_vuswitch
pass "pktgen 60/1500/8000 B both ways between QEMU guests on packed and split rings, learning, ping"
