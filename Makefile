# vhdsm: top-level GNU Makefile (non-recursive).
#
#   make              release build into build/
#   make deps         install the Debian packages the build, tests and benches need
#   make test         deps + build + every GoogleTest suite + integration tests
#   make check-asan   the same tests under AddressSanitizer + UBSan (build-asan/)
#   make bench        benchmarks: our figure, the peer's figure, the ratio
#   make fuzz         bounded libFuzzer runs (clang, build-fuzz/)
#   make reliability  kills, full disks, stress, fuzzing, valgrind, security,
#                     ending with a table (scripts/reliability.sh)
#   make demo         the main job end to end
#   make format       clang-format every source file in place
#   make srpm         a source RPM of the committed tree
#   make rpm          source and binary RPMs, reusing this build's binaries
#
# Settable on the command line (packagers):
#   PREFIX=/usr  LIBDIR=$(PREFIX)/lib64  DESTDIR=  WERROR=1 (0 drops -Werror)
#   PKG_CONFIG=pkg-config  (README.md lists the other directories)
#
# Sources are found by wildcard: a new foo.cc in a component is built into that
# component's library; tests/<component>/*_test.cc into that component's suite.

SHELL := /bin/bash
.DEFAULT_GOAL := all

BUILD    ?= build
SAN      ?=
CXX      ?= g++
ifeq ($(origin CXX),default)
CXX      := g++
endif

# Installation layout. LIBDIR is also where the installed programs look for
# libvhdsm.so (HOST_RPATH); the spec passes %{_libdir}.
PREFIX   ?= /usr
LIBDIR   ?= $(PREFIX)/lib64
BINDIR   ?= $(PREFIX)/bin
SBINDIR  ?= $(PREFIX)/sbin
INCLUDEDIR ?= $(PREFIX)/include
DATADIR  ?= $(PREFIX)/share
MANDIR   ?= $(DATADIR)/man
UNITDIR  ?= $(PREFIX)/lib/systemd/system
# xapi finds SMAPIv1 drivers here, and the programs read their configuration
# here, whatever the prefix.
SMDIR    := /opt/xensource/sm
SYSCONFDIR := /etc

# A packager's newer compiler may warn where ours does not: WERROR=0 keeps
# the warnings but does not fail the build on them.
WERROR   ?= 1
CXXSTD   := -std=c++20
WARN     := -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror)
CPPFLAGS := -I. -Ihost/include -D_FILE_OFFSET_BITS=64 -D_GNU_SOURCE -MMD -MP
OPT      ?= -O2 -g
CXXFLAGS := $(CXXSTD) $(WARN) $(OPT) -fPIC
LDFLAGS  :=
# vhdsm-util runs as one process per vhd-util call (sm runs dozens per scan,
# and a snapshot is timed in milliseconds): libstdc++ linked in saves ~1 ms of
# dynamic linking per call, and the binary runs on hosts whose libstdc++ is
# older than g++ 12's.
UTIL_LDFLAGS := -static-libstdc++ -static-libgcc
ifeq ($(SAN),1)
CXXFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
UTIL_LDFLAGS :=
endif

# ---- libraries -------------------------------------------------------------
# Every library is found through pkg-config (Debian 12 ships a .pc file for
# each, isa-l's libisal.pc included). The -lNAME fallbacks serve only a parse
# before `make deps` has installed pkg-config and the -dev packages: `make
# test` runs deps first and then re-reads this file.
PKG_CONFIG ?= pkg-config
pkg_libs   = $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null || echo '$(2)')
pkg_cflags = $(shell $(PKG_CONFIG) --cflags $(1) 2>/dev/null || echo '$(2)')

XML2_LIBS    := $(call pkg_libs,libxml-2.0,-lxml2)
CURL_LIBS    := $(call pkg_libs,libcurl,-lcurl)
SSL_LIBS     := $(call pkg_libs,openssl,-lssl -lcrypto)
ZLIB_LIBS    := $(call pkg_libs,zlib,-lz)
UUID_LIBS    := $(call pkg_libs,uuid,-luuid)
ISAL_LIBS    := $(call pkg_libs,libisal,-lisal)
MHD_LIBS     := $(call pkg_libs,libmicrohttpd,-lmicrohttpd)
INIH_LIBS    := $(call pkg_libs,inih,-linih)
SYSTEMD_LIBS := $(call pkg_libs,libsystemd,-lsystemd)
GTEST_LIBS   := $(call pkg_libs,gtest_main,-lgtest_main -lgtest) -pthread
# Test oracle (vhd_tests) and benchmark peer (upload-compress-bench) only.
VHDI_LIBS    := $(call pkg_libs,libvhdi,-lvhdi)
DEFLATE_LIBS := $(call pkg_libs,libdeflate,-ldeflate)

