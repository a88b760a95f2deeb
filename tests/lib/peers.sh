# shellcheck shell=bash
# peers.sh -- sourced by the integration tests that drive real peers: QEMU
# guests (tests/vm/), DPDK testpmd (virtio-user generator, net_vhost
# reference switch), user-mode Linux, and vuswitch itself.
#
#   . "$(dirname "$0")/lib/peers.sh"
#   vu_test_init                      # work dir + cleanup trap
#   require_root
#   require_peers qemu-system-x86_64 dpdk-testpmd
#   ...
#
# Everything a test starts is registered and stopped by PID when the test
# exits, however it exits (EXIT HUP INT TERM trap; and if the test's shell
# is SIGKILLed, its children get SIGKILL from the kernel, see _VU_LEASH): QEMU, testpmd, UML (its
# whole process group, with SIGKILL), vuswitch; sockets and other files,
# DPDK hugepage files and runtime dirs (by --file-prefix), network
# namespaces and TAP devices are removed.  On failure the tails of the logs
# are printed and the work dir is kept; VU_KEEP=1 keeps it always.
#
# Skips and failures: a test exits 77 (automake's SKIP) only when it is not
# root.  A missing peer program is a SKIP by default but a FAILURE when
# VU_REQUIRE_PEERS=1 (tests/run-all.sh sets it: tests/install-deps.sh must
# have installed every peer, so a missing one is a bug of the suite).
#
# Environment:
#   VU_BUILDDIR     top build dir (default: $abs_top_builddir, else the
#                   current dir if it has switch/, else the source tree)
#   VUSWITCH        the daemon under test (default $VU_BUILDDIR/switch/vuswitch)
#   VU_GUEST_CACHE  kernel/initrd cache (default $VU_SRCDIR/tests/vm/cache)
#   VU_GUEST_CPUS   CPUs QEMU guests are pinned to (default 0; "" = no pinning)
#   VU_TMPDIR       parent of the per-test work dir (default /tmp; keep it
#                   short: socket paths are limited to 107 bytes)
#   VU_KEEP=1       keep the work dir and logs even when the test passed
#   VU_VERBOSE=1    log every command started
#
# Functions (details above each one):
#   vu_test_init | skip MSG | fail MSG | require_root | require_peers PROG...
#   missing_peer MSG | require_vuswitch | assert_eq WHAT EXPECTED ACTUAL
#   vu_log MSG | vu_register_pid PID [KIND [NAME]] | vu_register_path PATH...
#   vu_register_netns NS... | vu_register_tap IF... | vu_register_dpdk_prefix P...
#   vu_alive PID | vu_wait_pid PID TIMEOUT | vu_stop_pid PID [KIND] | vu_stop_pids PID:KIND...
#   wait_for_log LOG REGEX TIMEOUT [PID] | wait_for_sockets TIMEOUT PID PATH...
#   ensure_guest_image | guest_mac N
#   start_guest NAME SOCKET MAC ROLE [KEY=VALUE...] | wait_guest_ready NAME [TIMEOUT]
#   wait_guest NAME [TIMEOUT] | guest_cmd NAME COMMAND [TIMEOUT]
#   guest_result LOG KEY | guest_stat LOG KEY [TAG] | guest_ready_uptime LOG
#   hugepages_setup [PAGES] | start_testpmd NAME ARGS...
#   start_testpmd_loop NAME SOCK_A SOCK_B [VDEV_OPTS [ARGS...]]
#   start_testpmd_switch NAME SOCK_A SOCK_B [ARGS...] | stop_testpmd NAME
#   testpmd_stat LOG PORT FIELD | testpmd_fwd_stat LOG PORT FIELD
#   start_vuswitch ARGS... | stop_vuswitch [TIMEOUT]
# Globals: VU_TEST_DIR, GUEST_PID[name], GUEST_LOG[name], TESTPMD_PID[name],
# TESTPMD_LOG[name], VUSWITCH_PID, VUSWITCH_LOG, VUSWITCH_CONTROL.
#
# This file sets no shell options: the tests use `set -euo pipefail`, and
# every function here is written to work with and without them.

