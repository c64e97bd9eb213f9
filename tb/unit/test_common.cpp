// Unit tests of the common layer: seeded streams, logging facade, atomic output,
// energy ledger, count histogram.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "common/energy.hpp"
#include "common/fault_schedule.hpp"
#include "common/histogram.hpp"
#include "common/log.hpp"
#include "common/output.hpp"
#include "common/rng.hpp"
#include "common/state_io.hpp"

using namespace memplast;

TEST(Rng, SameSeedSameStream) {
  Rng a(42, "top.tile0");
  Rng b(42, "top.tile0");
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.next(), b.next());
}

TEST(Rng, DifferentSeedOrNameOrIndexDiffers) {
  Rng base(42, "top.tile0");
  Rng seed2(43, "top.tile0");
  Rng name2(42, "top.tile1");
  Rng idx2(42, "top.tile0", 7);
  const auto x = base.next();
  EXPECT_NE(x, seed2.next());
  EXPECT_NE(x, name2.next());
  EXPECT_NE(x, idx2.next());
}

TEST(Rng, KnownValueIsStableAcrossBuilds) {
  // Pins the generator: a change here changes every seeded result.
  Rng r(0);
  EXPECT_EQ(r.next(), 0x53175d61490b23dfULL);
}

// Moments of the normal and uniform draws within bounds derived from the sample
// size: n = 200000, the standard error of the mean of N(0,1) is 1/sqrt(n) = 0.00224;
// we allow 5 standard errors (false-failure probability < 1e-6). The variance
// estimator's standard error is sqrt(2/n) = 0.00316; again 5 of them.
TEST(Rng, NormalMoments) {
  Rng r(7, "stats");
  const int n = 200000;
  double s = 0;
  double s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = r.normal();
    s += x;
    s2 += x * x;
  }
  const double mean = s / n;
  const double var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(var, 1.0, 5.0 * std::sqrt(2.0 / n));
}

TEST(Rng, UniformAndBelow) {
  Rng r(9, "stats");
  const int n = 200000;
  double s = 0;
  std::vector<int> hist(10, 0);
  for (int i = 0; i < n; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    s += u;
    ++hist[r.below(10)];
  }
  // mean of U(0,1): sigma = sqrt(1/12/n)
  EXPECT_NEAR(s / n, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
  // each bin: binomial(n, 0.1), sigma = sqrt(n*0.1*0.9) = 134
  for (int c : hist) EXPECT_NEAR(c, n / 10.0, 5.0 * std::sqrt(n * 0.09));
}

TEST(Log, LevelsPerModuleAndPrefix) {
  log::configure(log::Level::warn, "top.tile0=debug,top.pv*=trace");
  EXPECT_EQ(log::level_for("top.tile0"), log::Level::debug);
  EXPECT_EQ(log::level_for("top.tile1"), log::Level::warn);
  EXPECT_EQ(log::level_for("top.pv_ctrl"), log::Level::trace);
  EXPECT_THROW(log::configure(log::Level::info, "top=loud"), std::invalid_argument);
  log::configure(log::Level::info, "");
}

TEST(Log, FormattingNotPaidWhenOff) {
  log::configure(log::Level::error, "");
  log::Logger lg("top.quiet");
  int evaluated = 0;
  auto costly = [&] {
    ++evaluated;
    return 1;
  };
  MP_LOG(lg, debug, "value {}", costly());
  EXPECT_EQ(evaluated, 0);
  log::configure(log::Level::info, "");
}

TEST(AtomicFile, CommittedFileAppearsUncommittedLeavesNothing) {
  const auto dir = std::filesystem::temp_directory_path() / "memplast_atomic_test";
  std::filesystem::remove_all(dir);
  const auto good = dir / "good.txt";
  const auto bad = dir / "bad.txt";
  write_file_atomic(good, "hello\n");
  {
    AtomicFile f(bad);
    f.stream() << "partial";
    // no commit: as if an error was thrown mid-write
  }
  EXPECT_TRUE(std::filesystem::exists(good));
  EXPECT_FALSE(std::filesystem::exists(bad));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1U);  // no leftover temporary
  std::filesystem::remove_all(dir);
}

