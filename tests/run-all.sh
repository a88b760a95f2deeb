#!/usr/bin/env bash
# The whole test suite, from a fresh checkout on a fresh Debian 12 machine,
# as root: installs the prerequisites (build tools, libraries, QEMU, DPDK,
# busybox, tcpdump, UML), builds with warnings as errors, runs `make check`
# (unit tests and integration tests against real peers).  Real-peer tests
# fail, rather than skip, when a peer is missing (VU_REQUIRE_PEERS=1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VU_BUILD_DIR:-$top/build}

if [ "$(id -u)" -ne 0 ]; then
    echo "run-all: the integration tests need root (QEMU, hugepages, TAP, netns); run it with sudo" >&2
    exit 1
fi

bash "$top/tests/install-deps.sh"

cd "$top"
autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
"$top/configure" -q --enable-werror
make -j"$(nproc)" >/dev/null
export VU_REQUIRE_PEERS=1
rc=0
make -j1 check 2>&1 | tee "$build/check.out" || rc=$?
if [ "$rc" -ne 0 ]; then
    for log in $(grep -lE '^(FAIL|ERROR)' "$build"/tests/*.log "$build"/tests/integration/*.log 2>/dev/null); do
        echo "===== $log"
        tail -n 60 "$log"
    done
fi
# Again with AddressSanitizer and UndefinedBehaviorSanitizer: the
# integration tests that push the most through the datapath and the
# vhost-user code, against the sanitizer build of vuswitch.
SAN_TESTS=${VU_SAN_TESTS-"tests/integration/testpmd-loop.sh tests/integration/testpmd-matrix.sh tests/integration/vupktgen-vuswitch.sh tests/integration/qemu-pktgen.sh tests/integration/uml-ping.sh tests/integration/hostile-frontend.sh tests/integration/isolation.sh tests/integration/qemu-reconnect.sh"}
if [ "$rc" -eq 0 ] && [ -n "$SAN_TESTS" ]; then
    mkdir -p "$build-asan"
    cd "$build-asan"
    [ -f Makefile ] || "$top/configure" -q --enable-sanitizers
    make -j"$(nproc)" >/dev/null
    make -j1 check TESTS="$SAN_TESTS" 2>&1 | sed 's/^\(PASS\|FAIL\|ERROR\|SKIP\):/&[asan]/' |
        tee -a "$build/check.out" || rc=$?
    cd "$build"
fi
passed=$(grep -c '^PASS:' "$build/check.out" || true)
failed=$(grep -cE '^(FAIL|ERROR|XPASS):' "$build/check.out" || true)
skipped=$(grep -c '^SKIP:' "$build/check.out" || true)
echo "$passed passed, $failed failed, $skipped skipped"
exit "$rc"
