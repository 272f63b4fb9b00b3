# xmlrpc/: the extra libraries of the HTTP transports, the validator1 test
# server, and the benchmark programs (bench/xmlrpc_bench.sh runs them).
# Included by the top-level Makefile; uses its variables and patterns.

XMLRPC_LIBS += $(MHD_LIBS) $(CURL_LIBS) -pthread

XMLRPC_TEST_SERVER := $(BUILD)/tests/xmlrpc-test-server
XMLRPC_EXEC_BENCH  := $(BUILD)/bench/xmlrpc-exec-bench-driver
XMLRPC_HTTP_LOAD   := $(BUILD)/bench/xmlrpc-http-load

TEST_BINS     += $(XMLRPC_TEST_SERVER)
EXTRA_TARGETS += $(XMLRPC_EXEC_BENCH) $(XMLRPC_HTTP_LOAD)

$(XMLRPC_TEST_SERVER): $(OBJ)/tests/xmlrpc/test_server_main.o $(LIBXMLRPC) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)

$(XMLRPC_EXEC_BENCH): $(OBJ)/bench/xmlrpc_exec_bench_driver.o $(LIBXMLRPC) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)

$(XMLRPC_HTTP_LOAD): $(OBJ)/bench/xmlrpc_http_load.o $(LIBXMLRPC) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS)
