// IR drop of a crossbar read: the resistance of the row and column wires and of the line
// drivers and sense amplifiers (docs/tile.md, "IR drop").
//
// Physical array: R rows x P physical columns, conductance g[r*P + p] in uS. Every cell
// joins a row node (r, p) and a column node (r, p). Row wire: a segment of r_row between
// neighbouring row nodes; column wire: a segment of r_col between neighbouring column nodes.
//  * forward (rows driven, columns sensed): row r is driven at its column-0 end by a
//    source V_r behind r_driver + r_row (driver and first segment); column p is sensed at
//    its row R-1 end by a virtual ground behind r_col + r_sense;
//  * transpose (columns driven, rows sensed): column p is driven at its row R-1 end behind
//    r_driver + r_col; row r is sensed at its column-0 end behind r_row + r_sense.
// Lines that carry no input are driven at 0 V (their driver still loads them).
//
// The network is linear, so the sensed currents are I = T^T V (forward: I_p = sum_r
// T_rp V_r) or I = T V (transpose: I_r = sum_p T_rp V_p) with an input-independent
// transfer matrix T (R x P, uS); without wire or terminal resistance T = g.
// exact_transfer solves the nodal equations (Eigen sparse LDLT); approx_transfer is the
// closed-form first-order estimate of docs/tile.md in O(R P).
#pragma once

#include <vector>

namespace memplast::tile::ir {

struct Wires {
  double r_row_ohm{0.5};    // row wire, per segment (cell pitch)
  double r_col_ohm{0.5};    // column wire, per segment
  double r_driver_ohm{10};  // output resistance of a line driver (DAC buffer)
  double r_sense_ohm{10};   // input resistance of a sense amplifier (virtual ground)
};

enum class Drive : unsigned char { rows, cols };  // forward: rows driven; transpose: columns

// Transfer matrix T (R x P row-major, uS) of the network, exact to the solver's precision.
// Throws std::invalid_argument when a resistance is negative or the line resistances
// in series with a terminal are zero (the nodal system needs every branch finite).
std::vector<double> exact_transfer(const std::vector<double>& g_uS, int R, int P, const Wires& w,
                                   Drive d);

// Sensed currents (uA) for one drive vector v (V; R entries for Drive::rows, P for
// Drive::cols), solving the nodal equations once.
std::vector<double> exact_currents(const std::vector<double>& g_uS, int R, int P, const Wires& w,
                                   Drive d, const std::vector<double>& v);

// First-order estimate of T: T_rp = g_rp / (1 + a_rp + b_rp), a the relative drop on the
// driven line at the cell for the cell's own input, b the rise on the sensed line
// (summed over the line's cells) - docs/tile.md. g and T may not alias.
void approx_transfer(const float* g_uS, int R, int P, const Wires& w, Drive d, float* T_uS);
// Both directions at once (they share the wire sums); either output may be null.
void approx_transfer_pair(const float* g_uS, int R, int P, const Wires& w, float* T_fwd_uS,
                          float* T_tr_uS);

}  // namespace memplast::tile::ir