TEST(Energy, LedgerSumsAndGroups) {
  EnergyLedger l;
  const auto a = l.entry("tile0", "mvm");
  const auto b = l.entry("tile1", "mvm");
  const auto c = l.entry("pv_ctrl", "set_pulse");
  EXPECT_EQ(l.entry("tile0", "mvm"), a);
  l.charge(a, 1e-12, 1);
  l.charge(b, 2e-12, 2);
  l.charge(c, 4e-12, 1);
  EXPECT_DOUBLE_EQ(l.total(), 7e-12);
  const auto cls = l.by_component(true);
  EXPECT_DOUBLE_EQ(cls.at("tile"), 3e-12);
  // No phase marker yet: the rows are in phase "other".
  EXPECT_NE(l.csv().find("tile1,other,mvm,2,2e-12,0\n"), std::string::npos) << l.csv();
}

// The rows are keyed by component x firmware phase x operation: a charge lands in the
// innermost open phase; the totals ignore the phase; rows-only ids and totals-only
// charges stay out of the other view; the phase times are exclusive and sum to the end.
TEST(Energy, LedgerRowKeysAndPhaseTimes) {
  EnergyLedger l;
  const auto mvm = l.entry("layer0_t0", "adc");
  const auto bus = l.row_entry("bus", "read");
  const auto host = l.entry("host", "compute");
  const auto mac = l.row_entry("host", "mac");
  EXPECT_EQ(l.row_entry("bus", "read"), bus);
  EXPECT_EQ(l.entry("layer0_t0", "adc"), mvm);
  l.charge(mvm, 1e-12, 1, 2e-9);  // phase "other"
  l.begin_phase("batch", 1.0);
  l.begin_phase("forward", 1.5);
  l.charge(mvm, 2e-12, 3, 1e-9);
  l.charge_rows(bus, 0.0, 4, 8e-9);
  l.end_phase(2.5);  // back in "batch"
  l.charge(mvm, 4e-12, 1);
  l.begin_phase("forward", 3.0);
  l.charge(mvm, 8e-12, 1);
  l.charge_rows(mac, 5e-12, 100, 1e-6);
  l.end_phase(3.25);
  l.end_phase(4.0);
  l.charge_total(host, 6e-12, 1);
  l.close(5.0);
  EXPECT_THROW(l.end_phase(5.0), std::logic_error);
  EXPECT_THROW(l.begin_phase("late", 4.0), std::logic_error);  // time going backwards

  // Totals: component x operation only; the rows-only bus and mac are not listed.
  ASSERT_EQ(l.entries().size(), 2U);
  EXPECT_EQ(l.entries()[0].operation, "adc");
  EXPECT_EQ(l.entries()[0].count, 6U);
  EXPECT_DOUBLE_EQ(l.total(), 21e-12);
  EXPECT_EQ(l.by_component().count("bus"), 0U);

  const auto rows = l.rows();
  std::map<std::string, EnergyLedger::Row> by_key;
  for (const auto& r : rows) {
    const std::string k = r.component + "," + r.phase + "," + r.operation;
    EXPECT_EQ(by_key.count(k), 0U) << "duplicate row key " << k;
    by_key[k] = r;
  }
  ASSERT_EQ(by_key.size(), 5U) << l.csv();
  EXPECT_EQ(by_key.at("layer0_t0,other,adc").count, 1U);
  EXPECT_DOUBLE_EQ(by_key.at("layer0_t0,other,adc").seconds, 2e-9);
  EXPECT_EQ(by_key.at("layer0_t0,forward,adc").count, 4U);  // both forward phases
  EXPECT_DOUBLE_EQ(by_key.at("layer0_t0,forward,adc").joules, 10e-12);
  EXPECT_DOUBLE_EQ(by_key.at("layer0_t0,batch,adc").joules, 4e-12);
  EXPECT_EQ(by_key.at("bus,forward,read").count, 4U);
  EXPECT_DOUBLE_EQ(by_key.at("bus,forward,read").seconds, 8e-9);
  EXPECT_EQ(by_key.at("host,forward,mac").count, 100U);
  // The totals-only host charge (6 pJ) has no row, the rows-only mac (5 pJ) no total.
  double sum = 0;
  for (const auto& r : rows) sum += r.joules;
  EXPECT_DOUBLE_EQ(sum, 20e-12);
  EXPECT_DOUBLE_EQ(sum - 5e-12 + 6e-12, l.total());

  // Exclusive phase times: other [0,1) + [4,5), batch [1,1.5) + [2.5,3) + [3.25,4),
  // forward [1.5,2.5) + [3,3.25); counts of begins.
  std::map<std::string, EnergyLedger::PhaseTime> pt;
  for (const auto& p : l.phase_times()) pt[p.phase] = p;
  EXPECT_DOUBLE_EQ(pt.at("other").seconds, 2.0);
  EXPECT_DOUBLE_EQ(pt.at("batch").seconds, 1.75);
  EXPECT_DOUBLE_EQ(pt.at("forward").seconds, 1.25);
  EXPECT_EQ(pt.at("forward").count, 2U);
  EXPECT_EQ(pt.at("batch").count, 1U);
  EXPECT_EQ(l.phase_times().front().phase, EnergyLedger::kOtherPhase);

  // CSV: header, one line per row, keys first.
  const auto csv = l.csv();
  EXPECT_EQ(csv.rfind(EnergyLedger::kCsvHeader, 0), 0U);
  EXPECT_NE(csv.find("\nbus,forward,read,4,0,8e-09\n"), std::string::npos) << csv;

  // merge adds rows by phase name and the phase times.
  EnergyLedger m;
  m.merge(l);
  m.merge(l);
  EXPECT_DOUBLE_EQ(m.total(), 2 * l.total());
  EXPECT_EQ(m.rows().size(), rows.size());
  for (const auto& p : m.phase_times()) {
    if (p.phase == "forward") {
      EXPECT_DOUBLE_EQ(p.seconds, 2.5);
    }
  }
}

