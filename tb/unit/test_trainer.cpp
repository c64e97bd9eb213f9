// The N-layer firmware (issue 19, item 2 and its tests):
//  * train.layers resolves to the weight layers' shapes; contradicting or malformed
//    widths are configuration errors naming the key;
//  * a 3-layer network's software baseline (FunctionalAccelerator with ideal devices:
//    the quantized levels as float weights) gets from fw::Trainer the gradients of an
//    independent double-precision reference: the same network's loss written out here
//    (forward only: product, output scale, batch norm with batch statistics, clipped
//    relu, softmax cross-entropy), differentiated by central differences;
//  * that 3-layer network trains: its loss falls over a few batches of a synthetic,
//    learnable task.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common/rng.hpp"
#include "config/config.hpp"
#include "data/dataset.hpp"
#include "functional/functional.hpp"
#include "fw/trainer.hpp"

namespace {

using memplast::Config;
using memplast::load_config;
namespace fw = memplast::fw;

std::string config_error(const std::vector<std::string>& sets) {
  try {
    (void)load_config("", sets);
  } catch (const memplast::cfg::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(TrainerLayers, WidthsResolveToShapes) {
  const auto def = load_config("", {});
  const auto d = fw::Trainer::shapes(def.config->train);
  ASSERT_EQ(d.size(), 2U);
  EXPECT_EQ(d[0].in, 784U);
  EXPECT_EQ(d[0].out, 1024U);
  EXPECT_EQ(d[1].in, 1024U);
  EXPECT_EQ(d[1].out, 10U);
  const auto c = load_config("", {"train.layers=[784, 4096, 4096, 10]"});
  const auto s = fw::Trainer::shapes(c.config->train);
  ASSERT_EQ(s.size(), 3U);
  EXPECT_EQ(s[1].in, 4096U);
  EXPECT_EQ(s[1].out, 4096U);
  EXPECT_EQ(s[2].out, 10U);
  const auto h = fw::Trainer::initial_hidden(
      load_config("", {"train.layers=[784,40,30,10]"}).config->train, 7);
  ASSERT_EQ(h.size(), 3U);
  EXPECT_EQ(h[0].size(), 784U * 40U);
  EXPECT_EQ(h[1].size(), 40U * 30U);
  EXPECT_EQ(h[2].size(), 30U * 10U);
  // train.hidden is the shorthand of [784, hidden, 10]: the same shapes either way.
  const auto a = fw::Trainer::shapes(load_config("", {"train.hidden=256"}).config->train);
  const auto b = fw::Trainer::shapes(load_config("", {"train.layers=[784,256,10]"}).config->train);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t l = 0; l < a.size(); ++l) {
    EXPECT_EQ(a[l].in, b[l].in);
    EXPECT_EQ(a[l].out, b[l].out);
  }
}

TEST(TrainerLayers, BadWidthsNameTheKey) {
  EXPECT_NE(config_error({"train.hidden=256", "train.layers=[784,128,10]"})
                .find("'train.layers' and 'train.hidden'"),
            std::string::npos);
  EXPECT_NE(config_error({"train.layers=[700,128,10]"}).find("first width"), std::string::npos);
  EXPECT_NE(config_error({"train.layers=[784,128,12]"}).find("last width"), std::string::npos);
  EXPECT_NE(config_error({"train.layers=[784]"}).find("at least 2"), std::string::npos);
  EXPECT_NE(config_error({"train.layers=[784,128.5,10]"}).find("whole number"), std::string::npos);
  EXPECT_NE(config_error({"train.layers=[784,4,10]"}).find("outside 8..8192"), std::string::npos);
  EXPECT_EQ(config_error({"train.layers=[784,64,32,10]"}), "");
}

// A small synthetic task: `n` images whose class c lights pixel block c (plus noise), so
// a network can learn it in a few batches.
memplast::data::Dataset synthetic(std::size_t n, std::uint64_t seed) {
  memplast::data::Dataset ds;
  ds.count = n;
  ds.rows = 28;
  ds.cols = 28;
  ds.pixels.resize(n * 784);
  ds.labels.resize(n);
  memplast::Rng rng(seed, "test.synthetic");
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::uint8_t>(rng.uniform(0.0, 10.0));
    ds.labels[i] = std::min<std::uint8_t>(c, 9);
    for (std::size_t p = 0; p < 784; ++p) {
      const bool lit = p / 78 == ds.labels[i];
      ds.pixels[i * 784 + p] = static_cast<std::uint8_t>(rng.uniform(0.0, lit ? 255.0 : 60.0));
    }
  }
  return ds;
}

// The software baseline, recording the gradients of the first update and the loss-side
// inputs of the first batch (the images the firmware hands to layer 0).
class Recorder : public fw::Accelerator {
 public:
  explicit Recorder(fw::Accelerator& a, std::size_t layers) : a_(a), grads(layers) {}
  void forward(int layer, const float* x, int batch, float* y) override {
    if (layer == 0 && first_x.empty() && updates == 0)
      first_x.assign(x, x + static_cast<std::size_t>(batch) * 784);
    a_.forward(layer, x, batch, y);
  }
  void transpose(int layer, const float* d, int batch, float* y) override {
    a_.transpose(layer, d, batch, y);
  }
  void read_weights(int layer, float* w) override { a_.read_weights(layer, w); }
  void accumulate(int layer, const float* g) override {
    if (updates == 0) {
      const auto l = static_cast<std::size_t>(layer);
      grads[l].assign(g, g + n_weights[l]);
    }
    a_.accumulate(layer, g);
  }
  std::size_t update() override {
    ++updates;
    return stop_updates ? 0 : a_.update();
  }
  void new_task() override { a_.new_task(); }
  void host_compute(std::uint64_t m, std::uint64_t o) override { a_.host_compute(m, o); }
  [[nodiscard]] double now_s() const override { return a_.now_s(); }
  [[nodiscard]] fw::AccelStats stats() const override { return a_.stats(); }
  [[nodiscard]] std::uint64_t memory_hidden_bits() const override { return 0; }
  [[nodiscard]] std::uint64_t memory_optimizer_bits() const override { return 0; }
  [[nodiscard]] std::uint64_t memory_stored_bits() const override { return 0; }

