#!/usr/bin/env bash
# Issue 6: a hostile vhost-user front end (tests/hostile/hostile) against
# vuswitch while a legitimate pair of ports forwards DPDK testpmd's closed
# loop.  Ports: a, b (testpmd), h (the hostile front end), g (its
# well-behaved peer, which sends frames to h for the receive-ring cases).
# Asserts:
#  - every scenario passes (the daemon alive; the offender disconnected as
#    "broken: ...", or its bad frame dropped under the right reason and
#    its buffer given back), run once, then twice more;
#  - the legitimate pair forwards while the scenarios run and after them,
#    and its counters conserve (nothing from h or g reached a or b);
#  - no descriptor or mapping leak: after the warm-up run and after the
#    next two, vuswitch has exactly as many open fds and as many
#    file-backed mappings (guest memory is always file-backed: memfd or
#    hugetlbfs), and none of the hostile guest's memfds.  Anonymous
#    mappings are reported, not compared: they follow the allocator (an
#    ASan build's quarantine grows for minutes).
#  - SIGTERM at the end: exit 0, no sanitizer report.
# HOSTILE_SCENARIOS (default all) narrows the run.  Needs root, hugepages
# and dpdk-testpmd (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_cmd dpdk-testpmd dpdk
HOSTILE=${HOSTILE:-$VU_BUILDDIR/tests/hostile/hostile}
[ -x "$HOSTILE" ] || fail "$HOSTILE not built (make check builds it)"
SCENARIOS=${HOSTILE_SCENARIOS:-all}
setup_hugepages

start_vuswitch --cores "$(last_cpu)" \
    --port "a=vhost:$T/a.sock" --port "b=vhost:$T/b.sock" \
    --port "h=vhost:$T/h.sock" --port "g=vhost:$T/g.sock"
start_testpmd_loop "$T/a.sock" "$T/b.sock" 600
wait_until 30 "frames circulate" frames_moving a

# Runs the scenarios in the background while checking every few seconds
# that the legitimate pair keeps forwarding.
run_hostile() {
    local log=$1 rc=0 stalls=0
    shift
    "$HOSTILE" --socket "$T/h.sock" --port h --peer-socket "$T/g.sock" \
        --peer-port g --control "$VUSWITCH_CONTROL" --scenario "$SCENARIOS" \
        "$@" >"$log" 2>&1 &
    local hpid=$!
    vu_register_pid "$hpid" hostile hostile
    while kill -0 "$hpid" 2>/dev/null; do
        vuswitch_alive || fail "vuswitch died during the scenarios"
        if ! frames_moving a; then
            stalls=$((stalls + 1))
            echo "legitimate pair stalled while $(tail -n 1 "$log")"
        fi
    done
    wait "$hpid" || rc=$?
    grep -E '^(FAIL|SKIP)' "$log" || true
    tail -n 1 "$log"
    [ "$rc" -eq 0 ] || fail "hostile scenarios failed (rc $rc), see above"
    [ "$stalls" -eq 0 ] || fail "the legitimate pair stopped forwarding $stalls times"
}

count_fds() { ls "/proc/$VUSWITCH_PID/fd" | wc -l; }
# File-backed mappings: a path in the sixth field, not [heap], [stack]...
count_file_maps() { awk '$6 ~ /^\// { n++ } END { print n + 0 }' "/proc/$VUSWITCH_PID/maps"; }
count_anon_maps() { awk '$6 !~ /^\// { n++ } END { print n + 0 }' "/proc/$VUSWITCH_PID/maps"; }
count_hostile() {
    local fds maps
    fds=$(find "/proc/$VUSWITCH_PID/fd" -lname '/memfd:hostile-*' | wc -l)
    maps=$(grep -c '/memfd:hostile-' "/proc/$VUSWITCH_PID/maps" || true)
    echo $((fds + maps))
}

run_hostile "$T/hostile-1.log"
sleep 1
fds0=$(count_fds); fmaps0=$(count_file_maps); amaps0=$(count_anon_maps)
[ "$(count_hostile)" -eq 0 ] || fail "hostile guest memory still mapped or open after the first run"

run_hostile "$T/hostile-2.log" --repeat 2
sleep 1
fds1=$(count_fds); fmaps1=$(count_file_maps); amaps1=$(count_anon_maps)
echo "vuswitch fds $fds0 -> $fds1, file-backed mappings $fmaps0 -> $fmaps1, anonymous mappings $amaps0 -> $amaps1"
[ "$(count_hostile)" -eq 0 ] || fail "hostile guest memory still mapped or open after the runs"
[ "$fds1" -eq "$fds0" ] || {
    ls -l "/proc/$VUSWITCH_PID/fd" >&2
    fail "file descriptors leaked: $fds0 -> $fds1"
}
[ "$fmaps1" -eq "$fmaps0" ] || {
    grep / "/proc/$VUSWITCH_PID/maps" >&2
    fail "file-backed mappings leaked: $fmaps0 -> $fmaps1"
}

frames_moving a || fail "the legitimate pair stalled after the scenarios (a)"
frames_moving b || fail "the legitimate pair stalled after the scenarios (b)"
check_conservation_pair a b
stop_vuswitch
pass "$(grep -c '^PASS' "$T/hostile-1.log") scenarios, three times, legitimate pair unharmed"
