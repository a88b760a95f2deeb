#!/usr/bin/env bash
# Real peer: DPDK testpmd (two net_virtio_user ports, hugepage memory) in a
# closed loop through vuswitch.  Asserts, for issue #7 (NUMA placement):
#  - the daemon logs the NUMA topology exactly once;
#  - before a front end connects, `vuswitchctl ports --json` says the
#    port's guest memory node is unknown (-1);
#  - once testpmd is up, each port's numa_node is a node that the kernel
#    lists for testpmd's hugepage memory (/proc/PID/numa_maps: an oracle
#    independent of get_mempolicy), and the human output shows it;
#  - on a one-node machine placement does nothing new: no queue moves;
#  - after testpmd leaves, the node is unknown again.
# The node-preference logic itself is unit-tested with a fake topology
# (tests/test-placement); this machine may well have a single node.
# Needs root, hugepages and dpdk-testpmd (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_cmd dpdk-testpmd dpdk
setup_hugepages

# port_field PORT FIELD: one field of `ports --json` for PORT.
port_field() {
    ctl ports --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]:
    if p["name"] == sys.argv[1]:
        print(p[sys.argv[2]])' "$1" "$2"
}

# hugepage_nodes PID: the NUMA nodes holding PID's hugetlb pages, one a line.
hugepage_nodes() {
    awk '/ huge / { for (i = 1; i <= NF; i++) if ($i ~ /^N[0-9]+=/) {
             split(substr($i, 2), kv, "="); print kv[1] } }' \
        "/proc/$1/numa_maps" | sort -u
}

start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$T/a.sock" --port "b=vhost:$T/b.sock"
assert_eq "NUMA topology log lines" 1 \
    "$(grep -c 'NUMA: one node\|NUMA: [0-9]* nodes' "$VUSWITCH_LOG")"
assert_eq "numa_node of a before a front end" -1 "$(port_field a numa_node)"

start_testpmd_loop "$T/a.sock" "$T/b.sock" 60
wait_until 30 "frames circulate" frames_moving a
# TP_PID is timeout(1); testpmd is its child.
TESTPMD=
read -r TESTPMD _ <"/proc/$TP_PID/task/$TP_PID/children" || true
[ -n "$TESTPMD" ] || fail "cannot find testpmd under timeout $TP_PID"
NODES=$(hugepage_nodes "$TESTPMD")
[ -n "$NODES" ] || fail "no hugetlb pages in /proc/$TESTPMD/numa_maps"
for p in a b; do
    node=$(port_field "$p" numa_node)
    grep -qx -- "$node" <<<"$NODES" ||
        fail "port $p: numa_node $node, but testpmd's hugepages are on: $NODES"
done
ctl ports | grep -q "numa node: *$(port_field a numa_node)\$" ||
    fail "vuswitchctl ports does not show the node: $(ctl ports)"
if grep -q 'NUMA: one node' "$VUSWITCH_LOG"; then
    grep -q 'moved .* queue(s) to workers on node' "$VUSWITCH_LOG" &&
        fail "one node, yet queues moved: $(grep NUMA "$VUSWITCH_LOG")"
fi

stop_testpmd_loop
node_unknown() { [ "$(port_field "$1" numa_node)" = -1 ]; }
wait_until 30 "a's memory unmapped" node_unknown a
wait_until 30 "b's memory unmapped" node_unknown b
check_conservation_pair a b
stop_vuswitch
pass "guest memory node reported ($NODES) and placement unchanged on one node"
