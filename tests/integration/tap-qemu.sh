#!/usr/bin/env bash
# Real peers: the host's kernel on a TAP port and a QEMU guest (TCG, the
# Linux virtio-net driver) on a vhost-user port of vuswitch.
#
# vuswitch creates the TAP interface; the test then moves it into a network
# namespace of its own (the TAP keeps working through vuswitch's fd) and
# gives it 10.0.0.1/24 there.  Nothing gets an address in the root
# namespace and no frame leaves the machine.  The guest is 10.0.0.2/24.
# Asserts:
#  - after the move, vuswitch still counts the TAP as up ("other netns");
#  - the namespace pings the guest, and the guest pings the namespace;
#  - a TCP transfer namespace -> guest of SIZE random bytes arrives whole
#    (md5 on both sides), and the same bytes come back guest -> namespace;
#  - the counters conserve: every frame one port took reached the other.
# Both TCP ends in the guest are busybox `nc -l` (its client mode cuts
# files short); the namespace side is bash's /dev/tcp.
# Needs root, qemu-system-x86, busybox-static (tests/install-deps.sh).
# shellcheck disable=SC2016 # $ in single quotes: for the guest, or bash -c
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers ip busybox md5sum
ensure_guest_image

D=$VU_TEST_DIR
TAP=vutq$$                  # at most 15 bytes
NS=vu-tapq-$$
SIZE=${VU_TAP_BYTES:-2000000}
MAC_G=$(guest_mac 2)
nsx() { ip netns exec "$NS" "$@"; }

start_vuswitch --cores "$(last_cpu)" --port "g=vhost:$D/g.sock" \
    --port "host=tap:$TAP"
vu_register_tap "$TAP"
ip link show "$TAP" >/dev/null 2>&1 || fail "vuswitch did not create $TAP"

ip netns add "$NS"
vu_register_netns "$NS"
ip link set "$TAP" netns "$NS"
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true  # quiet
nsx ip link set lo up
nsx ip addr add 10.0.0.1/24 dev "$TAP"
nsx ip link set "$TAP" up
HOST_MAC=$(nsx cat "/sys/class/net/$TAP/address")

port_state() {
    ctl ports --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]:
    if p["name"] == sys.argv[1]:
        print(p["state"])' "$1"
}
tap_moved() { [ "$(port_state host)" = "up (other netns)" ]; }
wait_until 5 "vuswitch to see the TAP move (tick: 100 ms)" tap_moved

start_guest g "$D/g.sock" "$MAC_G" idle cmd=1 ip=10.0.0.2/24 \
    peer_ip=10.0.0.1 peer_mac="$HOST_MAC"
wait_guest_ready g 120

# ARP from the namespace, then exact ping counts both ways.
ping_once() { nsx busybox ping -q -c 1 -W 1 10.0.0.2 >/dev/null 2>&1; }
wait_until 60 "the namespace reaches the guest" ping_once
out=$(nsx busybox ping -q -c 5 -W 5 10.0.0.2) || fail "ping namespace -> guest: $out"
echo "$out" | grep -q "5 packets transmitted, 5 packets received" ||
    fail "ping namespace -> guest: $out"
guest_cmd g 'vu_ping 3' >/dev/null || fail "ping guest -> namespace failed"

# TCP, namespace -> guest.
head -c "$SIZE" /dev/urandom >"$D/data"
sum=$(md5sum <"$D/data" | cut -d' ' -f1)
b_g0=$(stat g tx_bytes)
guest_cmd g 'rm -f /tmp/data; busybox nc -l -p 5001 >/tmp/data & VU_NC=$!' >/dev/null
send() { nsx timeout 60 bash -c 'cat "$1" >/dev/tcp/10.0.0.2/5001' _ "$D/data"; }
wait_until 30 "a TCP connection to the guest (port 5001)" send
out=$(guest_cmd g 'wait $VU_NC; ls -l /tmp/data; md5sum /tmp/data' 120) ||
    fail "guest: nc or md5sum failed: $out"
guest_sum=$(echo "$out" | awk '$2 == "/tmp/data" { print $1 }')
assert_eq "md5 of the $SIZE bytes the guest received" "$sum" "$guest_sum"
[ $(( $(stat g tx_bytes) - b_g0 )) -ge "$SIZE" ] ||
    fail "vuswitch delivered fewer than $SIZE bytes to the guest"

# TCP, guest -> namespace: the same bytes back.
guest_cmd g 'busybox nc -l -p 5002 </tmp/data & VU_NC=$!' >/dev/null
receive() {
    nsx timeout 60 bash -c 'cat </dev/tcp/10.0.0.2/5002 >"$1"' _ "$D/back" &&
        [ -s "$D/back" ]
}
wait_until 30 "a TCP connection from the guest (port 5002)" receive
guest_cmd g 'wait $VU_NC' >/dev/null || true
assert_eq "md5 of the $SIZE bytes the namespace received" "$sum" \
    "$(md5sum <"$D/back" | cut -d' ' -f1)"

check_conservation_pair g host
ctl stats >"$D/stats.txt"
tap_moved || fail "TAP port: $(port_state host)"
stop_vuswitch
pass "ping and TCP ($SIZE B each way) between a netns behind a TAP port and a QEMU guest"
