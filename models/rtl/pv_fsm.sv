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
// Cycles (clk): a command leaves the queue in 1 cycle (LOAD); each verify and pulse is
// one request cycle plus the device's ack wait; a decision takes 1 cycle (DECIDE); the
// end of a command 1 cycle (FINISH).
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

  typedef enum logic [2:0] {
    S_IDLE,
    S_LOAD,
    S_VERIFY,
    S_DECIDE,
    S_PULSE,
    S_FINISH
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
  logic [15:0] lo, hi, adc;
  logic [13:0] v_set, v_reset, set_floor;
  logic [13:0] last_set, last_reset;  // valid when has_set / has_reset
  logic has_set, has_reset;
  logic [1:0] last;
  logic [ITER_BITS-1:0] iters, n_set, n_reset, n_verify;
  logic [1:0] op;
  logic [12:0] code;  // a pulse code never exceeds 13 bits (c <= max(start, max))
  logic ok;

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

  assign q_pop = st == S_LOAD;
  assign busy = st != S_IDLE;
  assign dev_req = st == S_VERIFY || st == S_PULSE;
  assign dev_op = st == S_VERIFY ? OP_VERIFY : op;
  assign dev_code = st == S_PULSE ? code : 13'd0;
  assign dev_addr = addr;
  assign irq = |(irq_status & irq_enable);

  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      st <= S_IDLE;
      {addr, lo, hi, adc} <= '0;
      {v_set, v_reset, set_floor, last_set, last_reset} <= '0;
      {has_set, has_reset, last, op, code, ok} <= '0;
      {iters, n_set, n_reset, n_verify} <= '0;
      res_valid <= 1'b0;
      {res_success, res_iterations, res_n_set, res_n_reset, res_n_verify} <= '0;
      {res_last_adc, res_addr} <= '0;
      irq_status <= '0;
    end else begin
      res_valid <= 1'b0;
      irq_status <= irq_status & ~irq_clear;
      unique case (st)
        S_IDLE: if (q_n != '0) st <= S_LOAD;
        S_LOAD: begin
          {addr, lo, hi, v_set[12:0]} <= q_mem[q_rd];
          v_set[13] <= 1'b0;
          set_floor <= min14({1'b0, cfg_gate_start}, {1'b0, q_mem[q_rd][12:0]});
          v_reset <= {1'b0, cfg_reset_start};
          {has_set, has_reset, last} <= {1'b0, 1'b0, LAST_NONE};
          {iters, n_set, n_reset, n_verify} <= '0;
          st <= S_VERIFY;
        end
        S_VERIFY:
        if (dev_ack) begin
          adc <= dev_adc;
          n_verify <= n_verify + 1'b1;
          st <= S_DECIDE;
        end
        S_DECIDE: begin
          if (adc >= lo && adc <= hi) begin
            ok <= 1'b1;
            st <= S_FINISH;
          end else if (iters >= cfg_max_iter) begin
            ok <= 1'b0;
            st <= S_FINISH;
          end else begin
            logic [13:0] c;
            iters <= iters + 1'b1;
            if (adc < lo) begin
              c = (last == LAST_RESET && has_set) ?
                  back_off(last_set, cfg_backoff, cfg_gate_step, set_floor) : v_set;
              v_set <= min14({1'b0, cfg_gate_max}, c + {1'b0, cfg_gate_step});
              last_set <= c;
              has_set <= 1'b1;
              n_set <= n_set + 1'b1;
              last <= LAST_SET;
              op <= OP_SET;
            end else begin
              c = (last == LAST_SET && has_reset) ?
                  back_off(last_reset, cfg_backoff, cfg_reset_step, {1'b0, cfg_reset_start}) :
                  v_reset;
              v_reset <= min14({1'b0, cfg_reset_max}, c + {1'b0, cfg_reset_step});
              last_reset <= c;
              has_reset <= 1'b1;
              n_reset <= n_reset + 1'b1;
              last <= LAST_RESET;
              op <= OP_RESET;
            end
            code <= c[12:0];
            st <= S_PULSE;
          end
        end
        S_PULSE: if (dev_ack) st <= S_VERIFY;
        S_FINISH: begin
          res_valid <= 1'b1;
          res_success <= ok;
          res_iterations <= iters;
          res_n_set <= n_set;
          res_n_reset <= n_reset;
          res_n_verify <= n_verify;
          res_last_adc <= adc;
          res_addr <= addr;
          irq_status <= (irq_status & ~irq_clear) | {~ok, q_n == '0};
          st <= S_IDLE;
        end
        default: st <= S_IDLE;
      endcase
    end
  end
endmodule
