# lib/ -- building blocks with no threads and no policy.
noinst_LIBRARIES += lib/libvu.a
lib_libvu_a_SOURCES = \
	lib/gmem.c lib/gmem.h \
	lib/json.c lib/json.h \
	lib/log.c lib/log.h \
	lib/spsc.c lib/spsc.h \
	lib/stats.c lib/stats.h \
	lib/topo.c lib/topo.h \
	lib/tsc.c lib/tsc.h \
	lib/util.h \
	lib/vhu-dev.c lib/vhu-dev.h \
	lib/vhu-msg.c lib/vhu-msg.h \
	lib/vq.c lib/vq-packed.c lib/vq.h
