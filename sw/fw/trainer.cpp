#include "fw/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include <Eigen/Dense>

#include "common/isa.hpp"
#include "common/rng.hpp"
#include "fw/host_gemm.hpp"

namespace memplast::fw {

namespace {
using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapM = Eigen::Map<Mat>;
using Row = Eigen::Matrix<float, 1, Eigen::Dynamic>;

constexpr std::size_t kClasses = kClassCount;
constexpr float kAdamB1 = 0.9F;
constexpr float kAdamB2 = 0.999F;
constexpr float kAdamEps = 1e-8F;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Batch norm forward in training mode (batch statistics); updates running stats.
// mu_buf, var_buf: n floats of scratch (the batch mean and variance), kept by the caller
// so that no batch allocates.
void bn_forward_train(BatchNorm& bn, float* z, std::size_t b, std::size_t n, float eps,
                      float momentum, float* xhat, float* istd, float* mu_buf, float* var_buf) {
  MapM Z(z, static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(n));
  MapM XH(xhat, static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(n));
  Eigen::Map<Row> mu(mu_buf, static_cast<Eigen::Index>(n));
  Eigen::Map<Row> var(var_buf, static_cast<Eigen::Index>(n));
  mu = Z.colwise().mean();
  var = (Z.rowwise() - mu).array().square().colwise().mean();
  for (std::size_t j = 0; j < n; ++j) {
    istd[j] = 1.0F / std::sqrt(var(static_cast<Eigen::Index>(j)) + eps);
    bn.mean[j] = (1.0F - momentum) * bn.mean[j] + momentum * mu(static_cast<Eigen::Index>(j));
    const float unbiased = b > 1 ? var(static_cast<Eigen::Index>(j)) * static_cast<float>(b) /
                                       static_cast<float>(b - 1)
                                 : var(static_cast<Eigen::Index>(j));
    bn.var[j] = (1.0F - momentum) * bn.var[j] + momentum * unbiased;
  }
  for (std::size_t i = 0; i < b; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const float xh = (Z(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) -
                        mu(static_cast<Eigen::Index>(j))) *
                       istd[j];
      XH(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = xh;
      z[i * n + j] = bn.gamma[j] * xh + bn.beta[j];
    }
  }
}

void bn_forward_eval(const BatchNorm& bn, float* z, std::size_t b, std::size_t n, float eps) {
  for (std::size_t j = 0; j < n; ++j) {
    const float s = bn.gamma[j] / std::sqrt(bn.var[j] + eps);
    const float o = bn.beta[j] - bn.mean[j] * s;
    for (std::size_t i = 0; i < b; ++i) z[i * n + j] = z[i * n + j] * s + o;
  }
}

// dy (b x n) -> dx (in place), and the affine gradients.
void bn_backward(const BatchNorm& bn, float* dy, const float* xhat, const float* istd,
                 std::size_t b, std::size_t n, std::vector<float>& dgamma,
                 std::vector<float>& dbeta) {
  dgamma.assign(n, 0.0F);
  dbeta.assign(n, 0.0F);
  for (std::size_t i = 0; i < b; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      dgamma[j] += dy[i * n + j] * xhat[i * n + j];
      dbeta[j] += dy[i * n + j];
    }
  }
  const float inv_b = 1.0F / static_cast<float>(b);
  for (std::size_t i = 0; i < b; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      // dxhat = dy * gamma; dx = istd/b * (b*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat))
      const float g = bn.gamma[j];
      dy[i * n + j] =
          istd[j] * inv_b * g *
          (static_cast<float>(b) * dy[i * n + j] - dbeta[j] - xhat[i * n + j] * dgamma[j]);
    }
  }
}

void adam(std::vector<float>& w, std::vector<float>& m, std::vector<float>& v,
          const std::vector<float>& g, float lr, std::uint64_t t) {
  const float c1 = 1.0F - std::pow(kAdamB1, static_cast<float>(t));
  const float c2 = 1.0F - std::pow(kAdamB2, static_cast<float>(t));
  for (std::size_t j = 0; j < w.size(); ++j) {
    m[j] = kAdamB1 * m[j] + (1.0F - kAdamB1) * g[j];
    v[j] = kAdamB2 * v[j] + (1.0F - kAdamB2) * g[j] * g[j];
    w[j] -= lr * (m[j] / c1) / (std::sqrt(v[j] / c2) + kAdamEps);
  }
}
}  // namespace

