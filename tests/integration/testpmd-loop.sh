#!/usr/bin/env bash
# Real peer: DPDK testpmd with two net_virtio_user ports in a closed loop
# through vuswitch (TESTBED.md).  Asserts:
#  - the loop runs 20 s at full speed without stalling: frames still
#    circulate at the end;
#  - counters conserve: a frame taken from one port is delivered to the
#    other or counted under a drop reason;
#  - virtio-user negotiated VIRTIO_F_IN_ORDER, so the loop runs on the
#    in-order paths;
#  - add-port / del-port of a third port while the loop runs: no crash,
#    the loop keeps running, the deleted port's socket is gone;
#  - SIGTERM under traffic: exit 0, sockets unlinked.
# Needs root, hugepages and dpdk-testpmd (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_cmd dpdk-testpmd dpdk
setup_hugepages

start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$T/a.sock" --port "b=vhost:$T/b.sock"
start_testpmd_loop "$T/a.sock" "$T/b.sock" 40

wait_until 30 "frames circulate" frames_moving a
for p in a b; do
    ctl ports --json | python3 -c '
import json, sys
f = [p["features"] for p in json.load(sys.stdin)["ports"]
     if p["name"] == sys.argv[1]][0]
sys.exit(not f >> 35 & 1)' "$p" || fail "port $p: VIRTIO_F_IN_ORDER not negotiated"
done
sleep 5
ctl add-port "c=vhost:$T/c.sock" || fail "add-port failed"
[ -S "$T/c.sock" ] || fail "add-port did not create $T/c.sock"
frames_moving a || fail "loop stalled after add-port"
ctl del-port c || fail "del-port failed"
[ ! -e "$T/c.sock" ] || fail "del-port left $T/c.sock behind"
ctl del-port c 2>/dev/null && fail "del-port of an unknown port succeeded"

sleep 10
frames_moving a || fail "loop stalled after 20 s"
frames_moving b || fail "loop stalled after 20 s (port b)"
check_conservation_pair a b

stop_vuswitch           # under traffic: asserts exit 0
for s in a b; do
    [ ! -e "$T/$s.sock" ] || fail "socket $s.sock left behind"
done
pass "testpmd closed loop through vuswitch"
