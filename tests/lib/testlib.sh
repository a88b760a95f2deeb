# testlib.sh -- sourced by every integration test: a private directory,
# cleanup of everything a test starts (by PID, also on failure), verdicts
# with automake's exit codes, and helpers to run the switch under test and
# read its counters.
#
#   pass MSG / fail MSG / skip MSG      exit 0 / 1 / 77 (skip becomes a
#                                       failure when VU_REQUIRE_PEERS=1)
#   require_root, require_cmd CMD PKG   preconditions
#   on_exit CMD...                      run CMD at exit (LIFO)
#   start_vuswitch ARGS...              daemon with --control $T/ctl.sock
#   stop_vuswitch                       SIGTERM, asserts exit status 0
#   ctl ARGS...                         vuswitchctl on that daemon
#   stat PORT FIELD                     one counter from `stats --json`
#   frames_moving PORT                  rx_packets grows within 2 s
#   check_conservation_pair A B         all of A's frames reached B or a
#                                       drop counter, and the other way
set -u

VU_BUILDDIR=${VU_BUILDDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VU_SRCDIR=${VU_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VUSWITCH=${VUSWITCH:-$VU_BUILDDIR/switch/vuswitch}
VUSWITCHCTL=${VUSWITCHCTL:-$VU_BUILDDIR/tools/vuswitchctl}
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/tmp/vu-$TEST_NAME.XXXXXX")
VUS_PID=
_exit_cmds=()

on_exit() { _exit_cmds=("$*" "${_exit_cmds[@]}"); }

_cleanup() {
    local rc=$? cmd
    for cmd in "${_exit_cmds[@]}"; do
        eval "$cmd" >/dev/null 2>&1 || true
    done
    if [ -n "$VUS_PID" ] && kill -0 "$VUS_PID" 2>/dev/null; then
        kill -KILL "$VUS_PID" 2>/dev/null
    fi
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
        _dump_logs
    fi
    rm -rf "$T"
    exit "$rc"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

_dump_logs() {
    local f
    for f in "$T"/*.log; do
        [ -f "$f" ] || continue
        echo "----- $(basename "$f") (last 40 lines)"
        tail -n 40 "$f"
    done
}

pass() { echo "PASS: $TEST_NAME: $*"; exit 0; }
fail() { echo "FAIL: $TEST_NAME: $*" >&2; exit 1; }
skip() {
    if [ "${VU_REQUIRE_PEERS:-0}" = 1 ]; then
        fail "cannot run: $* (the full suite installs every peer: tests/install-deps.sh)"
    fi
    echo "SKIP: $TEST_NAME: $*"
    exit 77
}

require_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }
require_cmd() { command -v "$1" >/dev/null 2>&1 || skip "$1 not found (Debian package $2)"; }

last_cpu() { echo $(( $(nproc) - 1 )); }

# wait_until SECONDS WHAT CMD...: polls CMD every 0.2 s.
wait_until() {
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 5; i++)); do
        "$@" && return 0
        sleep 0.2
    done
    fail "timed out after ${limit}s waiting for: $what"
}

start_vuswitch() {
    "$VUSWITCH" --control "$T/ctl.sock" "$@" >"$T/vuswitch.log" 2>&1 &
    VUS_PID=$!
    wait_until 10 "vuswitch control socket" test -S "$T/ctl.sock"
}

stop_vuswitch() {
    [ -n "$VUS_PID" ] || return 0
    kill -TERM "$VUS_PID"
    local rc=0
    wait "$VUS_PID" || rc=$?
    VUS_PID=
    [ "$rc" -eq 0 ] || fail "vuswitch exited with status $rc on SIGTERM"
    grep -E "ERROR: AddressSanitizer|runtime error:" "$T/vuswitch.log" \
        && fail "sanitizer report in vuswitch.log"
    return 0
}

vuswitch_alive() { [ -n "$VUS_PID" ] && kill -0 "$VUS_PID" 2>/dev/null; }

ctl() { "$VUSWITCHCTL" --control "$T/ctl.sock" "$@"; }

# stat PORT FIELD: a port-level field of `vuswitchctl stats --json`;
# FIELD may be drops.REASON.
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

frames_moving() {
    local before after
    before=$(stat "$1" rx_packets) || return 1
    sleep 2
    after=$(stat "$1" rx_packets) || return 1
    [ "$after" -gt "$before" ]
}

# The two ports only talk to each other: every frame A took is delivered
# to B or counted as dropped (rx at A or tx at B), and the other way.  The
# counters are read while traffic may flow, so they are read twice in a
# row from one snapshot (one `stats --json`).
check_conservation_pair() {
    ctl stats --json | python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(sys.stdin)["ports"]}
a, b = ports[sys.argv[1]], ports[sys.argv[2]]
bad = []
for src, dst in ((a, b), (b, a)):
    taken = src["rx_packets"] - src["rx_dropped"]
    handed = dst["tx_packets"] + dst["tx_dropped"]
    # a burst in flight may be taken but not yet delivered: at most 32
    if not 0 <= taken - handed <= 32:
        bad.append("%s->%s: taken %d, delivered+dropped %d" % (src["name"], dst["name"], taken, handed))
    drops = sum(src["drops"].values())
    if drops != src["rx_dropped"] + src["tx_dropped"]:
        bad.append("%s: drops by reason %d != rx_dropped+tx_dropped" % (src["name"], drops))
if bad:
    sys.exit("conservation broken: " + "; ".join(bad))
' "$1" "$2" || fail "counters do not conserve"
}

# ---- DPDK testpmd -------------------------------------------------------

setup_hugepages() {
    local have
    have=$(cat /proc/sys/vm/nr_hugepages)
    [ "$have" -ge 512 ] || echo 512 >/proc/sys/vm/nr_hugepages
    mkdir -p /dev/hugepages
    mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
}

# start_testpmd_loop SOCK_A SOCK_B SECONDS [vdev options]: testpmd as two
# virtio-user front ends forwarding A<->B, seeded with a first burst, on
# CPU 0; stopped by PID at exit.  Sets TP_PID; log in $T/testpmd.log.
start_testpmd_loop() {
    local a=$1 b=$2 secs=$3 opts=${4:-}
    local prefix="vu$$"
    on_exit "rm -f /dev/hugepages/${prefix}* /dev/hugepages/rtemap_${prefix}*"
    timeout -s INT "$secs" dpdk-testpmd --lcores 0@0,1@0 -m 256 \
        --single-file-segments --no-pci --file-prefix="$prefix" \
        --vdev "net_virtio_user0,path=$a,queues=1$opts" \
        --vdev "net_virtio_user1,path=$b,queues=1$opts" \
        -- --forward-mode=io --auto-start --tx-first --stats-period 1 \
        --nb-cores=1 --total-num-mbufs=16384 </dev/null >"$T/testpmd.log" 2>&1 &
    TP_PID=$!
    on_exit "kill -INT $TP_PID; sleep 1; kill -KILL $TP_PID"
}
