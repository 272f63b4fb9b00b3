// ChainFixture: a gtest fixture for tests of VHD chains. It owns a fresh
// directory and builds chains in it through the vhd/ API on the POSIX Env:
// dynamic disks created, differencing children snapshotted over them, data
// written through a chain, and the guest's view read back. Each builder
// fails the test (ASSERT) when its step fails.
//
// The suites of tests/vhd derive from it; other suites may too (they link
// tests/util and the vhd library).
#ifndef VHDSM_TESTS_UTIL_CHAIN_FIXTURE_H_
#define VHDSM_TESTS_UTIL_CHAIN_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tests/util/test_util.h"

namespace testutil {

class ChainFixture : public ::testing::Test {
 protected:
  // The path of `name` in the fixture's directory.
  std::string P(const std::string& name) const { return dir_.Join(name); }
  // A dynamic disk `name` of `size` bytes.
  void Create(const std::string& name, uint64_t size);
  // A differencing disk `child` over `parent`, of `size` bytes (0: the
  // parent's size).
  void Snap(const std::string& child, const std::string& parent,
            uint64_t size = 0);
  // Writes `data` at byte `off` through the chain of `name`, then flushes.
  void Write(const std::string& name, uint64_t off, const std::string& data);
  // The guest's view of the whole disk `name`; a chain that does not open or
  // read fails the test (and gives "").
  std::string Read(const std::string& name);
  // The guest's view, or "<error> STATUS" when the chain does not open or
  // read (for tests where that is an expected outcome).
  std::string View(const std::string& name);

  TempDir dir_;
};

}  // namespace testutil

#endif  // VHDSM_TESTS_UTIL_CHAIN_FIXTURE_H_
