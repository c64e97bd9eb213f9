// common/thread_pool.hpp: every task runs exactly once on any pool size, errors reach the
// caller, a nested parallel_for runs serially, deferred jobs (submit/wait) run once, on a
// worker or on the waiting caller, and split_range's bounds.
#include "common/thread_pool.hpp"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace memplast {
namespace {

TEST(ThreadPool, EveryTaskRunsOnceForAnySize) {
  for (unsigned threads : {1U, 2U, 3U, 8U}) {
    ThreadPool p(threads);
    EXPECT_EQ(p.size(), threads);
    for (std::size_t tasks : {0U, 1U, 2U, 7U, 100U}) {
      std::vector<std::atomic<int>> hits(tasks);
      p.parallel_for(tasks, [&](std::size_t i) { hits[i].fetch_add(1); });
      for (std::size_t i = 0; i < tasks; ++i)
        EXPECT_EQ(hits[i].load(), 1) << threads << " threads, task " << i << " of " << tasks;
    }
  }
}

TEST(ThreadPool, WorkersRunTasks) {
  // With 2 threads and tasks that wait for each other, both threads must take part (a
  // pool that ran everything on the caller would never get past the barrier).
  ThreadPool p(2);
  std::atomic<int> arrived{0};
  std::vector<std::thread::id> who(2);
  p.parallel_for(2, [&](std::size_t i) {
    who[i] = std::this_thread::get_id();
    arrived.fetch_add(1);
    while (arrived.load() < 2) std::this_thread::yield();
  });
  EXPECT_NE(who[0], who[1]);
  EXPECT_EQ(p.parallel_sections(), 1U);
  EXPECT_EQ(p.worker_tasks(), 1U);
}

TEST(ThreadPool, FirstErrorReachesTheCallerAndThePoolStaysUsable) {
  ThreadPool p(3);
  EXPECT_THROW(p.parallel_for(50,
                              [](std::size_t i) {
                                if (i == 17) throw std::runtime_error("task 17");
                              }),
               std::runtime_error);
  std::atomic<int> n{0};
  p.parallel_for(10, [&](std::size_t) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 10);
}

TEST(ThreadPool, NestedCallRunsSerially) {
  ThreadPool p(2);
  std::atomic<int> n{0};
  p.parallel_for(4, [&](std::size_t) { p.parallel_for(3, [&](std::size_t) { n.fetch_add(1); }); });
  EXPECT_EQ(n.load(), 12);
}

TEST(ThreadPool, ProcessPoolIsResized) {
  set_threads(3);
  EXPECT_EQ(pool().size(), 3U);
  set_threads(0);  // at least the caller
  EXPECT_EQ(pool().size(), 1U);
  EXPECT_GE(default_threads(), 1U);
}

TEST(SplitRange, BoundsAreAlignedContiguousAndBounded) {
  EXPECT_EQ(split_range(0, 4, 512, 1), (std::vector<std::size_t>{0}));
  EXPECT_EQ(split_range(100, 4, 512, 1), (std::vector<std::size_t>{0, 100}));
  EXPECT_EQ(split_range(10000, 1, 512, 1), (std::vector<std::size_t>{0, 10000}));
  // min_size caps the number of parts: 10000 / 4000 -> 2 parts.
  EXPECT_EQ(split_range(10000, 8, 512, 4000), (std::vector<std::size_t>{0, 5120, 10000}));
  for (std::size_t n : {1U, 511U, 512U, 513U, 100000U, 1626112U}) {
    for (unsigned parts : {1U, 2U, 3U, 7U}) {
      const auto b = split_range(n, parts, 512, 1000);
      ASSERT_GE(b.size(), 2U);
      EXPECT_EQ(b.front(), 0U);
      EXPECT_EQ(b.back(), n);
      EXPECT_LE(b.size() - 1, parts);
      for (std::size_t k = 1; k + 1 < b.size(); ++k) {
        EXPECT_EQ(b[k] % 512, 0U) << n << " " << parts;
        EXPECT_GT(b[k], b[k - 1]);
      }
    }
  }
}

TEST(ThreadPool, DeferredJobsRunOnceAndWaitSeesTheirEffects) {
  for (unsigned threads : {1U, 2U, 3U}) {
    ThreadPool p(threads);
    constexpr int kJobs = 64;
    std::vector<int> out(kJobs, 0);  // plain ints: wait() must publish each job's write
    std::vector<ThreadPool::JobPtr> jobs;
    for (int k = 0; k < kJobs; ++k) jobs.push_back(p.submit([&out, k] { out[k] += k + 1; }));
    for (int k = kJobs - 1; k >= 0; --k) p.wait(jobs[static_cast<std::size_t>(k)]);
    for (int k = 0; k < kJobs; ++k) EXPECT_EQ(out[k], k + 1) << threads << " threads, job " << k;
    EXPECT_EQ(p.jobs_submitted(), static_cast<std::uint64_t>(kJobs));
    p.wait(nullptr);  // no job: returns
  }
}

TEST(ThreadPool, DeferredJobRunsOnAWorkerWhileTheCallerGoesOn) {
  // The job waits for a flag only the caller sets after submit() returned (a pool that
  // ran the job inside submit() would never return from it), and the caller waits, up
  // to 10 s, for a worker to start it before setting the flag.
  ThreadPool p(2);
  std::atomic<bool> started{false};
  std::atomic<bool> go{false};
  std::thread::id who;
  const auto j = p.submit([&] {
    started.store(true);
    while (!go.load()) std::this_thread::yield();
    who = std::this_thread::get_id();
  });
  for (int i = 0; i < 10000 && !started.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(started.load());
  go.store(true);
  p.wait(j);
  EXPECT_NE(who, std::this_thread::get_id());
  EXPECT_EQ(p.worker_tasks(), 1U);
}

TEST(ThreadPool, WaitRunsAJobNoWorkerTookAndRethrowsItsError) {
  ThreadPool p(2);
  // Keep the only worker busy so the second job is still queued when it is waited for.
  std::atomic<bool> release{false};
  std::atomic<bool> started{false};
  const auto busy = p.submit([&] {
    started.store(true);
    while (!release.load()) std::this_thread::yield();
  });
  while (!started.load()) std::this_thread::yield();
  std::thread::id who;
  const auto queued = p.submit([&] {
    who = std::this_thread::get_id();
    throw std::runtime_error("job");
  });
  EXPECT_THROW(p.wait(queued), std::runtime_error);
  EXPECT_EQ(who, std::this_thread::get_id());  // ran on the caller of wait()
  release.store(true);
  p.wait(busy);
  // The pool still runs parallel_for and jobs afterwards.
  std::atomic<int> n{0};
  p.parallel_for(10, [&](std::size_t) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 10);
}

}  // namespace
}  // namespace memplast
