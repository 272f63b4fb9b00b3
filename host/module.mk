# host/: the C ABI (libvhdsm.so) over sm/ and image/, the configuration, and
# the programs VHDSR, vhdsmd and vhdsm. host/'s sources (but the *_main.cc
# programs) form libvhdsm-host.a. Also the suites of sm/, image/ and host/,
# which link the whole plugin.
# Included by the top-level Makefile; uses its variables and patterns.

HOST_SRCS := $(filter-out %_main.cc,$(sort $(wildcard host/*.cc)))
HOST_OBJS := $(HOST_SRCS:%.cc=$(OBJ)/%.o)
LIBHOST   := $(BUILD)/lib/libvhdsm-host.a
# Every library of the plugin, in link order (dependents first).
PLUGIN_ARCHIVES := $(LIBHOST) $(LIBIMAGE) $(LIBSM) $(LIBUPLOAD) $(LIBXMLRPC) \
                   $(LIBVHD) $(LIBBASE)
PLUGIN_LIBS = $(XMLRPC_LIBS) $(VHD_LIBS) $(INIH_LIBS) $(ISAL_LIBS) $(CURL_LIBS) \
              $(SSL_LIBS) $(ZLIB_LIBS) -pthread

$(LIBHOST): $(HOST_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# tests/sm/ -> sm_tests, tests/image/ -> image_tests, tests/host/ -> host_tests.
define plugin_suite
$(1)_TEST_OBJS := $$(patsubst %.cc,$$(OBJ)/%.o,$$(sort $$(wildcard tests/$(1)/*_test.cc)))
TEST_BINS += $$(BUILD)/tests/$(1)_tests
$$(BUILD)/tests/$(1)_tests: $$($(1)_TEST_OBJS) $$(TESTUTIL_OBJS) $$(PLUGIN_ARCHIVES)
	@mkdir -p $$(@D)
	$$(CXX) $$(CXXFLAGS) $$(LDFLAGS) -o $$@ $$($(1)_TEST_OBJS) $$(TESTUTIL_OBJS) \
	  -Wl,--start-group $$(PLUGIN_ARCHIVES) -Wl,--end-group $$(PLUGIN_LIBS) $$(GTEST_LIBS)
endef
$(foreach c,sm image host,$(eval $(call plugin_suite,$(c))))

# libvhdsm.so: the plugin behind its C ABI, nothing else exported.
SONAME_MAJOR := 1
LIBVHDSM_SO  := $(BUILD)/lib/libvhdsm.so
$(LIBVHDSM_SO): $(PLUGIN_ARCHIVES) host/libvhdsm.map
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -shared -Wl,-soname,libvhdsm.so.$(SONAME_MAJOR) \
	  -Wl,--version-script=host/libvhdsm.map -Wl,--no-undefined \
	  -o $@.$(SONAME_MAJOR) -Wl,--whole-archive $(LIBHOST) -Wl,--no-whole-archive \
	  -Wl,--start-group $(PLUGIN_ARCHIVES) -Wl,--end-group $(PLUGIN_LIBS)
	ln -sf libvhdsm.so.$(SONAME_MAJOR) $@

# Host programs find libvhdsm.so next to them (build/lib) or installed.
HOST_RPATH := -Wl,-rpath,'$$ORIGIN/../lib' -Wl,-rpath,$(LIBDIR)
BINS += $(BUILD)/bin/VHDSR $(BUILD)/bin/vhdsmd $(BUILD)/bin/vhdsm $(LIBVHDSM_SO)

$(BUILD)/bin/VHDSR: $(OBJ)/host/vhdsr_main.o $(LIBVHDSM_SO) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $< -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) \
	  $(LIBXMLRPC) $(LIBVHD) $(LIBBASE) $(XMLRPC_LIBS) $(HOST_RPATH)

$(BUILD)/bin/vhdsmd: $(OBJ)/host/vhdsmd_main.o $(OBJ)/host/config.o $(LIBVHDSM_SO) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(OBJ)/host/vhdsmd_main.o $(OBJ)/host/config.o \
	  -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE) \
	  $(XMLRPC_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(HOST_RPATH)

$(BUILD)/bin/vhdsm: $(OBJ)/host/vhdsm_main.o $(OBJ)/host/config.o $(LIBVHDSM_SO) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(OBJ)/host/vhdsm_main.o $(OBJ)/host/config.o \
	  -L$(BUILD)/lib -l:libvhdsm.so.$(SONAME_MAJOR) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE) \
	  $(XMLRPC_LIBS) $(INIH_LIBS) $(HOST_RPATH)

# bench/plugin_bench.sh's load client: snapshot+delete pairs against vhdsmd.
PLUGIN_PAIR_LOAD := $(BUILD)/bench/plugin-pair-load
EXTRA_TARGETS += $(PLUGIN_PAIR_LOAD)
$(PLUGIN_PAIR_LOAD): $(OBJ)/bench/plugin_pair_load.o $(LIBXMLRPC) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)
