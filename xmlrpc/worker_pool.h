// WorkerPool: a fixed set of threads that run submitted jobs in FIFO order.
//
// The HTTP server hands every request to a pool so that a slow method
// never holds up the threads that do network I/O, and at most `threads`
// methods run at once.
#ifndef VHDSM_XMLRPC_WORKER_POOL_H_
#define VHDSM_XMLRPC_WORKER_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace xmlrpc {

class WorkerPool {
 public:
  // At least one thread is started.
  explicit WorkerPool(unsigned threads);
  // Shutdown().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false (and `job` is dropped) once Shutdown has begun.
  // A job must not throw.
  bool Submit(std::function<void()> job);

  // Refuses new jobs, runs every job already queued, waits for the running
  // ones, and joins the threads. Idempotent; not from inside a job.
  void Shutdown();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool shutting_down_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_WORKER_POOL_H_
