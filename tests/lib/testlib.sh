# shellcheck shell=bash
# testlib.sh -- sourced by every integration test.  It brings in peers.sh
# (QEMU guests, DPDK testpmd, UML, vuswitch itself, cleanup by PID on any
# exit: see there) and opens the test's work dir, then adds what tests of
# the switch need on top: its counters and verdicts.
#
#   T                                   the work dir ($VU_TEST_DIR)
#   pass MSG                            exit 0 with a PASS line
#   require_cmd CMD PKG                 like require_peers, naming the package
#   on_exit CMD...                      run CMD at exit (after the peers stop)
#   wait_until SECONDS WHAT CMD...      poll CMD every 0.2 s or fail
#   last_cpu                            the CPU a worker should use
#   ctl ARGS...                         vuswitchctl on the daemon under test
#   stat PORT FIELD                     one field of `stats --json` for PORT
#                                       (FIELD may be drops.REASON)
#   wait_counter PORT FIELD MIN SECONDS wait until the field reaches MIN
#   frames_moving PORT                  rx_packets grows within 2 s
#   check_conservation_pair A B         every frame A took reached B or a
#                                       drop counter, and the other way
#   mark_booted                         after the guests' first pings:
#                                       only boot-time drops so far
#   drops_since_boot PORT               rx + tx drops of PORT since then
#   setup_hugepages                     hugepages for DPDK
#   start_testpmd_loop SOCK_A SOCK_B [SECONDS [VDEV_OPTS]]
#                                       testpmd's closed loop (TESTBED.md),
#                                       PID in TP_PID, log $T/testpmd.log
. "$(dirname "${BASH_SOURCE[0]}")/peers.sh"
vu_test_init
T=$VU_TEST_DIR
VUSWITCHCTL=${VUSWITCHCTL:-$VU_BUILDDIR/tools/vuswitchctl}
_exit_cmds=()

on_exit() { _exit_cmds=("$*" "${_exit_cmds[@]}"); }
_testlib_cleanup() {
    local rc=$? cmd
    set +e          # a failing command here must not end the cleanup
    if [ "$rc" -ne 0 ] && vuswitch_alive; then
        { ctl stats; ctl ports; } >"$T/vuswitch-stats.log" 2>&1
    fi
    for cmd in "${_exit_cmds[@]}"; do
        eval "$cmd" >/dev/null 2>&1 || true
    done
    (exit "$rc")
    _vu_cleanup
}
trap _testlib_cleanup EXIT

pass() { echo "PASS: $VU_TEST_NAME: $*"; exit 0; }
require_cmd() { command -v "$1" >/dev/null 2>&1 || missing_peer "$1 not found (apt-get install $2)"; }
last_cpu() { echo $(( $(nproc) - 1 )); }
setup_hugepages() { hugepages_setup 512; }

wait_until() {
    local limit=$1 what=$2 deadline=$((SECONDS + $1))
    shift 2
    while [ "$SECONDS" -lt "$deadline" ]; do
        "$@" && return 0
        sleep 0.2
    done
    fail "timed out after ${limit}s waiting for: $what"
}

vuswitch_alive() { [ -n "$VUSWITCH_PID" ] && vu_alive "$VUSWITCH_PID"; }

ctl() { "$VUSWITCHCTL" --control "$VUSWITCH_CONTROL" "$@"; }

stat() {
    ctl stats --json | python3 -c '
import json, sys
port, field = sys.argv[1], sys.argv[2]
for p in json.load(sys.stdin)["ports"]:
    if p["name"] == port:
        v = p
        for k in field.split("."):
            v = v[k]
        print(v)
        break
else:
    sys.exit("no port " + port)
' "$1" "$2"
}

_counter_at_least() { [ "$(stat "$1" "$2")" -ge "$3" ]; }
wait_counter() {
    wait_until "$4" "port $1 $2 >= $3" _counter_at_least "$1" "$2" "$3"
}

frames_moving() {
    local before after
    before=$(stat "$1" rx_packets) || return 1
    sleep 2
    after=$(stat "$1" rx_packets) || return 1
    [ "$after" -gt "$before" ]
}

# Two ports that only talk to each other: every frame A took is delivered
# to B or counted as dropped (rx at A, tx at B), and the other way.  One
# snapshot; a burst in flight (at most 32 frames) may be taken but not yet
# delivered.
check_conservation_pair() {
    ctl stats --json | python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(sys.stdin)["ports"]}
a, b = ports[sys.argv[1]], ports[sys.argv[2]]
bad = []
for src, dst in ((a, b), (b, a)):
    taken = src["rx_packets"] - src["rx_dropped"]
    handed = dst["tx_packets"] + dst["tx_dropped"]
    if not 0 <= taken - handed <= 32:
        bad.append("%s->%s: taken %d, delivered+dropped %d"
                   % (src["name"], dst["name"], taken, handed))
    if sum(src["drops"].values()) != src["rx_dropped"] + src["tx_dropped"]:
        bad.append("%s: drops by reason do not add up" % src["name"])
if bad:
    sys.exit("conservation broken: " + "; ".join(bad))
' "$1" "$2" || fail "counters do not conserve"
}

