# plugin/: the SM plugin. Its sources (but the *_main.cc host programs) form
# libvhdsm-plugin.a, which tests link and libvhdsm.so wraps with the C ABI.
# Included by the top-level Makefile; uses its variables and patterns.

PLUGIN_SRCS := $(filter-out %_main.cc,$(sort $(wildcard plugin/*.cc)))
PLUGIN_OBJS := $(PLUGIN_SRCS:%.cc=$(OBJ)/%.o)
LIBPLUGIN   := $(BUILD)/lib/libvhdsm-plugin.a
# The uploader (plugin/upload/module.mk builds it).
PLUGIN_UPLOAD_LIB := $(BUILD)/lib/libvhdsm-upload.a
PLUGIN_LIBS = $(XMLRPC_LIBS) $(VHD_LIBS) -linih -lisal -lcurl -lssl -lcrypto -lz -pthread

PLUGIN_TEST_SRCS := $(sort $(wildcard tests/plugin/*_test.cc))
PLUGIN_TEST_OBJS := $(PLUGIN_TEST_SRCS:%.cc=$(OBJ)/%.o)

$(LIBPLUGIN): $(PLUGIN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

ifneq ($(PLUGIN_TEST_SRCS),)
TEST_BINS += $(BUILD)/tests/plugin_tests
endif

$(BUILD)/tests/plugin_tests: $(PLUGIN_TEST_OBJS) $(TESTUTIL_OBJS) $(LIBPLUGIN) $(PLUGIN_UPLOAD_LIB) $(LIBXMLRPC) $(LIBVHD)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(PLUGIN_LIBS) $(GTEST_LIBS)

# libvhdsm.so: the plugin behind its C ABI, nothing else exported.
SONAME_MAJOR := 1
LIBVHDSM_SO  := $(BUILD)/lib/libvhdsm.so
$(LIBVHDSM_SO): $(LIBPLUGIN) $(PLUGIN_UPLOAD_LIB) $(LIBXMLRPC) $(LIBVHD) plugin/libvhdsm.map
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -shared -Wl,-soname,libvhdsm.so.$(SONAME_MAJOR) \
	  -Wl,--version-script=plugin/libvhdsm.map -Wl,--no-undefined \
	  -o $@.$(SONAME_MAJOR) -Wl,--whole-archive $(LIBPLUGIN) -Wl,--no-whole-archive \
	  $(PLUGIN_UPLOAD_LIB) $(LIBXMLRPC) $(LIBVHD) $(PLUGIN_LIBS)
	ln -sf libvhdsm.so.$(SONAME_MAJOR) $@

# Host programs find libvhdsm.so next to them (build/lib) or installed.
HOST_RPATH := -Wl,-rpath,'$$ORIGIN/../lib' -Wl,-rpath,/usr/lib64
BINS += $(BUILD)/bin/VHDSR $(BUILD)/bin/vhdsmd $(BUILD)/bin/vhdsm $(LIBVHDSM_SO)

$(BUILD)/bin/VHDSR: $(OBJ)/plugin/vhdsr_main.o $(LIBVHDSM_SO)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) $(HOST_RPATH)

$(BUILD)/bin/vhdsmd: $(OBJ)/plugin/vhdsmd_main.o $(OBJ)/plugin/config.o $(LIBVHDSM_SO) $(LIBXMLRPC) $(LIBVHD)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(OBJ)/plugin/vhdsmd_main.o $(OBJ)/plugin/config.o \
	  -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) $(LIBXMLRPC) $(LIBVHD) \
	  $(XMLRPC_LIBS) -linih -lsystemd $(HOST_RPATH)

$(BUILD)/bin/vhdsm: $(OBJ)/plugin/vhdsm_main.o $(OBJ)/plugin/config.o $(LIBVHDSM_SO) $(LIBXMLRPC) $(LIBVHD)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(OBJ)/plugin/vhdsm_main.o $(OBJ)/plugin/config.o \
	  -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) $(LIBXMLRPC) $(LIBVHD) \
	  $(XMLRPC_LIBS) -linih $(HOST_RPATH)

# bench/plugin_bench.sh's load client: snapshot+delete pairs against vhdsmd.
PLUGIN_PAIR_LOAD := $(BUILD)/bench/plugin-pair-load
EXTRA_TARGETS += $(PLUGIN_PAIR_LOAD)
$(PLUGIN_PAIR_LOAD): $(OBJ)/bench/plugin_pair_load.o $(LIBXMLRPC)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)
