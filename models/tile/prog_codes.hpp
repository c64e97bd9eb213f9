// The tile's programming port (issue 10 item 2): the integer codes pv_ctrl sends and
// the tile returns, as hardware would, so that an RTL co-simulation can match them bit
// for bit. Formats (docs/system.md, "Programming port"):
//   gate DAC code      13 bits unsigned, LSB 1 mV   (0 .. 8.191 V): SET gate voltage
//   amplitude DAC code 13 bits unsigned, LSB 1 mV   (0 .. 8.191 V): RESET source-line amplitude
//   verify ADC code    16 bits unsigned, LSB 0.01 uS (0 .. 655.35 uS), saturating
// Transaction on TileModule::prog_socket (TLM-2.0 generic payload, 4 data bytes,
// no byte enables, streaming width 4):
//   address  bits [31:16] row, [15:0] column as TILE.PROG_COL (c < C: G+ or the only
//            device; C..2C-1: G- of a differential pair; C: the reference column's
//            device of that row); higher bits zero
//   WRITE    data bits [31:28] op (1 = SET, 2 = RESET), [27:16] zero, [15:0] DAC code
//   READ     verify read: the tile returns the ADC code in bits [15:0], zero above
// Responses: OK; TLM_COMMAND_ERROR_RESPONSE for IGNORE, an unknown op, non-zero
// reserved bits or a code beyond its width; TLM_BURST_ERROR_RESPONSE for a length or
// streaming width other than 4 or byte enables; TLM_ADDRESS_ERROR_RESPONSE for a cell
// outside the array.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace memplast::tile::prog {

inline constexpr unsigned kGateDacBits = 13;
inline constexpr double kGateLsbV = 1e-3;
inline constexpr unsigned kAmpDacBits = 13;
inline constexpr double kAmpLsbV = 1e-3;
inline constexpr unsigned kVerifyAdcBits = 16;
inline constexpr double kVerifyLsbUs = 0.01;

inline constexpr std::uint32_t kGateMax = (1U << kGateDacBits) - 1U;
inline constexpr std::uint32_t kAmpMax = (1U << kAmpDacBits) - 1U;
inline constexpr std::uint32_t kVerifyMax = (1U << kVerifyAdcBits) - 1U;

inline constexpr std::uint32_t kOpSet = 1;
inline constexpr std::uint32_t kOpReset = 2;
inline constexpr unsigned kOpShift = 28;
inline constexpr std::uint32_t kCodeMask = 0xFFFFU;
inline constexpr std::uint32_t kReservedMask = 0x0FFF0000U;

// Round to the nearest code, saturating at 0 and `max` (NaN -> 0, +inf -> max).
inline std::uint32_t to_code(double value, double lsb, std::uint32_t max) {
  const double q = value / lsb;
  if (!(q > 0)) return 0;
  if (q >= static_cast<double>(max)) return max;
  return static_cast<std::uint32_t>(std::lround(q));
}
inline std::uint32_t gate_code(double v) { return to_code(v, kGateLsbV, kGateMax); }
inline std::uint32_t amp_code(double v) { return to_code(v, kAmpLsbV, kAmpMax); }
inline std::uint32_t verify_code(double g_uS) { return to_code(g_uS, kVerifyLsbUs, kVerifyMax); }
inline double gate_volts(std::uint32_t code) { return code * kGateLsbV; }
inline double amp_volts(std::uint32_t code) { return code * kAmpLsbV; }
inline double verify_uS(std::uint32_t code) { return code * kVerifyLsbUs; }

inline std::uint64_t address(std::uint32_t row, std::uint32_t pcol) {
  return (std::uint64_t{row} << 16) | pcol;
}
inline std::uint32_t pulse_word(std::uint32_t op, std::uint32_t code) {
  return (op << kOpShift) | (code & kCodeMask);
}

}  // namespace memplast::tile::prog