VU_SRCDIR=${VU_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
if [ -z "${VU_BUILDDIR:-}" ]; then
    if [ -n "${abs_top_builddir:-}" ]; then
        VU_BUILDDIR=$abs_top_builddir
    elif [ -d "$PWD/switch" ] && [ -f "$PWD/Makefile" ]; then
        VU_BUILDDIR=$PWD
    elif [ -d "$VU_SRCDIR/build/switch" ]; then
        VU_BUILDDIR=$VU_SRCDIR/build
    else
        VU_BUILDDIR=$VU_SRCDIR
    fi
fi
VUSWITCH=${VUSWITCH:-$VU_BUILDDIR/switch/vuswitch}
VU_GUEST_CACHE=${VU_GUEST_CACHE:-$VU_SRCDIR/tests/vm/cache}
VU_GUEST_CPUS=${VU_GUEST_CPUS-0}
VU_TEST_NAME=${VU_TEST_NAME:-$(basename "$0" .sh)}

VU_TEST_DIR=
_VU_PIDS=()          # "pid:kind:name" of everything started
_VU_PATHS=()         # files and dirs to remove
_VU_NETNS=()
_VU_TAPS=()
_VU_DPDK_PREFIXES=()
declare -gA GUEST_PID=() GUEST_LOG=() GUEST_CMD_FIFO=()
declare -g VUSWITCH_PID='' VUSWITCH_LOG='' VUSWITCH_CONTROL=''

# Every process a test starts is leashed to the test's shell: if that shell
# dies without running its cleanup (SIGKILL from a timeout, say), the
# kernel sends the process SIGKILL (PR_SET_PDEATHSIG), so no QEMU, testpmd
# or vuswitch outlives its test.  Start processes from the test's own shell,
# not from a subshell that exits at once.  VU_LEASH=0 turns this off.
_VU_LEASH=()
if [ "${VU_LEASH:-1}" = 1 ] && setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
    _VU_LEASH=(setpriv --pdeathsig KILL --)
fi

# ---- messages, skip, fail -----------------------------------------------------

vu_log() { echo "[$(date +%T.%3N)] $VU_TEST_NAME: $*" >&2; }

# skip MESSAGE: the test cannot run here (exit 77).
skip() {
    echo "SKIP: $VU_TEST_NAME: $*" >&2
    exit 77
}

# fail MESSAGE: the test failed (exit 1; the cleanup trap prints the logs).
fail() {
    echo "FAIL: $VU_TEST_NAME: $*" >&2
    exit 1
}

# Skips (77) unless root: QEMU with vhost-user, hugepages, TAP, netns.
require_root() {
    [ "$(id -u)" -eq 0 ] || skip "needs root"
}

# missing_peer MESSAGE: a FAILURE under VU_REQUIRE_PEERS=1, else a SKIP.
missing_peer() {
    if [ "${VU_REQUIRE_PEERS:-0}" = 1 ]; then
        fail "$* (VU_REQUIRE_PEERS=1: tests/install-deps.sh should have installed it)"
    fi
    skip "$*"
}

# require_peers PROGRAM...: each must be in PATH (or be an executable path).
require_peers() {
    local p pkg
    for p; do
        command -v "$p" >/dev/null 2>&1 && continue
        case $p in
        qemu-system-x86_64) pkg="qemu-system-x86" ;;
        dpdk-testpmd) pkg=dpdk ;;
        linux.uml) pkg=user-mode-linux ;;
        busybox) pkg=busybox-static ;;
        tcpdump) pkg=tcpdump ;;
        *) pkg="the package providing $p" ;;
        esac
        missing_peer "$p not found (apt-get install $pkg)"
    done
}

# require_vuswitch: the daemon must have been built (a failure, not a skip:
# make check builds it).
require_vuswitch() {
    [ -x "$VUSWITCH" ] || fail "vuswitch not found at $VUSWITCH (set VUSWITCH or VU_BUILDDIR)"
}

# ---- work dir and cleanup -----------------------------------------------------

# vu_test_init: creates the work dir $VU_TEST_DIR and installs the trap.
# Call once, before starting anything.
vu_test_init() {
    VU_TEST_DIR=$(mktemp -d "${VU_TMPDIR:-/tmp}/vu-${VU_TEST_NAME:0:20}.XXXXXX")
    trap _vu_cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "work dir $VU_TEST_DIR"
    return 0
}

vu_register_pid() { _VU_PIDS+=("$1:${2:-proc}:${3:-}"); }    # PID [KIND [NAME]]
vu_register_path() { _VU_PATHS+=("$@"); }                    # PATH...
vu_register_netns() { _VU_NETNS+=("$@"); }                   # NETNS...
vu_register_tap() { _VU_TAPS+=("$@"); }                      # IFNAME...
vu_register_dpdk_prefix() { _VU_DPDK_PREFIXES+=("$@"); }     # FILE_PREFIX...

