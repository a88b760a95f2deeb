#!/usr/bin/env bash
# Real peers: queue pairs that a guest enables after boot (issue #7).  Two
# QEMU guests with one vCPU on ports with queues=4 (QEMU queues=4, mq=on):
# Linux's virtio_net uses min(queue pairs, vCPUs) = 1 queue pair at probe,
# so QEMU sets up all four but enables only the first (SET_VRING_ENABLE).
# The guests then change their queue count at run time, as `ethtool -L
# eth0 combined N` does (tests/vm/vu-channels.c), and QEMU enables or
# disables the rings of the other queue pairs.  Neither vuswitch nor a guest
# is restarted.  Asserted, step by step (1, 4, 1, then 2 queue pairs):
#  - vuswitch transmits into exactly the enabled queues and polls the
#    guest's transmit rings of exactly the queues enabled so far (`stats
#    --json`: rx_worker / tx_worker of the others are -1): a queue never
#    enabled is not polled; one disabled after use still is, and what it
#    carries is discarded (ring_disabled), as vhost-user.rst asks;
#  - `vuswitchctl ports` counts the enabled queue pairs as active;
#  - guest A's pktgen sends N frames round robin over its transmit queues
#    (queue_map=0-3, modulo the queues in use): vuswitch takes exactly
#    N/queues from each enabled queue of A, none from the others, delivers
#    all N to B, and guest B's kernel receives all N;
#  - with four queue pairs, B receives on a queue other than 0 too (from
#    the worker that does not own B's queue 0);
#  - no drops; the counters conserve.
# Needs root and qemu-system-x86 (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
ensure_guest_image
N=${VU_PKTGEN_COUNT:-800}               # a multiple of 4 and of 2
DELAY=${VU_PKTGEN_DELAY:-2000000}       # ns between frames: TCG guests keep up
Q=4

D=$VU_TEST_DIR
# Two workers: queue pairs of one port are spread over both, so frames also
# cross between workers, and each worker transmits into B through a queue
# of its own once B has enabled more than one.
start_vuswitch --cores 0,1 \
    --port "a=vhost:$D/a.sock,queues=$Q" --port "b=vhost:$D/b.sock,queues=$Q"
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)
start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 queues=$Q smp=1 \
    ip=10.0.0.1/24 peer_ip=10.0.0.2 peer_mac="$MAC_B"
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 queues=$Q smp=1 \
    ip=10.0.0.2/24 peer_ip=10.0.0.1 peer_mac="$MAC_A"
wait_guest_ready ga 180
wait_guest_ready gb 180
pids="$VUSWITCH_PID ${GUEST_PID[ga]} ${GUEST_PID[gb]}"
guest_cmd ga 'vu_wait_peer 90' >/dev/null || fail "A cannot reach B"

# channels GUEST [N]: sets (or reads) the guest's queue pairs; prints how
# many it uses afterwards, checked against both ethtool and the stack.
channels() {
    local out
    out=$(guest_cmd "$1" "vu_channels ${2:-}") || fail "$1: vu_channels ${2:-} failed: $out"
    out=$(echo "$out" | grep 'VUTEST channels')
    local comb max txq
    comb=$(echo "$out" | sed -n 's/.* combined=\([0-9]*\).*/\1/p')
    max=$(echo "$out" | sed -n 's/.* max_combined=\([0-9]*\).*/\1/p')
    txq=$(echo "$out" | sed -n 's/.* tx_queues=\([0-9]*\).*/\1/p')
    assert_eq "$1: queue pairs offered" "$Q" "$max"
    assert_eq "$1: transmit queues of eth0" "$comb" "$txq"
    echo "$comb"
}

# enabled_queues PORT: the queue ids vuswitch polls (rx_worker >= 0) and
# the ones it transmits into (tx_worker >= 0), as "RX_IDS/TX_IDS",
# e.g. "0,1/0,1".
enabled_queues() {
    ctl stats --json | python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["ports"] if p["name"] == sys.argv[1])
rx = [str(q["id"]) for q in p["queues"] if q["rx_worker"] >= 0]
tx = [str(q["id"]) for q in p["queues"] if q["tx_worker"] >= 0]
print(",".join(rx) + "/" + ",".join(tx))' "$1"
}
_queues_are() { [ "$(enabled_queues "$1")" = "$2" ]; }

# expect_queues PORT RX_IDS/TX_IDS: waits (SET_VRING_ENABLE is not
# acknowledged to the guest, so the guest may be done before vuswitch read
# it) until vuswitch polls and feeds exactly those queues.
expect_queues() {
    local deadline=$((SECONDS + 30))
    while ! _queues_are "$1" "$2"; do
        [ "$SECONDS" -lt "$deadline" ] ||
            fail "port $1: expected queues rx/tx $2, vuswitch uses $(enabled_queues "$1")"
        sleep 0.2
    done
}

snapshot() { ctl stats --json >"$T/$1.json"; }

