#!/usr/bin/env bash
# Real peers: two QEMU guests on vhost-user ports of vuswitch, a pcap sink
# port (s=pcap:FILE,filter=udp) and runtime captures (vuswitchctl capture).
#
# Guest A's kernel pktgen sends UDP frames to guest B's MAC.  B never sends
# anything (static ARP, no IPv6, no pings), so the switch never learns B's
# MAC: A's frames are unknown unicast and flood to every other port, B and
# the sink s alike.  That is what a learning switch does with them, and it
# is why the sink sees exactly the frames B gets (a sink only receives
# floods: once a MAC is known, its frames go to that port alone).
#
#  1. capture b (both directions) into a file while A sends N frames of
#     SIZE bytes: tcpdump -r reads exactly N frames of SIZE bytes to B's MAC
#     from the capture file, and from the sink's file (while the sink still
#     runs); the capture counted N offered, 0 lost; B got N.
#  2. capture b into a FIFO nobody reads while A sends N_FIFO frames of
#     BIG bytes (more than the capture's ring, pipe and buffer hold):
#     forwarding goes on (B gets exactly N_FIFO), the capture counts what
#     it lost under sink_full (offered + lost = N_FIFO, lost > 0), and
#     capture-stop returns at once.
#  3. capture a, rx only, filter udp, while A sends N_RX frames of 60 bytes:
#     exactly those in the file.
#  At the end the sink's file (flushed when vuswitch stops) holds every
#  frame the sink was offered and did not lose.
# Needs root, qemu-system-x86 and tcpdump (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers tcpdump mkfifo
ensure_guest_image
N=${VU_CAPTURE_COUNT:-1000}
SIZE=500
N_FIFO=${VU_CAPTURE_FIFO_COUNT:-2500}
BIG=8000                # 2500 x 8 KB: three times the ring, pipe and buffer
N_RX=300
DELAY=${VU_PKTGEN_DELAY:-1000000}       # ns between frames: a TCG guest
                                        # receives every one of them...
DELAY_BIG=${VU_PKTGEN_DELAY_BIG:-2000000}   # ...and of the big ones, even
                                            # on a busy machine

D=$VU_TEST_DIR
start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$D/a.sock,mtu=9000" --port "b=vhost:$D/b.sock,mtu=9000" \
    --port "s=pcap:$D/sink.pcap,filter=udp"
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)
start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 mtu=9000 ip=10.0.0.1/24 \
    peer_ip=10.0.0.2 peer_mac="$MAC_B"
# B's receive ring at its largest, so that B takes every frame even when a
# busy machine keeps its vCPU off the CPU for a while.
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 mtu=9000 ip=10.0.0.2/24 \
    peer_ip=10.0.0.1 peer_mac="$MAC_A" device=rx_queue_size=1024
for g in ga gb; do wait_guest_ready "$g" 120; done

guest_rx() { guest_cmd "$1" "vu_stats $2" >/dev/null; guest_stat "${GUEST_LOG[$1]}" rx_packets "$2"; }

# pktgen COUNT SIZE [DELAY]: A sends COUNT frames of SIZE bytes to B's MAC.
pktgen() {
    guest_cmd ga "vu_set count=$1 pkt_size=$2 delay=${3:-$DELAY}; vu_pktgen" 300 >/dev/null ||
        fail "pktgen of $1 frames of $2 bytes failed"
    assert_eq "frames pktgen sent ($2 B)" "$1" "$(guest_result "${GUEST_LOG[ga]}" sent)"
}

# pcap_frames FILE [LEN]: frames tcpdump -r reads from FILE (of Ethernet
# length LEN, to B's MAC); fails (status 1) if tcpdump reports an error.
pcap_frames() {
    local out
    out=$(tcpdump -r "$1" -nn -e 2>"$D/tcpdump.err") || return 1
    if [ -n "${2:-}" ]; then
        printf '%s\n' "$out" | grep -c " > $MAC_B, .*, length $2: " || true
    else
        printf '%s' "$out" | grep -c '' || true
    fi
}
# pcap_exactly FILE COUNT LEN: all COUNT frames, and only those.
pcap_exactly() {
    [ "$(pcap_frames "$1")" = "$2" ] && [ "$(pcap_frames "$1" "$3")" = "$2" ]
}
mac_learnt() { ctl fdb --json | grep -qi "\"$1\""; }

# ---- 1. a capture and a sink, both exact --------------------------------------

