# switch/ -- the daemon.
noinst_LIBRARIES += switch/libswitch.a
switch_libswitch_a_SOURCES = \
	switch/control.c switch/control.h \
	switch/ctl-server.c switch/ctl-server.h \
	switch/fdb.c switch/fdb.h \
	switch/options.c switch/options.h \
	switch/placement.c switch/placement.h

sbin_PROGRAMS += switch/vuswitch
switch_vuswitch_SOURCES = switch/vuswitch.c
switch_vuswitch_LDADD = switch/libswitch.a pmd/libpmd.a lib/libvu.a
