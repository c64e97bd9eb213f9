#include "common/thread_pool.hpp"

#include <algorithm>
#include <memory>

namespace memplast {

ThreadPool::ThreadPool(unsigned threads) {
  const unsigned w = threads > 1 ? threads - 1 : 0;
  workers_.reserve(w);
  for (unsigned i = 0; i < w; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard<std::mutex> lk(m_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_tasks(std::unique_lock<std::mutex>& lk, bool worker) {
  // Called with m_ held; released while a task runs.
  while (next_ < tasks_) {
    const std::size_t i = next_++;
    const auto* fn = fn_;
    const bool skip = static_cast<bool>(error_);
    lk.unlock();
    std::exception_ptr e;
    if (!skip) {
      try {
        (*fn)(i);
      } catch (...) {
        e = std::current_exception();
      }
    }
    lk.lock();
    if (e && !error_) error_ = e;
    ++finished_;
    if (worker) ++worker_tasks_;
  }
}

void ThreadPool::run_job(Job& j) {
  try {
    j.fn();
  } catch (...) {
    j.error = std::current_exception();
  }
  j.fn = nullptr;  // release what it captured
}

void ThreadPool::worker_loop() {
  std::uint64_t seen = 0;
  std::unique_lock<std::mutex> lk(m_);
  for (;;) {
    wake_.wait(lk,
               [&] { return stop_ || (generation_ != seen && next_ < tasks_) || !jobs_.empty(); });
    if (stop_) return;
    if (generation_ != seen && next_ < tasks_) {
      seen = generation_;
      ++active_;
      run_tasks(lk, true);
      --active_;
      if (finished_ == tasks_ && active_ == 0) done_.notify_all();
      continue;
    }
    const JobPtr j = jobs_.front();
    jobs_.pop_front();
    j->state = Job::State::running;
    lk.unlock();
    run_job(*j);
    lk.lock();
    j->state = Job::State::done;
    ++worker_tasks_;
    job_done_.notify_all();
  }
}

ThreadPool::JobPtr ThreadPool::submit(std::function<void()> fn) {
  auto j = std::make_shared<Job>();
  j->fn = std::move(fn);
  if (workers_.empty()) {
    j->state = Job::State::running;
    run_job(*j);
    j->state = Job::State::done;
    const std::lock_guard<std::mutex> lk(m_);
    ++jobs_submitted_;
    return j;
  }
  {
    const std::lock_guard<std::mutex> lk(m_);
    jobs_.push_back(j);
    ++jobs_submitted_;
  }
  wake_.notify_one();
  return j;
}

void ThreadPool::wait(const JobPtr& job) {
  if (!job) return;
  std::unique_lock<std::mutex> lk(m_);
  if (job->state == Job::State::queued) {  // no worker took it: run it here
    jobs_.erase(std::find(jobs_.begin(), jobs_.end(), job));
    job->state = Job::State::running;
    lk.unlock();
    run_job(*job);
    lk.lock();
    job->state = Job::State::done;
  }
  // Running on a worker: help with the other queued jobs (from the back of the queue,
  // the workers take from the front) until it is done, rather than sleep.
  while (job->state != Job::State::done) {
    if (jobs_.empty()) {
      job_done_.wait(lk);
      continue;
    }
    const JobPtr other = jobs_.back();
    jobs_.pop_back();
    other->state = Job::State::running;
    lk.unlock();
    run_job(*other);
    lk.lock();
    other->state = Job::State::done;
    job_done_.notify_all();
  }
  std::exception_ptr e = job->error;
  job->error = nullptr;
  lk.unlock();
  if (e) std::rethrow_exception(e);
}

void ThreadPool::parallel_for(std::size_t tasks, const std::function<void(std::size_t)>& fn) {
  if (tasks == 0) return;
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (workers_.empty() || tasks == 1 || !busy.owns_lock()) {
    for (std::size_t i = 0; i < tasks; ++i) fn(i);
    return;
  }
  std::unique_lock<std::mutex> lk(m_);
  fn_ = &fn;
  tasks_ = tasks;
  next_ = 0;
  finished_ = 0;
  error_ = nullptr;
  ++generation_;
  ++sections_;
  wake_.notify_all();
  run_tasks(lk, false);
  // Every task finished and no worker still holds a reference to fn.
  done_.wait(lk, [&] { return finished_ == tasks_ && active_ == 0; });
  tasks_ = 0;
  fn_ = nullptr;
  std::exception_ptr e = error_;
  error_ = nullptr;
  lk.unlock();
  if (e) std::rethrow_exception(e);
}

std::uint64_t ThreadPool::parallel_sections() const {
  const std::lock_guard<std::mutex> lk(m_);
  return sections_;
}

std::uint64_t ThreadPool::worker_tasks() const {
  const std::lock_guard<std::mutex> lk(m_);
  return worker_tasks_;
}

std::uint64_t ThreadPool::jobs_submitted() const {
  const std::lock_guard<std::mutex> lk(m_);
  return jobs_submitted_;
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> p = std::make_unique<ThreadPool>(1);
  return p;
}
}  // namespace

ThreadPool& pool() { return *pool_slot(); }

void set_threads(unsigned threads) {
  auto& p = pool_slot();
  if (p->size() == std::max(1U, threads)) return;
  p = std::make_unique<ThreadPool>(std::max(1U, threads));
}

unsigned default_threads() { return std::max(1U, std::thread::hardware_concurrency()); }

std::vector<std::size_t> split_range(std::size_t n, unsigned parts, std::size_t align,
                                     std::size_t min_size) {
  align = std::max<std::size_t>(1, align);
  std::vector<std::size_t> b{0};
  if (n == 0) return b;
  const std::size_t by_size = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_size));
  const std::size_t k = std::max<std::size_t>(1, std::min<std::size_t>(parts, by_size));
  const std::size_t step = ((n + k - 1) / k + align - 1) / align * align;
  for (std::size_t s = step; s < n; s += step) b.push_back(s);
  b.push_back(n);
  return b;
}

}  // namespace memplast