std::vector<LayerShape> Trainer::shapes(const TrainParams& p) {
  const auto w = layer_widths(p);
  std::vector<LayerShape> sh;
  for (std::size_t l = 0; l + 1 < w.size(); ++l) sh.push_back(LayerShape{w[l], w[l + 1]});
  return sh;
}

std::vector<std::vector<double>> Trainer::initial_hidden(const TrainParams& p, std::uint64_t seed) {
  const auto sh = shapes(p);
  std::vector<std::vector<double>> h(sh.size());
  for (std::size_t l = 0; l < sh.size(); ++l) {
    Rng rng(seed, "meta.init.layer" + std::to_string(l));
    h[l].resize(sh[l].in * sh[l].out);
    for (auto& w : h[l]) w = rng.uniform(-p.init_half_range, p.init_half_range);
  }
  return h;
}

Trainer::Trainer(const TrainParams& p, Accelerator& acc, std::uint64_t seed,
                 std::vector<data::TaskData> tasks, std::vector<std::string> task_names)
    : p_(p),
      acc_(acc),
      seed_(seed),
      tasks_(std::move(tasks)),
      names_(std::move(task_names)),
      widths_(layer_widths(p)) {
  const std::size_t n_bn = p_.bn_per_task ? tasks_.size() : 1;
  const std::size_t L = widths_.size() - 1;
  for (std::size_t t = 0; t < n_bn; ++t) {
    std::vector<BatchNorm> set;
    for (std::size_t l = 0; l < L; ++l) set.emplace_back(widths_[l + 1]);
    bn_.push_back(std::move(set));
  }
  z_.resize(L);
  h_.resize(L);
  xhat_.resize(L);
  istd_.resize(L);
  dw_.resize(L);
  dh_.resize(L);
  dgamma_.resize(L);
  dbeta_.resize(L);
  // The best build of the host products the CPU runs; MEMPLAST_HOST_ISA or MEMPLAST_ISA
  // forces one (generic off x86-64, where select_isa accepts nothing else).
  host_isa_ = select_isa("MEMPLAST_HOST_ISA");
}

void Trainer::set_batch_norms(std::vector<std::vector<BatchNorm>> bn) {
  for (const auto& set : bn) {
    if (set.size() + 1 != widths_.size())
      throw std::runtime_error("batch norms: " + std::to_string(set.size()) + " layers, the " +
                               "network has " + std::to_string(widths_.size() - 1));
    for (std::size_t l = 0; l < set.size(); ++l) {
      if (set[l].gamma.size() != widths_[l + 1])
        throw std::runtime_error("batch norms: layer " + std::to_string(l) + " has " +
                                 std::to_string(set[l].gamma.size()) + " outputs, the network " +
                                 std::to_string(widths_[l + 1]));
    }
  }
  bn_ = std::move(bn);
}

void Trainer::simd_product(const float* A, bool ta, const float* B, bool tb, Eigen::Index m,
                           Eigen::Index n, Eigen::Index k, float alpha, float* C) const {
#if defined(MEMPLAST_HOST_SIMD)
  const auto product = host_isa_ == Isa::avx512 ? gemm::product_avx512 : gemm::product_avx2;
  product(A, ta, B, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, C);
#else
  (void)A, (void)ta, (void)B, (void)tb, (void)m, (void)n, (void)k, (void)alpha, (void)C;
  throw std::logic_error("host products: no SIMD build in this binary");
#endif
}

double Trainer::train_batch(std::size_t t, const std::uint32_t* idx, std::size_t b) {
  const auto& ds = tasks_[t].train;
  x_.resize(b * widths_[0]);
  labels_.resize(b);
  data::gather_float(ds, idx, b, x_.data());
  data::gather_labels(ds, idx, b, labels_.data());
  auto& bn = bn_for(t);
  mark(true, "forward");
  forward_train(bn, b);
  mark(false, "forward");
  mark(true, "loss");
  const std::size_t correct = softmax_xent(b);
  mark(false, "loss");
  mark(true, "backward");
  backward(bn, b);
  mark(false, "backward");
  mark(true, "update");
  update(bn, b);
  mark(false, "update");
  return static_cast<double>(correct);
}

