#!/usr/bin/env bash
# Issue 6: the libFuzzer targets of tests/fuzz/ (the vhost-user message
# parser and device, the split-virtqueue walker), built with clang
# -fsanitize=fuzzer,address,undefined by tests/fuzz/build.sh and run from
# their seed corpora (tests/fuzz/corpus-*) for FUZZ_SECONDS each (default
# 60), both at once (one per core).  Fails on any crash, sanitizer report,
# leak or timeout, naming the input that caused it (kept in the work dir).
#
# Longer runs, by hand (an hour, two jobs per target):
#   tests/fuzz/build.sh /tmp/fz
#   mkdir -p /tmp/fz/corpus-vq && /tmp/fz/fuzz-vq -jobs=2 -workers=2 \
#       -max_total_time=3600 -timeout=10 -max_len=4096 \
#       -artifact_prefix=/tmp/fz/ /tmp/fz/corpus-vq tests/fuzz/corpus-vq
#   (the same with fuzz-vhu-msg and tests/fuzz/corpus-vhu-msg), or
#   FUZZ_SECONDS=3600 tests/integration/fuzz.sh
# Needs clang and libFuzzer's runtime (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
. "$(dirname "$0")/../lib/testlib.sh"

require_cmd clang clang
SECONDS_EACH=${FUZZ_SECONDS:-60}
# A probe: clang without the libFuzzer runtime fails to link.
echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' \
    >"$T/probe.c"
clang -fsanitize=fuzzer -o "$T/probe" "$T/probe.c" >/dev/null 2>&1 \
    || missing_peer "clang cannot link libFuzzer (apt-get install libclang-rt-14-dev)"

sh "$VU_SRCDIR/tests/fuzz/build.sh" "$T/build" >"$T/build.log" 2>&1 \
    || { cat "$T/build.log" >&2; fail "the fuzz targets do not build"; }

pids=()
for t in vhu-msg vq; do
    mkdir -p "$T/corpus-$t"
    # New inputs go to the first directory; the seeds are only read.
    "$T/build/fuzz-$t" -max_total_time="$SECONDS_EACH" -timeout=10 \
        -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
        -artifact_prefix="$T/$t-" "$T/corpus-$t" \
        "$VU_SRCDIR/tests/fuzz/corpus-$t" >"$T/fuzz-$t.log" 2>&1 &
    pids+=($!)
    vu_register_pid $! fuzzer "fuzz-$t"
done
rc=0
for i in 0 1; do
    wait "${pids[i]}" || rc=1
done
for t in vhu-msg vq; do
    grep -E '^stat::number_of_executed_units|^Done' "$T/fuzz-$t.log" \
        | sed "s/^/fuzz-$t: /" || true
done
if [ "$rc" -ne 0 ] || ls "$T"/*-crash-* "$T"/*-leak-* "$T"/*-timeout-* \
        "$T"/*-oom-* >/dev/null 2>&1; then
    for f in "$T"/*-crash-* "$T"/*-leak-* "$T"/*-timeout-* "$T"/*-oom-*; do
        [ -e "$f" ] && echo "finding: $f ($(base64 -w0 "$f" | head -c 200))"
    done
    fail "a fuzz target found a bug (logs: fuzz-vhu-msg.log, fuzz-vq.log)"
fi
pass "fuzz-vhu-msg and fuzz-vq ran ${SECONDS_EACH}s each without a finding"
