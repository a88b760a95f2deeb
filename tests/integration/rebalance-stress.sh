#!/usr/bin/env bash
# Stress of the ownership handshake: two workers, two ports with two queue
# pairs each, DPDK testpmd looping traffic through them for 30 s while a
# queue is moved from one worker to the other every 100 ms
# (`vuswitchctl move-queue`), with a load-based `rebalance` now and then.
# Asserts: vuswitch survives, the loop still runs at the end, accounting
# holds -- every frame taken from one port was delivered to the
# other or counted as a drop (the only drops a move may cause are frames
# already handed to the worker that just gave up the port, counted as
# handoff_lost).
# Needs root, hugepages and dpdk-testpmd (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers dpdk-testpmd
DURATION=${VU_STRESS_SECONDS:-30}

start_vuswitch --cores 0,1 \
    --port "a=vhost:$T/a.sock,queues=2" --port "b=vhost:$T/b.sock,queues=2"
start_testpmd_loop "$T/a.sock" "$T/b.sock" $((DURATION + 60)) 2
wait_until 30 "frames circulate" frames_moving a

moves=0
end=$((SECONDS + DURATION))
while [ "$SECONDS" -lt "$end" ]; do
    port=$([ $((moves % 2)) = 0 ] && echo a || echo b)
    ctl move-queue "$port" $((moves / 2 % 2)) $((moves / 4 % 2)) >/dev/null ||
        fail "move-queue failed after $moves moves"
    moves=$((moves + 1))
    [ $((moves % 50)) = 0 ] && { ctl rebalance >/dev/null || fail "rebalance failed"; }
    sleep 0.1
done
vuswitch_alive || fail "vuswitch died after $moves moves"
# Worker 0 shares CPU 0 with testpmd's busy-polling core (2 CPUs): end with
# every queue on worker 1, so that "still running" measures the switch,
# not the scheduler.
for p in a b; do
    for q in 0 1; do ctl move-queue "$p" "$q" 1 >/dev/null || fail "move-queue"; done
done
total_rx() { echo $(( $(stat a rx_packets) + $(stat b rx_packets) )); }
switch_moving() { local n; n=$(total_rx); sleep 2; [ "$(total_rx)" -gt "$n" ]; }
wait_until 30 "traffic still flowing after $moves moves" switch_moving

stop_testpmd_loop
sleep 0.5
ctl stats --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
ports = {p["name"]: p for p in d["ports"]}
lost = sum(w["handoff_lost"] for w in d["workers"])
bad = []
for s, t in (("a", "b"), ("b", "a")):
    taken = ports[s]["rx_packets"] - ports[s]["rx_dropped"]
    handed = ports[t]["tx_packets"] + ports[t]["tx_dropped"]
    if taken < handed:
        bad.append("%s->%s: delivered more than taken" % (s, t))
    gap = taken - handed
    if gap > lost:
        bad.append("%s->%s: %d frames unaccounted (handoff_lost %d)" % (s, t, gap, lost))
print("moves ok; a rx %d, b rx %d, handoff_lost %d" % (ports["a"]["rx_packets"], ports["b"]["rx_packets"], lost))
sys.exit("; ".join(bad) if bad else 0)
' || fail "frames unaccounted for"
echo "moves: $moves"
stop_vuswitch
pass "$moves queue moves under traffic"
