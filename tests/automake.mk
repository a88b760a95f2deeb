# tests/ -- one CUnit program per module (make check), then integration
# tests against real peers (they exit 77 when run without root or a peer;
# tests/run-all installs the peers so that nothing is skipped).
UNIT_TESTS = \
	tests/test-fdb \
	tests/test-gmem \
	tests/test-options \
	tests/test-placement \
	tests/test-port-pcap \
	tests/test-port-tap \
	tests/test-stats \
	tests/test-vhu-dev \
	tests/test-vhu-msg \
	tests/test-vq \
	tests/test-vq-packed
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

TEST_LIBS = switch/libswitch.a pmd/libpmd.a lib/libvu.a $(CUNIT_LIBS)
tests_test_fdb_SOURCES = tests/test-fdb.c tests/cunit.h
tests_test_fdb_LDADD = $(TEST_LIBS)
tests_test_gmem_SOURCES = tests/test-gmem.c tests/cunit.h
tests_test_gmem_LDADD = $(TEST_LIBS)
tests_test_options_SOURCES = tests/test-options.c tests/cunit.h
tests_test_options_LDADD = $(TEST_LIBS)
tests_test_port_pcap_SOURCES = tests/test-port-pcap.c tests/cunit.h
tests_test_port_pcap_LDADD = $(TEST_LIBS)
tests_test_port_tap_SOURCES = tests/test-port-tap.c tests/cunit.h
tests_test_port_tap_LDADD = $(TEST_LIBS)
tests_test_placement_SOURCES = tests/test-placement.c tests/cunit.h
tests_test_placement_LDADD = $(TEST_LIBS)
tests_test_stats_SOURCES = tests/test-stats.c tests/cunit.h
tests_test_stats_LDADD = $(TEST_LIBS)
tests_test_vhu_dev_SOURCES = tests/test-vhu-dev.c tests/cunit.h
tests_test_vhu_dev_LDADD = $(TEST_LIBS)
tests_test_vhu_msg_SOURCES = tests/test-vhu-msg.c tests/cunit.h
tests_test_vhu_msg_LDADD = $(TEST_LIBS)
tests_test_vq_SOURCES = tests/test-vq.c tests/vq-guest.h tests/cunit.h
tests_test_vq_LDADD = $(TEST_LIBS)
tests_test_vq_packed_SOURCES = tests/test-vq-packed.c tests/vq-guest.h \
	tests/cunit.h
tests_test_vq_packed_LDADD = $(TEST_LIBS)

# Integration tests: shell scripts driving real peers.
INTEGRATION_TESTS = \
	tests/integration/testpmd-loop.sh \
	tests/integration/testpmd-matrix.sh \
	tests/integration/vupktgen-dpdk.sh \
	tests/integration/vupktgen-vuswitch.sh \
	tests/integration/qemu-pktgen.sh \
	tests/integration/qemu-drops.sh \
	tests/integration/qemu-reconnect.sh \
	tests/integration/qemu-multiqueue.sh \
	tests/integration/rebalance-stress.sh \
	tests/integration/uml-ping.sh
EXTRA_DIST += tests/lib/testlib.sh tests/lib/peers.sh tests/vm/build-guest.sh tests/vm/guest-init \
	tests/vm/selftest-dpdk-backend.sh tests/install-deps.sh tests/run-all.sh \
	tests/vm/build-uml-initrd.sh tests/vm/uml-init
AM_TESTS_ENVIRONMENT = VU_BUILDDIR='$(abs_top_builddir)' VU_SRCDIR='$(abs_top_srcdir)'; export VU_BUILDDIR VU_SRCDIR;
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS)

# Benchmarks (not tests): `make bench`, see BENCHMARKS.md.
noinst_PROGRAMS += tests/bench/handoff-probe
tests_bench_handoff_probe_SOURCES = tests/bench/handoff-probe.c
EXTRA_DIST += tests/bench/bench.py
.PHONY: bench
bench: all
	python3 $(srcdir)/tests/bench/bench.py --builddir $(abs_top_builddir) $(BENCH_ARGS)

# Issue 4: captures (worker mirrors) and the TAP / pcap integration tests.
UNIT_TESTS += tests/test-worker
tests_test_worker_SOURCES = tests/test-worker.c tests/cunit.h
tests_test_worker_LDADD = $(TEST_LIBS)
INTEGRATION_TESTS += \
	tests/integration/tap-qemu.sh \
	tests/integration/pcap-capture.sh \
	tests/integration/capture-workers.sh

# Issue 6: a hostile front end and libFuzzer targets.
check_PROGRAMS += tests/hostile/hostile
tests_hostile_hostile_SOURCES = \
	tests/hostile/hostile.c tests/hostile/hostile.h \
	tests/hostile/hostile-msg.c tests/hostile/hostile-guest.c \
	tests/hostile/hostile-packed.c tests/hostile/hostile-fds.c \
	tests/hostile/hostile-load.c
tests_hostile_hostile_LDADD = lib/libvu.a
INTEGRATION_TESTS += \
	tests/integration/hostile-frontend.sh \
	tests/integration/fuzz.sh
EXTRA_DIST += \
	tests/fuzz/build.sh tests/fuzz/make-corpus.py \
	tests/fuzz/fuzz-vhu-msg.c tests/fuzz/fuzz-vq.c \
	tests/fuzz/corpus-vhu-msg tests/fuzz/corpus-vq

# Issue 3: vuswitchctl's command line (tools/ctl-args.c) and exit statuses.
UNIT_TESTS += tests/test-ctl-args
tests_test_ctl_args_SOURCES = tests/test-ctl-args.c tests/cunit.h \
	tools/ctl-args.c tools/ctl-args.h
tests_test_ctl_args_CPPFLAGS = $(AM_CPPFLAGS) -DVU_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_test_ctl_args_LDADD = $(TEST_LIBS)
INTEGRATION_TESTS += tests/integration/ctl-cli.sh

# Issue 7: NUMA topology (lib/topo.c) and the guest memory node seen
# through testpmd; placement's NUMA cases are in tests/test-placement.
UNIT_TESTS += tests/test-topo
tests_test_topo_SOURCES = tests/test-topo.c tests/cunit.h
tests_test_topo_LDADD = $(TEST_LIBS)
INTEGRATION_TESTS += tests/integration/numa-node.sh

# Issue 7: two QEMU guests and two DPDK ports (queues=2) on two workers.
INTEGRATION_TESTS += tests/integration/four-ports.sh

# Issue 7: queue pairs a guest enables later (ethtool -L through the
# guest image's vu-channels helper).
INTEGRATION_TESTS += tests/integration/qemu-queues-later.sh
EXTRA_DIST += tests/vm/vu-channels.c

# Issue 6: isolation -- a garbage flood (tests/hostile/hostile --flood)
# next to a pair vupktgen drives.  GET_VRING_BASE under full load is the
# hostile scenario vring-base-under-load (hostile-frontend.sh).
INTEGRATION_TESTS += tests/integration/isolation.sh

# Issue 5: the pktgen-guest and idle benchmarks of `make bench`.
EXTRA_DIST += tests/bench/guests.py tests/bench/guests.sh
