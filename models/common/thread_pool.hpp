// The simulator's worker threads (sim.threads): a fixed pool that runs the independent
// parts of a kernel (ranges of meta_unit's weights, the tiles of one functional-mode MVM)
// at the same time, and deferred jobs (a hardware-mode tile's MVM, computed while the
// SystemC kernel goes on until something reads the tile). The pool only changes which thread
// computes a part, never how a part is computed or the order in which the parts' results are
// combined, so results are bit-identical for any thread count (regress_threads).
//
// One pool per process (pool()), sized once by the CLI from sim.threads before the model
// is built; a fresh process, a unit test included, has one thread (the caller). Callers
// are SystemC processes, which the kernel runs one at a time; a parallel_for issued
// while another is running (from a worker) runs serially on its caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace memplast {

class ThreadPool {
 public:
  // `threads` counts the caller: 1 starts no worker.
  explicit ThreadPool(unsigned threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1U; }

  // Runs fn(i) for every i in [0, tasks) and returns when all have finished; the caller
  // runs tasks too. fn must not depend on which thread runs it. The first exception a
  // task throws is rethrown here (after every task has finished or been skipped).
  void parallel_for(std::size_t tasks, const std::function<void(std::size_t)>& fn);

  // A deferred task: submit() queues fn for the workers and returns at once; wait()
  // returns when it has run (on a worker, or on the caller of wait() if no worker has
  // taken it yet; while a worker runs it, the caller runs other queued jobs) and
  // rethrows what it threw (another job's error stays with that job). Without workers submit() runs
  // fn before it returns. fn must not depend on which thread runs it or when; the submitter keeps
  // everything fn touches alive and untouched until wait() returns. A worker takes
  // parallel_for tasks before deferred ones.
  struct Job {
    std::function<void()> fn;
    enum class State { queued, running, done } state{State::queued};
    std::exception_ptr error;
  };
  using JobPtr = std::shared_ptr<Job>;
  JobPtr submit(std::function<void()> fn);
  void wait(const JobPtr& job);

  // Since construction: parallel_for calls that ran on more than one thread, the tasks
  // the workers (not the callers) ran (parallel_for tasks and deferred jobs), and the
  // deferred jobs submitted.
  std::uint64_t parallel_sections() const;
  std::uint64_t worker_tasks() const;
  std::uint64_t jobs_submitted() const;

 private:
  void worker_loop();
  void run_tasks(std::unique_lock<std::mutex>& lk, bool worker);
  static void run_job(Job& j);

  std::vector<std::thread> workers_;
  mutable std::mutex m_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::mutex busy_;  // held by the parallel_for in flight
  const std::function<void(std::size_t)>* fn_{nullptr};
  std::size_t tasks_{0};
  std::size_t next_{0};
  std::size_t finished_{0};
  unsigned active_{0};  // workers inside run_tasks
  std::uint64_t generation_{0};
  bool stop_{false};
  std::uint64_t sections_{0};
  std::uint64_t worker_tasks_{0};
  std::exception_ptr error_;
  std::deque<JobPtr> jobs_;           // queued deferred jobs
  std::condition_variable job_done_;  // a deferred job finished
  std::uint64_t jobs_submitted_{0};
};

// The process's pool; set_threads replaces it (not while a parallel_for runs).
ThreadPool& pool();
void set_threads(unsigned threads);
// The threads sim.threads = 0 means: std::thread::hardware_concurrency(), at least 1.
unsigned default_threads();

// Splits [0, n) into at most `parts` contiguous ranges whose starts are multiples of
// `align` (the last range takes the remainder) and at least `min_size` long; returns the
// range bounds b[0] = 0 < b[1] < ... < b[k] = n. Depends only on its arguments.
std::vector<std::size_t> split_range(std::size_t n, unsigned parts, std::size_t align,
                                     std::size_t min_size);

}  // namespace memplast