# vu_alive PID: true while PID runs (a zombie counts as gone).
vu_alive() {
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ -n "$state" ] && [ "$state" != Z ]
}

# vu_wait_pid PID TIMEOUT: waits until PID (a child of this shell) exits.
# Returns its exit status, or 124 if it still runs after TIMEOUT seconds.
vu_wait_pid() {
    local pid=$1 deadline rc=0
    deadline=$(($(date +%s%N) + ${2:-10} * 1000000000))
    while vu_alive "$pid"; do
        [ "$(date +%s%N)" -lt "$deadline" ] || return 124
        sleep 0.1
    done
    wait "$pid" 2>/dev/null || rc=$?
    return "$rc"
}

# vu_stop_pids PID:KIND...: stops them all at once: SIGKILL to the process
# group of a "pgroup" (UML, which may ignore SIGTERM), SIGTERM to the
# others; whatever still runs after VU_STOP_TIMEOUT (default 5) seconds
# gets SIGKILL.  Reaps them.
vu_stop_pids() {
    local e pid kind left deadline
    deadline=$(($(date +%s%N) + ${VU_STOP_TIMEOUT:-5} * 1000000000))
    for e; do
        pid=${e%%:*} kind=${e#*:}
        if [ "$kind" = pgroup ]; then
            # Even when the leader has exited: its helpers may not have.
            kill -KILL -- "-$pid" 2>/dev/null || true
            continue
        fi
        vu_alive "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    while :; do
        left=0
        for e; do vu_alive "${e%%:*}" && left=1; done
        if [ $left = 0 ] || [ "$(date +%s%N)" -ge "$deadline" ]; then
            break
        fi
        sleep 0.1
    done
    for e; do
        pid=${e%%:*}
        if vu_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
        if [ "${e#*:}" = pgroup ]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
    done
    for e; do
        pid=${e%%:*}
        for _ in $(seq 20); do vu_alive "$pid" || break; sleep 0.1; done
        wait "$pid" 2>/dev/null || true
    done
    return 0
}

# vu_stop_pid PID [KIND]: vu_stop_pids for one.
vu_stop_pid() { vu_stop_pids "$1:${2:-proc}"; }

_vu_cleanup() {
    local rc=$? entry kind f i
    local -a stop=()
    trap - EXIT HUP INT TERM
    set +e
    for ((i = ${#_VU_PIDS[@]} - 1; i >= 0; i--)); do
        entry=${_VU_PIDS[i]}
        kind=${entry#*:}
        if vu_alive "${entry%%:*}"; then
            [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "stopping ${kind%%:*} ${kind#*:} (pid ${entry%%:*})"
            stop+=("${entry%%:*}:${kind%%:*}")
        fi
    done
    [ ${#stop[@]} -eq 0 ] || vu_stop_pids "${stop[@]}"
    for f in "${_VU_TAPS[@]}"; do
        ip link del "$f" 2>/dev/null
    done
    for f in "${_VU_NETNS[@]}"; do
        ip netns del "$f" 2>/dev/null
    done
    for f in "${_VU_DPDK_PREFIXES[@]}"; do
        rm -rf /dev/hugepages/"$f"map_* /var/run/dpdk/"$f"
    done
    for f in "${_VU_PATHS[@]}"; do
        rm -rf "$f"
    done
    if [ -n "$VU_TEST_DIR" ] && [ -d "$VU_TEST_DIR" ]; then
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
            vu_dump_logs
            echo "$VU_TEST_NAME: exit $rc; logs kept in $VU_TEST_DIR" >&2
        elif [ "${VU_KEEP:-0}" = 1 ]; then
            echo "$VU_TEST_NAME: logs kept in $VU_TEST_DIR" >&2
        else
            rm -rf "$VU_TEST_DIR"
        fi
    fi
    exit "$rc"
}

# vu_dump_logs: the last lines of every log in the work dir, to stderr.
vu_dump_logs() {
    local f
    for f in "$VU_TEST_DIR"/*.log; do
        [ -s "$f" ] || continue
        echo "===== $f (last ${VU_LOG_LINES:-40} lines)" >&2
        tr -d '\r' <"$f" | grep -av -E '^\s*$|\[2J' | tail -n "${VU_LOG_LINES:-40}" >&2
    done
}

# ---- logs and results ---------------------------------------------------------

# wait_for_log LOG REGEX TIMEOUT [PID]: waits until a line of LOG matches
# the extended REGEX.  Returns 0 when it does, 1 after TIMEOUT seconds,
# 2 as soon as PID (if given) has exited without a match.
wait_for_log() {
    local log=$1 re=$2 deadline
    deadline=$(($(date +%s%N) + ${3:-30} * 1000000000))
    while :; do
        if [ -f "$log" ] && tr -d '\r' <"$log" | grep -aqE -- "$re"; then
            return 0
        fi
        if [ -n "${4:-}" ] && ! vu_alive "$4"; then
            # One more look: it may have matched just before exiting.
            [ -f "$log" ] && tr -d '\r' <"$log" | grep -aqE -- "$re" && return 0
            return 2
        fi
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# guest_result LOG KEY: the value of KEY on the last "VUTEST ..." line of a
# guest log that has it: KEY=VALUE prints VALUE; a line "VUTEST KEY WORD"
# prints WORD (so `guest_result LOG ping` prints ok or fail).  Prints
# nothing and returns 1 when there is none.
guest_result() {
    tr -d '\r' <"$1" | awk -v key="$2" '
        {
            i = index($0, "VUTEST ")
            if (i == 0) next
            n = split(substr($0, i + 7), w, " ")
            if (w[1] == key && n >= 2 && w[2] !~ /=/) { val = w[2]; found = 1; next }
            for (j = 1; j <= n; j++)
                if (index(w[j], key "=") == 1) { val = substr(w[j], length(key) + 2); found = 1 }
        }
        END { if (found) print val; exit !found }'
}

# guest_ready_uptime LOG: the guest's uptime (s) when it printed "VUTEST
# ready": its boot time, from kernel start to eth0 up.
guest_ready_uptime() {
    tr -d '\r' <"$1" | sed -n 's/.*VUTEST ready .*uptime=\([0-9.]*\).*/\1/p' | head -n 1
}

# guest_stat LOG KEY [TAG]: KEY=VALUE from the last "VUTEST stats" line
# (with tag=TAG if given), e.g. guest_stat LOG rx_packets.
guest_stat() {
    tr -d '\r' <"$1" | awk -v key="$2" -v tag="${3:-}" '
        {
            i = index($0, "VUTEST stats")
            if (i == 0) next
            line = substr($0, i)
            if (tag != "" && line !~ ("tag=" tag "( |$)")) next
            n = split(line, w, " ")
            for (j = 1; j <= n; j++)
                if (index(w[j], key "=") == 1) { val = substr(w[j], length(key) + 2); found = 1 }
        }
        END { if (found) print val; exit !found }'
}

# ---- QEMU guests -----------------------------------------------------------------

# ensure_guest_image: builds the guest kernel and initrd if needed
# (tests/vm/build-guest.sh; idempotent, fast when up to date).
ensure_guest_image() {
    require_peers qemu-system-x86_64 cpio
    [ -x /bin/busybox ] || missing_peer "/bin/busybox not found (apt-get install busybox-static)"
    "$VU_SRCDIR/tests/vm/build-guest.sh" "$VU_GUEST_CACHE" 2>"${VU_TEST_DIR:-/tmp}/build-guest.log" ||
        { cat "${VU_TEST_DIR:-/tmp}/build-guest.log" >&2; fail "cannot build the test guest"; }
    return 0
}

# guest_mac N: a locally administered unicast MAC for guest N (1..255).
guest_mac() { printf '52:54:00:00:00:%02x\n' "$1"; }

# start_guest NAME SOCKET MAC ROLE [KEY=VALUE...]
#
# Boots a QEMU guest (TCG) whose eth0 is a virtio-net-pci device backed by
# vhost-user on SOCKET, in the background.  Returns at once; the guest's
# console goes to $VU_TEST_DIR/NAME.log (also GUEST_LOG[NAME]); its PID is
# GUEST_PID[NAME].  Wait for `wait_for_log "${GUEST_LOG[NAME]}" 'VUTEST
# ready' 60 "${GUEST_PID[NAME]}"` or for the guest to power off
# (wait_guest).
#
# KEY=VALUE pairs for QEMU:
#   chardev=client|server|reconnect  vhost-user socket role of QEMU
#                        (client: connects once, the backend must listen;
#                        server: QEMU listens, server=on,wait=off;
#                        reconnect: client with reconnect=1)
#   queues=N             queue pairs (mq=on when N > 1; the guest uses
#                        min(N, smp) of them)
#   smp=N                guest CPUs (default 1)
#   mem=MB               guest memory (default 256), memfd share=on
#   device=OPTS          extra virtio-net-pci properties, e.g.
#                        device=mrg_rxbuf=off,event_idx=off
#   cmd=1                command channel on the second serial port (see
#                        guest_cmd)
# every other KEY=VALUE goes to the kernel command line for guest-init:
# ip=, peer_ip=, peer_mac=, count=, pkt_size=, delay=, dst=, mtu=,
# duration=, settle=, wait_peer=, hold=, interval=, dmesg=.
start_guest() {
    local name=$1 sock=$2 mac=$3 role=$4 kv key val
    shift 4
    local chardev=client queues=1 smp=1 mem=256 device='' cmd=0 append=''
    for kv; do
        key=${kv%%=*}
        val=${kv#*=}
        case $key in
        chardev) chardev=$val ;;
        queues) queues=$val ;;
        smp) smp=$val ;;
        mem) mem=$val ;;
        device) device=$val ;;
        cmd) cmd=$val; append="$append cmd=$val" ;;
        *) append="$append $kv" ;;
        esac
    done
    [ -n "$VU_TEST_DIR" ] || fail "start_guest: call vu_test_init first"
    local kernel=$VU_GUEST_CACHE/vmlinux
    [ -s "$kernel" ] || kernel=$VU_GUEST_CACHE/vmlinuz
    if [ ! -s "$kernel" ] || [ ! -s "$VU_GUEST_CACHE/initrd.img" ]; then
        fail "no guest image in $VU_GUEST_CACHE (call ensure_guest_image)"
    fi

    local log=$VU_TEST_DIR/$name.log copts='' netdev_q='' dev_q=''
    case $chardev in
    client) ;;
    server) copts=",server=on,wait=off" ;;
    reconnect) copts=",reconnect=1" ;;
    *) fail "start_guest: chardev=$chardev (client, server or reconnect)" ;;
    esac
    if [ "$queues" -gt 1 ]; then
        netdev_q=",queues=$queues"
        dev_q=",mq=on"
    fi
    # no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer
    # check can miss its window and panic ("IO-APIC + timer doesn't work").
    # shellcheck disable=SC2054 # commas are QEMU option syntax
    local -a qemu=(qemu-system-x86_64
        -name "$name" -accel tcg -cpu max -smp "$smp" -m "$mem"
        -object "memory-backend-memfd,id=mem,size=${mem}M,share=on"
        -numa node,memdev=mem
        -chardev "socket,id=vu0,path=$sock$copts"
        -netdev "vhost-user,id=n0,chardev=vu0$netdev_q"
        -device "virtio-net-pci,netdev=n0,mac=$mac,romfile=,vectors=0$dev_q${device:+,$device}"
        -serial "file:$log" -no-reboot -nographic -nodefaults
        -kernel "$kernel" -initrd "$VU_GUEST_CACHE/initrd.img"
        -append "console=ttyS0 quiet ipv6.disable=1 no_timer_check role=$role$append")
    if [ "$cmd" = 1 ]; then
        local fifo=$VU_TEST_DIR/$name.cmd
        rm -f "$fifo.in" "$fifo.out"
        mkfifo "$fifo.in" "$fifo.out"
        qemu+=(-chardev "pipe,id=cmd,path=$fifo" -device "isa-serial,chardev=cmd")
        GUEST_CMD_FIFO[$name]=$fifo
    fi
    if [ -n "$VU_GUEST_CPUS" ] && command -v taskset >/dev/null; then
        qemu=(taskset -c "$VU_GUEST_CPUS" "${qemu[@]}")
    fi
    qemu=("${_VU_LEASH[@]}" "${qemu[@]}")
    rm -f "$log"
    [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "start guest $name: ${qemu[*]}"
    "${qemu[@]}" </dev/null >"$VU_TEST_DIR/$name.qemu.log" 2>&1 &
    GUEST_PID[$name]=$!
    GUEST_LOG[$name]=$log
    vu_register_pid "${GUEST_PID[$name]}" qemu "$name"
}

