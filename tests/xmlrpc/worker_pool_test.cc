#include "xmlrpc/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

namespace xmlrpc {
namespace {

TEST(WorkerPoolTest, RunsEveryJob) {
  std::atomic<int> done{0};
  {
    WorkerPool pool(3);
    for (int i = 0; i < 1000; ++i) {
      ASSERT_TRUE(pool.Submit([&] { ++done; }));
    }
  }  // the destructor drains the queue
  EXPECT_EQ(done, 1000);
}

TEST(WorkerPoolTest, RunsJobsInParallelUpToItsSize) {
  WorkerPool pool(4);
  std::atomic<int> running{0}, peak{0}, done{0};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {
    pool.Submit([&] {
      int now = ++running;
      int old = peak.load();
      while (now > old && !peak.compare_exchange_weak(old, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      --running;
      ++done;
    });
  }
  pool.Shutdown();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(done, 8);
  EXPECT_EQ(peak, 4);
  EXPECT_LT(elapsed, std::chrono::milliseconds(1200));  // 2 rounds, not 8
}

TEST(WorkerPoolTest, RefusesJobsAfterShutdown) {
  WorkerPool pool(1);
  pool.Shutdown();
  bool ran = false;
  EXPECT_FALSE(pool.Submit([&] { ran = true; }));
  pool.Shutdown();  // idempotent
  EXPECT_FALSE(ran);
}

TEST(WorkerPoolTest, ZeroThreadsMeansOne) {
  WorkerPool pool(0);
  std::atomic<bool> ran{false};
  pool.Submit([&] { ran = true; });
  pool.Shutdown();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace xmlrpc