void Trainer::forward_train(std::vector<BatchNorm>& bn, std::size_t b) {
  const auto eps = static_cast<float>(p_.bn_eps);
  const auto mom = static_cast<float>(p_.bn_momentum);
  const auto clip = static_cast<float>(p_.act_clip);
  const std::size_t L = widths_.size() - 1;
  const std::size_t widest = *std::max_element(widths_.begin() + 1, widths_.end());
  bn_mu_.resize(widest);
  bn_var_.resize(widest);
  const float* in = x_.data();
  for (std::size_t l = 0; l < L; ++l) {
    // ---- layer l on the tiles; its output scale, batch norm (and activation) on the host ----
    const std::size_t n = widths_[l + 1];
    auto& z = z_[l];
    z.resize(b * n);
    acc_.forward(static_cast<int>(l), in, static_cast<int>(b), z.data());
    // A layer after the first takes activations scaled to [0, 1] (h = clamp(a)/clip).
    if (l > 0) {
      for (auto& v : z) v *= clip;
    }
    xhat_[l].resize(b * n);
    istd_[l].resize(n);
    bn_forward_train(bn[l], z.data(), b, n, eps, mom, xhat_[l].data(), istd_[l].data(),
                     bn_mu_.data(), bn_var_.data());
    // z_[l] now holds the pre-activation after batch norm; it is not written again in this
    // batch, so the backward pass reads it in place (no copy).
    if (l + 1 < L) {
      auto& h = h_[l];
      h.resize(b * n);
      const float* a = z.data();
      for (std::size_t i = 0; i < b * n; ++i) h[i] = std::clamp(a[i], 0.0F, clip) / clip;
      in = h.data();
    }
  }
}

std::size_t Trainer::softmax_xent(std::size_t b) {
  const std::vector<float>& logits = z_.back();  // not written again in this batch
  std::size_t correct = 0;
  dz_.resize(b * kClasses);
  for (std::size_t i = 0; i < b; ++i) {
    const float* l = &logits[i * kClasses];
    const float mx = *std::max_element(l, l + kClasses);
    float e[kClasses];
    float sum = 0;
    for (std::size_t c = 0; c < kClasses; ++c) {
      e[c] = std::exp(l[c] - mx);  // once per logit (was computed twice; same values)
      sum += e[c];
    }
    std::size_t arg = 0;
    for (std::size_t c = 0; c < kClasses; ++c) {
      const float pr = e[c] / sum;
      dz_[i * kClasses + c] = (pr - (c == labels_[i] ? 1.0F : 0.0F)) / static_cast<float>(b);
      if (l[c] > l[arg]) arg = c;
    }
    correct += arg == labels_[i] ? 1 : 0;
  }
  return correct;
}

void Trainer::backward(std::vector<BatchNorm>& bn, std::size_t b) {
  const auto clip = static_cast<float>(p_.act_clip);
  const auto bi = static_cast<Eigen::Index>(b);
  const std::size_t L = widths_.size() - 1;
  // (member scratch: no allocation per batch)
  float* dz = dz_.data();  // dLoss / d(layer l's output after batch norm)
  for (std::size_t l = L; l-- > 0;) {
    const std::size_t n_in = widths_[l];
    const std::size_t n_out = widths_[l + 1];
    const auto Ii = static_cast<Eigen::Index>(n_in);
    const auto Oi = static_cast<Eigen::Index>(n_out);
    bn_backward(bn[l], dz, xhat_[l].data(), istd_[l].data(), b, n_out, dgamma_[l], dbeta_[l]);
    // z = s * (in @ W), s = clip after the first layer (its inputs are h = clamp(a)/clip),
    // 1 for the first: dW = s * in^T dz ; din = s * dz W^T
    const float* in = l == 0 ? x_.data() : h_[l - 1].data();
    const float s = l == 0 ? 1.0F : clip;
    auto& dw = dw_[l];
    dw.resize(n_in * n_out);
    if (host_isa_ != Isa::generic) {
      simd_product(in, true, dz, false, Ii, Oi, bi, s, dw.data());
    } else if (l == 0) {
      MapM(dw.data(), Ii, Oi).noalias() =
          MapM(const_cast<float*>(in), bi, Ii).transpose() * MapM(dz, bi, Oi);
    } else {
      MapM(dw.data(), Ii, Oi).noalias() =
          s * MapM(const_cast<float*>(in), bi, Ii).transpose() * MapM(dz, bi, Oi);
    }
    if (l == 0) break;
    auto& dh = dh_[l - 1];
    dh.resize(b * n_in);
    if (p_.backward == "tiles") {
      acc_.transpose(static_cast<int>(l), dz, static_cast<int>(b), dh.data());
      for (auto& v : dh) v *= clip;
    } else {
      w_.resize(n_in * n_out);
      acc_.read_weights(static_cast<int>(l), w_.data());
      if (host_isa_ != Isa::generic) {
        simd_product(dz, false, w_.data(), true, bi, Ii, Oi, clip, dh.data());
      } else {
        MapM(dh.data(), bi, Ii).noalias() =
            clip * MapM(dz, bi, Oi) * MapM(w_.data(), Ii, Oi).transpose();
      }
    }
    // d h/d a: (1/clip) inside (0, clip) from h = clamp(a)/clip, times clip above = 1
    const float* a = z_[l - 1].data();  // layer l-1's pre-activation after batch norm
    for (std::size_t i = 0; i < b * n_in; ++i) {
      dh[i] = (a[i] > 0.0F && a[i] < clip) ? dh[i] / clip : 0.0F;
    }
    dz = dh.data();
  }
}