# wait_guest_ready NAME [TIMEOUT]: waits for the guest's "VUTEST ready"
# line (default 90 s); fails the test if it does not come.
wait_guest_ready() {
    local rc=0
    wait_for_log "${GUEST_LOG[$1]}" 'VUTEST ready' "${2:-90}" "${GUEST_PID[$1]}" || rc=$?
    case $rc in
    0) return 0 ;;
    2) fail "guest $1 exited before it was ready: $(tail -n 3 "$VU_TEST_DIR/$1.qemu.log" 2>/dev/null)" ;;
    *) fail "guest $1 not ready after ${2:-90} s" ;;
    esac
}

# wait_guest NAME [TIMEOUT]: waits for the guest to power off (default
# 120 s).  Returns QEMU's exit status (0 after a guest poweroff), or 124 if
# it still runs (it is then left to the cleanup).
wait_guest() {
    vu_wait_pid "${GUEST_PID[$1]}" "${2:-120}"
}

# guest_cmd NAME COMMAND [TIMEOUT]: runs COMMAND in a guest started with
# cmd=1 (role idle), e.g. `guest_cmd g1 'vu_ping 3'`; guest-init's vu_*
# functions and variables are available.  Waits for it to finish (default
# 60 s), prints its output and returns its exit status (124: timeout).
guest_cmd() {
    local name=$1 cmd=$2 log=${GUEST_LOG[$1]} fifo=${GUEST_CMD_FIFO[$1]:-} id rc
    [ -n "$fifo" ] || fail "guest_cmd: guest $name has no command channel (start it with cmd=1)"
    wait_for_log "$log" 'VUTEST cmd_ready' 90 "${GUEST_PID[$name]}" ||
        fail "guest $name: command channel not ready"
    # Unique even when called from a $(...) subshell, where a counter
    # incremented here would not survive.
    id=$BASHPID.$(date +%s%N)
    printf '%s %s\n' "$id" "$cmd" >"$fifo.in"
    wait_for_log "$log" "VUTEST cmd_done id=$id " "${3:-60}" "${GUEST_PID[$name]}" || return 124
    tr -d '\r' <"$log" | awk -v id="$id" '
        index($0, "VUTEST cmd_start id=" id) { on = 1; next }
        index($0, "VUTEST cmd_done id=" id " ") { on = 0 }
        on'
    rc=$(tr -d '\r' <"$log" | sed -n "s/.*VUTEST cmd_done id=$id rc=\([0-9]*\).*/\1/p" | tail -n 1)
    return "${rc:-1}"
}

