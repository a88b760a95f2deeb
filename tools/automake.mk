# tools/ -- the CLI and helpers.
bin_PROGRAMS += tools/vuswitchctl
tools_vuswitchctl_SOURCES = tools/vuswitchctl.c
tools_vuswitchctl_LDADD = lib/libvu.a
