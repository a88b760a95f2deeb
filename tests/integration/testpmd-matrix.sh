#!/usr/bin/env bash
# Real peer: DPDK 22.11 testpmd's net_virtio_user with each virtio path it
# has, in the closed loop through vuswitch (TESTBED.md): mergeable receive
# buffers off and on, in-order off and on, ring sizes 256 and 1024, one and
# four queue pairs (two workers for the last); and the same on packed
# rings (packed_vq=1); and packed_vq=1 against ports configured with
# packed=off, which must fall back to split rings.  For each: frames keep
# circulating, every frame is accounted for, and the rings are the layout
# expected.
# Needs root, hugepages and dpdk-testpmd (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers dpdk-testpmd
hugepages_setup 512

# run_case NAME QUEUES CORES VDEV_OPTS [PORT_OPTS]
run_case() {
    local name=$1 q=$2 cores=$3 opts=$4 popts=${5:-} active layout
    start_vuswitch --cores "$cores" \
        --port "a=vhost:$T/a.sock,queues=$q$popts" \
        --port "b=vhost:$T/b.sock,queues=$q$popts"
    start_testpmd_loop "$T/a.sock" "$T/b.sock" 120 "$q" "$opts"
    sleep 3
    frames_moving a || fail "$name: loop stalled (a)"
    frames_moving b || fail "$name: loop stalled (b)"
    active=$(ctl ports | grep -c "queues: *$q configured, $q active") || true
    [ "$active" = 2 ] || fail "$name: expected $q active queue pairs on both ports: $(ctl ports)"
    layout=split
    case $opts in *packed_vq=1*) layout=packed ;; esac
    case $popts in *packed=off*)
        layout=split
        grep -q "port a: front end connected .*packed=off: split rings only" \
            "$VUSWITCH_LOG" || fail "$name: no packed=off in the log" ;;
    esac
    grep -q "a: vring 1 started: $layout" "$VUSWITCH_LOG" \
        || fail "$name: rings are not $layout: $(grep 'started:' "$VUSWITCH_LOG" | head -2)"
    stop_testpmd_loop
    check_conservation_pair a b
    echo "ok: $name: a rx $(stat a rx_packets) tx $(stat a tx_packets)"
    stop_vuswitch
}

run_case mrg0 1 "$(last_cpu)" "mrg_rxbuf=0"
run_case mrg1 1 "$(last_cpu)" "mrg_rxbuf=1"
run_case inorder1 1 "$(last_cpu)" "in_order=1"
run_case inorder0 1 "$(last_cpu)" "in_order=0"
run_case ring1024 1 "$(last_cpu)" "queue_size=1024"
run_case queues4 4 "0,1" "mrg_rxbuf=1"
run_case packed-mrg0 1 "$(last_cpu)" "packed_vq=1,mrg_rxbuf=0"
run_case packed-mrg1 1 "$(last_cpu)" "packed_vq=1,mrg_rxbuf=1"
run_case packed-inorder0 1 "$(last_cpu)" "packed_vq=1,in_order=0"
run_case packed-ring1024 1 "$(last_cpu)" "packed_vq=1,queue_size=1024"
run_case packed-queues4 4 "0,1" "packed_vq=1,mrg_rxbuf=1"
run_case packed-withheld 1 "$(last_cpu)" "packed_vq=1" ",packed=off"
pass "testpmd virtio-user: split and packed rings; mrg_rxbuf 0/1, in_order 0/1, queue_size 256/1024, queues 1/4; packed=off"
