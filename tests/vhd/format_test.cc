// Tests of vhd/format.h: exact encodings, checksums, geometry and time.
#include "vhd/format.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/util/status_matchers.h"
#include "vhd/endian.h"

namespace vhd {
namespace {

TEST(FormatTest, FooterRoundTripsEveryField) {
  Footer f;
  std::memcpy(f.cookie.data(), "conectix", 8);
  f.features = 2;
  f.version = kFormatVersion;
  f.data_offset = 512;
  f.timestamp = 0x12345678;
  std::memcpy(f.creator_app.data(), "tap", 4);
  f.creator_version = 0x00010003;
  f.creator_os = 0x5769326B;
  f.orig_size = 100ull << 20;
  f.curr_size = 200ull << 20;
  f.geometry = ChsGeometry(200ull << 20);
  f.type = 4;
  f.uuid = Uuid::Generate();
  f.saved_state = 1;
  f.hidden = 1;
  f.reserved[5] = 0xab;
  f.Seal();
  uint8_t buf[512];
  f.Encode(buf);
  // Spot-check the documented offsets (big-endian).
  EXPECT_EQ(0, std::memcmp(buf, "conectix", 8));
  EXPECT_EQ(LoadBE64(buf + 16), 512u);
  EXPECT_EQ(LoadBE64(buf + 48), 200ull << 20);
  EXPECT_EQ(LoadBE32(buf + 60), 4u);
  EXPECT_EQ(buf[85], 1);  // blktap's hidden flag
  EXPECT_EQ(buf[86 + 5], 0xab);
  Footer g = Footer::Decode(buf);
  uint8_t buf2[512];
  g.Encode(buf2);
  EXPECT_EQ(0, std::memcmp(buf, buf2, 512));
  EXPECT_TRUE(g.CookieOk());
  EXPECT_TRUE(g.ChecksumOk());
  EXPECT_EQ(g.uuid, f.uuid);
}

TEST(FormatTest, ChecksumIsOnesComplementOfByteSum) {
  uint8_t buf[512] = {};
  buf[0] = 1;
  buf[100] = 2;
  buf[64] = 0xff;  // inside the checksum field: ignored
  EXPECT_EQ(VhdChecksum(buf, 512, 64), ~uint32_t{3});
  Footer f;
  f.Seal();
  f.hidden = 1;
  EXPECT_FALSE(f.ChecksumOk());
}

TEST(FormatTest, HeaderRoundTripsWithLocatorsAndParentName) {
  DynamicHeader h;
  std::memcpy(h.cookie.data(), "cxsparse", 8);
  h.data_offset = kDataOffsetNone;
  h.table_offset = 1536;
  h.version = kFormatVersion;
  h.max_table_entries = 50;
  h.block_size = kDefaultBlockSize;
  h.parent_uuid = Uuid::Generate();
  h.parent_timestamp = 777;
  ASSERT_OK(h.SetParentName("p\xc3\xa4rent.vhd"));
  h.loc[1].code = static_cast<uint32_t>(PlatformCode::kW2ku);
  h.loc[1].data_space = 512;
  h.loc[1].data_length = 24;
  h.loc[1].data_offset = 3584;
  h.Seal();
  uint8_t buf[1024];
  h.Encode(buf);
  EXPECT_EQ(LoadBE64(buf + 16), 1536u);
  EXPECT_EQ(LoadBE32(buf + 576 + 24 + 0), 0x57326B75u);
  EXPECT_EQ(LoadBE64(buf + 576 + 24 + 16), 3584u);
  // UTF-16BE "p" then U+00E4.
  EXPECT_EQ(buf[64], 0);
  EXPECT_EQ(buf[65], 'p');
  EXPECT_EQ(buf[66], 0);
  EXPECT_EQ(buf[67], 0xe4);
  DynamicHeader g = DynamicHeader::Decode(buf);
  EXPECT_TRUE(g.ChecksumOk());
  std::string name;
  ASSERT_TRUE(g.DecodeParentName(&name));
  EXPECT_EQ(name, "p\xc3\xa4rent.vhd");
  uint8_t buf2[1024];
  g.Encode(buf2);
  EXPECT_EQ(0, std::memcmp(buf, buf2, 1024));
}

TEST(FormatTest, ParentNameTooLongIsRejected) {
  DynamicHeader h;
  EXPECT_EQ(h.SetParentName(std::string(257, 'x')).code(),
            base::Code::kInvalidArgument);
  EXPECT_OK(h.SetParentName(std::string(256, 'x')));
  EXPECT_EQ(h.SetParentName("\xff").code(), base::Code::kInvalidArgument);
}

TEST(FormatTest, LocatorSpaceInSectorsOrBytes) {
  ParentLocatorEntry e;
  e.data_space = 1;  // sectors (spec)
  EXPECT_EQ(e.SpaceBytes(), 512u);
  e.data_space = 511;
  EXPECT_EQ(e.SpaceBytes(), 511u * 512);
  e.data_space = 512;  // bytes (blktap, Microsoft)
  EXPECT_EQ(e.SpaceBytes(), 512u);
  e.data_space = 1024;
  EXPECT_EQ(e.SpaceBytes(), 1024u);
}

TEST(FormatTest, BatmapHeaderLayoutAndChecksum) {
  BatmapHeader b;
  std::memcpy(b.cookie.data(), "tdbatmap", 8);
  b.batmap_offset = 2560;
  b.batmap_size = 1;
  b.batmap_version = kBatmapVersion;
  b.marker = 7;
  b.keyhash[0] = 1;
  uint8_t map[4] = {0x80, 0xff, 0, 0};
  b.checksum = BatmapHeader::MapChecksum(map, 4, kBatmapVersion);
  EXPECT_EQ(b.checksum, ~uint32_t{0x80 + 0xff});
  // Version 1.1 summed signed chars.
  EXPECT_EQ(BatmapHeader::MapChecksum(map, 4, 0x00010001),
            ~static_cast<uint32_t>(-128 + -1));
  uint8_t buf[512];
  b.Encode(buf);
  EXPECT_EQ(LoadBE64(buf + 8), 2560u);
  EXPECT_EQ(LoadBE32(buf + 16), 1u);
  EXPECT_EQ(LoadBE32(buf + 20), kBatmapVersion);
  EXPECT_EQ(buf[28], 7);
  EXPECT_EQ(buf[29], 1);
  BatmapHeader c = BatmapHeader::Decode(buf);
  EXPECT_TRUE(c.CookieOk());
  EXPECT_EQ(c.checksum, b.checksum);
}

TEST(FormatTest, ChsGeometryMatchesSpecAppendix) {
  // 100 MiB -> 1003/12/17 (blktap's worked example).
  uint32_t g = ChsGeometry(100ull << 20);
  EXPECT_EQ(g >> 16, 1003u);
  EXPECT_EQ((g >> 8) & 0xff, 12u);
  EXPECT_EQ(g & 0xff, 17u);
  // Saturates at 65535 x 16 x 255.
  g = ChsGeometry(2040ull << 30);
  EXPECT_EQ(g, (65535u << 16) | (16u << 8) | 255u);
  // Never more sectors than the disk has.
  for (uint64_t mb : {1, 3, 64, 127, 500, 4096, 65536}) {
    EXPECT_LE(GeometrySectors(ChsGeometry(mb << 20)), (mb << 20) / 512) << mb;
  }
}

TEST(FormatTest, VhdEpochIs2000) {
  EXPECT_EQ(VhdTimeFromUnix(946684800), 0u);
  EXPECT_EQ(VhdTimeFromUnix(946684800 + 86400), 86400u);
  EXPECT_EQ(VhdTimeFromUnix(0), 0u);  // clamped, never wraps
  EXPECT_EQ(UnixTimeFromVhd(1), 946684801);
}

TEST(FormatTest, DiskTypeNamesAreBlktaps) {
  EXPECT_STREQ(DiskTypeName(2), "Fixed hard disk");
  EXPECT_STREQ(DiskTypeName(3), "Dynamic hard disk");
  EXPECT_STREQ(DiskTypeName(4), "Differencing hard disk");
  EXPECT_STREQ(DiskTypeName(99), "Unknown type!\n");
}

}  // namespace
}  // namespace vhd
