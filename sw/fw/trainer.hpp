// The training firmware: a perceptron (784-H-10 by default, any widths by train.layers)
// whose quantized weights live in the accelerator's crossbars, trained task after task with the
// metaplastic rule; activation, batch norm (per task), loss and the backward pass run on the host.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "common/isa.hpp"
#include "common/state_io.hpp"
#include "data/dataset.hpp"
#include "fw/accelerator.hpp"
#include "fw/train_params.hpp"

namespace memplast::fw {

struct AccuracyRecord {
  std::string trained_task;                // the task being trained when this was measured
  int epoch{0};                            // 1-based epoch within that task
  std::map<std::string, double> accuracy;  // every task seen so far -> fraction correct
  double simulated_time_s{0};
  double wall_time_s{0};
};

struct ProgressInfo {
  std::string task;
  int epoch{0};
  int epochs{0};
  std::size_t batch{0};
  std::size_t batches{0};
  double running_accuracy{0};
  double simulated_time_s{0};
  double wall_time_s{0};
  std::size_t batches_done_total{0};
  std::size_t batches_total{0};
};

// A batch boundary: the run stands before batch `batch` (0-based) of epoch `epoch`
// (0-based) of task `task`; `correct` and `seen` count this epoch's batches so far.
struct TrainPosition {
  std::size_t task{0};
  int epoch{0};
  std::size_t batch{0};
  std::size_t batches_done{0};
  std::size_t batches_total{0};
  double correct{0};
  std::size_t seen{0};
};

struct TrainResult {
  // The run stopped at `stopped_at` because the boundary callback asked it to.
  bool interrupted{false};
  TrainPosition stopped_at;
  std::vector<AccuracyRecord> per_epoch;
  std::vector<AccuracyRecord> after_task;
  std::uint64_t samples_trained{0};
  std::uint64_t samples_evaluated{0};
  double train_wall_s{0};
  std::uint64_t bn_bits{0};  // task-specific parameters kept outside the crossbars
  // Refreshes (train.refresh_every_epochs): how many, their SET/RESET pulses and their
  // simulated time (phase "refresh"; its energy is the ledger's).
  std::uint64_t refreshes{0};
  std::uint64_t refresh_pulses{0};
  double refresh_s{0};
};

// Per-task batch-norm state of one layer (affine parameters, running statistics, and
// the Adam moments of the affine parameters).
struct BatchNorm {
  std::vector<float> gamma, beta, mean, var;
  std::vector<float> mg, vg, mb, vb;
  std::uint64_t steps{0};
  explicit BatchNorm(std::size_t n = 0)
      : gamma(n, 1.0F),
        beta(n, 0.0F),
        mean(n, 0.0F),
        var(n, 1.0F),
        mg(n, 0.0F),
        vg(n, 0.0F),
        mb(n, 0.0F),
        vb(n, 0.0F) {}
};

// A firmware phase marker (on a real core, a write to a debug trace port): the begin
// or end of a phase of the training loop, with the position in it (-1 where a field
// does not apply). Names (traces/README.md): "task", "epoch", "batch", "forward",
// "loss", "backward", "update", "programming", "evaluation". Phases nest: task > epoch >
// batch > forward | loss | backward | update > programming, and task > epoch > evaluation. The
// evaluation after an epoch has batch = the epoch's batch count (the batch after its last).
struct PhaseMark {
  bool begin{true};
  const char* name{""};
  std::int64_t task{-1};
  std::int64_t epoch{-1};
  std::int64_t batch{-1};
  // A begin a resumed run emits again for the task and epoch it re-enters: the phase is
  // open in the restored ledger already, so only the trace takes it.
  bool resumed{false};
};

// Writes (or reads) the whole state of a run at a batch boundary: the trainer's, then
// the accelerator's (checkpoints, memplast train --resume).
using SnapshotFn = std::function<void(StateIO&)>;
// A batch-boundary callback that can also take a checkpoint: `snapshot` writes the run's
// whole state at this boundary; returning true stops the run there.
using CheckpointBoundaryFn = std::function<bool(const TrainPosition&, const SnapshotFn& snapshot)>;

class Trainer {
 public:
  using ProgressFn = std::function<void(const ProgressInfo&)>;
  // Called at every batch boundary, before the batch; returning true stops the run there.
  using BoundaryFn = std::function<bool(const TrainPosition&)>;

  Trainer(const TrainParams& p, Accelerator& acc, std::uint64_t seed,
          std::vector<data::TaskData> tasks, std::vector<std::string> task_names);

  TrainResult run(const ProgressFn& progress);
  // Test accuracy on task t with that task's batch-norm state.
  double evaluate(std::size_t t);

