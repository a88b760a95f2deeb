#!/usr/bin/env bash
# guests.sh -- the QEMU side of the pktgen-guest benchmark (guests.py runs
# it; not a test: it asserts nothing about rates).
#
#   guests.sh N OUTDIR
#
# Starts vuswitch (worker on the last CPU, `--cores 1` on this machine)
# with N vhost ports g1..gN and N QEMU guests (TCG, tests/vm/ image, all on
# CPU 0: VU_GUEST_CPUS), guest i on port gi.  Guest i sends to guest i+1
# (the last to the first): for N = 2 a pair sending both ways, for N = 4 a
# ring in which every guest sends to one and receives from another.  Each
# guest pings its peer first, so that the switch has learnt every MAC and
# nothing is flooded.  Then kernel pktgen starts in every guest, unbounded
# (count 0), 60-byte frames, no delay.
#
# The measuring is guests.py's, so that the idle benchmark and this one
# read the counters and the threads' CPU time the same way: once the
# traffic runs this script writes OUTDIR/running ("PID CONTROL_SOCKET" of
# vuswitch) and waits (at most 10 min) for OUTDIR/done.  Then it stops
# pktgen everywhere, writes OUTDIR/guests.txt, one line per guest:
#   NAME sent=FRAMES_PKTGEN_SENT rx_packets=FRAMES_THE_GUEST_RECEIVED
# and stops vuswitch.  The harness (tests/lib) stops every process it
# started by PID however this script ends; its logs are kept in a work dir
# under $VU_TMPDIR when it fails.
set -euo pipefail
# shellcheck disable=SC2034 # peers.sh names the work dir and messages after it
VU_TEST_NAME=guests-bench
. "$(dirname "$0")/../lib/testlib.sh"

N=${1:?usage: guests.sh N OUTDIR}
OUT=${2:?usage: guests.sh N OUTDIR}
require_root
require_peers qemu-system-x86_64
ensure_guest_image

D=$VU_TEST_DIR
ports=()
for ((i = 1; i <= N; i++)); do
    ports+=(--port "g$i=vhost:$D/g$i.sock")
done
# MACs never age during the run: nothing is flooded once learnt.
start_vuswitch --cores "$(last_cpu)" --fdb-aging 3600 "${ports[@]}"

for ((i = 1; i <= N; i++)); do
    peer=$((i % N + 1))
    start_guest "g$i" "$D/g$i.sock" "$(guest_mac "$i")" idle cmd=1 \
        ip="10.0.0.$i/24" peer_ip="10.0.0.$peer" peer_mac="$(guest_mac "$peer")"
done
# Booting N TCG guests on one CPU that others use too: be patient.
for ((i = 1; i <= N; i++)); do wait_guest_ready "g$i" 600; done
for ((i = 1; i <= N; i++)); do
    guest_cmd "g$i" 'vu_wait_peer 120' 180 >/dev/null || fail "g$i cannot reach its peer"
done

# In the background of the guest's command shell, so that the channel
# answers while pktgen runs; pktgen's tx_done line comes once stopped.
for ((i = 1; i <= N; i++)); do
    guest_cmd "g$i" 'vu_set count=0 pkt_size=60 delay=0; vu_pktgen &' 120 >/dev/null ||
        fail "g$i: cannot start pktgen"
done
echo "$VUSWITCH_PID $VUSWITCH_CONTROL" >"$OUT/running.tmp"
mv "$OUT/running.tmp" "$OUT/running"

deadline=$((SECONDS + 600))
until [ -e "$OUT/done" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "guests.py did not finish measuring"
    vuswitch_alive || fail "vuswitch exited during the run"
    sleep 0.2
done

: >"$OUT/guests.txt"
for ((i = 1; i <= N; i++)); do
    guest_cmd "g$i" 'echo stop >/proc/net/pktgen/pgctrl' 120 >/dev/null ||
        fail "g$i: cannot stop pktgen"
done
for ((i = 1; i <= N; i++)); do
    wait_for_log "${GUEST_LOG[g$i]}" 'VUTEST tx_done' 120 "${GUEST_PID[g$i]}" ||
        fail "g$i: pktgen did not report"
    guest_cmd "g$i" 'vu_stats end' 120 >/dev/null || fail "g$i: vu_stats"
    echo "g$i sent=$(guest_result "${GUEST_LOG[g$i]}" sent)" \
        "rx_packets=$(guest_stat "${GUEST_LOG[g$i]}" rx_packets end)" >>"$OUT/guests.txt"
done
stop_vuswitch
