#!/usr/bin/env bash
# Real peers, all at once: two QEMU guests (ga, gb; one queue pair each)
# and two DPDK testpmd net_virtio_user ports (da, db; two queue pairs
# each, queues=2 on both sides) on one vuswitch with two workers.
# One testpmd (interactive, commands through a FIFO, --port-topology=loop
# so that each port answers on itself) plays both DPDK ports.
#
# Every pair exchanges frames, each phase with exact counts (vuswitch's
# counters, the guests' interface counters, testpmd's forward statistics):
#   1. da -> ga, db -> gb   testpmd txonly bursts (start tx_first)
#   2. ga <-> gb            ping both ways; ga's pktgen to gb: no copy
#                           reaches da or db (learning with four ports)
#   3. ga -> da, gb -> db   guest pktgen, testpmd rxonly counts them
#   4. ga <-> db, gb <-> da guest ping answered by testpmd icmpecho
#   5. da <-> db            txonly bursts on both queues of both ports
#   6. all at once          testpmd mac forwarding loops da <-> db at full
#                           speed while ga's pktgen sends to gb: every
#                           frame for gb is delivered or counted dropped
# Before and after: `vuswitchctl ports` shows both queue pairs of da and
# db active, one on worker 0 and one on worker 1.  At the end: each of
# those queues carried frames both ways, and the counters of the four
# ports conserve (check_conservation_unicast: the test sends only unicast
# frames to learnt MACs, so every frame taken is delivered once or counted
# dropped).
# Needs root, hugepages, qemu-system-x86 and dpdk-testpmd
# (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers dpdk-testpmd stdbuf
ensure_guest_image
hugepages_setup 512

D=$VU_TEST_DIR
N=${VU_FOUR_PORTS_COUNT:-300}   # pktgen frames per phase
DELAY=2000000                   # ns between them: a TCG guest keeps up
MAC_GA=$(guest_mac 1) MAC_GB=$(guest_mac 2)
MAC_DA=$(guest_mac 11) MAC_DB=$(guest_mac 12)
IP_GA=10.0.0.1 IP_GB=10.0.0.2 IP_DA=10.0.0.11 IP_DB=10.0.0.12

# ---- helpers ------------------------------------------------------------

# snap NAME: `stats --json` now, into $D/NAME.json.
snap() { ctl stats --json >"$D/$1.json"; }

# expect_delta BEFORE AFTER [PORT.FIELD=N...]: between the two snapshots,
# each named counter (FIELD may be a path: queues.1.rx_packets) grew by
# exactly N, and every other rx_packets, tx_packets, rx_dropped and
# tx_dropped of every port did not change.
expect_delta() {
    python3 - "$D/$1.json" "$D/$2.json" "${@:3}" <<'EOF' || fail "counters of phase $2"
import json, sys
def load(path):
    return {p["name"]: p for p in json.load(open(path))["ports"]}
def get(ports, path):
    name, *keys = path.split(".")
    v = ports[name]
    for k in keys:
        v = v[int(k)] if isinstance(v, list) else v[k]
    return v
before, after = load(sys.argv[1]), load(sys.argv[2])
want = {}
for name in after:
    for f in ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped"):
        want[name + "." + f] = 0
for spec in sys.argv[3:]:
    path, n = spec.split("=")
    want[path] = int(n)
bad = ["%s: expected +%d, got +%d" % (p, n, get(after, p) - get(before, p))
       for p, n in sorted(want.items()) if get(after, p) - get(before, p) != n]
if bad:
    sys.exit("\n".join(bad))
EOF
}

# snap_get NAME PORT FIELD: one counter of snapshot NAME.
snap_get() {
    python3 -c '
import json, sys
print(next(p for p in json.load(open(sys.argv[1]))["ports"]
           if p["name"] == sys.argv[2])[sys.argv[3]])' "$D/$1.json" "$2" "$3"
}

# wait_delta NAME PORT FIELD N: waits (60 s) until FIELD of PORT grew by N
# since snapshot NAME.
wait_delta() {
    wait_counter "$2" "$3" $(($(snap_get "$1" "$2" "$3") + $4)) 60
}

