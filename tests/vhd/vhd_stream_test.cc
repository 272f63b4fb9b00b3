// Tests of vhd/vhd_stream.h: the stream is a valid standalone VHD whose
// guest view is the chain's, with only the blocks that hold data.
#include "vhd/vhd_stream.h"

#include <gtest/gtest.h>

#include "tests/util/chain_fixture.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/check.h"
#include "vhd/create.h"
#include "vhd/sparse_image.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class VhdStreamTest : public testutil::ChainFixture {
 protected:
  // Streams `n`'s chain into file `out` in reads of `chunk` bytes.
  uint64_t StreamTo(const std::string& n, const std::string& out,
                    size_t chunk) {
    std::unique_ptr<Chain> c;
    EXPECT_OK(Chain::Open(P(n), ChainOptions(), &c));
    std::unique_ptr<VhdStream> s;
    EXPECT_OK(VhdStream::Open(c.get(), Uuid(), 0, &s));
    std::string data;
    std::vector<uint8_t> buf(chunk);
    size_t got = 0;
    do {
      EXPECT_OK(s->Read(buf.data(), buf.size(), &got));
      data.append(reinterpret_cast<char*>(buf.data()), got);
    } while (got > 0);
    EXPECT_EQ(data.size(), s->Size());
    testutil::WriteFile(P(out), data);
    return s->allocated_blocks();
  }
};

TEST_F(VhdStreamTest, ImageOfAChainIsAValidStandaloneVhd) {
  CreateParams p;
  p.size = 64 * kMiB;
  ASSERT_OK(CreateVhd(base::Env::Default(), P("b.vhd"), p));
  Write("b.vhd", 5000, testutil::RandomBytes(3 * kMiB, 1));  // blocks 0, 1
  ASSERT_OK(CreateDifferencing(base::Env::Default(), P("c.vhd"), P("b.vhd"),
                               SnapshotParams()));
  Write("c.vhd", 40 * kMiB + 7, testutil::RandomBytes(100, 2));  // block 20
  std::string view = Read("c.vhd");
  for (size_t chunk : {size_t{1} << 20, size_t{777}}) {
    EXPECT_EQ(StreamTo("c.vhd", "img.vhd", chunk), 3u);
    CheckReport r;
    CheckOptions o;
    o.check_data = true;
    base::Status s = CheckVhd(base::Env::Default(), P("img.vhd"), o, &r);
    EXPECT_OK(s);
    EXPECT_EQ(Read("img.vhd"), view);
    std::unique_ptr<Image> img;
    ASSERT_OK(
        OpenImage(base::Env::Default(), P("img.vhd"), OpenOptions(), &img));
    EXPECT_EQ(img->type(), DiskType::kDynamic);
    auto* sp = dynamic_cast<SparseImage*>(img.get());
    ASSERT_OK(sp->LoadBat());
    EXPECT_TRUE(sp->has_batmap());
    EXPECT_EQ(sp->allocated_blocks(), 3u);
    EXPECT_EQ(sp->DataOffset(20, 0) % 4096, 0u);
  }
}

TEST_F(VhdStreamTest, HolesCostNothing) {
  CreateParams p;
  p.size = 2048 * kMiB;
  ASSERT_OK(CreateVhd(base::Env::Default(), P("e.vhd"), p));
  Write("e.vhd", 1000 * kMiB, "x");
  EXPECT_EQ(StreamTo("e.vhd", "img.vhd", 1 << 20), 1u);
  EXPECT_LT(testutil::FileSize(P("img.vhd")), 3 * kMiB);
  std::string v = Read("img.vhd");
  EXPECT_EQ(v.size(), 2048 * kMiB);
  EXPECT_EQ(v[1000 * kMiB], 'x');
}

}  // namespace
}  // namespace vhd
