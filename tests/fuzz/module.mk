# tests/fuzz/: libFuzzer targets (`make fuzz` builds them with clang, see
# scripts/fuzz.sh). Here each is also linked with g++ against a plain main
# (replay_main.cc) into $(BUILD)/fuzz/<target>_replay, which runs the seed
# corpus and the regression inputs once: scripts/reliability.sh does that in
# every `make test` (and, in build-asan/, under the sanitizers).
# Included by the top-level Makefile; uses its variables and patterns.

FUZZ_REPLAY_DIR := $(BUILD)/fuzz
FUZZ_REPLAYS := $(FUZZ_REPLAY_DIR)/vhd_open_read_replay \
                $(FUZZ_REPLAY_DIR)/vhd_chain_replay \
                $(FUZZ_REPLAY_DIR)/xmlrpc_request_replay \
                $(FUZZ_REPLAY_DIR)/plugin_smapi_replay \
                $(FUZZ_REPLAY_DIR)/util_argv_replay \
                $(FUZZ_REPLAY_DIR)/sr_hostile_replay
EXTRA_TARGETS += $(FUZZ_REPLAYS)

$(FUZZ_REPLAY_DIR)/vhd_%_replay: $(OBJ)/tests/fuzz/vhd_%_fuzz.o \
		$(OBJ)/tests/fuzz/replay_main.o $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS)

$(FUZZ_REPLAY_DIR)/xmlrpc_%_replay: $(OBJ)/tests/fuzz/xmlrpc_%_fuzz.o \
		$(OBJ)/tests/fuzz/replay_main.o $(LIBXMLRPC) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)

# The argv target runs vhdsm-util's commands in-process: its objects without
# main.o.
$(FUZZ_REPLAY_DIR)/util_%_replay: $(OBJ)/tests/fuzz/util_%_fuzz.o \
		$(OBJ)/tests/fuzz/replay_main.o $(filter-out %/main.o,$(UTIL_OBJS)) \
		$(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS)

# The dispatcher target goes through the C ABI, as hosts do: the whole
# plugin, statically (abi.cc is in $(LIBHOST)).
$(FUZZ_REPLAY_DIR)/plugin_%_replay: $(OBJ)/tests/fuzz/plugin_%_fuzz.o \
		$(OBJ)/tests/fuzz/replay_main.o $(PLUGIN_ARCHIVES)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--whole-archive \
	  $(LIBHOST) -Wl,--no-whole-archive -Wl,--start-group $(PLUGIN_ARCHIVES) \
	  -Wl,--end-group $(PLUGIN_LIBS)

# The hostile-SR target drives sm/sr.h directly: the same libraries.
$(FUZZ_REPLAY_DIR)/sr_%_replay: $(OBJ)/tests/fuzz/sr_%_fuzz.o \
		$(OBJ)/tests/fuzz/replay_main.o $(PLUGIN_ARCHIVES)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) -Wl,--whole-archive \
	  $(LIBHOST) -Wl,--no-whole-archive -Wl,--start-group $(PLUGIN_ARCHIVES) \
	  -Wl,--end-group $(PLUGIN_LIBS)

# The targets' objects are only reached through the pattern rules above:
# keep them (not intermediate), so that a second build relinks nothing.
.SECONDARY: $(patsubst $(FUZZ_REPLAY_DIR)/%_replay,$(OBJ)/tests/fuzz/%_fuzz.o,\
              $(FUZZ_REPLAYS)) $(OBJ)/tests/fuzz/replay_main.o
