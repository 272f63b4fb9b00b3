// SrFixture: a gtest fixture for suites of sm/sr.h. It opens an SR on a
// fresh directory and gives its VDIs' guest views: Write through a VDI's
// chain (failing the test when a step fails) and View of the whole disk.
#ifndef VHDSM_TESTS_SM_SR_FIXTURE_H_
#define VHDSM_TESTS_SM_SR_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"

namespace vhdsm {

class SrFixture : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(Sr::Open(dir_.path(), &sr_)); }
  // Writes `d` at byte `off` of VDI `uuid`, then flushes.
  void Write(const std::string& uuid, uint64_t off, const std::string& d) {
    vhd::ChainOptions o;
    o.writable = true;
    std::unique_ptr<vhd::Chain> c;
    ASSERT_OK(vhd::Chain::Open(sr_->VdiPath(uuid), o, &c));
    ASSERT_OK(c->Write(off, d.size(), d.data()));
    ASSERT_OK(c->Flush());
  }
  // The guest's view of VDI `uuid`, or "<error> STATUS" when its chain does
  // not open (an expected outcome in some tests).
  std::string View(const std::string& uuid) {
    std::unique_ptr<vhd::Chain> c;
    base::Status s =
        vhd::Chain::Open(sr_->VdiPath(uuid), vhd::ChainOptions(), &c);
    if (!s.ok()) return "<error> " + s.ToString();
    std::string out(c->virtual_size(), '\0');
    EXPECT_OK(c->Read(0, out.size(), out.data()));
    return out;
  }

  testutil::TempDir dir_;
  std::unique_ptr<Sr> sr_;
};

}  // namespace vhdsm

#endif  // VHDSM_TESTS_SM_SR_FIXTURE_H_