# deltas BEFORE AFTER PORT FIELD: FIELD of each queue of PORT, AFTER minus
# BEFORE, comma-separated (e.g. "200,200,200,200").
deltas() {
    python3 -c '
import json, sys
def queues(f):
    p = next(p for p in json.load(open(f))["ports"] if p["name"] == sys.argv[3])
    return [q[sys.argv[4]] for q in p["queues"]]
print(",".join(str(b - a) for a, b in zip(queues(sys.argv[1]), queues(sys.argv[2]))))
' "$T/$1.json" "$T/$2.json" "$3" "$4"
}

guest_rx() { guest_cmd "$1" "vu_stats $2" >/dev/null; guest_stat "${GUEST_LOG[$1]}" rx_packets "$2"; }

active_queues() {
    ctl ports --json | python3 -c '
import json, sys
print(next(p["n_active_queues"] for p in json.load(sys.stdin)["ports"]
           if p["name"] == sys.argv[1]))' "$1"
}

# step NAME QUEUES POLLED: both guests use QUEUES queue pairs, and vuswitch
# must poll the queues POLLED (ids, comma-separated) of both; A sends N
# frames round robin over its transmit queues; checks where they went.
step() {
    local name=$1 n_q=$2 polled=$3 ids want_rx='' i p
    if [ "$name" != boot ]; then
        assert_eq "A: queue pairs after combined $n_q" "$n_q" "$(channels ga "$n_q")"
        assert_eq "B: queue pairs after combined $n_q" "$n_q" "$(channels gb "$n_q")"
    else
        assert_eq "A: queue pairs at boot (1 vCPU)" "$n_q" "$(channels ga)"
        assert_eq "B: queue pairs at boot (1 vCPU)" "$n_q" "$(channels gb)"
    fi
    ids=$(seq -s, 0 $((n_q - 1)))
    for p in a b; do
        expect_queues $p "$polled/$ids"
        assert_eq "$name: active queue pairs of port $p" "$n_q" "$(active_queues $p)"
    done
    for ((i = 0; i < Q; i++)); do
        want_rx="$want_rx${want_rx:+,}$((i < n_q ? N / n_q : 0))"
    done

    snapshot "$name-0"
    local b_guest0 b_tx0
    b_guest0=$(guest_rx gb "$name-0")
    b_tx0=$(stat b tx_packets)
    guest_cmd ga "vu_set count=$N pkt_size=60 delay=$DELAY queue_map=0-$((Q - 1)); vu_pktgen" 180 \
        >/dev/null || fail "$name: pktgen failed"
    assert_eq "$name: frames pktgen sent" "$N" "$(guest_result "${GUEST_LOG[ga]}" sent)"
    assert_eq "$name: pktgen errors" 0 "$(guest_result "${GUEST_LOG[ga]}" errors)"
    wait_counter b tx_packets $((b_tx0 + N)) 60
    sleep 1
    snapshot "$name-1"

    assert_eq "$name: frames vuswitch took from each queue of A" "$want_rx" \
        "$(deltas "$name-0" "$name-1" a rx_packets)"
    local b_tx
    b_tx=$(deltas "$name-0" "$name-1" b tx_packets)
    assert_eq "$name: frames vuswitch delivered to B" "$N" $(( ${b_tx//,/+} ))
    assert_eq "$name: frames guest B received" "$N" $(( $(guest_rx gb "$name-1") - b_guest0 ))
    vu_log "$name: $n_q queue pairs; from A per queue $(deltas "$name-0" "$name-1" a rx_packets), to B per queue $b_tx"
    LAST_B_TX=$b_tx
}

all=$(seq -s, 0 $((Q - 1)))
mark_booted
step boot 1 0
step more $Q "$all"
# Each worker transmits into B through the first queue it owns; unless one
# worker owns every queue of B, one of them is not queue 0.
spread=$(ctl stats --json | python3 -c '
import json, sys
p = next(p for p in json.load(sys.stdin)["ports"] if p["name"] == "b")
print(len({q["tx_worker"] for q in p["queues"]}))')
if [ "$spread" -gt 1 ] && [ $(( $(echo "$LAST_B_TX" | cut -d, -f2- | tr , +) )) -eq 0 ]; then
    fail "B's queues 1..$((Q - 1)) carried no frame (per queue: $LAST_B_TX)"
fi
step fewer 1 "$all"
step again 2 "$all"

guest_cmd ga 'vu_ping 3' >/dev/null || fail "A cannot ping B"
guest_cmd gb 'vu_ping 3' >/dev/null || fail "B cannot ping A"
for p in a b; do
    assert_eq "drops on port $p since the guests booted" 0 "$(drops_since_boot $p)"
done
check_conservation_pair a b
for pid in $pids; do
    vu_alive "$pid" || fail "process $pid (vuswitch or a guest) is gone: nothing may restart"
done
grep -c 'front end connected' "$VUSWITCH_LOG" | grep -qx 2 ||
    fail "a front end reconnected: $(grep 'front end' "$VUSWITCH_LOG")"
stop_vuswitch
pass "queue pairs enabled and disabled at run time (1, 4, 1, 2 of 4), no restart"
