// pv_fsm: the program-and-verify controller FSM of pv_ctrl (docs/pv.md, docs/cosim.md):
// a command queue, the incremental-step ISPVA loop (verify, SET with a rising gate DAC
// code, RESET with a rising amplitude DAC code, back-off after a reversal, iteration
// limit), per-command status and an interrupt. Bit-exact with pv::PvFsm::on_verify_code
// (models/pv/pv_algo.cpp) in its ramped mode: fed the same verify ADC codes, it issues
// the same SET/RESET DAC codes and ends with the same result. (PvFsm's ideal-device mode,
// a first pulse calibrated from the device's nominal laws, is not in the RTL.)
//
// Device port (the tile's programming port, tile/prog_codes.hpp; the analog device stays
// in the C++ model behind it): the FSM raises dev_req with dev_op (0 verify, 1 SET,
// 2 RESET), dev_code (13-bit DAC code for a pulse) and dev_addr, holds them until
// dev_ack, which for a verify carries the 16-bit ADC code on dev_adc.
// Command: {addr, lo, hi (band limits as ADC codes), set_start (gate DAC code of the
// first SET)}, pushed with cmd_valid/cmd_ready into a CMDQ_DEPTH-entry queue.
// Result: res_valid for one cycle per finished command with its counts and success.
// Interrupt: irq_status[0] DONE (the queue ran empty after a command), [1] FAIL (a
// command reached the iteration limit); irq_clear clears bits (W1C); irq = status & enable.
// Cycles (clk): a verify or pulse holds dev_req from its first cycle to the cycle of its
// ack; the decision on a verify read is taken in its ack cycle, so the next event's
// request starts in the following cycle, and the next queued command's first verify in
// the cycle after the last verify of the one before. A command that finds the FSM idle
// starts 1 cycle after it is queued. With a device that acks a verify after V cycles and
// a pulse after P, a command takes exactly n_verify V + (n_set + n_reset) P cycles.
module pv_fsm #(
    parameter int CMDQ_DEPTH = 4,
    parameter int ITER_BITS  = 16
) (
    input  logic                 clk,
    input  logic                 rst_n,
    // Static configuration (codes of the pv.* voltages, tile/prog_codes.hpp).
    input  logic [         12:0] cfg_gate_start,   // pv.v_gate_start_V: the SET floor
    input  logic [         12:0] cfg_gate_step,
    input  logic [         12:0] cfg_gate_max,
    input  logic [         12:0] cfg_reset_start,  // also the RESET floor
    input  logic [         12:0] cfg_reset_step,
    input  logic [         12:0] cfg_reset_max,
    input  logic [          7:0] cfg_backoff,      // pv.reversal_backoff_steps
    input  logic [ITER_BITS-1:0] cfg_max_iter,     // pv.max_iterations
    // Command queue.
    input  logic                 cmd_valid,
    output logic                 cmd_ready,
    input  logic [         31:0] cmd_addr,
    input  logic [         15:0] cmd_lo,
    input  logic [         15:0] cmd_hi,
    input  logic [         12:0] cmd_set_start,
    // Device port.
    output logic                 dev_req,
    output logic [          1:0] dev_op,
    output logic [         12:0] dev_code,
    output logic [         31:0] dev_addr,
    input  logic                 dev_ack,
    input  logic [         15:0] dev_adc,
    // Result of the finished command.
    output logic                 res_valid,
    output logic                 res_success,
    output logic [ITER_BITS-1:0] res_iterations,
    output logic [ITER_BITS-1:0] res_n_set,
    output logic [ITER_BITS-1:0] res_n_reset,
    output logic [ITER_BITS-1:0] res_n_verify,
    output logic [         15:0] res_last_adc,
    output logic [         31:0] res_addr,
    // Status and interrupt.
    output logic                 busy,
    output logic [          7:0] queue_level,
    input  logic [          1:0] irq_enable,
    input  logic [          1:0] irq_clear,
    output logic [          1:0] irq_status,
    output logic                 irq
);
  localparam int QW = $clog2(CMDQ_DEPTH);
  localparam logic [1:0] OP_VERIFY = 2'd0, OP_SET = 2'd1, OP_RESET = 2'd2;
  localparam logic [1:0] LAST_NONE = 2'd0, LAST_SET = 2'd1, LAST_RESET = 2'd2;

  typedef enum logic [1:0] {
    S_IDLE,
    S_VERIFY,
    S_PULSE
  } state_t;

  // ---- command queue ------------------------------------------------------------------
  logic [76:0] q_mem[CMDQ_DEPTH];  // {addr, lo, hi, set_start}
  logic [QW-1:0] q_rd, q_wr;
  logic [QW:0] q_n;
  logic q_pop;
  assign cmd_ready = q_n < (QW + 1)'(CMDQ_DEPTH);
  assign queue_level = 8'(q_n);
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      q_rd <= '0;
      q_wr <= '0;
      q_n  <= '0;
    end else begin
      if (cmd_valid && cmd_ready) begin
        q_wr <= q_wr + QW'(1);
      end
      if (q_pop) q_rd <= q_rd + QW'(1);
      q_n <= q_n + (QW + 1)'(cmd_valid && cmd_ready) - (QW + 1)'(q_pop);
    end
  end
  always_ff @(posedge clk) begin
    if (cmd_valid && cmd_ready) q_mem[q_wr] <= {cmd_addr, cmd_lo, cmd_hi, cmd_set_start};
  end

  // ---- the loop -------------------------------------------------------------------------
  state_t st;
  logic [31:0] addr;
  logic [15:0] lo, hi;
  logic [13:0] v_set, v_reset, set_floor;
  logic [13:0] last_set, last_reset;  // valid when has_set / has_reset
  logic has_set, has_reset;
  logic [1:0] last;
  logic [ITER_BITS-1:0] iters, n_set, n_reset, n_verify;
  logic [1:0] op;
  logic [12:0] code;  // a pulse code never exceeds 13 bits (c <= max(start, max))

  // back_off(last, steps, step, floor) = max(floor, last - steps * step).
  function automatic logic [13:0] back_off(input logic [13:0] l, input logic [7:0] steps,
                                           input logic [12:0] step, input logic [13:0] fl);
    logic signed [23:0] v;
    v = $signed({10'd0, l}) - $signed({3'd0, 21'(steps) * 21'(step)});
    back_off = v < $signed({10'd0, fl}) ? fl : v[13:0];
  endfunction
  function automatic logic [13:0] min14(input logic [13:0] a, input logic [13:0] b);
    min14 = a < b ? a : b;
  endfunction

  // The decision on a verify read (PvFsm::on_verify_code), in the cycle its ack arrives.
  logic d_in_band, d_fail, d_set;
  logic [13:0] d_code;
  always_comb begin
    d_in_band = dev_adc >= lo && dev_adc <= hi;
    d_fail = !d_in_band && iters >= cfg_max_iter;
    d_set = dev_adc < lo;
    if (d_set)
      d_code = (last == LAST_RESET && has_set) ?
          back_off(last_set, cfg_backoff, cfg_gate_step, set_floor) : v_set;
    else
      d_code = (last == LAST_SET && has_reset) ?
          back_off(last_reset, cfg_backoff, cfg_reset_step, {1'b0, cfg_reset_start}) : v_reset;
  end
  logic verify_done;  // a verify ends the command (in band or at the limit)
  assign verify_done = st == S_VERIFY && dev_ack && (d_in_band || d_fail);
  // The next command starts in the cycle after the one before ends (or after IDLE).
  assign q_pop = (st == S_IDLE || verify_done) && q_n != '0;

  assign busy = st != S_IDLE;
  assign dev_req = st == S_VERIFY || st == S_PULSE;
  assign dev_op = st == S_VERIFY ? OP_VERIFY : op;
  assign dev_code = st == S_PULSE ? code : 13'd0;
  assign dev_addr = addr;
  assign irq = |(irq_status & irq_enable);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      st <= S_IDLE;
      {addr, lo, hi} <= '0;
      {v_set, v_reset, set_floor, last_set, last_reset} <= '0;
      {has_set, has_reset, last, op, code} <= '0;
      {iters, n_set, n_reset, n_verify} <= '0;
      res_valid <= 1'b0;
      {res_success, res_iterations, res_n_set, res_n_reset, res_n_verify} <= '0;
      {res_last_adc, res_addr} <= '0;
      irq_status <= '0;
    end else begin
      res_valid <= 1'b0;
      irq_status <= irq_status & ~irq_clear;
      if (q_pop) begin
        {addr, lo, hi, v_set[12:0]} <= q_mem[q_rd];
        v_set[13] <= 1'b0;
        set_floor <= min14({1'b0, cfg_gate_start}, {1'b0, q_mem[q_rd][12:0]});
        v_reset <= {1'b0, cfg_reset_start};
        {has_set, has_reset, last} <= {1'b0, 1'b0, LAST_NONE};
        {iters, n_set, n_reset, n_verify} <= '0;
      end
      unique case (st)
        S_IDLE: if (q_pop) st <= S_VERIFY;
        S_VERIFY:
        if (dev_ack) begin
          if (verify_done) begin
            res_valid <= 1'b1;
            res_success <= d_in_band;
            res_iterations <= iters;
            res_n_set <= n_set;
            res_n_reset <= n_reset;
            res_n_verify <= n_verify + 1'b1;
            res_last_adc <= dev_adc;
            res_addr <= addr;
            irq_status <= (irq_status & ~irq_clear) | {d_fail, q_n == '0};
            st <= q_pop ? S_VERIFY : S_IDLE;
          end else begin
            n_verify <= n_verify + 1'b1;
            iters <= iters + 1'b1;
            code <= d_code[12:0];
            op <= d_set ? OP_SET : OP_RESET;
            last <= d_set ? LAST_SET : LAST_RESET;
            if (d_set) begin
              v_set <= min14({1'b0, cfg_gate_max}, d_code + {1'b0, cfg_gate_step});
              last_set <= d_code;
              has_set <= 1'b1;
              n_set <= n_set + 1'b1;
            end else begin
              v_reset <= min14({1'b0, cfg_reset_max}, d_code + {1'b0, cfg_reset_step});
              last_reset <= d_code;
              has_reset <= 1'b1;
              n_reset <= n_reset + 1'b1;
            end
            st <= S_PULSE;
          end
        end
        S_PULSE: if (dev_ack) st <= S_VERIFY;
        default: st <= S_IDLE;
      endcase
    end
  end
endmodule
