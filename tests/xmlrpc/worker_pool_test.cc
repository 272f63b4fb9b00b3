#include "xmlrpc/worker_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

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
  // Each job holds its worker until four run at once (or a deadline no
  // scheduler delay reaches): the peak is then exactly the pool's size,
  // however loaded the machine, and a pool that ran jobs one at a time
  // would never meet.
  WorkerPool pool(4);
  std::mutex mu;
  std::condition_variable cv;
  int running = 0, peak = 0, done = 0;
  bool met = false;
  for (int i = 0; i < 8; ++i) {
    pool.Submit([&] {
      std::unique_lock<std::mutex> lock(mu);
      peak = std::max(peak, ++running);
      if (running == 4) met = true;
      cv.notify_all();
      cv.wait_for(lock, std::chrono::seconds(30), [&] { return met; });
      --running;
      ++done;
    });
  }
  pool.Shutdown();
  EXPECT_EQ(done, 8);
  EXPECT_TRUE(met);
  EXPECT_EQ(peak, 4);
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
