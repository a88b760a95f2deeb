#!/bin/bash
# selftest-dpdk-backend.sh -- a self-test of the real-peer harness itself
# (tests/lib/peers.sh, tests/vm/guest-init, tests/vm/build-guest.sh), with
# no vuswitch involved: DPDK testpmd's net_vhost backend (two vhost-user
# server ports, io forwarding port 0 <-> port 1, i.e. a wire) stands in for
# the switch, and two QEMU guests are its front ends (QEMU connects as
# client).  Run it after changing the harness:
#
#   sudo tests/vm/selftest-dpdk-backend.sh        (VU_VERBOSE=1, VU_KEEP=1)
#
# Needs root, hugepages (set up here), qemu-system-x86, dpdk, busybox-static
# (tests/install-deps.sh).  Takes about a minute and a half on 2 CPUs.
#
# Phase 1, one-shot roles: guest "tx" (port B) waits until it can ping
# guest "rx" (port A), then sends N pktgen frames of 60 bytes, rate-limited
# (DELAY ns apart) so that the receiving TCG guest keeps up; "rx" waits for
# them and reports its counters.  Phase 2: both guests in role ping ping
# each other.  Phase 3: two guests in role idle driven through the command
# channel (guest_cmd): ping both ways, then one more pktgen burst measured
# by counter deltas.
#
# The expectations are exact.  With ipv6.disable=1, ICMP errors switched off
# and static ARP entries, a guest sends nothing but what its role asks for:
# its pktgen frames, echo requests and echo replies (no ARP, no IPv6
# router/neighbour solicitations, no IGMP, no "port unreachable" for the
# pktgen UDP frames to port 9).  So for every guest
#   tx_packets = pktgen sent + icmp_out_echos + icmp_out_echo_reps
#   rx_packets = pktgen frames received (udp_no_ports) + icmp_in_echos
#                + icmp_in_echo_reps
# and at the end testpmd's own counters close the books: what each port
# received is what its guests sent, what each port transmitted (plus what
# testpmd dropped because the guest on the other side was not up yet: the
# first "is the peer there" pings) is what the other port received, and is
# what its guests received.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib/peers.sh
. "$(dirname "$0")/../lib/peers.sh"

vu_test_init
require_root
require_peers qemu-system-x86_64 dpdk-testpmd
ensure_guest_image

N=${N:-2000}             # pktgen frames per burst
SIZE=${SIZE:-60}         # frame size without FCS
DELAY=${DELAY:-200000}   # ns between frames: 5 kpps, safe under TCG
A=$VU_TEST_DIR/a.sock
B=$VU_TEST_DIR/b.sock
M1=$(guest_mac 1)
M2=$(guest_mac 2)
IP1=10.0.0.1
IP2=10.0.0.2

start_testpmd_switch sw "$A" "$B"

# gstat NAME KEY [TAG]: a counter from a guest's "VUTEST stats" lines.
gstat() {
    local v
    v=$(guest_stat "${GUEST_LOG[$1]}" "$2" "${3:-}") || fail "guest $1: no $2 in its stats${3:+ tag=$3}"
    echo "$v"
}

# check_quiet NAME [TAG] [PKTGEN_SENT]: the guest sent and received nothing
# but pktgen frames and echo requests/replies.
check_quiet() {
    local g=$1 tag=${2:-end} sent=${3:-0}
    assert_eq "$g tx_packets" \
        $((sent + $(gstat "$g" icmp_out_echos "$tag") + $(gstat "$g" icmp_out_echo_reps "$tag"))) \
        "$(gstat "$g" tx_packets "$tag")"
    assert_eq "$g rx_packets" \
        $(($(gstat "$g" udp_no_ports "$tag") + $(gstat "$g" icmp_in_echos "$tag") + $(gstat "$g" icmp_in_echo_reps "$tag"))) \
        "$(gstat "$g" rx_packets "$tag")"
    assert_eq "$g rx_dropped" 0 "$(gstat "$g" rx_dropped "$tag")"
}

# Totals per port over all phases, for testpmd's books.
sent_a=0 sent_b=0 got_a=0 got_b=0
account() {     # account NAME PORT(a|b)
    local tx rx
    tx=$(gstat "$1" tx_packets end)
    rx=$(gstat "$1" rx_packets end)
    if [ "$2" = a ]; then
        sent_a=$((sent_a + tx)) got_a=$((got_a + rx))
    else
        sent_b=$((sent_b + tx)) got_b=$((got_b + rx))
    fi
}

boot_times() {
    local g
    for g; do
        vu_log "$g: ready at guest uptime $(guest_ready_uptime "${GUEST_LOG[$g]}") s"
    done
}

# ---- phase 1: pktgen tx -> rx ---------------------------------------------------
vu_log "phase 1: $N frames of $SIZE bytes, $DELAY ns apart"
t0=$SECONDS
start_guest rx "$A" "$M1" rx ip=$IP1/24 peer_ip=$IP2 peer_mac="$M2" count="$N" \
    duration=120 settle=3
start_guest tx "$B" "$M2" tx ip=$IP2/24 peer_ip=$IP1 peer_mac="$M1" count="$N" \
    pkt_size="$SIZE" delay="$DELAY"
wait_guest_ready rx
wait_guest_ready tx
vu_log "phase 1: both guests ready after $((SECONDS - t0)) s"
boot_times rx tx
rc=0; wait_guest tx 180 || rc=$?
assert_eq "tx guest exit status" 0 "$rc"
rc=0; wait_guest rx 180 || rc=$?
assert_eq "rx guest exit status" 0 "$rc"
vu_log "phase 1: done after $((SECONDS - t0)) s; tx: $(grep -a 'VUTEST tx_done' "${GUEST_LOG[tx]}" | tr -d '\r')"

