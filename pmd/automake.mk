# pmd/ -- poll-mode drivers behind one port interface, and the worker loop.
noinst_LIBRARIES += pmd/libpmd.a
pmd_libpmd_a_SOURCES = \
	pmd/port.c pmd/port.h \
	pmd/port-pcap.c pmd/port-pcap.h \
	pmd/port-tap.c pmd/port-tap.h \
	pmd/port-vhost.c pmd/port-vhost.h \
	pmd/worker.c pmd/worker.h
