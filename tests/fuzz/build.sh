#!/bin/sh
# build.sh [OUTDIR] -- builds the libFuzzer targets of tests/fuzz/ with
# clang (-fsanitize=fuzzer,address,undefined), compiling the lib/ sources
# they test directly: no configure or make needed.  OUTDIR defaults to
# ./fuzz-build.  Needs clang and libFuzzer's runtime (Debian: clang,
# libclang-rt-14-dev).  Run them with tests/integration/fuzz.sh, or by
# hand, e.g. for an hour on two cores:
#   tests/fuzz/build.sh /tmp/fz
#   mkdir -p /tmp/fz/corpus-vq
#   /tmp/fz/fuzz-vq -jobs=2 -workers=2 -max_total_time=3600 -timeout=10 \
#       -max_len=4096 -artifact_prefix=/tmp/fz/ /tmp/fz/corpus-vq \
#       tests/fuzz/corpus-vq
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$PWD/fuzz-build}
CC=${CC:-clang}
mkdir -p "$out"
# The lib/ sources include <config.h>; they need only _GNU_SOURCE from it.
cat >"$out/config.h" <<'H'
#define _GNU_SOURCE 1
H
set -- -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wall -Wno-unused-parameter -I"$out" -I"$src/lib"
lib=$src/lib
$CC "$@" -o "$out/fuzz-vhu-msg" "$src/tests/fuzz/fuzz-vhu-msg.c" \
    "$lib/vhu-msg.c" "$lib/vhu-dev.c" "$lib/gmem.c" "$lib/vq.c" \
    "$lib/vq-packed.c" "$lib/log.c" \
    -lpthread
$CC "$@" -o "$out/fuzz-vq" "$src/tests/fuzz/fuzz-vq.c" \
    "$lib/vq.c" "$lib/vq-packed.c" "$lib/gmem.c" "$lib/log.c" -lpthread
echo "built $out/fuzz-vhu-msg $out/fuzz-vq"