  fw::Accelerator& a_;
  std::vector<std::vector<float>> grads;
  std::vector<std::size_t> n_weights;
  std::vector<float> first_x;
  int updates{0};
  bool stop_updates{false};
};

// The float reference, in double: mean softmax cross-entropy of the batch x (b x 784)
// through layers W[l] (in x out), z_l = s_l (a_{l-1} W_l) with s_0 = 1 and s_l = clip
// after, batch norm with the batch's statistics (gamma 1, beta 0, biased variance),
// a_l = clamp(z_l, 0, clip) / clip between layers.
double reference_loss(const std::vector<double>& x, std::size_t b,
                      const std::vector<std::vector<double>>& W, const std::vector<std::size_t>& w,
                      const std::vector<std::uint8_t>& labels, double clip, double eps) {
  std::vector<double> a = x;
  for (std::size_t l = 0; l + 1 < w.size(); ++l) {
    const std::size_t n_in = w[l];
    const std::size_t n_out = w[l + 1];
    std::vector<double> z(b * n_out, 0.0);
    for (std::size_t i = 0; i < b; ++i)
      for (std::size_t k = 0; k < n_in; ++k)
        for (std::size_t j = 0; j < n_out; ++j)
          z[i * n_out + j] += a[i * n_in + k] * W[l][k * n_out + j];
    const double s = l == 0 ? 1.0 : clip;
    for (auto& v : z) v *= s;
    for (std::size_t j = 0; j < n_out; ++j) {
      double mu = 0;
      for (std::size_t i = 0; i < b; ++i) mu += z[i * n_out + j];
      mu /= static_cast<double>(b);
      double var = 0;
      for (std::size_t i = 0; i < b; ++i) var += (z[i * n_out + j] - mu) * (z[i * n_out + j] - mu);
      var /= static_cast<double>(b);
      for (std::size_t i = 0; i < b; ++i)
        z[i * n_out + j] = (z[i * n_out + j] - mu) / std::sqrt(var + eps);
    }
    if (l + 2 < w.size()) {
      for (auto& v : z) v = std::clamp(v, 0.0, clip) / clip;
    }
    a = std::move(z);
  }
  double loss = 0;
  for (std::size_t i = 0; i < b; ++i) {
    const double* l = &a[i * 10];
    const double mx = *std::max_element(l, l + 10);
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += std::exp(l[c] - mx);
    loss += -(l[labels[i]] - mx - std::log(sum));
  }
  return loss / static_cast<double>(b);
}

struct Run {
  std::shared_ptr<const Config> cfg;
  std::vector<fw::LayerShape> shapes;
  std::unique_ptr<memplast::functional::FunctionalAccelerator> acc;
};

Run baseline(const std::vector<std::string>& extra) {
  std::vector<std::string> sets{
      "train.layers=[784,24,16,10]", "train.mode=functional", "train.device_effects=false",
      "train.tasks=mnist",           "train.epochs=[1]",      "train.eval_every_epoch=false"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  Run r;
  r.cfg = load_config("", sets).config;
  r.shapes = fw::Trainer::shapes(r.cfg->train);
  r.acc = std::make_unique<memplast::functional::FunctionalAccelerator>(*r.cfg, r.shapes);
  return r;
}

memplast::data::TaskData task(std::size_t n_train) {
  memplast::data::TaskData t;
  t.train = synthetic(n_train, 1);
  t.test = synthetic(200, 2);
  return t;
}

// The first batch's gradients of all three layers against central differences of the
// double reference, at a sample of weights per layer. Bound: the firmware computes in
// float32 (products over <= 784 terms, batch norm over 32 samples); its error relative
// to the layer's largest gradient stays below 1e-3 (float32's epsilon is 1.2e-7; a sum of
// 784 rounded products and the batch-norm chain lose at most a few hundred of them),
// and the difference quotient's truncation error at h = 1e-4 is O(h^2) ~ 1e-8.
TEST(TrainerLayers, ThreeLayerSoftwareBaselineGradientsMatchDoubleReference) {
  auto r = baseline({"train.batch=32", "train.train_samples=32", "train.test_samples=32"});
  Recorder rec(*r.acc, 3);
  for (const auto& s : r.shapes) rec.n_weights.push_back(s.in * s.out);
  rec.stop_updates = true;
  fw::Trainer trainer(r.cfg->train, rec, 5, {task(32)}, {"mnist"});
  (void)trainer.run({});
  ASSERT_EQ(rec.first_x.size(), 32U * 784U);
  const std::vector<std::size_t> w{784, 24, 16, 10};
  std::vector<std::vector<double>> W(3);
  for (std::size_t l = 0; l < 3; ++l) {
    std::vector<float> f(w[l] * w[l + 1]);
    r.acc->read_weights(static_cast<int>(l), f.data());
    W[l].assign(f.begin(), f.end());
  }
  // The batch in the firmware's order: its images are the recorded inputs; labels by
  // matching each image to the dataset.
  const auto ds = synthetic(32, 1);
  std::vector<double> x(rec.first_x.begin(), rec.first_x.end());
  std::vector<std::uint8_t> labels(32);
  for (std::size_t i = 0; i < 32; ++i) {
    bool found = false;
    for (std::size_t k = 0; k < 32 && !found; ++k) {
      bool same = true;
      for (std::size_t p = 0; p < 784 && same; ++p)
        same = static_cast<float>(ds.pixels[k * 784 + p]) / 255.0F == rec.first_x[i * 784 + p];
      if (same) {
        labels[i] = ds.labels[k];
        found = true;
      }
    }
    ASSERT_TRUE(found) << "batch image " << i << " is not in the dataset";
  }
  const double clip = r.cfg->train.act_clip;
  const double eps = r.cfg->train.bn_eps;
  memplast::Rng pick(3, "test.pick");
  for (std::size_t l = 0; l < 3; ++l) {
    const auto& g = rec.grads[l];
    ASSERT_EQ(g.size(), W[l].size());
    double gmax = 0;
    for (float v : g) gmax = std::max(gmax, static_cast<double>(std::fabs(v)));
    ASSERT_GT(gmax, 0.0) << "layer " << l << ": no gradient";
    for (int k = 0; k < 25; ++k) {
      const auto i = static_cast<std::size_t>(pick.uniform(0.0, static_cast<double>(g.size())));
      const double h = 1e-4;
      const double keep = W[l][i];
      W[l][i] = keep + h;
      const double up = reference_loss(x, 32, W, w, labels, clip, eps);
      W[l][i] = keep - h;
      const double down = reference_loss(x, 32, W, w, labels, clip, eps);
      W[l][i] = keep;
      const double ref = (up - down) / (2 * h);
      EXPECT_NEAR(g[i], ref, 1e-3 * gmax) << "layer " << l << " weight " << i;
    }
  }
}

// The 3-layer software baseline learns the synthetic task: its training accuracy in the
// last of 4 epochs is above 0.5 (chance 0.1; 400 samples: P(X >= 200) for X ~ B(400, 0.1)
// is below 1e-60), and its test accuracy too.
TEST(TrainerLayers, ThreeLayerSoftwareBaselineTrains) {
  auto r = baseline({"train.batch=20", "train.epochs=[4]", "train.eval_every_epoch=true"});
  fw::Trainer trainer(r.cfg->train, *r.acc, 5, {task(400)}, {"mnist"});
  const auto res = trainer.run({});
  ASSERT_EQ(res.per_epoch.size(), 4U);
  const double first = res.per_epoch.front().accuracy.at("mnist");
  const double last = res.per_epoch.back().accuracy.at("mnist");
  EXPECT_GT(last, 0.5) << "test accuracy after 4 epochs (after epoch 1: " << first << ")";
  ASSERT_EQ(trainer.batch_norms().size(), 1U);
  ASSERT_EQ(trainer.batch_norms()[0].size(), 3U);
  EXPECT_EQ(trainer.batch_norms()[0][1].gamma.size(), 16U);
}

}  // namespace
