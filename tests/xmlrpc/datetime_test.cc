#include "xmlrpc/datetime.h"

#include <gtest/gtest.h>

namespace xmlrpc {
namespace {

TEST(DateTimeTest, ParsesTheSpecForm) {
  auto t = DateTime::Parse("19980717T14:08:55");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->year, 1998);
  EXPECT_EQ(t->month, 7);
  EXPECT_EQ(t->day, 17);
  EXPECT_EQ(t->hour, 14);
  EXPECT_EQ(t->minute, 8);
  EXPECT_EQ(t->second, 55);
  EXPECT_EQ(t->zone, DateTime::Zone::kNone);
  EXPECT_EQ(t->Format(), "19980717T14:08:55");
}

TEST(DateTimeTest, ParsesZonesAsXapiWritesThem) {
  auto utc = DateTime::Parse("19700101T00:00:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(utc->zone, DateTime::Zone::kUtc);
  EXPECT_EQ(utc->Format(), "19700101T00:00:00Z");

  auto east = DateTime::Parse("20240229T23:59:60+05:30");
  ASSERT_TRUE(east.has_value());
  EXPECT_EQ(east->zone, DateTime::Zone::kOffset);
  EXPECT_EQ(east->offset_minutes, 330);
  EXPECT_EQ(east->Format(), "20240229T23:59:60+05:30");

  auto west = DateTime::Parse("20000101T12:00:00-0800");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(west->offset_minutes, -480);
  EXPECT_EQ(west->Format(), "20000101T12:00:00-08:00");

  auto hours_only = DateTime::Parse("20000101T12:00:00+02");
  ASSERT_TRUE(hours_only.has_value());
  EXPECT_EQ(hours_only->offset_minutes, 120);
}

TEST(DateTimeTest, ParsesExtendedAndCompactVariants) {
  auto ext = DateTime::Parse("2000-04-01T10:20:30");
  ASSERT_TRUE(ext.has_value());
  EXPECT_EQ(ext->Format(), "20000401T10:20:30");
  auto compact = DateTime::Parse("20000401T102030");
  ASSERT_TRUE(compact.has_value());
  EXPECT_EQ(compact->Format(), "20000401T10:20:30");
}

TEST(DateTimeTest, RejectsMalformedOrOutOfRange) {
  for (const char* bad :
       {"", "1998", "19980717", "19980717 14:08:55", "19981317T14:08:55",
        "19980230T14:08:55", "19000229T00:00:00", "19980717T24:00:00",
        "19980717T14:60:00", "19980717T14:08:61", "19980717T14:08:55X",
        "19980717T14:08:55+24:00", "19980717T14:08:55+01:60",
        "1998-0717T14:08:55", "19980717T14:0855", "19980717T14:08:55+",
        "19980717T14:08:55.123", "+9980717T14:08:55", "19980717T14:08:55Z "}) {
    EXPECT_FALSE(DateTime::Parse(bad).has_value()) << bad;
  }
  EXPECT_TRUE(DateTime::Parse("20000229T00:00:00").has_value());  // leap
}

TEST(DateTimeTest, IsValidChecksFields) {
  DateTime t;
  EXPECT_TRUE(t.IsValid());
  t.month = 13;
  EXPECT_FALSE(t.IsValid());
  t = DateTime{};
  t.zone = DateTime::Zone::kOffset;
  t.offset_minutes = 24 * 60;
  EXPECT_FALSE(t.IsValid());
}

}  // namespace
}  // namespace xmlrpc
