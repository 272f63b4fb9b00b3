#include "upload/segment_buffer.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"

namespace upload {
namespace {

// Reads a whole stream body through ReadAt, as HttpClient does.
std::string Drain(BodyStream* s, int64_t* last = nullptr) {
  std::string out;
  uint8_t buf[70000];
  for (;;) {
    int64_t r = s->ReadAt(out.size(), buf, sizeof(buf));
    if (last != nullptr) *last = r;
    if (r <= 0) return out;
    out.append(reinterpret_cast<char*>(buf), static_cast<size_t>(r));
  }
}

class SegmentBufferTest : public ::testing::TestWithParam<bool> {
 protected:
  std::unique_ptr<SegmentBuffer> Make(uint64_t capacity) {
    std::unique_ptr<SegmentBuffer> b;
    base::Status st =
        SegmentBuffer::New(capacity, GetParam() ? tmp_.path() : "", &b);
    EXPECT_OK(st);
    return b;
  }
  testutil::TempDir tmp_;
  StringSource src2_{testutil::RandomBytes(3 << 20, 3)};
};

TEST_P(SegmentBufferTest, StreamsWhileFillingAndSealsAtCapacity) {
  std::string data = testutil::RandomBytes(5 << 20, 1);
  StringSource src(data);
  auto buf = Make(3 << 20);  // 3 MiB of the 5
  buf->Reset();
  std::string streamed;
  std::thread reader([&] { streamed = Drain(buf.get()); });
  Md5 whole;
  while (!buf->sealed()) ASSERT_OK(buf->Append(&src, &whole));
  reader.join();
  EXPECT_EQ(buf->size(), 3u << 20);
  EXPECT_EQ(streamed, data.substr(0, 3 << 20));
  EXPECT_EQ(buf->md5(), Md5::Of(streamed));
  EXPECT_EQ(whole.Hex(), Md5::Of(streamed));
  EXPECT_EQ(buf->source_done(), 3u << 20);
  // A second reader (a retry) sees the same bytes.
  EXPECT_EQ(Drain(buf.get()), streamed);
  HttpBody b = buf->body();
  EXPECT_EQ(b.size, 3u << 20);

  // Reused for the rest: sealed short when the source ends.
  buf->Reset();
  while (!buf->sealed()) ASSERT_OK(buf->Append(&src, nullptr));
  EXPECT_EQ(buf->size(), 2u << 20);
  EXPECT_EQ(Drain(buf.get()), data.substr(3 << 20));
}

TEST_P(SegmentBufferTest, AbortWakesABlockedReader) {
  std::string data = testutil::RandomBytes(1 << 20, 2);
  StringSource src(data);
  auto buf = Make(4 << 20);
  buf->Reset();
  ASSERT_OK(buf->Append(&src, nullptr));  // 1 MiB of 4
  EXPECT_FALSE(buf->sealed());            // the source's end is not known yet
  ASSERT_OK(buf->Append(&src, nullptr));
  EXPECT_TRUE(buf->sealed());  // now it is: a short last segment
  EXPECT_EQ(buf->size(), 1u << 20);
  buf->Reset();
  ASSERT_OK(buf->Append(&src2_, nullptr));  // 1 MiB readable, not sealed
  ASSERT_FALSE(buf->sealed());
  // The reader signals once it has drained what exists: its next ReadAt
  // waits for bytes that will never come. Whether Abort() lands before or
  // during that wait, the contract is the same (-1), so no sleep is needed
  // to order them.
  std::mutex mu;
  std::condition_variable cv;
  bool drained = false;
  int64_t last = 0;
  std::string got;
  std::thread reader([&] {
    uint8_t chunk[65536];
    while (got.size() < (1u << 20)) {
      int64_t r = buf->ReadAt(got.size(), chunk, sizeof(chunk));
      if (r <= 0) break;
      got.append(reinterpret_cast<char*>(chunk), static_cast<size_t>(r));
    }
    {
      std::lock_guard<std::mutex> l(mu);
      drained = true;
    }
    cv.notify_all();
    last = buf->ReadAt(got.size(), chunk, sizeof(chunk));
  });
  {
    std::unique_lock<std::mutex> l(mu);
    cv.wait(l, [&] { return drained; });
  }
  buf->Abort();
  reader.join();
  EXPECT_EQ(got.size(), 1u << 20);
  EXPECT_EQ(last, -1);
  EXPECT_FALSE(buf->WaitSealed());
  // A later reader gets -1 too.
  uint8_t one;
  EXPECT_EQ(buf->ReadAt(0, &one, 1), -1);
}

INSTANTIATE_TEST_SUITE_P(MemoryAndSpool, SegmentBufferTest,
                         ::testing::Values(false, true));

}  // namespace
}  // namespace upload
