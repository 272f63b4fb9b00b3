#include "xmlrpc/fault.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/util/status_matchers.h"

namespace xmlrpc {
namespace {

TEST(FaultTest, MakeFaultWithoutDetailIsTheDescription) {
  Fault f = MakeFault({143, "Failed to parse the request"}, "");
  EXPECT_EQ(f.code, 143);
  EXPECT_EQ(f.message, "Failed to parse the request");
}

TEST(FaultTest, MakeFaultFollowsXenErrorOpterrForm) {
  Fault f = MakeFault({44, "There is insufficient space"}, "need 10 GiB");
  EXPECT_EQ(f, (Fault{44, "There is insufficient space [opterr=need 10 GiB]"}));
}

TEST(FaultTest, ResultHoldsValueOrFault) {
  Result<std::string> ok(std::string("x"));
  ASSERT_OK(ok);
  EXPECT_EQ(ok.value(), "x");
  Result<std::string> bad(Fault{1, "no"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.fault().code, 1);
  EXPECT_THROW(bad.value(), std::bad_variant_access);
  std::string moved = std::move(ok).value();
  EXPECT_EQ(moved, "x");
}

TEST(FaultTest, ResultVoid) {
  Result<void> ok;
  EXPECT_OK(ok);
  Result<void> bad(Fault{-32300, "down"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.fault().message, "down");
}

TEST(FaultTest, InteropCodesAreTheSpecifiedOnes) {
  EXPECT_EQ(interop::kParseError, -32700);
  EXPECT_EQ(interop::kMethodNotFound, -32601);
  EXPECT_EQ(interop::kInvalidParams, -32602);
  EXPECT_EQ(interop::kInternalError, -32603);
  EXPECT_EQ(interop::kTransportError, -32300);
}

}  // namespace
}  // namespace xmlrpc