# Include paths. nlohmann_json is header-only: cflags, no libs. uuid's .pc
# adds -I/usr/include/uuid; <uuid/uuid.h> works with or without it.
CPPFLAGS += $(call pkg_cflags,libxml-2.0,-I/usr/include/libxml2)
CPPFLAGS += $(foreach m,uuid libcurl openssl zlib libisal libmicrohttpd inih \
              nlohmann_json libsystemd,$(call pkg_cflags,$(m)))
GTEST_CFLAGS := $(call pkg_cflags,gtest)

OBJ := $(BUILD)/obj
NPROC := $(shell nproc 2>/dev/null || echo 2)

# ---- components ------------------------------------------------------------
# Each folder is a component, and each depends only on those listed before it:
#   base/ <- vhd/ <- xmlrpc/ <- upload/ <- sm/ <- image/ <- host/
BASE_SRCS   := $(sort $(wildcard base/*.cc))
VHD_SRCS    := $(sort $(wildcard vhd/*.cc))
UTIL_SRCS   := $(sort $(wildcard vhd/util/*.cc))
XMLRPC_SRCS := $(sort $(wildcard xmlrpc/*.cc))

BASE_OBJS   := $(BASE_SRCS:%.cc=$(OBJ)/%.o)
VHD_OBJS    := $(VHD_SRCS:%.cc=$(OBJ)/%.o)
UTIL_OBJS   := $(UTIL_SRCS:%.cc=$(OBJ)/%.o)
XMLRPC_OBJS := $(XMLRPC_SRCS:%.cc=$(OBJ)/%.o)

LIBBASE   := $(BUILD)/lib/libvhdsm-base.a
LIBVHD    := $(BUILD)/lib/libvhdcore.a
LIBXMLRPC := $(BUILD)/lib/libvhdsm-xmlrpc.a

VHD_LIBS    := $(UUID_LIBS)
XMLRPC_LIBS := $(XML2_LIBS)

# ---- tests -----------------------------------------------------------------
TESTUTIL_SRCS := $(sort $(wildcard tests/util/*.cc))
TESTUTIL_OBJS := $(TESTUTIL_SRCS:%.cc=$(OBJ)/%.o)
BASE_TEST_SRCS := $(sort $(wildcard tests/base/*_test.cc))
BASE_TEST_OBJS := $(BASE_TEST_SRCS:%.cc=$(OBJ)/%.o)
VHD_TEST_SRCS := $(sort $(wildcard tests/vhd/*_test.cc))
VHD_TEST_OBJS := $(VHD_TEST_SRCS:%.cc=$(OBJ)/%.o)
XMLRPC_TEST_SRCS := $(sort $(wildcard tests/xmlrpc/*_test.cc))
XMLRPC_TEST_OBJS := $(XMLRPC_TEST_SRCS:%.cc=$(OBJ)/%.o)

TEST_BINS := $(BUILD)/tests/base_tests $(BUILD)/tests/vhd_tests
ifneq ($(XMLRPC_TEST_SRCS),)
TEST_BINS += $(BUILD)/tests/xmlrpc_tests
endif

BINS := $(BUILD)/bin/vhdsm-util
EXTRA_TARGETS :=

# Each component may add rules and targets (BINS, TEST_BINS, EXTRA_TARGETS)
# in its own fragment, so that components can grow without touching this file.
include upload/module.mk sm/module.mk image/module.mk host/module.mk \
        $(filter-out upload/% sm/% image/% host/%,$(sort $(wildcard */module.mk */*/module.mk)))

all: $(BINS) $(TEST_BINS) $(EXTRA_TARGETS)
.PHONY: all deps test test-run check-asan bench fuzz reliability demo format \
        clean rpm srpm rpm-sources install install-files

$(OBJ)/tests/%.o: CPPFLAGS += $(GTEST_CFLAGS)
$(OBJ)/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -c $< -o $@

$(LIBBASE): $(BASE_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBVHD): $(VHD_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBXMLRPC): $(XMLRPC_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/vhdsm-util: $(UTIL_OBJS) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) $(UTIL_LDFLAGS) -o $@ $^ $(VHD_LIBS)

$(BUILD)/tests/base_tests: $(BASE_TEST_OBJS) $(TESTUTIL_OBJS) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS) $(GTEST_LIBS)

$(BUILD)/tests/vhd_tests: $(VHD_TEST_OBJS) $(TESTUTIL_OBJS) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(VHD_LIBS) $(VHDI_LIBS) $(GTEST_LIBS)

$(BUILD)/tests/xmlrpc_tests: $(XMLRPC_TEST_OBJS) $(TESTUTIL_OBJS) $(LIBXMLRPC) $(LIBVHD) $(LIBBASE)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(XMLRPC_LIBS) $(VHD_LIBS) $(GTEST_LIBS)

# ---- targets ---------------------------------------------------------------
deps:
	@scripts/deps.sh

# The README's test command. Everything it needs it installs and starts itself.
test: deps
	$(MAKE) -j$(NPROC) all
	$(MAKE) test-run

test-run: all
	@scripts/run-tests.sh $(BUILD)

check-asan: deps
	$(MAKE) -j$(NPROC) BUILD=build-asan SAN=1 OPT="-O1 -g" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  scripts/run-tests.sh build-asan

bench: deps
	$(MAKE) -j$(NPROC) all
	@bench/run.sh $(BUILD)

fuzz: deps
	@scripts/fuzz.sh

# The full reliability harness (about 30 minutes); `make test` runs its
# short version (tests/integration/reliability_short_test.sh).
reliability: deps
	$(MAKE) -j$(NPROC) all
	@scripts/reliability.sh $(BUILD)

# The demo needs the programs only (not the test suites): a fresh clone
# builds and runs it in a few minutes.
demo: deps
	$(MAKE) -j$(NPROC) $(BINS)
	@scripts/demo.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

# ---- installation and packages ----------------------------------------------
VERSION := $(shell cat VERSION)
DESTDIR ?=
PACKAGED := $(BUILD)/bin/VHDSR $(BUILD)/bin/vhdsmd $(BUILD)/bin/vhdsm \
            $(BUILD)/bin/vhdsm-util $(BUILD)/lib/libvhdsm.so

install: $(PACKAGED)
	$(MAKE) install-files

# Copies what $(BUILD) holds into the install layout (no building).
install-files:
	install -D -m 0755 $(BUILD)/bin/VHDSR $(DESTDIR)$(SMDIR)/VHDSR
	install -D -m 0755 $(BUILD)/lib/libvhdsm.so.1 $(DESTDIR)$(LIBDIR)/libvhdsm.so.1
	ln -sf libvhdsm.so.1 $(DESTDIR)$(LIBDIR)/libvhdsm.so
	install -D -m 0644 host/include/vhdsm/plugin.h $(DESTDIR)$(INCLUDEDIR)/vhdsm/plugin.h
	install -D -m 0755 $(BUILD)/bin/vhdsm-util $(DESTDIR)$(BINDIR)/vhdsm-util
	install -D -m 0755 $(BUILD)/bin/vhdsm $(DESTDIR)$(BINDIR)/vhdsm
	install -D -m 0755 $(BUILD)/bin/vhdsmd $(DESTDIR)$(SBINDIR)/vhdsmd
	install -d -m 0755 $(DESTDIR)$(UNITDIR)
	sed 's|/usr/sbin/vhdsmd|$(SBINDIR)/vhdsmd|' rpm/vhdsmd.service \
	  >$(DESTDIR)$(UNITDIR)/vhdsmd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vhdsmd.service
	install -d -m 0700 $(DESTDIR)$(SYSCONFDIR)/vhdsm
	install -m 0600 rpm/vhdsm.conf $(DESTDIR)$(SYSCONFDIR)/vhdsm/vhdsm.conf
	install -D -m 0644 rpm/xapi-vhdsm.conf $(DESTDIR)$(DATADIR)/vhdsm/xapi-vhdsm.conf
	install -d -m 0755 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 rpm/man/*.8 $(DESTDIR)$(MANDIR)/man8/

# RPMs of the committed tree (git archive HEAD), into $(BUILD)/rpm: `srpm`
# the source RPM alone, `rpm` also the binary ones from this build's
# binaries. --nodeps: on Debian, rpm's database knows none of the spec's
# EL/Fedora BuildRequires (the Debian packages come from `make deps`).
RPMTOP = $(abspath $(BUILD))/rpm
RPMBUILD = rpmbuild --nodeps --quiet --define "_topdir $(RPMTOP)"
rpm-sources:
	rm -rf $(RPMTOP) && mkdir -p $(RPMTOP)/SOURCES $(RPMTOP)/SPECS
	git archive --prefix=vhdsm-$(VERSION)/ -o $(RPMTOP)/SOURCES/vhdsm-$(VERSION).tar.gz HEAD
	cp VERSION $(RPMTOP)/SOURCES/VERSION

srpm: rpm-sources
	$(RPMBUILD) -bs rpm/vhdsm.spec

rpm: $(PACKAGED) rpm-sources
	$(RPMBUILD) -ba --define "prebuilt $(abspath $(BUILD))" rpm/vhdsm.spec

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
