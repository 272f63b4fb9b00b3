# image/: image tasks, a VDI chain turned into an image in an object store
# (libvhdsm-image.a). Included by the top-level Makefile.

IMAGE_SRCS := $(sort $(wildcard image/*.cc))
IMAGE_OBJS := $(IMAGE_SRCS:%.cc=$(OBJ)/%.o)
LIBIMAGE   := $(BUILD)/lib/libvhdsm-image.a

$(LIBIMAGE): $(IMAGE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^