# guest_rx NAME TAG: the guest's eth0 rx_packets now.
guest_rx() {
    guest_cmd "$1" "vu_stats $2" >/dev/null || fail "guest $1: vu_stats"
    guest_stat "${GUEST_LOG[$1]}" rx_packets "$2"
}

# pktgen NAME DST_MAC DST_IP: COUNT=$N frames from guest NAME, DELAY apart.
pktgen() {
    guest_cmd "$1" "vu_set count=$N pkt_size=60 delay=$DELAY peer_mac=$2 dst=$3; vu_pktgen" 120 \
        >/dev/null || fail "guest $1: pktgen failed"
    assert_eq "frames pktgen in $1 sent" "$N" "$(guest_result "${GUEST_LOG[$1]}" sent)"
}

# ping_from NAME IP MAC: guest NAME pings IP (static ARP entry to MAC)
# three times; all must be answered.
ping_from() {
    guest_cmd "$1" "arp -i eth0 -s $2 $3 && (vu_set peer_ip=$2; vu_ping 3)" 60 >/dev/null ||
        fail "ping from $1 to $2 ($3) failed"
}

# The interactive testpmd: tp_cmd COMMAND sends one command and waits
# (TIMEOUT, default 30 s) for the next prompt, that is until testpmd has
# printed all its output for it.  stdbuf: testpmd's stdout is a file,
# fully buffered otherwise.
TP_LOG=$D/testpmd.log
tp_start() {
    local prefix="vu$$four"
    mkfifo "$D/testpmd.in"
    exec {TP_IN}<>"$D/testpmd.in"
    vu_register_dpdk_prefix "$prefix"
    "${_VU_LEASH[@]}" stdbuf -oL dpdk-testpmd --file-prefix="$prefix" \
        --lcores 0@0,1@1 -m 256 --single-file-segments --no-pci \
        --vdev "net_virtio_user0,path=$D/da.sock,queues=2,mac=$MAC_DA" \
        --vdev "net_virtio_user1,path=$D/db.sock,queues=2,mac=$MAC_DB" \
        -- -i --port-topology=loop --forward-mode=rxonly --nb-cores=1 \
        --rxq=2 --txq=2 --total-num-mbufs=32768 \
        --eth-peer="0,$MAC_GA" --eth-peer="1,$MAC_GB" \
        <&"$TP_IN" >"$TP_LOG" 2>&1 &
    TP_PID=$!
    vu_register_pid "$TP_PID" testpmd four
    wait_for_log "$TP_LOG" 'testpmd> ' 60 "$TP_PID" || fail "testpmd did not start"
}
_tp_prompts() { tr -d '\r' <"$TP_LOG" | grep -o 'testpmd> ' | wc -l; }
_tp_prompts_above() { [ "$(_tp_prompts)" -gt "$1" ]; }
tp_cmd() {
    local n
    n=$(_tp_prompts)
    echo "$1" >&"$TP_IN"
    wait_until "${2:-30}" "testpmd: $1" _tp_prompts_above "$n"
    vu_alive "$TP_PID" || fail "testpmd exited after: $1"
}

# tp_expect PORT FIELD N: testpmd's forward statistics of the last `stop`.
tp_expect() {
    assert_eq "testpmd port $1 $2 (last phase)" "$3" "$(testpmd_fwd_stat "$TP_LOG" "$1" "$2")"
}

# ---- setup --------------------------------------------------------------

# MACs are learnt once and never age during the test: the counts below
# rely on no frame being flooded.
start_vuswitch --cores 0,1 --fdb-aging 3600 \
    --port "ga=vhost:$D/ga.sock" --port "gb=vhost:$D/gb.sock" \
    --port "da=vhost:$D/da.sock,queues=2" --port "db=vhost:$D/db.sock,queues=2"
start_guest ga "$D/ga.sock" "$MAC_GA" idle cmd=1 ip=$IP_GA/24 \
    peer_ip=$IP_GB peer_mac="$MAC_GB"
start_guest gb "$D/gb.sock" "$MAC_GB" idle cmd=1 ip=$IP_GB/24 \
    peer_ip=$IP_GA peer_mac="$MAC_GA"
wait_guest_ready ga 180
wait_guest_ready gb 180

