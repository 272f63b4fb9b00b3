// Tests of sm/fault_codes.h: the Status -> fault mapping, and that a Status
// given its fault (Error, Raise) reaches the wire as exactly that fault.
#include "sm/fault_codes.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"

namespace vhdsm {
namespace fault {
namespace {

TEST(FaultCodesTest, SpecificCodesWinOverTheCommandsKind) {
  struct Case {
    base::Status status;
    int code;
  } cases[] = {
      {base::Status::NoSpace("full"), 44},
      {base::Status::ChainTooLong("deep"), 109},
      {base::Status::NotFound("gone"), 144},
      {base::Status::InvalidArgument("bad"), 143},
      {base::Status::TooLarge("big"), 79},
      {base::Status::Exists("there"), 43},
      {base::Status::NotSupported("no"), 38},
      {base::Status::Busy("locked"), 24},
  };
  for (const Case& c : cases) {
    xmlrpc::Fault f = FromStatus(c.status, kVdiCreate);
    EXPECT_EQ(f.code, c.code) << c.status.ToString();
    // The message alone: the code already says what kind of failure it is.
    EXPECT_NE(f.message.find("[opterr=" + c.status.message() + "]"),
              std::string::npos)
        << f.message;
  }
}

TEST(FaultCodesTest, OtherCodesAreTheCommandsKindWithTheWholeStatus) {
  xmlrpc::Fault f =
      FromStatus(base::Status::Corruption("bad footer"), kVdiCreate);
  EXPECT_EQ(f.code, 78);
  EXPECT_EQ(f.message, "VDI Creation failed [opterr=CORRUPTION: bad footer]");
  f = FromStatus(base::Status::IOError("EIO"), kVdiSnapshot);
  EXPECT_EQ(f.code, 82);
  EXPECT_EQ(f.message, "Failed to snapshot VDI [opterr=IO_ERROR: EIO]");
}

TEST(FaultCodesTest, ErrorBecomesItsFault) {
  base::Status s = Error(kSrUnavailable, "location /x is not a directory");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.detail(), 47);
  xmlrpc::Fault f = ToFault(s);
  EXPECT_EQ(f.code, 47);
  EXPECT_EQ(f.message,
            "The SR is not available [opterr=location /x is not a directory]");
  // No detail: the description alone, as sm's XenError writes it.
  EXPECT_EQ(ToFault(Error(kSrNotEmpty, "")).message, "The SR is not empty");
  // The Code is the closest one, so code-based callers still see the kind.
  EXPECT_EQ(Error(kBadRequest, "x").code(), base::Code::kInvalidArgument);
  EXPECT_EQ(Error(kVdiMissing, "x").code(), base::Code::kNotFound);
  EXPECT_EQ(Error(kNoSpace, "x").code(), base::Code::kNoSpace);
  EXPECT_EQ(Error(kGeneral, "x").code(), base::Code::kIOError);
}

TEST(FaultCodesTest, RaiseKeepsFromStatusChoiceUntilTheBoundary) {
  for (const base::Status& s :
       {base::Status::NoSpace("full"), base::Status::Corruption("torn"),
        base::Status::IOError("EIO"), base::Status::NotFound("nope")}) {
    base::Status raised = Raise(s, kVdiResize);
    EXPECT_EQ(raised.code(), s.code());
    EXPECT_EQ(ToFault(raised), FromStatus(s, kVdiResize)) << s.ToString();
  }
  EXPECT_OK(Raise(base::Status::OK(), kGeneral));
  // Another component's detail is replaced, never read as a fault code.
  base::Status other = base::Status::IOError("upload").WithDetail(3);
  EXPECT_EQ(ToFault(Raise(other, kGeneral)).code, 202);
}

TEST(FaultCodesTest, AStatusGivenNoFaultIsAGeneralError) {
  xmlrpc::Fault f = ToFault(base::Status::Corruption("x"));
  EXPECT_EQ(f.code, 202);
  EXPECT_EQ(f.message, "General backend error [opterr=CORRUPTION: x]");
  // A detail that is no fault code (another component's) changes nothing.
  EXPECT_EQ(ToFault(base::Status::Corruption("x").WithDetail(9999)), f);
}

TEST(FaultCodesTest, KindOfKnowsEveryKind) {
  for (const xmlrpc::FaultKind* k :
       {&kSrInUse,        &kVdiInUse,      &kUnimplemented, &kSrNotEmpty,
        &kSrScan,         &kSrExists,      &kVdiExists,     &kNoSpace,
        &kVdiUnavailable, &kSrUnavailable, &kVdiLoad,       &kVdiCreate,
        &kVdiSize,        &kVdiDelete,     &kVdiClone,      &kVdiSnapshot,
        &kChainTooLong,   &kVdiResize,     &kConfigMissing, &kBadRequest,
        &kVdiMissing,     &kApiFailure,    &kEio,           &kGeneral}) {
    ASSERT_NE(KindOf(k->code), nullptr) << k->code;
    EXPECT_EQ(KindOf(k->code)->description, k->description);
    EXPECT_EQ(ToFault(Error(*k, "d")).code, k->code);
  }
  EXPECT_EQ(KindOf(0), nullptr);
  EXPECT_EQ(KindOf(-32602), nullptr);
}

}  // namespace
}  // namespace fault
}  // namespace vhdsm