ctl capture b "$D/b.pcap" >/dev/null
b_tx0=$(stat b tx_packets) s_tx0=$(stat s tx_packets)
b_guest0=$(guest_rx gb b0)
pktgen "$N" "$SIZE"
wait_counter b tx_packets $((b_tx0 + N)) 30
wait_counter capture:b tx_packets "$N" 30
sleep 1
assert_eq "frames delivered to B" "$N" $(( $(stat b tx_packets) - b_tx0 ))
assert_eq "frames offered to the sink" "$N" $(( $(stat s tx_packets) - s_tx0 ))
assert_eq "frames offered to the capture" "$N" "$(stat capture:b tx_packets)"
assert_eq "frames the capture lost" 0 "$(stat capture:b drops.sink_full)"
# The sink still runs: its file is readable now (flushed every 100 ms).
wait_until 10 "tcpdump to read $N frames of $SIZE B from the sink's file" \
    pcap_exactly "$D/sink.pcap" "$N" "$SIZE"
out=$(ctl capture-stop b)
assert_eq "capture-stop b" "capture of b stopped: $N frames, 0 lost (sink_full)" "$out"
pcap_exactly "$D/b.pcap" "$N" "$SIZE" ||
    fail "capture file: $(pcap_frames "$D/b.pcap") frames, $(pcap_frames "$D/b.pcap" "$SIZE") of $SIZE B to B, expected $N: $(cat "$D/tcpdump.err")"
assert_eq "frames guest B received" "$N" $(( $(guest_rx gb b1) - b_guest0 ))
! mac_learnt "$MAC_B" || fail "the switch learnt B's MAC: B was not silent"
stat capture:b tx_packets >/dev/null 2>&1 && fail "capture:b still in the stats after capture-stop"

# ---- 2. a capture nobody reads does not stop forwarding -------------------------

mkfifo "$D/fifo"
ctl capture b "$D/fifo" --direction tx >/dev/null
b_tx0=$(stat b tx_packets) b_guest0=$(guest_rx gb b2)
pktgen "$N_FIFO" "$BIG" "$DELAY_BIG"
wait_counter b tx_packets $((b_tx0 + N_FIFO)) 60
sleep 1
assert_eq "frames delivered to B with a stuck capture" "$N_FIFO" $(( $(stat b tx_packets) - b_tx0 ))
assert_eq "frames guest B received with a stuck capture" "$N_FIFO" $(( $(guest_rx gb b3) - b_guest0 ))
offered=$(stat capture:b tx_packets) lost=$(stat capture:b drops.sink_full)
assert_eq "frames offered + lost (stuck capture)" "$N_FIFO" $((offered + lost))
[ "$lost" -gt 0 ] || fail "a capture nobody reads lost nothing ($offered offered)"
t0=$(date +%s%N)
timeout 10 "$VUSWITCHCTL" --control "$VUSWITCH_CONTROL" capture-stop b >/dev/null ||
    fail "capture-stop of a stuck capture failed or hung"
[ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 3000 ] || fail "capture-stop of a stuck capture took more than 3 s"
vu_log "stuck capture: $offered frames taken, $lost lost (sink_full)"

# ---- 3. rx direction ------------------------------------------------------------

ctl capture a "$D/a.pcap" --direction rx --filter udp >/dev/null
a_rx0=$(stat a rx_packets)
pktgen "$N_RX" 60
wait_counter a rx_packets $((a_rx0 + N_RX)) 30
wait_counter capture:a tx_packets "$N_RX" 30
ctl capture-stop a >/dev/null
pcap_exactly "$D/a.pcap" "$N_RX" 60 ||
    fail "rx capture of a: $(pcap_frames "$D/a.pcap") frames, $(pcap_frames "$D/a.pcap" 60) of 60 B, expected $N_RX"

# ---- the sink, flushed when vuswitch stops ------------------------------------

s_offered=$(stat s tx_packets) s_lost=$(stat s drops.sink_full)
assert_eq "frames offered to the sink" $((N + N_FIFO + N_RX)) $((s_offered + s_lost))
for p in a b; do
    assert_eq "tx drops on port $p" 0 "$(stat $p tx_dropped)"
done
check_conservation_pair a b
stop_vuswitch
assert_eq "frames in the sink's file" "$s_offered" "$(pcap_frames "$D/sink.pcap")"
pass "capture and pcap sink: exact frame counts; a stuck capture counted $lost drops and forwarding went on"