// The histogram's summaries against the sorted values: total, sum, max and every
// order statistic, on seeded random counts with repeats and gaps.
TEST(CountHistogram, OrderStatisticsMatchSortedValues) {
  Rng rng(7, "test.histogram");
  std::vector<std::uint32_t> v(1000);
  for (auto& x : v) x = static_cast<std::uint32_t>(rng.below(50) * rng.below(3));
  const CountHistogram h = count_histogram(v);
  std::vector<std::uint32_t> s(v);
  std::sort(s.begin(), s.end());
  EXPECT_EQ(total(h), v.size());
  std::uint64_t sum = 0;
  for (auto x : v) sum += x;
  EXPECT_EQ(value_sum(h), sum);
  EXPECT_EQ(max_value(h), static_cast<std::int64_t>(s.back()));
  for (std::size_t k = 0; k < s.size(); ++k)
    ASSERT_EQ(nth_smallest(h, k), static_cast<std::int64_t>(s[k])) << "k " << k;
  EXPECT_THROW(nth_smallest(h, s.size()), std::out_of_range);
}

TEST(CountHistogram, EmptyAndSingleValue) {
  const CountHistogram e = count_histogram({});
  EXPECT_EQ(total(e), 0U);
  EXPECT_EQ(max_value(e), 0);
  const CountHistogram one = count_histogram({0, 0, 0});
  EXPECT_EQ(total(one), 3U);
  EXPECT_EQ(max_value(one), 0);
  EXPECT_EQ(nth_smallest(one, 2), 0);
}