# While a guest boots, its driver and QEMU are still setting up its queues
# (enabling pairs, starting rings); a frame for it in such a moment finds
# no live receive ring and is dropped, counted as port_down (its MAC was
# learnt) or no_destination (flooded to nobody).  Seen in CI: the first
# ping of vu_wait_peer, or the reply to it (it then takes two tries).
# mark_booted, called once the guests have reached each other, fails on
# any other drop so far and remembers the counts; drops_since_boot PORT
# is what a test about running guests then checks.
mark_booted() {
    ctl stats --json >"$T/booted.json"
    python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["ports"]:
    other = {r: n for r, n in p["drops"].items()
             if n and r not in ("port_down", "no_destination")}
    if other:
        sys.exit("drops on port %s at boot: %s" % (p["name"], other))
' "$T/booted.json" ||
        fail "drops other than for a receive ring not live yet while the guests booted"
}

drops_since_boot() {
    local at_boot
    at_boot=$(python3 -c '
import json, sys
p = next(p for p in json.load(open(sys.argv[1]))["ports"] if p["name"] == sys.argv[2])
print(p["rx_dropped"] + p["tx_dropped"])' "$T/booted.json" "$1")
    echo $(( $(stat "$1" rx_dropped) + $(stat "$1" tx_dropped) - at_boot ))
}

# port_up_at SOCKET: the vuswitch port serving SOCKET is up (rings live).
port_up_at() {
    ctl ports --json | python3 -c '
import json, sys
sys.exit(not any(p["path"] == sys.argv[1] and p["state"] == "up"
                 for p in json.load(sys.stdin)["ports"]))' "$1"
}

# Replaces peers.sh's start_testpmd_loop NAME A B [OPTS] with the form the
# switch tests use:
#   start_testpmd_loop SOCK_A SOCK_B [SECONDS [QUEUES [VDEV_OPTS]]]
# testpmd (interactive, commands from a FIFO) connects both ports; once
# vuswitch reports both up, "start tx_first" seeds the loop.  Seeding
# earlier loses the first burst of a port whose peer is not up yet
# (no_destination, as a switch must), and a loop seeded in one direction
# only never recovers the other.  PID in TP_PID (timeout(1), which
# passes signals on), stopped after SECONDS.
start_testpmd_loop() {
    local a=$1 b=$2 secs=${3:-60} q=${4:-1} opts=${5:+,$5}
    hugepages_setup 512
    mkfifo "$T/testpmd.in"
    exec {TP_IN}<>"$T/testpmd.in"
    local prefix="vu$$loop"
    vu_register_dpdk_prefix "$prefix"
    timeout -s INT "$secs" dpdk-testpmd --file-prefix="$prefix" --lcores 0@0,1@0 -m 256 \
        --single-file-segments --no-pci \
        --vdev "net_virtio_user0,path=$a,queues=$q$opts" \
        --vdev "net_virtio_user1,path=$b,queues=$q$opts" \
        -- -i --forward-mode=io --nb-cores=1 --rxq="$q" --txq="$q" \
        --total-num-mbufs=32768 <&"$TP_IN" >"$T/testpmd.log" 2>&1 &
    TP_PID=$!
    vu_register_pid "$TP_PID" testpmd loop
    wait_until 30 "both ports up" port_up_at "$a"
    wait_until 30 "both ports up" port_up_at "$b"
    echo "start tx_first" >&"$TP_IN"
}

# stop_testpmd_loop: ends the loop started above and waits for testpmd.
stop_testpmd_loop() {
    echo "quit" >&"$TP_IN" 2>/dev/null
    vu_wait_pid "$TP_PID" 10 >/dev/null || kill -KILL "$TP_PID" 2>/dev/null
    exec {TP_IN}>&-
    rm -f "$T/testpmd.in"
    return 0
}

# check_conservation_unicast PORT...: for ports that exchanged only
# unicast frames to learnt MACs among themselves (so every frame one of
# them took has exactly one destination among them), the frames they took
# and did not drop equal the copies handed to them, delivered or counted
# as a tx drop, plus those lost between workers (handoff_lost).  Waits up
# to 10 s for frames in flight to land, then fails with the numbers.
_conservation_unicast() {
    ctl stats --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
ports = {p["name"]: p for p in s["ports"]}
names = sys.argv[1:]
taken = sum(ports[n]["rx_packets"] - ports[n]["rx_dropped"] for n in names)
handed = sum(ports[n]["tx_packets"] + ports[n]["tx_dropped"] for n in names)
lost = sum(w["handoff_lost"] for w in s["workers"])
detail = ", ".join("%s rx %d rx_dropped %d tx %d tx_dropped %d"
                   % (n, ports[n]["rx_packets"], ports[n]["rx_dropped"],
                      ports[n]["tx_packets"], ports[n]["tx_dropped"])
                   for n in names)
print("taken %d, delivered+dropped %d, handoff_lost %d (%s)"
      % (taken, handed, lost, detail))
sys.exit(taken != handed + lost)
' "$@"
}
check_conservation_unicast() {
    local deadline=$((SECONDS + 10)) out
    until out=$(_conservation_unicast "$@"); do
        [ "$SECONDS" -lt "$deadline" ] || fail "counters do not conserve: $out"
        sleep 0.5
    done
    vu_log "conservation: $out"
}
