#!/usr/bin/env bash
# A capture fed by two workers at once.  vuswitch runs two workers
# (--cores 0,1) and two vhost-user ports with two queue pairs each, so
# that each port's queues are spread over both workers; DPDK testpmd
# (net_virtio_user, two queues) runs a closed loop through them at full
# speed.  A capture of port a (both directions, 64-byte snaplen) therefore
# gets copies from both workers, each into its own ring of the capture.
# (Worker 0 shares CPU 0 with testpmd, which keeps the rate modest: the
# writer may or may not keep up; what it cannot store is counted.)
# Asserts:
#  - both workers copied into the capture (its queues 0 and 1 both count);
#  - every frame a took (not marked bad) or was delivered is accounted
#    for: offered + lost (sink_full) = a's rx + tx, exactly;
#  - tcpdump -r reads the file, and it holds exactly the frames offered;
#  - the switch's own counters conserve, capture or not.
# Needs root, 2 CPUs, hugepages, dpdk-testpmd and tcpdump
# (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs (one worker each)"
require_peers dpdk-testpmd tcpdump

D=$VU_TEST_DIR
start_vuswitch --cores 0,1 \
    --port "a=vhost:$D/a.sock,queues=2" --port "b=vhost:$D/b.sock,queues=2"
# Before any traffic, so that it sees all of a's frames.
ctl capture a "$D/a.pcap" --snaplen 64 >/dev/null

start_testpmd_loop "$D/a.sock" "$D/b.sock" 60 2

# counts PORT: "rx_packets rx_marked_bad tx_packets q0_tx q1_tx lost" from
# one stats snapshot (rx_marked_bad: rx drops a port marks in rx_burst).
counts() {
    ctl stats --json | python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(sys.stdin)["ports"]}
p = ports[sys.argv[1]]
bad = sum(q["rx_drops"][r] for q in p["queues"] for r in
          ("bad_descriptor", "bad_address", "header_too_short", "mtu_exceeded"))
c = ports.get("capture:" + sys.argv[1])
qs = c["queues"] if c else []
print(p["rx_packets"], bad, p["tx_packets"],
      qs[0]["tx_packets"] if len(qs) > 0 else 0,
      qs[1]["tx_packets"] if len(qs) > 1 else 0,
      c["drops"]["sink_full"] if c else 0)' "$1"
}
both_workers_copy() {
    local c
    read -r -a c <<<"$(counts a)"
    [ "${c[3]}" -gt 0 ] && [ "${c[4]}" -gt 0 ]
}
wait_until 30 "frames circulate" frames_moving a
wait_until 10 "both workers to copy into the capture" both_workers_copy
sleep 2

# Stop the traffic, then the capture: the counts are final.
stop_testpmd_loop
sleep 1
read -r rx bad tx q0 q1 lost <<<"$(counts a)"
out=$(ctl capture-stop a)
offered=$(echo "$out" | sed -n 's/.*: \([0-9]*\) frames, \([0-9]*\) lost.*/\1/p')
lost2=$(echo "$out" | sed -n 's/.*: \([0-9]*\) frames, \([0-9]*\) lost.*/\2/p')
vu_log "a: rx $rx (bad $bad), tx $tx; capture: $q0 + $q1 offered, $lost lost"
assert_eq "frames offered, per queue vs capture-stop" $((q0 + q1)) "$offered"
assert_eq "frames lost, stats vs capture-stop" "$lost" "$lost2"
assert_eq "capture offered + lost" $((rx - bad + tx)) $((offered + lost))
[ "$lost" -gt 0 ] || vu_log "note: the writer kept up with everything"

frames=$(tcpdump -r "$D/a.pcap" -nn 2>"$D/tcpdump.err" | wc -l) ||
    fail "tcpdump -r: $(cat "$D/tcpdump.err")"
assert_eq "frames in the capture file" "$offered" "$frames"

check_conservation_pair a b
stop_vuswitch
pass "a capture fed by two workers: $offered frames stored, $lost lost and counted, of $((rx - bad + tx))"