// ---- checkpoint serialization (common/state_io.hpp) ----

TEST(StateIO, RoundTripOfEveryKind) {
  Rng r(7, "x");
  (void)r.normal();  // a spare normal pending: part of the state
  std::uint64_t u = 0xDEADBEEFCAFEULL;
  double d = -1.25e-300;
  bool b = true;
  std::vector<float> v{1.5F, -2.0F, 3.25F};
  std::vector<std::size_t> grow{4, 5};
  std::string s = "layer0_t3";
  auto w = StateIO::writer();
  w.section("head");
  w.value("u", u);
  w.value("d", d);
  w.value("b", b);
  w.vec("v", v);
  w.vec("grow", grow, false);
  w.str("s", s);
  w.rng("r", r);
  const Rng r_expect = r;

  std::uint64_t u2 = 0;
  double d2 = 0;
  bool b2 = false;
  std::vector<float> v2(3);
  std::vector<std::size_t> grow2;
  std::string s2;
  Rng r2(1);
  auto rd = StateIO::reader(w.buffer(), "ckpt");
  rd.section("head");
  rd.value("u", u2);
  rd.value("d", d2);
  rd.value("b", b2);
  rd.vec("v", v2);
  rd.vec("grow", grow2, false);
  rd.str("s", s2);
  rd.rng("r", r2);
  rd.expect_end();
  EXPECT_EQ(u2, u);
  EXPECT_EQ(d2, d);
  EXPECT_EQ(b2, b);
  EXPECT_EQ(v2, v);
  EXPECT_EQ(grow2, grow);
  EXPECT_EQ(s2, s);
  // The restored stream continues exactly: the pending spare normal first.
  Rng a = r_expect;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r2.normal(), a.normal());
  EXPECT_EQ(r2.next(), a.next());
}

TEST(StateIO, MismatchesAreErrorsNamingTheFieldAndOrigin) {
  auto w = StateIO::writer();
  std::vector<float> v(4, 1.0F);
  std::uint32_t x = 3;
  w.vec("weights", v);
  w.value("x", x);
  const auto expect_error = [&](const std::function<void(StateIO&)>& f, const std::string& what) {
    auto rd = StateIO::reader(w.buffer(), "dir/checkpoint.bin");
    try {
      f(rd);
      FAIL() << "no error for " << what;
    } catch (const std::runtime_error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("dir/checkpoint.bin"), std::string::npos) << m;
      EXPECT_NE(m.find(what), std::string::npos) << m;
    }
  };
  // Another geometry: the size differs.
  expect_error(
      [](StateIO& rd) {
        std::vector<float> g(5);
        rd.vec("weights", g);
      },
      "'weights': 4 elements stored, this configuration has 5");
  // Another field name or type.
  expect_error(
      [](StateIO& rd) {
        std::vector<float> g(4);
        rd.vec("hidden", g);
      },
      "expected field 'hidden', found 'weights'");
  expect_error(
      [](StateIO& rd) {
        std::vector<double> g(4);
        rd.vec("weights", g);
      },
      "field 'weights': type");
  // Truncated.
  {
    auto rd = StateIO::reader(w.buffer().substr(0, w.buffer().size() - 2), "dir/checkpoint.bin");
    std::vector<float> g(4);
    rd.vec("weights", g);
    std::uint32_t y = 0;
    EXPECT_THROW(rd.value("x", y), std::runtime_error);
  }
  // Bytes left over.
  {
    auto rd = StateIO::reader(w.buffer(), "dir/checkpoint.bin");
    std::vector<float> g(4);
    rd.vec("weights", g);
    EXPECT_THROW(rd.expect_end(), std::runtime_error);
  }
}