void Trainer::update(std::vector<BatchNorm>& bn, std::size_t b) {
  const std::size_t L = widths_.size() - 1;
  // Gradients to the metaplasticity unit, batch norm on the host.
  for (std::size_t l = 0; l < L; ++l) acc_.accumulate(static_cast<int>(l), dw_[l].data());
  // "programming", nested in "update": meta_unit's step and the program-and-verify of
  // every changed level, until pv_ctrl is idle.
  mark(true, "programming");
  acc_.update();
  mark(false, "programming");
  const auto lr = static_cast<float>(p_.bn_lr);
  for (std::size_t l = 0; l < L; ++l) {
    auto& n = bn[l];
    ++n.steps;
    adam(n.gamma, n.mg, n.vg, dgamma_[l], lr, n.steps);
    adam(n.beta, n.mb, n.vb, dbeta_[l], lr, n.steps);
  }

  // Host work of this batch: the digital products (dW of every layer, the gradient at
  // every hidden layer's output) and the element-wise passes (per hidden output 12, per
  // class 30).
  std::uint64_t per_sample_macs = 0;
  std::uint64_t hidden_outputs = 0;
  for (std::size_t l = 0; l < L; ++l) {
    const std::uint64_t w = static_cast<std::uint64_t>(widths_[l]) * widths_[l + 1];
    per_sample_macs += l == 0 ? w : 2 * w;
    if (l + 1 < L) hidden_outputs += widths_[l + 1];
  }
  const std::uint64_t macs = static_cast<std::uint64_t>(b) * per_sample_macs;
  const std::uint64_t ops = static_cast<std::uint64_t>(b) * (12 * hidden_outputs + 30 * kClasses);
  acc_.host_compute(macs, ops);
}

double Trainer::evaluate(std::size_t t) {
  const auto& ds = tasks_[t].test;
  std::size_t n = ds.count;
  if (p_.test_samples > 0) n = std::min<std::size_t>(n, static_cast<std::size_t>(p_.test_samples));
  const auto& bn = bn_[p_.bn_per_task ? t : 0];
  const auto eps = static_cast<float>(p_.bn_eps);
  const auto clip = static_cast<float>(p_.act_clip);
  const std::size_t L = widths_.size() - 1;
  const std::size_t chunk = 500;
  std::size_t correct = 0;
  std::vector<std::uint32_t> idx(chunk);
  std::vector<std::vector<float>> act(L + 1);  // act[0]: inputs, act[l + 1]: layer l's output
  for (std::size_t l = 0; l <= L; ++l) act[l].resize(chunk * widths_[l]);
  std::uint64_t hidden_outputs = 0;
  for (std::size_t l = 1; l < L; ++l) hidden_outputs += widths_[l];
  std::vector<std::uint8_t> labels(chunk);
  for (std::size_t s = 0; s < n; s += chunk) {
    const std::size_t b = std::min(chunk, n - s);
    for (std::size_t i = 0; i < b; ++i) idx[i] = static_cast<std::uint32_t>(s + i);
    data::gather_float(ds, idx.data(), b, act[0].data());
    data::gather_labels(ds, idx.data(), b, labels.data());
    for (std::size_t l = 0; l < L; ++l) {
      auto& z = act[l + 1];
      const std::size_t w = widths_[l + 1];
      acc_.forward(static_cast<int>(l), act[l].data(), static_cast<int>(b), z.data());
      if (l > 0) {
        for (std::size_t i = 0; i < b * w; ++i) z[i] *= clip;
      }
      bn_forward_eval(bn[l], z.data(), b, w, eps);
      if (l + 1 < L) {
        for (std::size_t i = 0; i < b * w; ++i) z[i] = std::clamp(z[i], 0.0F, clip) / clip;
      }
    }
    const auto& z2 = act[L];
    for (std::size_t i = 0; i < b; ++i) {
      const float* l = &z2[i * kClasses];
      const auto arg = static_cast<std::size_t>(std::max_element(l, l + kClasses) - l);
      correct += arg == labels[i] ? 1 : 0;
    }
    acc_.host_compute(0, static_cast<std::uint64_t>(b) * (4 * hidden_outputs + 20 * kClasses));
  }
  samples_evaluated_ += n;
  return n == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(n);
}