# The switch learns both guests before the DPDK ports are up: ga's first
# echo request, to a MAC not learnt yet, is flooded to gb alone.
guest_cmd ga 'vu_wait_peer 90' >/dev/null || fail "ga cannot reach gb"

tp_start
wait_until 60 "port da up" port_up_at "$D/da.sock"
wait_until 60 "port db up" port_up_at "$D/db.sock"
# Each DPDK port's two queue pairs are active, one on each worker (they
# are spread when the port is added), as `vuswitchctl ports` shows.
port_section() { sed -n "/^$1 (/,/^[^ ]/p" "$D/ports.txt"; }
both_pairs_active() {
    ctl ports >"$D/ports.txt" &&
        port_section da | grep -q 'queues: *2 configured, 2 active' &&
        port_section db | grep -q 'queues: *2 configured, 2 active'
}
check_spread() {
    local p
    for p in da db; do
        port_section $p | grep -q 'on worker 0' && port_section $p | grep -q 'on worker 1' ||
            fail "port $p: queues are not on both workers: $(cat "$D/ports.txt")"
    done
}
wait_until 30 "2 active queue pairs on da and db" both_pairs_active
check_spread

# ---- 1. da -> ga, db -> gb: two bursts of 32 on each queue -----------------
# Also teaches the switch the DPDK ports' MACs before anything is sent to
# them.
snap p0
ga0=$(guest_rx ga p1a) gb0=$(guest_rx gb p1a)
tp_cmd "start tx_first 2"
wait_delta p0 ga tx_packets 128
wait_delta p0 gb tx_packets 128
tp_cmd stop
snap p1
for port in 0 1; do
    tp_expect $port TX-packets 128
    tp_expect $port RX-packets 0
done
expect_delta p0 p1 da.rx_packets=128 da.queues.0.rx_packets=64 \
    da.queues.1.rx_packets=64 db.rx_packets=128 db.queues.0.rx_packets=64 \
    db.queues.1.rx_packets=64 ga.tx_packets=128 gb.tx_packets=128
assert_eq "frames guest ga received from da" 128 $(($(guest_rx ga p1b) - ga0))
assert_eq "frames guest gb received from db" 128 $(($(guest_rx gb p1b) - gb0))
echo "ok: 1. da -> ga, db -> gb: 128 frames each, 64 per queue"

# ---- 2. ga <-> gb, with all four ports up -------------------------------
guest_cmd ga 'vu_ping 3' >/dev/null || fail "ga -> gb ping failed"
guest_cmd gb 'vu_ping 3' >/dev/null || fail "gb -> ga ping failed"
snap p1
gb0=$(guest_rx gb p2a)
pktgen ga "$MAC_GB" "$IP_GB"
wait_delta p1 gb tx_packets "$N"
sleep 1
snap p2
expect_delta p1 p2 ga.rx_packets="$N" gb.tx_packets="$N"
assert_eq "frames guest gb received from ga" "$N" $(($(guest_rx gb p2b) - gb0))
echo "ok: 2. ga <-> gb ping; ga -> gb $N frames, none to da or db"

# ---- 3. ga -> da, gb -> db: testpmd rxonly counts them -------------------
tp_cmd start
snap p2
pktgen ga "$MAC_DA" "$IP_DA"
pktgen gb "$MAC_DB" "$IP_DB"
wait_delta p2 da tx_packets "$N"
wait_delta p2 db tx_packets "$N"
sleep 1
tp_cmd stop
snap p3
tp_expect 0 RX-packets "$N"
tp_expect 1 RX-packets "$N"
expect_delta p2 p3 ga.rx_packets="$N" gb.rx_packets="$N" \
    da.tx_packets="$N" db.tx_packets="$N"
echo "ok: 3. ga -> da, gb -> db: $N frames each"

# ---- 4. ga <-> db, gb <-> da: testpmd icmpecho answers the guests' pings --
tp_cmd "set fwd icmpecho"
tp_cmd start
snap p3
ping_from ga "$IP_DB" "$MAC_DB"
ping_from gb "$IP_DA" "$MAC_DA"
sleep 1
tp_cmd stop
snap p4
for port in 0 1; do
    tp_expect $port RX-packets 3
    tp_expect $port TX-packets 3
