#!/usr/bin/env bash
# vuswitchctl against a running vuswitch: the exit status and message a
# script or a user gets for each kind of outcome.
#   0  success (each command once, on a real daemon);
#   1  an error, named on stderr: no daemon on the socket (with --control
#      and with $VUSWITCH_CONTROL), a request the daemon refuses (unknown
#      port, bad SPEC, bad queue), a daemon that exits under --watch;
#   2  bad usage, refused before any request is sent.
# No front end is connected, so no peer is needed; root is not needed
# either (the control socket and the vhost socket live in the work dir).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

[ -x "$VUSWITCHCTL" ] || fail "vuswitchctl not built at $VUSWITCHCTL"

# expect STATUS STDERR_REGEX CMD...: runs CMD, which must exit with STATUS
# and write something matching STDERR_REGEX (ERE; '' for "nothing") to
# stderr; its stdout is left in $T/out.
n_checks=0
expect() {
    local want=$1 regex=$2 rc=0
    shift 2
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "'$*': exit status $rc, expected $want; stderr: $(cat "$T/err")"
    fi
    if [ -z "$regex" ]; then
        [ ! -s "$T/err" ] || fail "'$*': unexpected stderr: $(cat "$T/err")"
    elif ! grep -Eq -- "$regex" "$T/err"; then
        fail "'$*': stderr '$(cat "$T/err")' does not match /$regex/"
    fi
    n_checks=$((n_checks + 1))
}
stdout_has() { grep -Eq -- "$1" "$T/out" || fail "stdout lacks /$1/: $(cat "$T/out")"; }

# ---- no daemon --------------------------------------------------------------
nodaemon=$T/nobody.sock
expect 1 "^vuswitchctl: cannot connect to $nodaemon: .* \(is vuswitch running\?\)$" \
    "$VUSWITCHCTL" --control "$nodaemon" stats
expect 1 "cannot connect to $nodaemon" \
    env VUSWITCH_CONTROL="$nodaemon" "$VUSWITCHCTL" ports
expect 1 "cannot connect to $nodaemon" "$VUSWITCHCTL" --control "$nodaemon" del-port a
# A file that is not a socket is no daemon either.
: >"$T/plain-file"
expect 1 "cannot connect to $T/plain-file" "$VUSWITCHCTL" --control "$T/plain-file" fdb
# Usage errors are found before any connection is tried.
expect 2 "unknown command 'frobnicate'" "$VUSWITCHCTL" --control "$nodaemon" frobnicate
# --help and --version need no daemon.
expect 0 '' "$VUSWITCHCTL" --control "$nodaemon" --help
stdout_has '^Usage: vuswitchctl \[--control PATH\] COMMAND \[ARGS\]$'
expect 0 '' "$VUSWITCHCTL" --version
stdout_has '^vuswitchctl [0-9]'

# ---- a daemon -----------------------------------------------------------------
start_vuswitch --cores "$(last_cpu)" --port "a=vhost:$T/a.sock"
ctlsock=$VUSWITCH_CONTROL

# Success, once per command.
expect 0 '' ctl stats
stdout_has '^a +vhost +listening'
expect 0 '' ctl stats --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["name"] for p in d["ports"]] == ["a"], d' "$T/out" ||
    fail "stats --json: not the one port a"
expect 0 '' ctl ports
stdout_has "^a \(vhost\): listening"
expect 0 '' ctl ports --json
expect 0 '' ctl fdb
stdout_has '^MAC +PORT +AGE'
expect 0 '' ctl fdb --json
expect 0 '' ctl add-port "b=vhost:$T/b.sock,queues=2"
[ -S "$T/b.sock" ] || fail "add-port: no socket $T/b.sock"
expect 0 '' ctl move-queue b 1 0
expect 0 '' ctl rebalance
stdout_has '^moved [0-9]+ queue\(s\)$'
expect 0 '' ctl capture b "$T/b.pcap" --direction rx --filter 'icmp or arp'
stdout_has "^capturing b \(rx\) into $T/b.pcap"
expect 0 '' ctl capture-stop b
stdout_has '^capture of b stopped: 0 frames, 0 lost'
expect 0 '' ctl fdb-flush b
expect 0 '' ctl fdb-flush
expect 0 '' ctl del-port b
[ ! -e "$T/b.sock" ] || fail "del-port: socket $T/b.sock still there"
expect 0 '' ctl log-level
stdout_has '^info$'
expect 0 '' ctl log-level debug
expect 0 '' ctl log-level
stdout_has '^debug$'
expect 0 '' ctl version
stdout_has "^vuswitch .* \(pid $VUSWITCH_PID\)$"

