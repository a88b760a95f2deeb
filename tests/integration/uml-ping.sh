#!/usr/bin/env bash
# Real peer: two user-mode Linux instances (linux.uml; virtio_uml is its
# vhost-user front end, TESTBED.md) on two vhost ports of vuswitch ping
# each other.  Asserts:
#  - both UMLs bring up eth0 and all their pings (10.0.0.1 <-> 10.0.0.2)
#    are answered;
#  - vuswitch counted frames received and sent on both ports, and they
#    conserve;
#  - the negotiated features have VERSION_1 and no MQ (MQ needs CTRL_VQ,
#    which we do not serve: virtio_net refuses such a device);
#  - when the UMLs power off, both ports go back to listening, and
#    vuswitch exits 0 on SIGTERM.
# UML hands the backend's features straight to the guest's virtio_net (no
# device model in between, unlike QEMU), so this test catches any offered
# feature we do not implement.  UML connects once, at boot, and never
# reconnects.  Each UML runs in its own process group, inside a network
# namespace made here (it touches no host network either way); the cleanup
# kills the group with SIGKILL, since a UML whose driver waits on the
# device spins and ignores SIGTERM.  Takes about 10 s.
# Needs root, user-mode-linux, busybox-static, cpio (tests/install-deps.sh).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_root
require_peers linux.uml cpio ip setsid
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } ||
    missing_peer "/bin/busybox missing or not static (apt-get install busybox-static)"
ls -d /usr/lib/uml/modules/*/ >/dev/null 2>&1 ||
    missing_peer "no /usr/lib/uml/modules (apt-get install user-mode-linux)"

"$VU_SRCDIR/tests/vm/build-uml-initrd.sh" "$T/uml-initrd.img" ||
    fail "cannot build the UML initramfs"

NS=vu-uml-$$
ip netns add "$NS" || fail "cannot create network namespace $NS"
vu_register_netns "$NS"
on_exit "ip netns del $NS"      # also if the generic cleanup is cut short

start_vuswitch --cores "$(last_cpu)" --log-level debug \
    --port "a=vhost:$T/a.sock" --port "b=vhost:$T/b.sock"

# boot_uml N SOCK: UML N (10.0.0.N, MAC 02:00:00:00:00:0N) on SOCK pings
# the other one (tests/vm/uml-init), console in $T/umlN.log, PID in
# UML_PID[N].
# A background job of a script has the script's process group, so setsid
# makes the UML a group leader without forking, and `ip netns exec` execs:
# $! is the UML and its process group.
boot_uml() {
    local n=$1 sock=$2
    setsid "${_VU_LEASH[@]}" ip netns exec "$NS" \
        linux.uml mem=128M initrd="$T/uml-initrd.img" \
        "virtio_uml.device=$sock:1" con=null con0=null,fd:1 \
        "vu_ip=10.0.0.$n/24" "vu_peer=10.0.0.$((3 - n))" "vu_mac=02:00:00:00:00:0$n" \
        vu_count=3 vu_wait=40 vu_hold=3 </dev/null >"$T/uml$n.log" 2>&1 &
    UML_PID[n]=$!
    vu_register_pid "$!" pgroup "uml$n"
    # The group, even once its leader has gone: UML's helper processes
    # may outlive it.
    on_exit "kill -KILL -- -$!"
}
UML_PID=()
boot_uml 1 "$T/a.sock"
boot_uml 2 "$T/b.sock"

# wait_until polls 5 times a second and counts polls, not seconds: its
# conditions stay cheap (vuswitchctl and grep, no python).  A UML that
# exits early ends a wait at once.
# shellcheck disable=SC2317 # (these are called through wait_until)
ports_in() { [ "$(ctl ports | grep -c "^[ab] (vhost): $1\$")" = 2 ]; }
# shellcheck disable=SC2317
up_or_uml_gone() { ports_in up || ! vu_alive "${UML_PID[1]}" || ! vu_alive "${UML_PID[2]}"; }
# shellcheck disable=SC2317
umls_gone() { ! vu_alive "${UML_PID[1]}" && ! vu_alive "${UML_PID[2]}"; }
wait_until 60 "both UMLs set up their rings" up_or_uml_gone
ports_in up || fail "a UML exited before its rings were up:" \
    "$(grep -h '^VUUML error' "$T/uml1.log" "$T/uml2.log")"
ctl ports --json >"$T/ports.json" || fail "vuswitchctl ports failed"

for n in 1 2; do
    rc=0
    wait_for_log "$T/uml$n.log" '^VUUML (ping|error)' 90 "${UML_PID[n]}" || rc=$?
    [ $rc -ne 1 ] || fail "UML $n: no ping result after 90 s"
    grep -q "^VUUML ping ok" "$T/uml$n.log" ||
        fail "UML $n: $(grep '^VUUML \(ping\|error\)' "$T/uml$n.log" || echo 'exited without a result')"
done

# At least 3 echo requests and 3 replies each way, plus ARP.
for p in a b; do
    for c in rx_packets tx_packets; do
        v=$(stat "$p" "$c") || fail "no counter $c for port $p"
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
echo "UML negotiated features (ports a b): $features"

# The guests power off: the switch sees its front ends go and listens for
# the next ones.
wait_until 30 "both UMLs power off" umls_gone
wait_until 10 "ports back to listening" ports_in listening

stop_vuswitch
pass "two UML instances pinged each other through vuswitch"