  // The weight layers' shapes (in x out), from train.layers / train.hidden.
  [[nodiscard]] static std::vector<LayerShape> shapes(const TrainParams& p);
  // The initial hidden weights of every layer (in x out, row-major), as the firmware
  // computes them before the first task: layer l's are U(-init_half_range,
  // init_half_range) from the random stream "meta.init.layer<l>" of `seed`, the draws of
  // meta::init_layer (models/meta/meta_init.hpp), so the functional mode's engines and
  // the hardware mode's meta_unit (loaded through its HIDDEN window) start from the same
  // weights (tb_system_init checks it).
  [[nodiscard]] static std::vector<std::vector<double>> initial_hidden(const TrainParams& p,
                                                                       std::uint64_t seed);
  // Per task (or one set), per weight layer: the batch norm of the layer's outputs.
  [[nodiscard]] const std::vector<std::vector<BatchNorm>>& batch_norms() const { return bn_; }
  // Replaces them; each set must have one batch norm per layer of the right width.
  void set_batch_norms(std::vector<std::vector<BatchNorm>> bn);
  void set_boundary(BoundaryFn f) { boundary_ = std::move(f); }
  // Checkpoints (memplast train --resume). Inside the boundary callback, state_io with a
  // writer stores the position `pos`, the result so far and the batch norms. Before
  // run(), state_io with a reader restores them: run() then continues at that position
  // (the task's new_task() already happened before the checkpoint and is not repeated).
  void state_io(StateIO& io, TrainPosition pos);
  // The position restored by state_io (reading).
  [[nodiscard]] const TrainPosition& resume_position() const { return resume_pos_; }
  using PhaseFn = std::function<void(const PhaseMark&)>;
  // Called at the begin and end of every phase (tracing); unset, a phase costs one test.
  void set_phase_hook(PhaseFn f) { phase_ = std::move(f); }

 private:
  // One mini-batch of task t (samples idx[0..n)): forward_train, softmax_xent,
  // backward, update, in that order, over the member scratch. Returns the number of
  // correctly classified samples.
  double train_batch(std::size_t t, const std::uint32_t* idx, std::size_t n);
  // Forward pass of the gathered batch x_: each layer on the tiles, then on the host its
  // output scale (clip, after the first layer), batch norm and, for a hidden layer, the
  // clipped activation: layer l's output after batch norm in z_[l], the activation
  // (the next layer's input) in h_[l]; the logits are z_.back().
  void forward_train(std::vector<BatchNorm>& bn, std::size_t b);
  // Softmax cross-entropy of the logits against labels_: dLoss/dlogits (batch-mean) in
  // dz_; returns the number of correct predictions.
  std::size_t softmax_xent(std::size_t b);
  // Backward pass, last layer first: dW of layer l in dw_[l], the batch-norm gradients in
  // dgamma_[l], dbeta_[l].
  void backward(std::vector<BatchNorm>& bn, std::size_t b);
  // Gradients to the accelerator and its update; batch-norm Adam step; host work charged.
  void update(std::vector<BatchNorm>& bn, std::size_t b);
  std::vector<BatchNorm>& bn_for(std::size_t t) { return bn_[p_.bn_per_task ? t : 0]; }
  // After epoch e of task t: the refresh, if train.refresh_every_epochs says so (phase
  // "refresh"), counted in `res`.
  void maybe_refresh(TrainResult& res, std::size_t t, int e);
  // C (m x n, row-major) = alpha op(A) op(B) on the AVX2 / AVX-512 build (fw/host_gemm.hpp).
  void simd_product(const float* A, bool ta, const float* B, bool tb, Eigen::Index m,
                    Eigen::Index n, Eigen::Index k, float alpha, float* C) const;
  Isa host_isa_{Isa::generic};  // build of the host products (MEMPLAST_HOST_ISA)

  const TrainParams& p_;
  Accelerator& acc_;
  std::uint64_t seed_;
  std::vector<data::TaskData> tasks_;
  std::vector<std::string> names_;
  std::vector<std::size_t> widths_;  // layer widths, input first (train.layers)
  std::vector<std::vector<BatchNorm>> bn_;
  BoundaryFn boundary_;
  TrainResult* cur_{nullptr};  // the result being built by run()
  bool resume_{false};
  TrainPosition resume_pos_;
  TrainResult resume_res_;
  PhaseFn phase_;
  PhaseMark pos_;                       // the position the markers report
  std::uint64_t samples_evaluated_{0};  // test samples run through evaluate()
  void mark(bool begin, const char* name, bool resumed = false) {
    if (phase_) {
      PhaseMark m = pos_;
      m.begin = begin;
      m.name = name;
      m.resumed = resumed;
      phase_(m);
    }
  }
  // scratch, reused across batches
  // Per weight layer l: z_ (output after batch norm), h_ (activation, hidden layers),
  // xhat_, istd_ (batch-norm forward), dw_, dgamma_, dbeta_ (gradients), dh_ (the
  // gradient at the layer's output, hidden layers).
  std::vector<float> x_, w_, dz_, bn_mu_, bn_var_;
  std::vector<std::vector<float>> z_, h_, xhat_, istd_, dw_, dh_, dgamma_, dbeta_;
  std::vector<std::uint8_t> labels_;
};

}  // namespace memplast::fw
