#!/usr/bin/env bash
# test-vupktgen-dpdk.sh -- vupktgen against a real vhost-user backend that
# is not ours: DPDK testpmd's net_vhost, io-forwarding port 0 <-> port 1.
#
# Needs root (hugepages) and dpdk-testpmd (tests/install-deps.sh); exits 77
# without root, and without testpmd unless VU_REQUIRE_PEERS=1 (then it
# fails), as tests/lib/peers.sh decides.
#
# vupktgen sends on A (its port 0) to B's MAC, testpmd forwards A -> B,
# vupktgen receives on B.  Every run is rate-limited, and the receive rings
# hold more than all the frames that can be in flight (the transmit ring's
# worth, even in 9000-byte frames of 5 buffers each), so that a generator
# descheduled for a while on a busy machine loses nothing; it asserts
# received == sent, nothing
# corrupt, the hellos got through.  The runs cover 64-byte frames, IMIX
# with 16 flows and flow MACs, 9000-byte frames spread over mergeable
# receive buffers, 1518-byte frames without MRG_RXBUF and without
# EVENT_IDX, a duration-limited run, 64-byte and 9000-byte frames on packed
# rings (the report must say packed: vupktgen fails the set-up rather than
# fall back to split), and both directions at once with B listening
# (testpmd in client mode).  Then testpmd's own forward
# statistics must account for exactly what vupktgen sent and received
# (testpmd may drop a hello that A sends before B is up: vupktgen repeats
# its hellos until they get through, and sends data only after).
set -euo pipefail
# shellcheck source=tests/lib/peers.sh
. "$(dirname "$0")/../lib/peers.sh"
vu_test_init
T=$VU_TEST_DIR

require_root
require_peers dpdk-testpmd python3
VUPKTGEN=${VUPKTGEN:-$VU_BUILDDIR/tools/vupktgen}
[ -x "$VUPKTGEN" ] || fail "vupktgen not found at $VUPKTGEN (set VUPKTGEN or VU_BUILDDIR)"

# report FILE: shell assignments of what the checks need from a JSON
# report: totals, and what each port put in and took out, hellos and all.
report() {
    python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
a, b = r["ports"]
def took(p):
    return sum(p[k] for k in ("received", "hellos_received", "other_received", "corrupt"))
print(" ".join("%s=%s" % kv for kv in [
    ("sent", r["sent"]), ("received", r["received"]), ("corrupt", r["corrupt"]),
    ("reordered", r["reordered"]), ("misdelivered", r["misdelivered"]),
    ("hellos_ok", int(r["hellos_ok"])), ("p50", r["latency_ns"]["p50"]),
    ("ring", r["ring"]),
    ("in0", a["sent"] + a["hellos_sent"]), ("in1", b["sent"] + b["hellos_sent"]),
    ("out0", took(a)), ("out1", took(b)),
    ("lost_hellos", a["hellos_sent"] - b["hellos_received"]
                    + b["hellos_sent"] - a["hellos_received"])]))
EOF
}

# Sums over the runs of one testpmd instance, to compare with its stats.
p0_in=0         # what testpmd port 0 must have received (all A sent)
p1_out=0        # what testpmd port 1 must have sent (all B received)
p1_in=0         # what testpmd port 1 must have received (all B sent)
p0_out=0        # what testpmd port 0 must have sent (all A received)
hellos_lost=0   # hellos that never arrived (at most dropped by testpmd)
n_runs=0

# run NAME A_ARGS B_ARGS VUPKTGEN_ARGS...: one vupktgen run over ports A, B.
run() {
    local name=$1 a=$2 b=$3 out
    shift 3
    n_runs=$((n_runs + 1))
    out=$T/run$n_runs.json
    vu_log "run $n_runs: $name"
    local rc=0
    # shellcheck disable=SC2086 # A_ARGS and B_ARGS are two words each
    "$VUPKTGEN" $a $b --cpu 0 --tx-ring-size 1024 --rx-ring-size 8192 \
        --interval 0 --hello-timeout 10000 --json --expect-no-loss "$@" >"$out" 2>"$T/run$n_runs.log" || rc=$?
    [ -s "$out" ] || fail "$name: vupktgen exited $rc without a report: $(tail -n 5 "$T/run$n_runs.log")"
    local sent received corrupt reordered misdelivered hellos_ok p50 ring
    local in0 in1 out0 out1 lost_hellos vals want_ring=split
    case " $* " in *" --packed "*) want_ring=packed ;; esac
    vals=$(report "$out") || fail "$name: unreadable report $out"
    eval "$vals"
    echo "$name: $ring rings, sent $sent received $received" \
         "corrupt $corrupt reordered $reordered latency p50 $p50 ns"
    [ "$sent" -gt 0 ] || fail "$name: nothing sent"
    assert_eq "$name: rings" "$want_ring" "$ring"
    assert_eq "$name: received" "$sent" "$received"
    assert_eq "$name: corrupt" 0 "$corrupt"
    assert_eq "$name: reordered" 0 "$reordered"
    assert_eq "$name: misdelivered" 0 "$misdelivered"
    assert_eq "$name: hellos got through" 1 "$hellos_ok"
    assert_eq "$name: exit status" 0 "$rc"
    p0_in=$((p0_in + in0)) p1_in=$((p1_in + in1))
    p0_out=$((p0_out + out0)) p1_out=$((p1_out + out1))
    hellos_lost=$((hellos_lost + lost_hellos))
}

