#include "sw/drivers/pv_driver.hpp"

#include <stdexcept>

#include "sw/include/memplast_regs.h"

namespace memplast::drivers {

PvDriver::PvDriver(hal::Hal& hal) : hal_(hal), base_(MP_PV_CTRL_ADDR(0)) {
  depth_ = hal_.read32(base_ + MP_PV_CTRL_QUEUE_DEPTH);
  if (depth_ == 0) throw std::runtime_error("pv_ctrl: QUEUE_DEPTH reads 0");
  hal_.write32(base_ + MP_PV_CTRL_IRQ_ENABLE, MP_PV_CTRL_IRQ_ENABLE_EMPTY_MASK);
}

std::uint32_t PvDriver::push(std::uint32_t tile, std::uint32_t row, std::uint32_t col,
                             std::uint32_t level, unsigned irq_line, bool force) {
  // Wait for room: the EMPTY interrupt is the only "room" event the block offers, so a
  // full queue is drained before more commands are pushed.
  std::uint32_t status = hal_.read32(base_ + MP_PV_CTRL_STATUS);
  if ((status & MP_PV_CTRL_STATUS_QUEUE_FULL_MASK) != 0) status = wait_idle(irq_line);
  hal_.write32(base_ + MP_PV_CTRL_CMD_TILE, tile);
  hal_.write32(base_ + MP_PV_CTRL_CMD_ROW, row);
  hal_.write32(base_ + MP_PV_CTRL_CMD_COL, col);
  hal_.write32(base_ + MP_PV_CTRL_CMD_LEVEL, level);
  hal_.write32(base_ + MP_PV_CTRL_CMD_PUSH, force ? 1U | MP_PV_CTRL_CMD_PUSH_FORCE_MASK : 1U);
  return status;
}

std::uint32_t PvDriver::fail_count() { return hal_.read32(base_ + MP_PV_CTRL_FAIL_COUNT); }

PvFailure PvDriver::pop_failure() {
  PvFailure f;
  f.tile = hal_.read32(base_ + MP_PV_CTRL_FAIL_TILE);
  f.row = hal_.read32(base_ + MP_PV_CTRL_FAIL_ROW);
  f.col = hal_.read32(base_ + MP_PV_CTRL_FAIL_COL);
  f.cause = hal_.read32(base_ + MP_PV_CTRL_FAIL_CAUSE) & MP_PV_CTRL_FAIL_CAUSE_CAUSE_MASK;
  hal_.write32(base_ + MP_PV_CTRL_FAIL_POP, 1);
  return f;
}

void PvDriver::skip(std::uint32_t tile, std::uint32_t row, std::uint32_t col, bool mark) {
  hal_.write32(base_ + MP_PV_CTRL_CMD_TILE, tile);
  hal_.write32(base_ + MP_PV_CTRL_CMD_ROW, row);
  hal_.write32(base_ + MP_PV_CTRL_CMD_COL, col);
  hal_.write32(base_ + MP_PV_CTRL_SKIP, mark ? MP_PV_CTRL_SKIP_MARK_MASK : 0U);
}

std::uint32_t PvDriver::wait_idle(unsigned irq_line) {
  for (;;) {
    const std::uint32_t s = hal_.read32(base_ + MP_PV_CTRL_STATUS);
    if ((s & MP_PV_CTRL_STATUS_QUEUE_EMPTY_MASK) != 0 && (s & MP_PV_CTRL_STATUS_BUSY_MASK) == 0) {
      hal_.write32(base_ + MP_PV_CTRL_IRQ_STATUS, MP_PV_CTRL_IRQ_STATUS_EMPTY_MASK);
      return s;
    }
    hal_.wait_irq(1U << irq_line);
    hal_.write32(base_ + MP_PV_CTRL_IRQ_STATUS, MP_PV_CTRL_IRQ_STATUS_EMPTY_MASK);
  }
}

PvCounters PvDriver::counters() {
  return {hal_.read32(base_ + MP_PV_CTRL_CNT_PROGRAMMED),
          hal_.read32(base_ + MP_PV_CTRL_CNT_FAILED), hal_.read32(base_ + MP_PV_CTRL_CNT_PULSES)};
}

void PvDriver::clear_counters() {
  hal_.write32(base_ + MP_PV_CTRL_CTRL, MP_PV_CTRL_CTRL_CLEAR_MASK);
}

}  // namespace memplast::drivers