assert_eq "tx guest pktgen sent" "$N" "$(guest_result "${GUEST_LOG[tx]}" sent)"
assert_eq "tx guest pktgen errors" 0 "$(guest_result "${GUEST_LOG[tx]}" errors)"
assert_eq "rx guest finished by count" count "$(guest_result "${GUEST_LOG[rx]}" reason)"
assert_eq "pktgen frames received" "$N" "$(gstat rx udp_no_ports)"
check_quiet tx end "$N"
check_quiet rx end
# Every echo request rx got was answered, and every answer reached tx.
assert_eq "rx echo replies" "$(gstat rx icmp_in_echos)" "$(gstat rx icmp_out_echo_reps)"
assert_eq "tx got every reply" "$(gstat rx icmp_out_echo_reps)" "$(gstat tx icmp_in_echo_reps)"
# Frame sizes: SIZE bytes per pktgen frame, 98 per echo request (84 B IP).
assert_eq "rx_bytes" $((N * SIZE + 98 * $(gstat rx icmp_in_echos))) "$(gstat rx rx_bytes)"
account rx a
account tx b

# ---- phase 2: role ping, both ways -------------------------------------------------
vu_log "phase 2: ping both ways"
t0=$SECONDS
start_guest p1 "$A" "$M1" ping ip=$IP1/24 peer_ip=$IP2 peer_mac="$M2" count=3 hold=5
start_guest p2 "$B" "$M2" ping ip=$IP2/24 peer_ip=$IP1 peer_mac="$M1" count=3 hold=5
rc=0; wait_guest p1 180 || rc=$?
assert_eq "p1 exit status" 0 "$rc"
rc=0; wait_guest p2 180 || rc=$?
assert_eq "p2 exit status" 0 "$rc"
vu_log "phase 2: done after $((SECONDS - t0)) s"
boot_times p1 p2
assert_eq "p1 ping" ok "$(guest_result "${GUEST_LOG[p1]}" ping)"
assert_eq "p2 ping" ok "$(guest_result "${GUEST_LOG[p2]}" ping)"
check_quiet p1
check_quiet p2
account p1 a
account p2 b

# ---- phase 3: command channel --------------------------------------------------------
vu_log "phase 3: command channel"
t0=$SECONDS
start_guest c1 "$A" "$M1" idle cmd=1 ip=$IP1/24 peer_ip=$IP2 peer_mac="$M2"
start_guest c2 "$B" "$M2" idle cmd=1 ip=$IP2/24 peer_ip=$IP1 peer_mac="$M1"
guest_cmd c2 'vu_wait_peer 60' >/dev/null || fail "c2 cannot reach c1"
guest_cmd c1 'vu_ping 2' >/dev/null || fail "c1 cannot ping c2"
guest_cmd c2 'vu_ping 2' >/dev/null || fail "c2 cannot ping c1"
guest_cmd c1 'vu_stats before' >/dev/null
guest_cmd c2 "vu_set count=$N pkt_size=$SIZE delay=$DELAY; vu_pktgen" 120 >/dev/null ||
    fail "c2: pktgen failed"
# Frames c2 has sent may still be in flight: wait until c1 has them all.
for _ in $(seq 50); do
    guest_cmd c1 'vu_stats after' >/dev/null
    [ $(($(gstat c1 udp_no_ports after) - $(gstat c1 udp_no_ports before))) -ge "$N" ] && break
    sleep 0.2
done
assert_eq "c1 pktgen frames received" "$N" \
    $(($(gstat c1 udp_no_ports after) - $(gstat c1 udp_no_ports before)))
assert_eq "c1 frames received during the burst" "$N" \
    $(($(gstat c1 rx_packets after) - $(gstat c1 rx_packets before)))
guest_cmd c1 'vu_stats end' >/dev/null
guest_cmd c2 'vu_stats end' >/dev/null
check_quiet c1
check_quiet c2 end "$N"
# vu_poweroff never answers: the guest is gone.
guest_cmd c1 vu_poweroff 1 >/dev/null || true
guest_cmd c2 vu_poweroff 1 >/dev/null || true
rc=0; wait_guest c1 60 || rc=$?
assert_eq "c1 exit status" 0 "$rc"
rc=0; wait_guest c2 60 || rc=$?
assert_eq "c2 exit status" 0 "$rc"
vu_log "phase 3: done after $((SECONDS - t0)) s"
account c1 a
account c2 b

# ---- testpmd's books -------------------------------------------------------------------
rc=0; stop_testpmd sw || rc=$?
assert_eq "testpmd exit status" 0 "$rc"
log=${TESTPMD_LOG[sw]}
pstat() { testpmd_fwd_stat "$log" "$1" "$2" || fail "testpmd: no $2 for port $1"; }
assert_eq "port A received what its guests sent" "$sent_a" "$(pstat 0 RX-packets)"
assert_eq "port B received what its guests sent" "$sent_b" "$(pstat 1 RX-packets)"
assert_eq "port A transmitted what its guests received" "$got_a" "$(pstat 0 TX-packets)"
assert_eq "port B transmitted what its guests received" "$got_b" "$(pstat 1 TX-packets)"
assert_eq "port A: B's frames transmitted or dropped" "$sent_b" \
    $(($(pstat 0 TX-packets) + $(pstat 0 TX-dropped)))
assert_eq "port B: A's frames transmitted or dropped" "$sent_a" \
    $(($(pstat 1 TX-packets) + $(pstat 1 TX-dropped)))
vu_log "testpmd dropped $(pstat 0 TX-dropped) frame(s) for A and $(pstat 1 TX-dropped) for B (peer not up yet)"
echo "PASS: $VU_TEST_NAME"
