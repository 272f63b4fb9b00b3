# upload/: gzip on all cores, the tgz/vhd image streams and the
# segmented Swift uploader (libvhdsm-upload.a), its command line
# (vhdsm-upload), its tests (upload_tests) and the compression benchmark.
# Included by the top-level Makefile; uses its variables and patterns.

UPLOAD_SRCS := $(sort $(wildcard upload/*.cc))
UPLOAD_OBJS := $(UPLOAD_SRCS:%.cc=$(OBJ)/%.o)
LIBUPLOAD   := $(BUILD)/lib/libvhdsm-upload.a
# ISA-L (igzip, CRC) compresses; zlib combines CRCs and is the reference
# codec; libcurl + OpenSSL speak HTTP(S) and compute MD5s.
UPLOAD_LIBS := $(ISAL_LIBS) $(ZLIB_LIBS) $(CURL_LIBS) $(SSL_LIBS) -pthread

UPLOAD_CLI  := $(BUILD)/bin/vhdsm-upload
UPLOAD_TEST_SRCS := $(sort $(wildcard tests/upload/*.cc))
UPLOAD_TEST_OBJS := $(UPLOAD_TEST_SRCS:%.cc=$(OBJ)/%.o)
UPLOAD_TESTS := $(BUILD)/tests/upload_tests
UPLOAD_COMPRESS_BENCH := $(BUILD)/bench/upload-compress-bench

BINS          += $(UPLOAD_CLI)
TEST_BINS     += $(UPLOAD_TESTS)
EXTRA_TARGETS += $(UPLOAD_COMPRESS_BENCH)

$(LIBUPLOAD): $(UPLOAD_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(UPLOAD_CLI): $(OBJ)/upload/cli/vhdsm_upload.o $(LIBUPLOAD) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS) $(UPLOAD_LIBS)

# The tests run the CLI (kill/resume), so they depend on it.
$(UPLOAD_TESTS): $(UPLOAD_TEST_OBJS) $(OBJ)/tests/util/test_util.o \
		$(LIBUPLOAD) $(LIBVHD) $(LIBBASE) | $(UPLOAD_CLI)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $(filter-out |,$^) $(VHD_LIBS) \
	  $(UPLOAD_LIBS) $(GTEST_LIBS)

# Measures the candidate deflate libraries (bench/upload_bench.sh runs it).
$(UPLOAD_COMPRESS_BENCH): $(OBJ)/bench/upload_compress_bench.o $(LIBUPLOAD) \
		$(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS) $(UPLOAD_LIBS) \
	  $(DEFLATE_LIBS)
