#!/usr/bin/env bash
# vupktgen against vuswitch: two vupktgen ports through the switch, a
# rate-limited run at 64 B and one with IMIX frames over 16 flows, on split
# rings; then the same two and 9000-byte frames over mergeable buffers on
# packed rings (vupktgen --packed), where vuswitch's log must say that all
# four rings run packed.  The generator's counts and the switch's counters
# must agree exactly: frames vupktgen sent on A (data and hello) =
# a.rx_packets, frames it received on B = b.tx_packets, nothing lost,
# corrupt or reordered.  Needs root (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
VUPKTGEN=$VU_BUILDDIR/tools/vupktgen
[ -x "$VUPKTGEN" ] || fail "vupktgen not built at $VUPKTGEN"

# run NAME VUPKTGEN_ARGS...: one run on fresh ports, then the comparison.
run() {
    local name=$1 ring=split from=1
    shift
    case " $* " in *" --packed "*) ring=packed ;; esac
    [ ! -f "$T/vuswitch.log" ] || from=$(($(wc -l <"$T/vuswitch.log") + 1))
    start_vuswitch --cores "$(last_cpu)" \
        --port "a=vhost:$T/a.sock,mtu=9000" --port "b=vhost:$T/b.sock,mtu=9000"
    "$VUPKTGEN" --port "$T/a.sock" --port "$T/b.sock" --cpu 0 \
        --rx-ring-size 8192 --expect-no-loss --json "$@" >"$T/$name.json" ||
        fail "$name: vupktgen reported loss or corruption: $(cat "$T/$name.json")"
    ctl stats --json >"$T/$name.stats.json"
    python3 - "$T/$name.json" "$T/$name.stats.json" "$name" "$ring" <<'PY' || fail "$name: counts differ"
import json, sys
gen = json.load(open(sys.argv[1]))
sw = {p["name"]: p for p in json.load(open(sys.argv[2]))["ports"]}
a, b = gen["ports"]
checks = [
    ("ring", gen["ring"], sys.argv[4]),
    ("a.rx_packets", sw["a"]["rx_packets"], a["sent"] + a["hellos_sent"]),
    ("b.tx_packets", sw["b"]["tx_packets"], b["received"] + b["hellos_received"]),
    ("received", gen["received"], gen["sent"]),
    ("corrupt", gen["corrupt"], 0),
    ("reordered", gen["reordered"], 0),
    ("drops", sw["a"]["rx_dropped"] + sw["b"]["tx_dropped"], 0),
]
bad = ["%s: switch/generator %d, expected %d" % c for c in checks if c[1] != c[2]]
print("%s: sent %d received %d" % (sys.argv[3], gen["sent"], gen["received"]))
sys.exit("; ".join(bad) if bad else 0)
PY
    stop_vuswitch
    local started
    started=$(tail -n "+$from" "$T/vuswitch.log" | grep -c "started: $ring" || true)
    assert_eq "$name: vuswitch rings started $ring" 4 "$started"
}

run small --count 20000 --rate 20000 --size 64
run imix --count 20000 --rate 20000 --imix --flows 16 --flow-macs
run packed-small --packed --count 20000 --rate 20000 --size 64
run packed-imix --packed --count 20000 --rate 20000 --imix --flows 16 --flow-macs
run packed-9000 --packed --mrg --count 2000 --rate 2000 --size 9000
pass "vupktgen and vuswitch agree on every frame, split and packed"