# ---- DPDK testpmd ------------------------------------------------------------------

# hugepages_setup [PAGES]: at least PAGES (default 512) 2 MiB pages
# reserved in total and hugetlbfs mounted on /dev/hugepages.
hugepages_setup() {
    local want=${1:-512} total
    total=$(awk '/^HugePages_Total/ { print $2 }' /proc/meminfo)
    if [ "${total:-0}" -lt "$want" ]; then
        echo "$want" >/proc/sys/vm/nr_hugepages ||
            missing_peer "cannot reserve $want hugepages"
    fi
    mkdir -p /dev/hugepages
    mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages ||
        missing_peer "cannot mount hugetlbfs on /dev/hugepages"
}

# start_testpmd NAME EAL_AND_APP_ARGS...: runs dpdk-testpmd in the
# background with --file-prefix unique to this test and NAME (added here),
# log in $VU_TEST_DIR/NAME.log, PID in TESTPMD_PID[NAME].
declare -gA TESTPMD_PID=() TESTPMD_LOG=()
start_testpmd() {
    local name=$1 prefix
    shift
    require_peers dpdk-testpmd
    prefix="vu$$${name}"
    vu_register_dpdk_prefix "$prefix"
    TESTPMD_LOG[$name]=$VU_TEST_DIR/$name.log
    [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "start testpmd $name: $*"
    "${_VU_LEASH[@]}" dpdk-testpmd --file-prefix="$prefix" "$@" </dev/null >"${TESTPMD_LOG[$name]}" 2>&1 &
    TESTPMD_PID[$name]=$!
    vu_register_pid "${TESTPMD_PID[$name]}" testpmd "$name"
}

# _vu_lcores: "0@0,1@1" on a machine with 2+ CPUs (main lcore on CPU 0,
# forwarding lcore on CPU 1), "0@0,1@0" on one CPU.
_vu_lcores() {
    if [ "$(nproc)" -gt 1 ]; then echo "0@0,1@${1:-1}"; else echo "0@0,1@0"; fi
}

# start_testpmd_loop NAME SOCK_A SOCK_B [VDEV_OPTS [TESTPMD_ARGS...]]
#
# The closed-loop generator of TESTBED.md: two net_virtio_user ports (the
# switch's vhost ports A and B; testpmd connects as client unless VDEV_OPTS
# has server=1), io forwarding, seeded with --tx-first; both lcores on CPU 0
# so that the switch owns CPU 1.  VDEV_OPTS (e.g. "mrg_rxbuf=0,in_order=1")
# is appended to both vdevs; extra testpmd arguments follow.
start_testpmd_loop() {
    local name=$1 a=$2 b=$3 opts=${4:+,$4}
    shift 3
    [ $# -gt 0 ] && shift
    hugepages_setup 512
    start_testpmd "$name" --lcores 0@0,1@0 -m 256 --single-file-segments --no-pci \
        --vdev "net_virtio_user0,path=$a,queues=1$opts" \
        --vdev "net_virtio_user1,path=$b,queues=1$opts" \
        -- --forward-mode=io --auto-start --tx-first --stats-period 1 --nb-cores=1 \
        --total-num-mbufs=16384 --record-core-cycles "$@"
}

# start_testpmd_switch NAME SOCK_A SOCK_B [TESTPMD_ARGS...]
#
# DPDK's net_vhost as the reference switch (and as a stand-in for vuswitch
# when testing the harness): two vhost-user server sockets, io forwarding
# port 0 <-> port 1 (a wire: everything from A goes out of B and back),
# forwarding lcore on CPU 1.  Waits for both sockets.
start_testpmd_switch() {
    local name=$1 a=$2 b=$3
    shift 3
    hugepages_setup 512
    start_testpmd "$name" --lcores "$(_vu_lcores 1)" -m 256 --no-pci \
        --vdev "net_vhost0,iface=$a,queues=1" \
        --vdev "net_vhost1,iface=$b,queues=1" \
        -- --forward-mode=io --auto-start --stats-period 1 --nb-cores=1 \
        --total-num-mbufs=16384 --record-core-cycles "$@"
    vu_register_path "$a" "$b"
    wait_for_sockets 20 "${TESTPMD_PID[$name]}" "$a" "$b" ||
        fail "testpmd $name: sockets $a $b did not appear"
}

# stop_testpmd NAME: SIGINT (testpmd prints its final forward statistics
# and exits), waits up to 10 s.  Returns its exit status.
stop_testpmd() {
    local pid=${TESTPMD_PID[$1]} rc=0
    vu_alive "$pid" || { wait "$pid" 2>/dev/null || rc=$?; return "$rc"; }
    kill -INT "$pid" 2>/dev/null
    vu_wait_pid "$pid" 10 || rc=$?
    return "$rc"
}

# testpmd_stat LOG PORT FIELD: the last value testpmd printed for FIELD
# (RX-packets, RX-dropped, RX-bytes, TX-packets, TX-dropped, RX-missed, ...)
# of PORT, from its periodic "NIC statistics for port P" blocks or its
# final "Forward statistics for port P" block, whichever came last (both
# count from the start).  Prints nothing and returns 1 if never printed.
testpmd_stat() {
    tr -d '\r' <"$1" | awk -v port="$2" -v field="$3" '
        /statistics for port [0-9]+/ {
            match($0, /for port [0-9]+/)
            cur = substr($0, RSTART + 9, RLENGTH - 9) + 0
            next
        }
        /statistics for all ports|^ *#+ *$|^ *-+ *$/ { cur = -1 }
        cur == port {
            for (i = 1; i < NF; i++)
                if ($i == field ":") { val = $(i + 1); found = 1 }
        }
        END { if (found) print val; exit !found }'
}

# testpmd_fwd_stat LOG PORT FIELD: like testpmd_stat, but only from the
# final "Forward statistics" block (printed when testpmd stops): this one
# has RX-dropped and TX-dropped as counted by the forwarding engine.
testpmd_fwd_stat() {
    tr -d '\r' <"$1" | awk -v port="$2" -v field="$3" '
        /Forward statistics for port [0-9]+/ {
            match($0, /for port [0-9]+/)
            cur = substr($0, RSTART + 9, RLENGTH - 9) + 0
            next
        }
        /statistics for|^ *#+ *$|^ *-+ *$/ { cur = -1 }
        cur == port {
            for (i = 1; i < NF; i++)
                if ($i == field ":") { val = $(i + 1); found = 1 }
        }
        END { if (found) print val; exit !found }'
}

# wait_for_sockets TIMEOUT PID PATH...: waits until every PATH is a socket;
# returns 1 on timeout, 2 if PID exited first.
wait_for_sockets() {
    local deadline pid=$2 p ok
    deadline=$(($(date +%s%N) + $1 * 1000000000))
    shift 2
    while :; do
        ok=1
        for p; do [ -S "$p" ] || ok=0; done
        [ $ok = 1 ] && return 0
        [ -z "$pid" ] || vu_alive "$pid" || return 2
        [ "$(date +%s%N)" -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

# ---- vuswitch ----------------------------------------------------------------------

# start_vuswitch ARGS...: runs $VUSWITCH ARGS... in the background, log in
# $VU_TEST_DIR/vuswitch.log (VUSWITCH_LOG), PID in VUSWITCH_PID, and waits
# (20 s) for the sockets it must create: every `--port NAME=vhost:PATH`
# without `client`, and the `--control PATH` socket.  Without --control a
# per-test control socket in the work dir is added, so that tests never
# touch /run/vuswitch.  Fails the test if vuswitch exits or the sockets do
# not appear.
start_vuswitch() {
    require_vuswitch
    local -a args=("$@") socks=()
    local a spec path ctl='' i
    for ((i = 0; i < ${#args[@]}; i++)); do
        a=${args[i]}
        spec=
        case $a in
        --control) ctl=${args[i + 1]:-} ;;
        --control=*) ctl=${a#--control=} ;;
        --port) spec=${args[i + 1]:-} ;;
        --port=*) spec=${a#--port=} ;;
        esac
        case $spec in
        *=vhost:*)
            path=${spec#*=vhost:}
            case ",$path," in *,client,*) continue ;; esac
            socks+=("${path%%,*}")
            ;;
        esac
    done
    if [ -z "$ctl" ]; then
        ctl=$VU_TEST_DIR/control.sock
        args=(--control "$ctl" "${args[@]}")
    fi
    socks+=("$ctl")
    # shellcheck disable=SC2034 # for the tests (vuswitchctl --control)
    VUSWITCH_CONTROL=$ctl
    VUSWITCH_LOG=$VU_TEST_DIR/vuswitch.log
    [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "start $VUSWITCH ${args[*]}"
    "${_VU_LEASH[@]}" "$VUSWITCH" "${args[@]}" </dev/null >>"$VUSWITCH_LOG" 2>&1 &
    VUSWITCH_PID=$!
    vu_register_pid "$VUSWITCH_PID" vuswitch vuswitch
    vu_register_path "${socks[@]}"
    local rc=0
    wait_for_sockets 20 "$VUSWITCH_PID" "${socks[@]}" || rc=$?
    case $rc in
    0) return 0 ;;
    2) fail "vuswitch exited at start: $(tail -n 5 "$VUSWITCH_LOG")" ;;
    *) fail "vuswitch: sockets ${socks[*]} did not appear in 20 s" ;;
    esac
}

# stop_vuswitch [TIMEOUT]: SIGTERM to vuswitch, waits (default 10 s) and
# fails the test unless it exited with status 0.
stop_vuswitch() {
    local rc=0
    [ -n "$VUSWITCH_PID" ] || fail "stop_vuswitch: vuswitch not started"
    if ! vu_alive "$VUSWITCH_PID"; then
        wait "$VUSWITCH_PID" 2>/dev/null || rc=$?
        fail "vuswitch had already exited (status $rc): $(tail -n 5 "$VUSWITCH_LOG")"
    fi
    kill -TERM "$VUSWITCH_PID"
    vu_wait_pid "$VUSWITCH_PID" "${1:-10}" || rc=$?
    [ "$rc" -ne 124 ] || fail "vuswitch still running ${1:-10} s after SIGTERM"
    [ "$rc" -eq 0 ] || fail "vuswitch exited with status $rc after SIGTERM: $(tail -n 5 "$VUSWITCH_LOG")"
    VUSWITCH_PID=
}

# ---- assertions --------------------------------------------------------------------

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
    [ "$2" = "$3" ] || fail "$1: expected $2, got ${3:-nothing}"
    [ "${VU_VERBOSE:-0}" = 1 ] && vu_log "ok: $1 = $3"
    return 0
}
