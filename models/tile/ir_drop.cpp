#include "tile/ir_drop.hpp"

#include <cstddef>
#include <stdexcept>

#include <fmt/format.h>
#include <Eigen/Core>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>

namespace memplast::tile::ir {

namespace {

struct Network {
  Eigen::SparseMatrix<double> A;  // nodal conductance matrix (S)
  std::vector<Eigen::Index> in;   // node fed by each input line
  double g_in{0};                 // conductance from a source to its node (S)
  std::vector<Eigen::Index> out;  // node sensed by each output line
  double g_out{0};                // conductance from that node to virtual ground (S)
};

Network build(const std::vector<double>& g_uS, int R, int P, const Wires& w, Drive d) {
  if (R < 1 || P < 1) throw std::invalid_argument("ir_drop: empty array");
  if (g_uS.size() != static_cast<std::size_t>(R) * static_cast<std::size_t>(P))
    throw std::invalid_argument("ir_drop: conductance count differs from R x P");
  if (!(w.r_row_ohm > 0) || !(w.r_col_ohm > 0) || w.r_driver_ohm < 0 || w.r_sense_ohm < 0) {
    throw std::invalid_argument(fmt::format(
        "ir_drop: the exact solver needs tile.ir_r_row_ohm ({}) and tile.ir_r_col_ohm ({}) > 0 "
        "and non-negative driver/sense resistances",
        w.r_row_ohm, w.r_col_ohm));
  }
  const Eigen::Index N = static_cast<Eigen::Index>(R) * P;
  auto a = [P](int r, int p) { return static_cast<Eigen::Index>(r) * P + p; };         // row node
  auto b = [N, P](int r, int p) { return N + static_cast<Eigen::Index>(r) * P + p; };  // col node
  std::vector<Eigen::Triplet<double>> t;
  t.reserve(static_cast<std::size_t>(N) * 10);
  auto branch = [&t](Eigen::Index i, Eigen::Index j, double g) {
    t.emplace_back(i, i, g);
    t.emplace_back(j, j, g);
    t.emplace_back(i, j, -g);
    t.emplace_back(j, i, -g);
  };
  const double gr = 1.0 / w.r_row_ohm;
  const double gc = 1.0 / w.r_col_ohm;
  for (int r = 0; r < R; ++r) {
    for (int p = 0; p < P; ++p) {
      branch(a(r, p), b(r, p), g_uS[static_cast<std::size_t>(a(r, p))] * 1e-6);
      if (p + 1 < P) branch(a(r, p), a(r, p + 1), gr);
      if (r + 1 < R) branch(b(r, p), b(r + 1, p), gc);
    }
  }
  Network n;
  const double g_row_end_drive = 1.0 / (w.r_driver_ohm + w.r_row_ohm);
  const double g_row_end_sense = 1.0 / (w.r_sense_ohm + w.r_row_ohm);
  const double g_col_end_drive = 1.0 / (w.r_driver_ohm + w.r_col_ohm);
  const double g_col_end_sense = 1.0 / (w.r_sense_ohm + w.r_col_ohm);
  n.g_in = d == Drive::rows ? g_row_end_drive : g_col_end_drive;
  n.g_out = d == Drive::rows ? g_col_end_sense : g_row_end_sense;
  std::vector<Eigen::Index> row_ends;
  std::vector<Eigen::Index> col_ends;
  for (int r = 0; r < R; ++r) row_ends.push_back(a(r, 0));
  for (int p = 0; p < P; ++p) col_ends.push_back(b(R - 1, p));
  n.in = d == Drive::rows ? row_ends : col_ends;
  n.out = d == Drive::rows ? col_ends : row_ends;
  for (Eigen::Index i : n.in) t.emplace_back(i, i, n.g_in);
  for (Eigen::Index i : n.out) t.emplace_back(i, i, n.g_out);
  n.A.resize(2 * N, 2 * N);
  n.A.setFromTriplets(t.begin(), t.end());
  return n;
}

using Solver = Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>>;

void factor(Solver& s, const Network& n) {
  s.compute(n.A);
  if (s.info() != Eigen::Success) throw std::runtime_error("ir_drop: nodal factorization failed");
}

}  // namespace

std::vector<double> exact_transfer(const std::vector<double>& g_uS, int R, int P, const Wires& w,
                                   Drive d) {
  const Network n = build(g_uS, R, P, w, d);
  Solver s;
  factor(s, n);
  const auto n_in = static_cast<Eigen::Index>(n.in.size());
  const auto n_out = static_cast<Eigen::Index>(n.out.size());
  std::vector<double> T(static_cast<std::size_t>(R) * static_cast<std::size_t>(P));
  constexpr Eigen::Index kBlock = 32;  // right-hand sides per solve (memory: 2RP x 32)
  for (Eigen::Index i0 = 0; i0 < n_in; i0 += kBlock) {
    const Eigen::Index m = std::min(kBlock, n_in - i0);
    Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(n.A.rows(), m);
    for (Eigen::Index k = 0; k < m; ++k) rhs(n.in[static_cast<std::size_t>(i0 + k)], k) = n.g_in;
    const Eigen::MatrixXd v = s.solve(rhs);  // node voltages for 1 V on input i0 + k
    for (Eigen::Index k = 0; k < m; ++k) {
      for (Eigen::Index j = 0; j < n_out; ++j) {
        const double i_uA = v(n.out[static_cast<std::size_t>(j)], k) * n.g_out * 1e6;
        const Eigen::Index in_line = i0 + k;
        // T is R x P: forward T(r = input, p = output), transpose T(r = output, p = input).
        const Eigen::Index r = d == Drive::rows ? in_line : j;
        const Eigen::Index p = d == Drive::rows ? j : in_line;
        T[static_cast<std::size_t>(r * P + p)] = i_uA;
      }
    }
  }
  return T;
}

std::vector<double> exact_currents(const std::vector<double>& g_uS, int R, int P, const Wires& w,
                                   Drive d, const std::vector<double>& v) {
  const Network n = build(g_uS, R, P, w, d);
  if (v.size() != n.in.size())
    throw std::invalid_argument("ir_drop: drive vector length differs from the driven lines");
  Solver s;
  factor(s, n);
  Eigen::VectorXd rhs = Eigen::VectorXd::Zero(n.A.rows());
  for (std::size_t k = 0; k < v.size(); ++k) rhs(n.in[k]) = n.g_in * v[k];
  const Eigen::VectorXd x = s.solve(rhs);
  std::vector<double> out(n.out.size());
  for (std::size_t j = 0; j < n.out.size(); ++j) out[j] = x(n.out[j]) * n.g_out;
  return out;
}

void approx_transfer_pair(const float* g_uS, int R, int P, const Wires& w, float* T_fwd_uS,
                          float* T_tr_uS) {
  // Along a line of conductances h from its terminal (segment 0 = terminal + one wire
  // segment, R_0, the others r): the relative drop at cell i is
  //   sum_{k<=i} R_k S_k = r sum_{k<=i} S_k + (R_0 - r) S_0,  S_k = sum_{j>=k} h_j,
  // so the wire part is shared by both directions and only the terminal differs
  // (forward: row driver, column sense amplifier; transpose the other way round).
  const auto Pz = static_cast<std::size_t>(P);
  const std::size_t n = static_cast<std::size_t>(R) * Pz;
  const auto to_S = 1e-6F;
  std::vector<float> row_wire(n);                             // r_row sum_{k<=p} S_k (rows)
  std::vector<float> row_total(static_cast<std::size_t>(R));  // S_0 of each row
  const auto rr = static_cast<float>(w.r_row_ohm);
  for (int r = 0; r < R; ++r) {
    const float* g = g_uS + static_cast<std::size_t>(r) * Pz;
    float total = 0;
    for (int p = 0; p < P; ++p) total += g[p];
    float suffix = total;
    float acc = 0;
    float* out = row_wire.data() + static_cast<std::size_t>(r) * Pz;
    for (int p = 0; p < P; ++p) {
      acc += suffix;
      out[p] = rr * acc * to_S;
      suffix -= g[p];
    }
    row_total[static_cast<std::size_t>(r)] = total * to_S;
  }
  // Columns, terminal at row R-1: S at row r' is the prefix sum over rows 0..r' (C), and
  // the wire part at row r is r_col sum_{r'>=r} C(r'): two passes over the rows, each a
  // vector operation across the columns.
  std::vector<float> col(n);
  for (std::size_t p = 0; p < Pz; ++p) col[p] = g_uS[p];
  for (int r = 1; r < R; ++r) {
    const std::size_t o = static_cast<std::size_t>(r) * Pz;
    for (std::size_t p = 0; p < Pz; ++p) col[o + p] = col[o - Pz + p] + g_uS[o + p];
  }
  std::vector<float> col_total(col.end() - static_cast<std::ptrdiff_t>(Pz), col.end());
  for (auto& v : col_total) v *= to_S;
  const auto rc = static_cast<float>(w.r_col_ohm);
  std::vector<float> acc(Pz, 0.0F);
  for (int r = R - 1; r >= 0; --r) {
    const std::size_t o = static_cast<std::size_t>(r) * Pz;
    for (std::size_t p = 0; p < Pz; ++p) {
      acc[p] += col[o + p];
      col[o + p] = rc * acc[p] * to_S;
    }
  }
  const auto rd = static_cast<float>(w.r_driver_ohm);
  const auto rs = static_cast<float>(w.r_sense_ohm);
  for (int r = 0; r < R; ++r) {
    const std::size_t o = static_cast<std::size_t>(r) * Pz;
    const float rt = row_total[static_cast<std::size_t>(r)];
    for (std::size_t p = 0; p < Pz; ++p) {
      const float wires = 1.0F + row_wire[o + p] + col[o + p];
      if (T_fwd_uS != nullptr)
        T_fwd_uS[o + p] = g_uS[o + p] / (wires + rd * rt + rs * col_total[p]);
      if (T_tr_uS != nullptr) T_tr_uS[o + p] = g_uS[o + p] / (wires + rs * rt + rd * col_total[p]);
    }
  }
}

void approx_transfer(const float* g_uS, int R, int P, const Wires& w, Drive d, float* T_uS) {
  approx_transfer_pair(g_uS, R, P, w, d == Drive::rows ? T_uS : nullptr,
                       d == Drive::cols ? T_uS : nullptr);
}

}  // namespace memplast::tile::ir