TEST(StateIO, EnergyLedgerRoundTripRegistersMissingEntriesInOrder) {
  EnergyLedger a;
  const auto t = a.entry("tile", "adc");
  const auto h = a.entry("host", "compute");
  a.charge(t, 1.5e-9, 3);
  a.charge(h, 0.1 + 0.2, 1);
  auto w = StateIO::writer();
  a.state_io(w);
  EnergyLedger b;
  b.entry("tile", "adc");  // the host entry is registered later in a run
  auto rd = StateIO::reader(w.buffer(), "ckpt");
  b.state_io(rd);
  rd.expect_end();
  ASSERT_EQ(b.entries().size(), 2U);
  EXPECT_EQ(b.entry("host", "compute"), h);
  EXPECT_EQ(b.entries()[h].joules, 0.1 + 0.2);
  EXPECT_EQ(b.entries()[t].count, 3U);
  EXPECT_EQ(b.csv(), a.csv());
  // A ledger whose first entry is another one cannot take it.
  EnergyLedger c;
  c.entry("host", "compute");
  auto rd2 = StateIO::reader(w.buffer(), "ckpt");
  EXPECT_THROW(c.state_io(rd2), std::runtime_error);
}

// FaultSchedule (models/common/fault_schedule.hpp): the one rule of the bus, DMA and tile
// ADC fault injection.
TEST(FaultSchedule, UnconfiguredNeverHits) {
  memplast::FaultSchedule f;
  EXPECT_FALSE(f.configured());
  EXPECT_FALSE(f.pending());
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(f.hit(1e-6 * i));
}

TEST(FaultSchedule, ScheduledTimesHitTheFirstOperationAtOrAfterThemOnce) {
  memplast::FaultSchedule f(0.0, {3e-6, 1e-6, 2e-6}, 7, "test.faults");  // any order
  EXPECT_TRUE(f.configured());
  EXPECT_TRUE(f.pending());
  EXPECT_FALSE(f.hit(0.5e-6));
  EXPECT_TRUE(f.hit(1e-6));  // at the time
  EXPECT_FALSE(f.hit(1.5e-6));
  EXPECT_TRUE(f.hit(5e-6));  // 2 us and 3 us both passed: one hit
  EXPECT_FALSE(f.pending());
  EXPECT_FALSE(f.hit(6e-6));
  EXPECT_TRUE(f.configured());  // still configured: its checkpoint fields stay
}

TEST(FaultSchedule, RateHitsAtTheRateWithinSixSigma) {
  // n = 20000 operations at p = 0.1: hits ~ B(n, p), mean 2000, sd sqrt(n p (1-p)) = 42.4;
  // +-6 sd = [1745, 2255] (a false failure has probability ~2e-9).
  memplast::FaultSchedule f(0.1, {}, 11, "test.faults");
  int hits = 0;
  for (int i = 0; i < 20000; ++i) hits += f.hit(1e-9 * i) ? 1 : 0;
  EXPECT_GE(hits, 1745);
  EXPECT_LE(hits, 2255);
}

TEST(FaultSchedule, CheckpointResumesTheSameSequence) {
  const auto make = [] { return memplast::FaultSchedule(0.3, {5e-6, 9e-6}, 3, "test.faults"); };
  memplast::FaultSchedule a = make();
  for (int i = 0; i < 7; ++i) (void)a.hit(1e-6 * i);  // past the first scheduled time
  auto w = StateIO::writer();
  a.state_io(w, "fault_");
  memplast::FaultSchedule b = make();
  auto rd = StateIO::reader(w.buffer(), "ckpt");
  b.state_io(rd, "fault_");
  rd.expect_end();
  for (int i = 7; i < 200; ++i) EXPECT_EQ(a.hit(1e-6 * i), b.hit(1e-6 * i)) << "operation " << i;
  // A different stream name gives a different sequence.
  memplast::FaultSchedule c(0.3, {}, 3, "other.faults");
  memplast::FaultSchedule d(0.3, {}, 3, "test.faults");
  int differ = 0;
  for (int i = 0; i < 64; ++i) differ += c.hit(0) != d.hit(0) ? 1 : 0;
  EXPECT_GT(differ, 0);
}
