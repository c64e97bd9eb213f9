#include "explore/runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "common/output.hpp"
#include "common/stop.hpp"
#include "explore/results.hpp"

namespace memplast::explore {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string hms(double s) {
  if (!(s >= 0) || s > 1e7) return "?";
  const auto t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60)
                   : fmt::format("{}:{:02}", t / 60, t % 60);
}

// Spawn `bin train` for one run; its output goes to RUN/train.log. The child gets
// SIGTERM if the sweep dies, so a killed sweep leaves no orphan runs behind.
pid_t spawn_train(const fs::path& bin, const fs::path& dir) {
  fs::remove(dir / "sweep_exit.json");
  const std::string cfg = (dir / "config.json").string();
  const std::string out = dir.string();
  const std::string log = (dir / "train.log").string();
  const std::string b = bin.string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(125);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    // --force: the sweep owns its run folders; a rerun replaces a point's earlier results.
    std::array<const char*, 10> argv{b.c_str(),   "train",      "--config", cfg.c_str(), "--out",
                                     out.c_str(), "--progress", "none",     "--force",   nullptr};
    execv(b.c_str(), const_cast<char* const*>(argv.data()));
    std::fprintf(stderr, "memplast sweep: cannot execute %s: %s\n", b.c_str(),
                 std::strerror(errno));
    _exit(127);
  }
  return pid;
}

