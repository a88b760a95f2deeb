#!/usr/bin/env bash
# Real peer: two user-mode Linux instances (linux.uml, virtio_uml's
# vhost-user front end, TESTBED.md) on two vhost ports of vuswitch ping
# each other.  Asserts:
#  - both UMLs bring up eth0 and their pings (10.0.0.1 <-> 10.0.0.2) all
#    get answers;
#  - vuswitch's counters show frames received and sent on both ports;
#  - the features UML negotiated contain no MQ (it needs CTRL_VQ, which
#    we do not serve) and VERSION_1;
#  - when the UMLs power off, the ports go back to listening and vuswitch
#    exits 0 on SIGTERM.
# UML hands the backend's features straight to the guest's virtio_net, so
# this is the test that catches an offered feature we do not implement.
# Each UML runs in its own process group inside a network namespace made
# here (it touches no host network either way), and is killed with SIGKILL
# by process group at exit: a UML whose driver waits on the device spins
# and ignores SIGTERM.  UML connects once, at boot, and never reconnects.
# Needs root, user-mode-linux, busybox-static, cpio (tests/install-deps.sh).
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_cmd linux.uml user-mode-linux
require_cmd cpio cpio
require_cmd ip iproute2
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } ||
    skip "/bin/busybox not found or not static (Debian package busybox-static)"
ls -d /usr/lib/uml/modules/*/ >/dev/null 2>&1 ||
    skip "no /usr/lib/uml/modules (Debian package user-mode-linux)"

"$VU_SRCDIR/tests/vm/build-uml-initrd.sh" "$T/uml-initrd.img" ||
    fail "cannot build the UML initramfs"

NS=vu-uml-$$
ip netns add "$NS" || fail "cannot create network namespace $NS"
on_exit "ip netns del $NS"

start_vuswitch --cores "$(last_cpu)" --log-level debug \
    --port "a=vhost:$T/a.sock" --port "b=vhost:$T/b.sock"

# start_uml N SOCK: UML N (10.0.0.N, MAC 02:00:00:00:00:0N) on SOCK,
# pinging the other one.  Background jobs of a script without job control
# share its process group, so setsid makes the UML a new session and group
# leader without forking: $! is the group to kill.  `ip netns exec` execs.
start_uml() {
    local n=$1 sock=$2 peer=$((3 - $1))
    setsid ip netns exec "$NS" linux.uml mem=128M initrd="$T/uml-initrd.img" \
        virtio_uml.device="$sock:1" con=null con0=null,fd:1 \
        vu_ip=10.0.0.$n/24 vu_peer=10.0.0.$peer vu_mac=02:00:00:00:00:0$n \
        vu_count=3 vu_wait=40 vu_hold=3 \
        </dev/null >"$T/uml$n.log" 2>&1 &
    eval "UML$n=$!"
    on_exit "kill -KILL -- -$! ; kill -KILL $!"
}
start_uml 1 "$T/a.sock"
start_uml 2 "$T/b.sock"

# Every wait_until step must be cheap (it polls 5 times a second and counts
# polls, not seconds): grep and vuswitchctl, no python.  A UML that exits
# early ends the wait at once.
uml_alive() { kill -0 "$1" 2>/dev/null; }
both_alive() { uml_alive "$UML1" && uml_alive "$UML2"; }
uml_errors() { grep -h "^VUUML error" "$T/uml1.log" "$T/uml2.log"; }
ports_up() { [ "$(ctl ports | grep -c '^[ab] (vhost): up$')" = 2 ]; }
wait_until 60 "both UMLs set up their rings" eval 'ports_up || ! both_alive'
ports_up || fail "a UML exited before its rings were up: $(uml_errors)"
ctl ports --json >"$T/ports.json" || fail "vuswitchctl ports failed"

ping_done() { grep -q "^VUUML \(ping\|error\)" "$T/uml$1.log"; }
wait_until 90 "both UMLs report their pings" \
    eval '{ ping_done 1 || ! uml_alive "$UML1"; } && { ping_done 2 || ! uml_alive "$UML2"; }'
for n in 1 2; do
    grep -q "^VUUML ping ok" "$T/uml$n.log" ||
        fail "UML $n: $(grep '^VUUML \(ping\|error\)' "$T/uml$n.log" || echo 'exited without a result')"
done

# At least 3 echo requests and 3 replies each way (plus ARP).
for p in a b; do
    for c in rx_packets tx_packets; do
        v=$(stat $p $c) || fail "no counter $c for port $p"
        [ "$v" -ge 6 ] || fail "port $p: $c is $v, expected at least 6"
    done
done
check_conservation_pair a b

features=$(python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(open(sys.argv[1]))["ports"]}
print(" ".join("%#x" % ports[n]["features"] for n in ("a", "b")))
' "$T/ports.json") || fail "cannot read the negotiated features"
for f in $features; do
    (( (f >> 22) & 1 )) && fail "UML negotiated MQ without CTRL_VQ ($f)"
    (( (f >> 32) & 1 )) || fail "UML did not negotiate VERSION_1 ($f)"
done
echo "UML negotiated features (a b): $features"

# The guests power off: the switch sees the front ends go and waits for
# the next one.
wait_until 30 "both UMLs power off" eval '! uml_alive "$UML1" && ! uml_alive "$UML2"'
ports_listening() { [ "$(ctl ports | grep -c '^[ab] (vhost): listening$')" = 2 ]; }
wait_until 10 "ports back to listening" ports_listening

stop_vuswitch
pass "two UML instances pinged each other through vuswitch"
