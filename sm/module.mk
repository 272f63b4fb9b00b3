# sm/: SMAPIv1 on a directory SR: the SR and its VDIs, journals, locks, the
# GC/coalescer and the XenAPI callbacks (libvhdsm-sm.a), and its tests.
# Included by the top-level Makefile; uses its variables and patterns.

SM_SRCS := $(sort $(wildcard sm/*.cc))
SM_OBJS := $(SM_SRCS:%.cc=$(OBJ)/%.o)
LIBSM   := $(BUILD)/lib/libvhdsm-sm.a

$(LIBSM): $(SM_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