namespace {
void record_io(StateIO& io, AccuracyRecord& r) {
  io.str("trained_task", r.trained_task);
  io.value("epoch", r.epoch);
  std::uint64_t n = r.accuracy.size();
  io.value("accuracies", n);
  if (io.reading() && n > 1024) throw std::runtime_error(io.origin() + ": too many accuracies");
  auto it = r.accuracy.begin();
  std::map<std::string, double> read;
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string k = io.writing() ? it->first : std::string();
    double v = io.writing() ? it->second : 0.0;
    io.str("task", k);
    io.value("accuracy", v);
    if (io.writing()) {
      ++it;
    } else {
      read[k] = v;
    }
  }
  if (io.reading()) r.accuracy = std::move(read);
  io.value("simulated_time_s", r.simulated_time_s);
  io.value("wall_time_s", r.wall_time_s);
}

void records_io(StateIO& io, const char* name, std::vector<AccuracyRecord>& v) {
  std::uint64_t n = v.size();
  io.value(name, n);
  if (io.reading()) {
    if (n > (1U << 20)) throw std::runtime_error(io.origin() + ": too many records");
    v.assign(n, AccuracyRecord{});
  }
  for (auto& r : v) record_io(io, r);
}

void bn_io(StateIO& io, BatchNorm& b) {
  io.vec("gamma", b.gamma);
  io.vec("beta", b.beta);
  io.vec("mean", b.mean);
  io.vec("var", b.var);
  io.vec("mg", b.mg);
  io.vec("vg", b.vg);
  io.vec("mb", b.mb);
  io.vec("vb", b.vb);
  io.value("steps", b.steps);
}
}  // namespace

void Trainer::maybe_refresh(TrainResult& res, std::size_t t, int e) {
  if (p_.refresh_every_epochs <= 0) return;
  // Epochs completed over the run (the same count after a resume).
  std::int64_t done = e + 1;
  for (std::size_t s = 0; s < t; ++s)
    done += static_cast<std::int64_t>(p_.epochs[std::min(s, p_.epochs.size() - 1)]);
  if (done % p_.refresh_every_epochs != 0) return;
  mark(true, "refresh");
  const double t0 = acc_.now_s();
  res.refresh_pulses += acc_.refresh();
  res.refresh_s += acc_.now_s() - t0;
  ++res.refreshes;
  mark(false, "refresh");
}

void Trainer::state_io(StateIO& io, TrainPosition pos) {
  io.section("trainer");
  TrainResult& res = io.writing() ? *cur_ : resume_res_;
  io.value("task", pos.task);
  io.value("epoch", pos.epoch);
  io.value("batch", pos.batch);
  io.value("batches_done", pos.batches_done);
  io.value("batches_total", pos.batches_total);
  io.value("correct", pos.correct);
  io.value("seen", pos.seen);
  records_io(io, "per_epoch", res.per_epoch);
  records_io(io, "after_task", res.after_task);
  io.value("samples_trained", res.samples_trained);
  io.value("samples_evaluated", samples_evaluated_);
  io.value("refreshes", res.refreshes);
  io.value("refresh_pulses", res.refresh_pulses);
  io.value("refresh_s", res.refresh_s);
  for (auto& set : bn_) {
    for (auto& b : set) bn_io(io, b);
  }
  if (io.reading()) {
    if (pos.task >= tasks_.size())
      throw std::runtime_error(io.origin() + ": task index out of range");
    resume_ = true;
    resume_pos_ = pos;
  }
}