# check_testpmd NAME: stops testpmd NAME and compares its final forward
# statistics with what vupktgen counted.
check_testpmd() {
    local log=${TESTPMD_LOG[$1]} got
    stop_testpmd "$1" || fail "testpmd $1 did not stop cleanly"
    got=$(testpmd_fwd_stat "$log" 0 RX-packets) || fail "no forward statistics from testpmd"
    assert_eq "testpmd port 0 RX-packets" "$p0_in" "$got"
    assert_eq "testpmd port 1 TX-packets" "$p1_out" "$(testpmd_fwd_stat "$log" 1 TX-packets)"
    assert_eq "testpmd port 1 RX-packets" "$p1_in" "$(testpmd_fwd_stat "$log" 1 RX-packets)"
    assert_eq "testpmd port 0 TX-packets" "$p0_out" "$(testpmd_fwd_stat "$log" 0 TX-packets)"
    local dropped
    dropped=$(($(testpmd_fwd_stat "$log" 0 TX-dropped) + $(testpmd_fwd_stat "$log" 1 TX-dropped)))
    [ "$dropped" -le "$hellos_lost" ] ||
        fail "testpmd dropped $dropped frames, more than the $hellos_lost hellos lost"
    echo "testpmd $1: port 0 RX $got, port 1 TX $p1_out, dropped $dropped (hellos lost: $hellos_lost)"
    p0_in=0 p1_out=0 p1_in=0 p0_out=0 hellos_lost=0
}

# testpmd listens on both sockets; vupktgen connects.
start_testpmd_switch sw "$T/A.sock" "$T/B.sock"
A="--port $T/A.sock" B="--port $T/B.sock"
run "64B at 20 kpps" "$A" "$B" --tx 0 --rx 1 --size 64 --count 20000 --rate 20k
run "IMIX, 16 flows and MACs" "$A" "$B" --tx 0 --rx 1 --imix --flows 16 \
    --flow-macs --count 10000 --rate 10k
run "9000B over mergeable buffers" "$A" "$B" --tx 0 --rx 1 --size 9000 \
    --mrg --count 2000 --rate 2k
run "1518B, no MRG_RXBUF, no EVENT_IDX" "$A" "$B" --tx 0 --rx 1 --size 1518 \
    --no-mrg --no-event-idx --count 5000 --rate 5k
run "128B for 0.5 s" "$A" "$B" --tx 0 --rx 1 --size 128 --duration 0.5 --rate 10k
run "64B, packed rings" "$A" "$B" --tx 0 --rx 1 --size 64 --count 20000 \
    --rate 20k --packed
run "9000B over mergeable buffers, packed rings" "$A" "$B" --tx 0 --rx 1 \
    --size 9000 --mrg --count 2000 --rate 2k --packed
check_testpmd sw

# testpmd as a client on B: vupktgen listens there; both directions.
start_testpmd sw2 --lcores "$(_vu_lcores 1)" -m 256 --no-pci \
    --vdev "net_vhost0,iface=$T/C.sock,queues=1" \
    --vdev "net_vhost1,iface=$T/D.sock,queues=1,client=1" \
    -- --forward-mode=io --auto-start --stats-period 1 --nb-cores=1 \
    --total-num-mbufs=16384
vu_register_path "$T/C.sock" "$T/D.sock"
wait_for_sockets 20 "${TESTPMD_PID[sw2]}" "$T/C.sock" ||
    fail "testpmd sw2: socket $T/C.sock did not appear"
run "both ways, B listening" "--port $T/C.sock" "--listen $T/D.sock" \
    --tx 0 --tx 1 --rx 0 --rx 1 --size 256 --count 10000 --rate 20k
[ ! -e "$T/D.sock" ] || fail "vupktgen left its listening socket behind"
check_testpmd sw2

echo "PASS: $VU_TEST_NAME: $n_runs runs, counts match testpmd's"
