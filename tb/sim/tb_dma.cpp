// The DMA engine and host memory, from firmware through the HAL: host, bus, sysctl,
// dma, host_mem and a plain bus memory (`busmem`, at 0x30000000, no latency of its
// own). Checks:
//  * register programming (read back, reset values) and the DmaDriver chain helper;
//  * conversions: U8 -> F32 (p / 255), F32 and U8 -> DAC code (clipped, rounded, signed),
//    F32 -> FIX (s15.16, rounded, saturated), U32 copy;
//  * 2-D strides (gather from host memory into the bus memory and back);
//  * a descriptor chain: one DONE interrupt, CHAINS_DONE + 1, every descriptor's data;
//  * timestamps: a 64-byte copy host memory -> bus memory completes at
//    START + cycles_per_burst + (latency + 64 / bandwidth) + conversion + bus write;
//    the host reading host memory over the bus pays bus time + latency + n / bandwidth;
//  * a START while busy is held (STATUS.PENDING) and its wait counted as channel busy;
//    a third START is refused (ERR_CODE BUSY);
//  * errors: unmapped source, unmapped destination, a bad descriptor address, a bad
//    format: STATUS.ERROR with ERR_CODE and ERR_ADDR, IRQ_STATUS.ERROR on the line;
//  * energy: dma beat rows = destination words x dma.e_beat_pJ; host_mem bytes.
#include <cmath>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "bus/dma.hpp"
#include "bus/gen/regs.hpp"
#include "bus/host.hpp"
#include "bus/host_mem.hpp"
#include "bus/router.hpp"
#include "bus/sysctl.hpp"
#include "sw/drivers/dma_driver.hpp"
#include "sw/hal/hal.hpp"
#include "sw/include/memplast_regs.h"