TrainResult Trainer::run(const ProgressFn& progress) {
  TrainResult res;
  if (resume_) res = resume_res_;
  cur_ = &res;
  // Where a resumed run starts (the start of the run otherwise).
  const TrainPosition start = resume_ ? resume_pos_ : TrainPosition{};
  bool resuming = resume_;
  resume_ = false;
  // Task-specific parameters kept outside the crossbars: gamma, beta, mean, var (fp32).
  std::uint64_t bn_width = 0;
  for (std::size_t l = 1; l < widths_.size(); ++l) bn_width += widths_[l];
  res.bn_bits = static_cast<std::uint64_t>(bn_.size()) * 4ULL * 32ULL * bn_width;
  const auto t0 = std::chrono::steady_clock::now();
  const auto B = static_cast<std::size_t>(p_.batch);
  // Totals for the ETA.
  std::size_t batches_total = 0;
  std::vector<std::size_t> n_train(tasks_.size());
  for (std::size_t t = 0; t < tasks_.size(); ++t) {
    n_train[t] = tasks_[t].train.count;
    if (p_.train_samples > 0)
      n_train[t] = std::min<std::size_t>(n_train[t], static_cast<std::size_t>(p_.train_samples));
    const auto e = static_cast<std::size_t>(p_.epochs[std::min(t, p_.epochs.size() - 1)]);
    batches_total += e * ((n_train[t] + B - 1) / B);
  }
  std::size_t batches_done = start.batches_done;
  for (std::size_t t = start.task; t < tasks_.size(); ++t) {
    const int epochs = static_cast<int>(p_.epochs[std::min(t, p_.epochs.size() - 1)]);
    const std::size_t nb = (n_train[t] + B - 1) / B;
    pos_ = PhaseMark{};
    pos_.task = static_cast<std::int64_t>(t);
    // A resumed run re-enters its task and epoch: their phases are open in the restored
    // ledger already, so their begins are marked resumed (trace only); their ends close
    // them as usual.
    mark(true, "task", resuming);
    if (t > 0 && !resuming) acc_.new_task();
    auto evaluate_seen = [&](int epoch) {
      pos_.batch = static_cast<std::int64_t>(nb);
      mark(true, "evaluation");
      AccuracyRecord rec;
      rec.trained_task = names_[t];
      rec.epoch = epoch;
      for (std::size_t s = 0; s <= t; ++s) rec.accuracy[names_[s]] = evaluate(s);
      rec.simulated_time_s = acc_.now_s();
      rec.wall_time_s = seconds_since(t0);
      mark(false, "evaluation");
      pos_.batch = -1;
      return rec;
    };
    for (int e = resuming ? start.epoch : 0; e < epochs; ++e) {
      const auto order =
          data::epoch_order(n_train[t], derive_seed(seed_, "train.shuffle." + names_[t]),
                            static_cast<std::uint32_t>(e));
      double correct = resuming ? start.correct : 0;
      std::size_t seen = resuming ? start.seen : 0;
      const std::size_t first_batch = resuming ? start.batch : 0;
      const bool resumed_epoch = resuming;
      resuming = false;
      pos_.epoch = e;
      mark(true, "epoch", resumed_epoch);
      for (std::size_t bi = first_batch; bi < nb; ++bi) {
        if (boundary_) {
          const TrainPosition pos{t, e, bi, batches_done, batches_total, correct, seen};
          if (boundary_(pos)) {
            res.interrupted = true;
            res.stopped_at = pos;
            res.samples_trained += seen;
            res.samples_evaluated = samples_evaluated_;
            res.train_wall_s = seconds_since(t0);
            cur_ = nullptr;
            return res;
          }
        }
        const std::size_t first = bi * B;
        const std::size_t b = std::min(B, n_train[t] - first);
        pos_.batch = static_cast<std::int64_t>(bi);
        mark(true, "batch");
        correct += train_batch(t, order.data() + first, b);
        mark(false, "batch");
        pos_.batch = -1;
        seen += b;
        ++batches_done;
        if (progress) {
          progress(ProgressInfo{names_[t], e + 1, epochs, bi + 1, nb,
                                correct / static_cast<double>(seen), acc_.now_s(),
                                seconds_since(t0), batches_done, batches_total});
        }
      }
      res.samples_trained += seen;
      maybe_refresh(res, t, e);
      if (p_.eval_every_epoch || e + 1 == epochs) res.per_epoch.push_back(evaluate_seen(e + 1));
      mark(false, "epoch");
      pos_.epoch = -1;
    }
    if (epochs == 0) res.per_epoch.push_back(evaluate_seen(0));
    res.after_task.push_back(res.per_epoch.back());
    mark(false, "task");
  }
  res.samples_evaluated = samples_evaluated_;
  res.train_wall_s = seconds_since(t0);
  cur_ = nullptr;
  return res;
}

}  // namespace memplast::fw