# Which socket: --control over $VUSWITCH_CONTROL over the default.
expect 0 '' env VUSWITCH_CONTROL="$ctlsock" "$VUSWITCHCTL" version
stdout_has "\(pid $VUSWITCH_PID\)"
expect 0 '' env VUSWITCH_CONTROL="$nodaemon" "$VUSWITCHCTL" --control "$ctlsock" version
expect 1 "cannot connect to $nodaemon" \
    env VUSWITCH_CONTROL="$nodaemon" "$VUSWITCHCTL" version
expect 1 "cannot connect to $nodaemon" \
    env VUSWITCH_CONTROL="$ctlsock" "$VUSWITCHCTL" --control="$nodaemon" version

# Refused by the daemon: 1, with its reason.
expect 1 '^vuswitchctl: no port named nosuch$' ctl del-port nosuch
expect 1 'no port named nosuch' ctl capture-stop nosuch
expect 1 'port a is not being captured' ctl capture-stop a
expect 1 'no port named nosuch' ctl fdb-flush nosuch
expect 1 'no port named nosuch' ctl move-queue nosuch 0 0
expect 1 'port a has queues 0\.\.0' ctl move-queue a 5 0
expect 1 "port 'c': unknown type 'bogus'" ctl add-port 'c=bogus:/tmp/x'
expect 1 'mtu=1 out of range' ctl add-port "c=vhost:$T/c.sock,mtu=1"
expect 1 'already' ctl add-port "a=vhost:$T/a2.sock"
expect 1 'snaplen' ctl capture a "$T/a.pcap" --snaplen 0
[ ! -e "$T/c.sock" ] || fail "a refused add-port left $T/c.sock"

# Bad usage: 2, with what is wrong and a pointer to --help.
expect 2 "^vuswitchctl: no command given \(see vuswitchctl --help\)$" "$VUSWITCHCTL"
expect 2 "unknown option '--bogus'" ctl --bogus stats
expect 2 "unknown command 'frobnicate'" ctl frobnicate
expect 2 "del-port: missing argument \(usage: del-port NAME\)" ctl del-port
expect 2 "del-port: unexpected argument 'b'" ctl del-port a b
expect 2 "add-port: unexpected argument" ctl add-port c=vhost:/x d=vhost:/y
expect 2 "stats: --watch needs SECONDS between 0.01 and 86400, not '0'" ctl stats --watch 0
expect 2 "stats: --watch needs SECONDS between 0.01 and 86400, not '-1'" ctl stats --watch -1
expect 2 "stats: --watch needs SECONDS \(see" ctl stats --watch
expect 2 "ports: unknown option '--watch'" ctl ports --watch 1
expect 2 "move-queue: QUEUE must be a number" ctl move-queue a x 0
expect 2 "log-level: unknown level 'loud'" ctl log-level loud
expect 2 "capture: --direction is rx, tx or both" ctl capture a "$T/a.pcap" --direction up
expect 2 "--control needs a PATH" "$VUSWITCHCTL" --control
# None of those reached the daemon: it still has its one port, at level debug.
expect 0 '' ctl log-level
stdout_has '^debug$'

# A daemon that exits under --watch: 1, and said so.
"$VUSWITCHCTL" --control "$ctlsock" stats --json --watch 0.1 >"$T/watch.out" 2>"$T/watch.err" &
watch_pid=$!
vu_register_pid "$watch_pid" vuswitchctl watch
wait_until 20 "first --watch sample" test -s "$T/watch.out"
stop_vuswitch
rc=0
vu_wait_pid "$watch_pid" 20 || rc=$?
[ "$rc" -eq 1 ] || fail "stats --watch after the daemon exited: status $rc, expected 1"
grep -Eq "^vuswitchctl: vuswitch \(pid [0-9]+\) has exited$" "$T/watch.err" ||
    fail "stats --watch: no 'has exited' message: $(cat "$T/watch.err")"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/watch.out" ||
    fail "stats --json --watch: not one JSON object per line"

pass "$n_checks exit statuses and messages as documented"