namespace {

using memplast::drivers::DmaDriver;
using memplast::hal::Hal;

constexpr std::uint64_t kBusMem = 0x30000000;
constexpr std::uint64_t kMem = MP_HOST_MEM_BASE;
constexpr std::uint64_t kDma = MP_DMA_BASE;

struct BusMemory : sc_core::sc_module {
  tlm_utils::simple_target_socket<BusMemory> socket;
  std::vector<unsigned char> mem;
  BusMemory(const sc_core::sc_module_name& n, std::size_t size)
      : sc_module(n), socket("socket"), mem(size, 0) {
    socket.register_b_transport(this, &BusMemory::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time&) {
    const auto a = p.get_address();
    const auto n = p.get_data_length();
    if (a + n > mem.size()) {
      p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (p.is_read()) {
      std::memcpy(p.get_data_ptr(), &mem[a], n);
    } else {
      std::memcpy(&mem[a], p.get_data_ptr(), n);
    }
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

std::uint32_t dfmt(std::uint32_t s, std::uint32_t d, std::uint32_t dac = 0,
                   std::uint32_t frac = 0) {
  return DmaDriver::format(s, d, dac, frac);
}

void program(Hal& hal, const DmaDriver::Desc& d) { DmaDriver::write_registers(hal, d); }

// Wait for the DMA's interrupt; returns and clears IRQ_STATUS.
std::uint32_t wait_dma(Hal& hal) {
  hal.wait_irq(1U);
  const std::uint32_t irq = hal.read32(kDma + MP_DMA_IRQ_STATUS);
  hal.write32(kDma + MP_DMA_IRQ_STATUS, irq);
  return irq;
}

}  // namespace

TEST(Dma, RegistersConversionStrideChainTimingErrors) {
  memplast::bus::BusParams bp;
  bp.width_bytes = 4;
  bp.f_clk_MHz = 100.0;  // 10 ns
  bp.cycles_per_transfer = 2;
  bp.max_burst_bytes = 4096;
  bp.e_beat_pJ = 1.0;
  memplast::bus::HostParams hp;
  hp.f_clk_MHz = 1000.0;
  hp.quantum_ns = 1000.0;
  memplast::bus::DmaParams dp;
  dp.f_clk_MHz = 100.0;
  dp.burst_bytes = 64;
  dp.cycles_per_burst = 2;
  dp.elements_per_cycle = 4;
  dp.e_beat_pJ = 0.5;
  memplast::bus::HostMemParams mp;
  mp.size_MiB = 1;
  mp.latency_ns = 50.0;
  mp.bandwidth_GBps = 1.0;  // 1 byte per ns
  mp.e_byte_pJ = 2.0;

  memplast::EnergyLedger ledger;
  bool done = false;
  double channel_wait_expect = -1;
  auto fw = [&](Hal& hal) {
    hal.write32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE, MP_SYSCTL_IRQ_ENABLE_DMA_MASK);
    hal.write32(kDma + MP_DMA_IRQ_ENABLE,
                MP_DMA_IRQ_ENABLE_DONE_MASK | MP_DMA_IRQ_ENABLE_ERROR_MASK);
    // ---- registers ----
    EXPECT_EQ(hal.read32(kDma + MP_DMA_ROWS), 1U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_STATUS), 0U);
    DmaDriver::Desc r{0x40000010, 0x30000020, 7, 3, 64, 32, dfmt(1, 1, 8), 0x40000100};
    program(hal, r);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_SRC), r.src);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_DST), r.dst);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_COUNT), 7U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_ROWS), 3U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_SRC_STRIDE), 64U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_DST_STRIDE), 32U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_FORMAT), 0x0811U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_NEXT), 0x40000100U);

    // ---- timing: 64-byte F32 copy host memory -> bus memory ----
    auto* m = static_cast<unsigned char*>(hal.host_memory(kMem, 0x10000));
    std::vector<float> f(16);
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = 0.25F * static_cast<float>(i) - 1.0F;
    std::memcpy(m, f.data(), 64);
    program(hal, {static_cast<std::uint32_t>(kMem), static_cast<std::uint32_t>(kBusMem), 16, 1, 0,
                  0, DmaDriver::kF32, 0});
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    const double t0 = hal.now_ns();
    EXPECT_EQ(hal.read32(kDma + MP_DMA_STATUS) & MP_DMA_STATUS_BUSY_MASK, MP_DMA_STATUS_BUSY_MASK);
    hal.wait_irq(1U);
    // 2 cycles (20) + read 50 + 64 + conversion 4 cycles (40) + bus (2 + 16) x 10 = 354 ns
    EXPECT_DOUBLE_EQ(hal.now_ns() - t0, 354.0);
    EXPECT_EQ(wait_dma(hal), MP_DMA_IRQ_STATUS_DONE_MASK);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_CHAINS_DONE), 1U);
    EXPECT_EQ(hal.read32(kDma + MP_DMA_BYTES_DONE), 64U);
    std::vector<float> back(16);
    hal.read_block(kBusMem, back.data(), 64);
    EXPECT_EQ(back, f);

    // ---- host memory over the bus: bus (2 + 16) x 10 + 50 + 64 ----
    hal.advance(10000);
    double t = hal.now_ns();
    std::vector<float> via_bus(16);
    hal.read_block(kMem, via_bus.data(), 64);
    EXPECT_DOUBLE_EQ(hal.now_ns() - t, 180.0 + 114.0);
    EXPECT_EQ(via_bus, f);

    // ---- conversions ----
    const std::vector<float> x{0.0F, 1.0F, -1.0F, 0.5F, -0.25F, 2.0F, -3.0F, 0.1F};
    std::memcpy(m + 0x100, x.data(), x.size() * 4);
    const std::vector<std::uint8_t> px{0, 1, 127, 128, 200, 254, 255, 3};
    std::memcpy(m + 0x200, px.data(), px.size());
    const auto run1 = [&](std::uint32_t src, std::uint32_t dst, std::uint32_t count,
                          std::uint32_t format) {
      program(hal, {src, dst, count, 1, 0, 0, format, 0});
      hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
      return wait_dma(hal);
    };
    // F32 -> DAC, 8 bits: s * round(min(|x|, 1) * 255)
    EXPECT_EQ(run1(kMem + 0x100, kBusMem + 0x100, 8, dfmt(0, 1, 8)), MP_DMA_IRQ_STATUS_DONE_MASK);
    std::vector<std::int16_t> codes(8);
    hal.read_block(kBusMem + 0x100, codes.data(), 16);
    EXPECT_EQ(codes, (std::vector<std::int16_t>{0, 255, -255, 128, -64, 255, -255, 26}));
    // U8 -> DAC, 8 bits: the pixel itself; 4 bits: round(p / 255 * 15)
    run1(kMem + 0x200, kBusMem + 0x200, 8, dfmt(1, 1, 8));
    hal.read_block(kBusMem + 0x200, codes.data(), 16);
    EXPECT_EQ(codes, (std::vector<std::int16_t>{0, 1, 127, 128, 200, 254, 255, 3}));
    run1(kMem + 0x200, kBusMem + 0x200, 8, dfmt(1, 1, 4));
    hal.read_block(kBusMem + 0x200, codes.data(), 16);
    EXPECT_EQ(codes, (std::vector<std::int16_t>{0, 0, 7, 8, 12, 15, 15, 0}));
    // U8 -> F32: p / 255
    run1(kMem + 0x200, kBusMem + 0x300, 8, dfmt(1, 0));
    std::vector<float> fx(8);
    hal.read_block(kBusMem + 0x300, fx.data(), 32);
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(fx[i], static_cast<float>(px[i]) / 255.0F);
    // F32 -> FIX s15.16, saturated
    const std::vector<float> g{1.5F,      -0.5F, 1e-5F,          40000.0F,
                               -40000.0F, 0.0F,  3.0517578e-05F, -1.0F};
    std::memcpy(m + 0x400, g.data(), 32);
    run1(kMem + 0x400, kBusMem + 0x400, 8, dfmt(0, 2, 0, 16));
    std::vector<std::int32_t> q(8);
    hal.read_block(kBusMem + 0x400, q.data(), 32);
    EXPECT_EQ(q, (std::vector<std::int32_t>{98304, -32768, 1, 2147483647, -2147483647 - 1, 0, 2,
                                            -65536}));

    // ---- stride: 3 rows of 5 words, source rows 32 bytes apart, destination 20 ----
    auto* w = reinterpret_cast<std::uint32_t*>(m + 0x1000);
    for (std::uint32_t i = 0; i < 24; ++i) w[i] = 0xA000U + i;
    program(hal, {static_cast<std::uint32_t>(kMem + 0x1000),
                  static_cast<std::uint32_t>(kBusMem + 0x1000), 5, 3, 32, 20, DmaDriver::kU32, 0});
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    wait_dma(hal);
    std::vector<std::uint32_t> packed(15);
    hal.read_block(kBusMem + 0x1000, packed.data(), 60);
    for (std::uint32_t r2 = 0; r2 < 3; ++r2)
      for (std::uint32_t c = 0; c < 5; ++c) EXPECT_EQ(packed[r2 * 5 + c], 0xA000U + r2 * 8 + c);
    // and back, scattered into host memory with a 12-word destination stride
    program(hal, {static_cast<std::uint32_t>(kBusMem + 0x1000),
                  static_cast<std::uint32_t>(kMem + 0x2000), 5, 3, 20, 48, DmaDriver::kU32, 0});
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    wait_dma(hal);
    const auto* sc = reinterpret_cast<const std::uint32_t*>(m + 0x2000);
    for (std::uint32_t r2 = 0; r2 < 3; ++r2)
      for (std::uint32_t c = 0; c < 5; ++c) EXPECT_EQ(sc[r2 * 12 + c], 0xA000U + r2 * 8 + c);

    // ---- descriptor chain through the driver: three descriptors, one interrupt ----
    {
      DmaDriver drv(hal, 0, 8);
      const std::uint64_t a = drv.alloc(3 * 64);
      float* src = drv.ptr<float>(a, 48);
      for (int i = 0; i < 48; ++i) src[i] = static_cast<float>(i);
      const std::uint32_t chains = hal.read32(kDma + MP_DMA_CHAINS_DONE);
      std::vector<DmaDriver::Desc> chain;
      for (std::uint32_t k = 0; k < 3; ++k)
        chain.push_back({static_cast<std::uint32_t>(a + k * 64),
                         static_cast<std::uint32_t>(kBusMem + 0x3000 + (2 - k) * 64), 16, 1, 0, 0,
                         DmaDriver::kF32, 0});
      drv.run(chain);
      EXPECT_EQ(hal.read32(kDma + MP_DMA_CHAINS_DONE), chains + 1);
      std::vector<float> out(48);
      hal.read_block(kBusMem + 0x3000, out.data(), 192);
      for (int k = 0; k < 3; ++k)
        for (int i = 0; i < 16; ++i)
          EXPECT_EQ(out[static_cast<std::size_t>((2 - k) * 16 + i)],
                    static_cast<float>(k * 16 + i));
    }
    hal.write32(MP_SYSCTL_BASE + MP_SYSCTL_IRQ_ENABLE, MP_SYSCTL_IRQ_ENABLE_DMA_MASK);

    // ---- a start while busy is held; a third is refused ----
    hal.write32(kDma + MP_DMA_IRQ_ENABLE, MP_DMA_IRQ_ENABLE_ERROR_MASK);
    program(hal, {static_cast<std::uint32_t>(kMem), static_cast<std::uint32_t>(kBusMem), 16, 1, 0,
                  0, DmaDriver::kF32, 0});
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    const double t_first = hal.now_ns();
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    const double t_second = hal.now_ns();
    EXPECT_EQ(
        hal.read32(kDma + MP_DMA_STATUS) & (MP_DMA_STATUS_BUSY_MASK | MP_DMA_STATUS_PENDING_MASK),
        MP_DMA_STATUS_BUSY_MASK | MP_DMA_STATUS_PENDING_MASK);
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
    EXPECT_EQ(wait_dma(hal), MP_DMA_IRQ_STATUS_ERROR_MASK);
    std::uint32_t s = hal.read32(kDma + MP_DMA_STATUS);
    EXPECT_EQ((s & MP_DMA_STATUS_ERR_CODE_MASK) >> MP_DMA_STATUS_ERR_CODE_SHIFT,
              MP_DMA_STATUS_ERR_CODE_BUSY);
    hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_CLEAR_ERROR_MASK);
    hal.write32(kDma + MP_DMA_IRQ_ENABLE,
                MP_DMA_IRQ_ENABLE_DONE_MASK | MP_DMA_IRQ_ENABLE_ERROR_MASK);
    while ((hal.read32(kDma + MP_DMA_STATUS) &
            (MP_DMA_STATUS_BUSY_MASK | MP_DMA_STATUS_PENDING_MASK)) != 0) {
      wait_dma(hal);
    }
    (void)t_first;
    // The second start waited from its write until the first chain ended (t_first + 354).
    channel_wait_expect = t_first + 354.0 - t_second;

    // ---- errors ----
    const auto expect_error = [&](const DmaDriver::Desc& d, std::uint32_t code,
                                  std::uint32_t addr) {
      program(hal, d);
      hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_START_MASK);
      EXPECT_EQ(wait_dma(hal), MP_DMA_IRQ_STATUS_ERROR_MASK);
      const std::uint32_t st = hal.read32(kDma + MP_DMA_STATUS);
      EXPECT_NE(st & MP_DMA_STATUS_ERROR_MASK, 0U);
      EXPECT_EQ((st & MP_DMA_STATUS_ERR_CODE_MASK) >> MP_DMA_STATUS_ERR_CODE_SHIFT, code);
      EXPECT_EQ(hal.read32(kDma + MP_DMA_ERR_ADDR), addr);
      hal.write32(kDma + MP_DMA_CTRL, MP_DMA_CTRL_CLEAR_ERROR_MASK);
      EXPECT_EQ(hal.read32(kDma + MP_DMA_STATUS), 0U);
    };
    expect_error({0x50000000, static_cast<std::uint32_t>(kBusMem), 4, 1, 0, 0, DmaDriver::kF32, 0},
                 MP_DMA_STATUS_ERR_CODE_SRC_ERROR, 0x50000000);
    expect_error({static_cast<std::uint32_t>(kMem), 0x50000010, 4, 1, 0, 0, DmaDriver::kF32, 0},
                 MP_DMA_STATUS_ERR_CODE_DST_ERROR, 0x50000010);
    // host memory is backed up to 1 MiB: a source beyond it is an error too
    expect_error({static_cast<std::uint32_t>(kMem + (1U << 20)),
                  static_cast<std::uint32_t>(kBusMem), 4, 1, 0, 0, DmaDriver::kF32, 0},
                 MP_DMA_STATUS_ERR_CODE_SRC_ERROR, static_cast<std::uint32_t>(kMem + (1U << 20)));
    expect_error({static_cast<std::uint32_t>(kMem), static_cast<std::uint32_t>(kBusMem), 4, 1, 0, 0,
                  DmaDriver::kF32, 0x50000000},
                 MP_DMA_STATUS_ERR_CODE_DESC_ERROR, 0x50000000);
    expect_error({static_cast<std::uint32_t>(kMem), static_cast<std::uint32_t>(kBusMem), 4, 1, 0, 0,
                  dfmt(0, 7), 0},
                 MP_DMA_STATUS_ERR_CODE_BAD_FORMAT, static_cast<std::uint32_t>(kBusMem));
    // a driver sees the error as an exception naming ERR_CODE and the address
    {
      DmaDriver drv(hal, 0, 4);
      try {
        drv.run(
            {{0x50000000, static_cast<std::uint32_t>(kBusMem), 4, 1, 0, 0, DmaDriver::kF32, 0}});
        ADD_FAILURE() << "no exception";
      } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("ERR_CODE 1 at 0x50000000"), std::string::npos)
            << e.what();
      }
    }
    done = true;
  };

  memplast::bus::Host host("host", hp, fw, true);
  memplast::bus::Router bus("bus", bp);
  memplast::bus::Sysctl sysctl("sysctl", 0);
  memplast::bus::Dma dma("dma", dp, &ledger);
  memplast::bus::HostMemory mem("host_mem", mp, &ledger);
  BusMemory busmem("busmem", 0x10000);
  memplast::sim::IrqLine l_sys("l_sys"), l_dma("l_dma");
  sysctl.irq_out.bind(l_sys);
  host.irq_in[0].bind(l_sys);
  dma.irq_out.bind(l_dma);
  sysctl.dma_irq.bind(l_dma);
  host.socket.bind(bus.target_socket);
  dma.bus_socket.bind(bus.target_socket);
  host.mem_socket.bind(mem.cpu_socket);
  dma.mem_socket.bind(mem.dma_socket);
  bus.initiator_socket.bind(sysctl.socket);
  bus.map(0, memplast::regs::sysctl::kBlock, 0);
  bus.initiator_socket.bind(dma.socket);
  bus.map(1, memplast::regs::dma::kBlock, 0);
  bus.initiator_socket.bind(mem.socket);
  bus.map(2, memplast::regs::host_mem::kBlock, 0);
  bus.initiator_socket.bind(busmem.socket);
  bus.map(3, kBusMem, 0x10000, "busmem");
  sc_core::sc_start();
  EXPECT_TRUE(done);
  EXPECT_FALSE(host.error()) << "firmware threw";
  if (host.error()) {
    try {
      std::rethrow_exception(host.error());
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  }
  // The held start waited for the channel.
  EXPECT_NEAR(dma.stats().channel_busy.to_seconds() * 1e9, channel_wait_expect, 1e-6);
  // Energy: dma beats = destination words x 0.5 pJ; host memory 2 pJ per byte.
  double beats = 0;
  double beat_j = 0;
  double mem_j = 0;
  std::uint64_t mem_bytes = 0;
  for (const auto& e : ledger.entries()) {
    if (e.component == "dma" && e.operation == "beat") {
      beats += static_cast<double>(e.count);
      beat_j += e.joules;
    }
    if (e.component == "host_mem") mem_j += e.joules;
  }
  mem_bytes = mem.stats().bytes;
  EXPECT_EQ(beats, static_cast<double>(dma.stats().bytes_written / 4));
  EXPECT_NEAR(beat_j, beats * 0.5e-12, 1e-18);
  EXPECT_NEAR(mem_j, static_cast<double>(mem_bytes) * 2e-12, 1e-18);
  EXPECT_GT(mem_bytes, 0U);
}
