# tools/ -- the CLI and helpers.
bin_PROGRAMS += tools/vuswitchctl
tools_vuswitchctl_SOURCES = \
	tools/ctl-args.c tools/ctl-args.h \
	tools/vuswitchctl.c
tools_vuswitchctl_LDADD = lib/libvu.a

bin_PROGRAMS += tools/vupktgen
tools_vupktgen_SOURCES = \
	tools/frontend.c tools/frontend.h \
	tools/vupktgen.c tools/vupktgen.h \
	tools/vupktgen-run.c
tools_vupktgen_LDADD = lib/libvu.a -lm
