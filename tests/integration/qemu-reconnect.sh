#!/usr/bin/env bash
# Real peers: two QEMU guests; sockets in both directions, and restarts.
#   port a: vuswitch is the client (`,client`), QEMU A the server
#           (server=on): vuswitch starts first and retries every second;
#   port b: vuswitch is the server, QEMU B a client with reconnect=1.
# Asserts that the guests ping each other
#   1. after the normal start;
#   2. after vuswitch is killed with SIGKILL and started again (stale
#      sockets replaced; A's QEMU waits for vuswitch to reconnect, B's
#      QEMU reconnects) -- without restarting the guests;
#   3. after guest A's QEMU is killed and a new one boots on the same
#      socket -- without restarting vuswitch.
# Needs root and qemu-system-x86 (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
ensure_guest_image
D=$VU_TEST_DIR
SWITCH_ARGS=(--cores "$(last_cpu)" --port "a=vhost:$D/a.sock,client"
             --port "b=vhost:$D/b.sock")
MAC_A=$(guest_mac 1) MAC_B=$(guest_mac 2)

ports_up() { [ "$(ctl ports | grep -c '^[ab] (vhost): up$')" = 2 ]; }
ping_both() {
    wait_until 60 "both ports up ($1)" ports_up
    guest_cmd ga 'vu_wait_peer 60' >/dev/null || fail "$1: A cannot reach B"
    guest_cmd ga 'vu_ping 3' >/dev/null || fail "$1: A -> B ping failed"
    guest_cmd gb 'vu_ping 3' >/dev/null || fail "$1: B -> A ping failed"
}
boot_a() {
    start_guest ga "$D/a.sock" "$MAC_A" idle cmd=1 chardev=server \
        ip=10.0.0.1/24 peer_ip=10.0.0.2 peer_mac="$MAC_B"
}

start_vuswitch "${SWITCH_ARGS[@]}"
[ "$(ctl ports | grep -c '^a (vhost): down$')" = 1 ] ||
    fail "client port a should be down while its server is absent"
boot_a
start_guest gb "$D/b.sock" "$MAC_B" idle cmd=1 chardev=reconnect \
    ip=10.0.0.2/24 peer_ip=10.0.0.1 peer_mac="$MAC_A"
wait_guest_ready ga 120
wait_guest_ready gb 120
ping_both "first start"

# 2. vuswitch dies hard and comes back; the guests stay.
kill -KILL "$VUSWITCH_PID"
wait "$VUSWITCH_PID" 2>/dev/null || true
[ -S "$D/b.sock" ] || fail "expected the stale socket b.sock to be left by SIGKILL"
start_vuswitch "${SWITCH_ARGS[@]}"
ping_both "after vuswitch restart"

# 3. guest A's QEMU dies and a new one boots on the same socket.
kill -KILL "${GUEST_PID[ga]}"
wait "${GUEST_PID[ga]}" 2>/dev/null || true
wait_until 20 "port a down after its QEMU died" \
    bash -c "'$VUSWITCHCTL' --control '$VUSWITCH_CONTROL' ports | grep -q '^a (vhost): down$'"
boot_a
wait_guest_ready ga 120
ping_both "after QEMU A restart"

vuswitch_alive || fail "vuswitch died"
stop_vuswitch
pass "client and server sockets, vuswitch and QEMU restarts"