int exit_status_of(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

// After a run ends: its exit record. A zero exit without a complete summary is a
// failure too (the summary is what counts).
bool finish_run(const fs::path& dir, int status, double wall_s, const std::string& backend,
                const std::string& job) {
  ExitRecord r;
  r.exit_status = status;
  r.wall_s = wall_s;
  r.backend = backend;
  r.job = job;
  const bool complete = status == 0 && run_complete(dir);
  if (status == 0 && !complete) {
    r.exit_status = 254;
    r.error = "exit status 0 but no complete summary.json";
  } else if (status != 0) {
    r.error = tail_lines(dir / "train.log", 5);
    if (r.error.empty()) r.error = fmt::format("exit status {} (empty log)", status);
  }
  write_exit_record(dir, r);
  return complete;
}

// A complete run whose summary lacks a metric stops the sweep: the spec names a path
// the runs do not write. Returns the error, or "".
std::string check_metrics(const SweepSpec& spec, const fs::path& dir) {
  json summary;
  if (!run_complete(dir, &summary)) return "";
  for (const auto& m : spec.metrics) {
    std::string why;
    if (!m.path.resolve(summary, &why)) {
      return fmt::format("{}: metric '{}': {} (in {})", spec.source, m.name, why,
                         (dir / "summary.json").string());
    }
  }
  return "";
}

class ProgressLine {
 public:
  ProgressLine(const SweepSpec& spec, const std::vector<RunTask>& tasks, int slots)
      : spec_(spec), total_(tasks.size()), slots_(std::max(1, slots)), start_(Clock::now()) {
    for (const auto& t : tasks) ++open_runs_[t.point];
  }
  void finished(const RunTask& t, bool ok, double wall_s) {
    ++done_;
    if (!ok) ++failed_;
    wall_sum_ += wall_s;
    if (ok && --open_runs_[t.point] == 0) ++points_done_;
  }
  void print(std::size_t running, const char* extra = "") {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    const std::size_t left = total_ - done_;
    std::string eta = "?";
    if (done_ > 0) {
      const double per = wall_sum_ / static_cast<double>(done_);
      eta = hms(per * static_cast<double>(left) /
                static_cast<double>(std::min<std::size_t>(slots_, std::max<std::size_t>(left, 1))));
    }
    const std::size_t points_todo = open_runs_.size();
    std::cerr << fmt::format(
        "sweep: runs {}/{} done, {} running, {} failed; points {}/{} done; elapsed {}, "
        "time left ~{}{}\n",
        done_ - failed_, total_, running, failed_, points_done_, points_todo, hms(elapsed), eta,
        extra);
  }
  bool due() {
    const auto now = Clock::now();
    if (now - last_ < std::chrono::seconds(10)) return false;
    last_ = now;
    return true;
  }

 private:
  const SweepSpec& spec_;
  std::size_t total_;
  std::size_t slots_;
  Clock::time_point start_;
  Clock::time_point last_{Clock::now()};
  std::map<std::size_t, std::size_t> open_runs_;
  std::size_t done_{0};
  std::size_t failed_{0};
  std::size_t points_done_{0};
  double wall_sum_{0};
};

// Run a command, capture its standard output; returns the exit status.
int capture(const std::string& cmd, std::string* out) {
  out->clear();
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out->append(buf.data(), n);
  const int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::vector<RunTask> prepare_runs(const SweepSpec& spec,
                                  const std::vector<std::vector<json>>& configs,
                                  const fs::path& out, std::size_t* already_complete) {
  std::vector<RunTask> tasks;
  std::size_t complete = 0;
  for (std::size_t p = 0; p < spec.points.size(); ++p) {
    for (std::size_t s = 0; s < spec.seeds.size(); ++s) {
      const auto dir = fs::absolute(run_dir(out, spec.points[p], spec.seeds[s]));
      if (run_complete(dir)) {
        ++complete;
        continue;
      }
      fs::create_directories(dir);
      json cfg = configs[p][s];
      if (cfg.contains("data") && cfg["data"].contains("dir")) {
        const fs::path d = cfg["data"]["dir"].get<std::string>();
        if (d.is_relative()) cfg["data"]["dir"] = fs::absolute(d).lexically_normal().string();
      }
      write_file_atomic(dir / "config.json", cfg.dump(2) + "\n");
      json point{
          {"point", spec.points[p].name}, {"seed", spec.seeds[s]}, {"params", json::object()}};
      for (const auto& [k, v] : spec.points[p].params) point["params"][k] = v;
      write_file_atomic(dir / "point.json", point.dump(2) + "\n");
      tasks.push_back(RunTask{p, spec.seeds[s], dir});
    }
  }
  if (already_complete != nullptr) *already_complete = complete;
  return tasks;
}

int run_task_blocking(const fs::path& bin, const fs::path& dir, const std::string& backend,
                      const std::string& job) {
  const auto t0 = Clock::now();
  const pid_t pid = spawn_train(bin, dir);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
  }
  const int status = exit_status_of(st);
  finish_run(dir, status, std::chrono::duration<double>(Clock::now() - t0).count(), backend, job);
  return status;
}

RunnerResult run_local(const SweepSpec& spec, const std::vector<RunTask>& tasks,
                       const RunnerOptions& opt) {
  RunnerResult res;
  const StopScope stop_scope;
  ProgressLine progress(spec, tasks, opt.jobs);
  struct Running {
    RunTask task;
    Clock::time_point start;
  };
  std::map<pid_t, Running> running;
  std::size_t next = 0;
  bool stop = false;
  progress.print(0);
  while ((next < tasks.size() && !stop) || !running.empty()) {
    if (!stop && stop_requested()) {
      stop = true;
      res.interrupted = true;
      std::cerr << "sweep: interrupted; stopping " << running.size() << " running run(s)\n";
      for (const auto& [pid, r] : running) kill(pid, SIGTERM);
    }
    while (!stop && next < tasks.size() && static_cast<int>(running.size()) < opt.jobs) {
      running.emplace(spawn_train(opt.bin, tasks[next].dir), Running{tasks[next], Clock::now()});
      ++next;
    }
    int st = 0;
    const pid_t pid = waitpid(-1, &st, WNOHANG);
    if (pid > 0 && running.count(pid) != 0) {
      const auto r = running.at(pid);
      running.erase(pid);
      const double wall = std::chrono::duration<double>(Clock::now() - r.start).count();
      const int status = exit_status_of(st);
      if (stop) {
        // Stopped by us: no failure record, so the rerun treats it as missing.
        continue;
      }
      const bool ok = finish_run(r.task.dir, status, wall, "local", "");
      ++res.ran;
      if (!ok) {
        ++res.failed;
        std::cerr << fmt::format("sweep: run {} failed (exit status {}); see {}\n",
                                 fs::relative(r.task.dir, opt.out).string(), status,
                                 (r.task.dir / "train.log").string());
      } else if (res.metric_error.empty()) {
        res.metric_error = check_metrics(spec, r.task.dir);
        if (!res.metric_error.empty()) {
          std::cerr << "sweep: " << res.metric_error << "; stopping\n";
          stop = true;
          for (const auto& [p, rr] : running) kill(p, SIGTERM);
        }
      }
      progress.finished(r.task, ok, wall);
      progress.print(running.size());
      continue;
    }
    if (pid < 0 && errno != ECHILD && errno != EINTR) {
      throw std::runtime_error(fmt::format("waitpid: {}", std::strerror(errno)));
    }
    if (progress.due()) progress.print(running.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return res;
}

namespace {

// Final state of one array task from `scontrol -o show job JOB` (finished jobs stay
// visible for MinJobAge seconds; sacct would need slurmdbd).
struct TaskState {
  std::string state;    // e.g. COMPLETED, FAILED, TIMEOUT, CANCELLED, NODE_FAIL
  std::string reason;   // e.g. NonZeroExitCode
  int exit_status{-1};  // ExitCode "code:signal" as 128 + signal or code; -1 unknown
};

std::map<long, TaskState> scontrol_tasks(const std::string& job) {
  std::map<long, TaskState> tasks;
  std::string out;
  if (capture(fmt::format("scontrol -o show job {} 2>/dev/null", job), &out) != 0) return tasks;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string f;
    long id = -1;
    TaskState t;
    while (fields >> f) {
      const auto eq = f.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = f.substr(0, eq);
      const std::string val = f.substr(eq + 1);
      if (key == "ArrayTaskId") {
        id = std::strtol(val.c_str(), nullptr, 10);
        if (val.find_first_not_of("0123456789") != std::string::npos) id = -1;  // a range
      } else if (key == "JobState") {
        t.state = val;
      } else if (key == "Reason") {
        t.reason = val;
      } else if (key == "ExitCode") {
        const auto colon = val.find(':');
        if (colon != std::string::npos) {
          const int code = std::atoi(val.substr(0, colon).c_str());
          const int sig = std::atoi(val.substr(colon + 1).c_str());
          t.exit_status = sig != 0 ? 128 + sig : code;
        }
      }
    }
    if (id >= 0) tasks[id] = t;
  }
  return tasks;
}

// The job id a previous `memplast sweep` of this folder submitted, if it is still queued
// or running: its tasks write into the same run folders. A task in COMPLETING has ended
// (Slurm is cleaning up after it).
void refuse_if_previous_job_active(const fs::path& sdir) {
  std::ifstream in(sdir / "job");
  std::string prev;
  if (!(in >> prev) || prev.find_first_not_of("0123456789") != std::string::npos) return;
  std::string out;
  if (capture(fmt::format("squeue -h -r -j {} -o %T 2>/dev/null", prev), &out) != 0) return;
  std::istringstream states(out);
  std::string state;
  bool active = false;
  while (states >> state) active = active || state != "COMPLETING";
  if (active) {
    throw std::runtime_error(fmt::format(
        "slurm backend: job {} of an earlier sweep of this folder is still queued or running "
        "({}/job); wait for it to end or `scancel {}`, then rerun",
        prev, sdir.string(), prev));
  }
}

void require_slurm_tools() {
  std::string ignored;
  if (capture("command -v sbatch && command -v squeue && command -v scancel && command -v "
              "scontrol",
              &ignored) != 0) {
    throw std::runtime_error(
        "slurm backend: sbatch/squeue/scancel/scontrol not found on PATH (scripts/slurm_local "
        "start sets up a single-node cluster on this machine)");
  }
}

// The task list, one run folder a line; each run's earlier exit record is removed.
void write_task_list(const fs::path& list, const std::vector<RunTask>& tasks) {
  std::string lines;
  for (const auto& t : tasks) {
    fs::remove(t.dir / "sweep_exit.json");
    lines += t.dir.string() + "\n";
  }
  write_file_atomic(list, lines);
}

// The sbatch script of the job array: `n_array` tasks of up to `chunk` runs each.
std::string job_script(const RunnerOptions& opt, const fs::path& sdir, const fs::path& list,
                       std::size_t chunk, std::size_t n_array) {
  std::string array = fmt::format("0-{}", n_array - 1);
  if (opt.slurm.max_parallel > 0) array += fmt::format("%{}", opt.slurm.max_parallel);
  std::string sb = "#!/bin/bash\n";
  sb += "#SBATCH --job-name=memplast-sweep\n";
  sb += fmt::format("#SBATCH --array={}\n", array);
  sb += fmt::format("#SBATCH --output={}/%A_%a.out\n", sdir.string());
  sb += fmt::format("#SBATCH --chdir={}\n", fs::current_path().string());
  sb += fmt::format("#SBATCH --time={}\n", opt.slurm.time);
  sb += fmt::format("#SBATCH --cpus-per-task={}\n", std::max(1, opt.slurm.cpus_per_task));
  if (!opt.slurm.mem.empty()) sb += fmt::format("#SBATCH --mem={}\n", opt.slurm.mem);
  if (!opt.slurm.partition.empty())
    sb += fmt::format("#SBATCH --partition={}\n", opt.slurm.partition);
  sb += fmt::format(
      "# Array task T runs lines T*{0}+1 .. T*{0}+{0} of the task list (one run folder a line),\n"
      "# one after the other; each run writes its own exit record (sweep_exit.json).\n",
      chunk);
  sb += fmt::format("first=$((SLURM_ARRAY_TASK_ID * {} + 1))\n", chunk);
  sb += fmt::format("last=$((first + {}))\n", chunk - 1);
  sb += "rc=0\n";
  sb += "while IFS= read -r run; do\n";
  sb += fmt::format(
      "  {} sweep-task --job \"${{SLURM_ARRAY_JOB_ID}}_${{SLURM_ARRAY_TASK_ID}}\" \"$run\" "
      "</dev/null || rc=$?\n",
      shell_quote(opt.bin.string()));
  sb += fmt::format("done < <(sed -n \"${{first}},${{last}}p\" {})\n", shell_quote(list.string()));
  sb += "exit $rc\n";
  return sb;
}

// Submits the script; returns the job id.
std::string submit(const fs::path& script) {
  std::string out;
  if (capture(fmt::format("sbatch --parsable {} 2>&1", shell_quote(script.string())), &out) != 0) {
    throw std::runtime_error(
        fmt::format("slurm backend: sbatch {} failed: {}", script.string(), out));
  }
  return out.substr(0, out.find_first_of(";\n"));
}

// Follows a submitted job array until every run has its exit record (written by
// `memplast sweep-task` when the run ends, or here for a task that ended without one).
class SlurmWatch {
 public:
  SlurmWatch(const SweepSpec& spec, const std::vector<RunTask>& tasks, const RunnerOptions& opt,
             fs::path sdir, std::string job, std::size_t chunk, std::size_t n_array)
      : spec_(spec),
        tasks_(tasks),
        opt_(opt),
        sdir_(std::move(sdir)),
        job_(std::move(job)),
        chunk_(chunk),
        progress_(spec, tasks, static_cast<int>(n_array)) {
    for (std::size_t i = 0; i < tasks.size(); ++i) open_.insert(i);
    progress_.print(0, fmt::format(" (job {}: {} queued)", job_, n_array).c_str());
  }

  // Polls until every run has its record, the sweep is interrupted (the job is
  // cancelled) or a complete run lacks a metric (likewise). Call under a StopScope.
  RunnerResult run() {
    int gone_polls = 0;
    while (!open_.empty()) {
      if (stop_requested()) {
        res_.interrupted = true;
        std::cerr << "sweep: interrupted; scancel " << job_ << "\n";
        scancel();
        break;
      }
      bool changed = false;
      if (!collect_exit_records(&changed)) return res_;
      if (open_.empty()) break;
      // Array tasks still known to Slurm (pending or running), one line each (-r).
      std::string out;
      const int rc = capture(fmt::format("squeue -h -r -j {} -o '%i %T' 2>&1", job_), &out);
      std::size_t queued = 0;
      std::size_t running = 0;
      std::istringstream ls(out);
      std::string id;
      std::string state;
      while (ls >> id >> state) {
        ++queued;
        if (state == "RUNNING" || state == "COMPLETING") ++running;
      }
      if (rc != 0 && out.find("Invalid job id") == std::string::npos) {
        std::cerr << "sweep: squeue failed (" << out << "); retrying\n";
      } else if (queued == 0) {
        // The array has left the queue; give the file system a moment, then any run
        // without an exit record failed before it could write one.
        if (++gone_polls >= 3) {
          fail_runs_without_record();
          break;
        }
      } else {
        gone_polls = 0;
      }
      if (changed || progress_.due()) {
        progress_.print(running,
                        fmt::format(" (job {}: {} queued)", job_, queued - running).c_str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(opt_.poll_s * 1000)));
    }
    progress_.print(0, fmt::format(" (job {})", job_).c_str());
    return res_;
  }

 private:
  void scancel() {
    std::string ignored;
    capture(fmt::format("scancel {} 2>&1", job_), &ignored);
  }

  [[nodiscard]] std::string task_id(std::size_t i) const {
    return fmt::format("{}_{}", job_, i / chunk_);
  }

  void collect(std::size_t i, bool ok, double wall) {
    open_.erase(i);
    ++res_.ran;
    if (!ok) ++res_.failed;
    progress_.finished(tasks_[i], ok, wall);
  }

  // Takes the exit records the open runs have written. Returns false when a complete
  // run lacks a metric: the job is then cancelled.
  bool collect_exit_records(bool* changed) {
    for (auto it = open_.begin(); it != open_.end();) {
      const std::size_t i = *it++;
      const auto rec = read_exit_record(tasks_[i].dir);
      if (!rec) continue;
      const bool ok = rec->exit_status == 0;
      if (!ok) {
        std::cerr << fmt::format("sweep: run {} failed (exit status {}, task {}); see {}\n",
                                 fs::relative(tasks_[i].dir, opt_.out).string(), rec->exit_status,
                                 task_id(i), (tasks_[i].dir / "train.log").string());
      } else if (res_.metric_error.empty()) {
        res_.metric_error = check_metrics(spec_, tasks_[i].dir);
        if (!res_.metric_error.empty()) {
          std::cerr << "sweep: " << res_.metric_error << "; cancelling job " << job_ << "\n";
          scancel();
          return false;
        }
      }
      collect(i, ok, rec->wall_s);
      *changed = true;
    }
    return true;
  }

  // The array has left the queue: every open run's task was killed (time limit,
  // scancel, node failure) or never started. scontrol says which; the run gets a
  // failure record.
  void fail_runs_without_record() {
    const auto states = scontrol_tasks(job_);
    for (const auto i : std::set<std::size_t>(open_)) {
      ExitRecord r;
      r.exit_status = 255;
      r.backend = "slurm";
      r.job = task_id(i);
      std::string why = "state unknown to scontrol";
      const auto st = states.find(static_cast<long>(i / chunk_));
      if (st != states.end()) {
        why = fmt::format("Slurm state {}, reason {}", st->second.state, st->second.reason);
        if (st->second.exit_status > 0) r.exit_status = st->second.exit_status;
      }
      r.error = fmt::format(
          "Slurm task {} ended without an exit record for this run ({}); "
          "see {}/{}.out",
          r.job, why, sdir_.string(), r.job);
      write_exit_record(tasks_[i].dir, r);
      std::cerr << "sweep: run " << fs::relative(tasks_[i].dir, opt_.out).string() << ": "
                << r.error << "\n";
      collect(i, false, 0.0);
    }
  }

  const SweepSpec& spec_;
  const std::vector<RunTask>& tasks_;
  const RunnerOptions& opt_;
  fs::path sdir_;
  std::string job_;
  std::size_t chunk_;
  ProgressLine progress_;
  std::set<std::size_t> open_;
  RunnerResult res_;
};

}  // namespace

RunnerResult run_slurm(const SweepSpec& spec, const std::vector<RunTask>& tasks,
                       const RunnerOptions& opt) {
  if (tasks.empty()) return RunnerResult{};
  require_slurm_tools();
  const fs::path sdir = opt.out / "slurm";
  fs::create_directories(sdir);
  refuse_if_previous_job_active(sdir);
  const std::size_t chunk = static_cast<std::size_t>(std::max(1, opt.slurm.chunk));
  const std::size_t n_array = (tasks.size() + chunk - 1) / chunk;
  const auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const fs::path list = sdir / fmt::format("tasks-{}.txt", stamp);
  const fs::path script = sdir / fmt::format("job-{}.sh", stamp);
  write_task_list(list, tasks);
  write_file_atomic(script, job_script(opt, sdir, list, chunk, n_array));
  fs::permissions(script, fs::perms::owner_exec, fs::perm_options::add);
  const std::string job = submit(script);
  write_file_atomic(sdir / "job", job + "\n");
  std::cerr << fmt::format(
      "sweep: submitted Slurm job array {} ({} tasks of up to {} run(s), script {})\n", job,
      n_array, chunk, script.string());
  const StopScope stop_scope;
  return SlurmWatch(spec, tasks, opt, sdir, job, chunk, n_array).run();
}

}  // namespace memplast::explore