done
expect_delta p3 p4 ga.rx_packets=3 ga.tx_packets=3 gb.rx_packets=3 gb.tx_packets=3 \
    da.rx_packets=3 da.tx_packets=3 db.rx_packets=3 db.tx_packets=3
echo "ok: 4. ga <-> db, gb <-> da: 3 echo requests and replies each"

# ---- 5. da <-> db: four bursts of 32 on each queue of each port ----------
tp_cmd "set fwd rxonly"
tp_cmd "set eth-peer 0 $MAC_DB"
tp_cmd "set eth-peer 1 $MAC_DA"
snap p4
tp_cmd "start tx_first 4"
wait_delta p4 da tx_packets 256
wait_delta p4 db tx_packets 256
sleep 1
tp_cmd stop
snap p5
for port in 0 1; do
    tp_expect $port TX-packets 256
    tp_expect $port RX-packets 256
done
expect_delta p4 p5 da.rx_packets=256 da.queues.0.rx_packets=128 \
    da.queues.1.rx_packets=128 db.rx_packets=256 db.queues.0.rx_packets=128 \
    db.queues.1.rx_packets=128 da.tx_packets=256 db.tx_packets=256
echo "ok: 5. da <-> db: 256 frames each way, 128 per queue"

# ---- 6. all at once: da <-> db loop at full speed, ga -> gb --------------
tp_cmd "set fwd mac"
snap p5
gb0=$(guest_rx gb p6a)
tp_cmd "start tx_first"
pktgen ga "$MAC_GB" "$IP_GB"
guest_cmd gb 'vu_ping 3' >/dev/null || fail "gb -> ga ping failed under load"
frames_moving da || fail "the da <-> db loop stalled"
tp_cmd stop
sleep 2
snap p6
python3 - "$D/p5.json" "$D/p6.json" "$N" <<'EOF' || fail "phase 6"
import json, sys
def load(path):
    return {p["name"]: p for p in json.load(open(path))["ports"]}
a, b, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
def d(port, f):
    return b[port][f] - a[port][f]
bad = []
# gb got pktgen's N frames and 3 echo replies; ga got gb's 3 requests.
if d("ga", "rx_packets") != n + 3 or d("gb", "rx_packets") != 3:
    bad.append("the guests sent %d and %d frames, expected %d and 3"
               % (d("ga", "rx_packets"), d("gb", "rx_packets"), n + 3))
if d("gb", "tx_packets") + d("gb", "tx_dropped") != n + 3:
    bad.append("gb: delivered %d + dropped %d, expected %d"
               % (d("gb", "tx_packets"), d("gb", "tx_dropped"), n + 3))
for port in ("da", "db"):
    if d(port, "rx_packets") < 1000:
        bad.append("%s: only %d frames looped" % (port, d(port, "rx_packets")))
if bad:
    sys.exit("; ".join(bad))
EOF
gb_tx=$(($(stat gb tx_packets) - $(snap_get p5 gb tx_packets)))
assert_eq "frames guest gb received (= vuswitch delivered)" "$gb_tx" $(($(guest_rx gb p6b) - gb0))
echo "ok: 6. da <-> db loop ($(($(stat da rx_packets) - $(snap_get p5 da rx_packets))) frames" \
    "from da) while ga -> gb: gb got $gb_tx of $((N + 3))"

# ---- the whole run ------------------------------------------------------
both_pairs_active || fail "da or db lost a queue pair: $(cat "$D/ports.txt")"
check_spread
ctl stats --json | python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(sys.stdin)["ports"]}
idle = ["%s queue %d %s" % (name, q["id"], f)
        for name in ("da", "db") for q in ports[name]["queues"]
        for f in ("rx_packets", "tx_packets") if q[f] == 0]
if [len(ports[p]["queues"]) for p in ("da", "db")] != [2, 2] or idle:
    sys.exit("queues that carried no frames: %s" % idle)
' || fail "both queue pairs of da and db must carry frames both ways"
check_conservation_unicast ga gb da db
echo quit >&"$TP_IN"
vu_wait_pid "$TP_PID" 10 >/dev/null || true
exec {TP_IN}>&-
stop_vuswitch
pass "two guests, two DPDK ports (queues=2), two workers: every pair, exact counts, conservation"
