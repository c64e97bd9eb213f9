// meta_update: one lane of the metaplastic update datapath of meta_unit (docs/meta.md,
// docs/cosim.md), bit-exact with the C++ fixed-point engine (models/meta/meta_fixed_simd.cpp,
// FixedEngine::run_body). Per weight, from its stored state (hidden weight h, gradient
// accumulator acc, first moment m, second moment code v, level lev):
//   1. g = sat(batch_mean(acc) + weight_decay(h))
//   2. optimizer: Adam (m, v EMAs, 1/sqrt table, alpha_t step) or SGD (with or without
//      momentum)
//   3. metaplastic attenuation (Option A, B or C; off when cfg_meta = 0, i.e. m* = 0):
//      x = m* d / I, f from the meta-function table with linear interpolation, d *= f
//   4. h' = sat(h + d), level' = number of thresholds <= h', changed = level' != lev
// Every intermediate is a 64-bit two's-complement value, as in the C++ datapath (whose
// comments bound each one below 2^63); every right shift of a signed value is arithmetic.
//
// Timing: one weight per cycle; the result of a weight presented with in_valid at a
// rising edge appears on the out_* ports after that edge (latency 1, fully pipelined).
// The tables and thresholds are written through the tab_* port (one entry per cycle,
// not while weights are in flight); cfg_* are the unit's static configuration and st_*
// the per-step scalars the controller computes once per step (FixedEngine::step_const).
// Formats (parameters, defaults = meta.* defaults): HB-bit hidden weight, GB-bit
// gradient/accumulator, MB-bit first moment, v code = shift << VS | mantissa (32 b),
// 1/sqrt table of 2^(RK+1) entries, meta-function table of LUT_N + 2 entries.
`define MU_S64T logic signed [63:0]
`define MU_S64(x) $signed(64'(x))

module meta_update #(
    parameter int HB    = 16,   // meta.hidden_bits
    parameter int GB    = 32,   // meta.grad_bits
    parameter int MB    = 32,   // meta.m_bits
    parameter int VS    = 21,   // meta.v_sig_bits
    parameter int RK    = 8,    // meta.rsqrt_lut_bits
    parameter int LUT_N = 128,  // meta.lut_entries
    parameter int MAXT  = 7,    // most thresholds (levels - 1)
    parameter int LUT_W = 17    // table entry width (meta.lut_frac_bits + 1)
) (
    input  logic                 clk,
    input  logic                 rst_n,
    // Table load: sel 0 meta-function table (entry 0..LUT_N+1, Q0.frac), 1 1/sqrt table
    // (entry 0..2^(RK+1)-1, Q0.16), 2 threshold k (signed, hidden LSBs), 3 threshold k's
    // x constant {shift[37:32], q[30:0]}.
    input  logic                 tab_we,
    input  logic [          1:0] tab_sel,
    input  logic [          9:0] tab_addr,
    input  logic [         37:0] tab_wdata,
    // Static configuration.
    input  logic                 cfg_adam,      // 1 Adam, 0 SGD
    input  logic                 cfg_meta,      // attenuation on (m* > 0)
    input  logic [          1:0] cfg_opt,       // 0 Option A, 1 B, 2 C
    input  logic [          3:0] cfg_nthr,      // thresholds in use (levels - 1), 1..MAXT
    input  logic [         28:0] cfg_c1,        // (1 - beta1) Q0.28
    input  logic [         28:0] cfg_c2,        // (1 - beta2) Q0.28
    input  logic [         28:0] cfg_mu,        // SGD momentum Q0.28
    input  logic [         30:0] cfg_wd_q,      // weight decay constant q * 2^-shift
    input  logic [          5:0] cfg_wd_s,
    input  logic [         30:0] cfg_kg_q,      // Option B: m* / mean interval
    input  logic [          5:0] cfg_kg_s,
    input  logic [          5:0] cfg_lut_seg,   // log2 of a table segment in x LSBs
    input  logic [         31:0] cfg_lut_xmax,  // x clamp (LUT_N << seg)
    input  logic [          4:0] cfg_lut_frac,  // table fraction bits
    // Per-step scalars.
    input  logic [         32:0] st_rc,         // 1/divisor Q0.32 (2^32: exact mean of one)
    input  logic [         30:0] st_ka_q,       // alpha_t (or lr) q
    input  logic [          6:0] st_adam_shift,
    input  logic [          6:0] st_sgd_shift,
    input  logic [         62:0] st_eps_v,      // eps_t^2 in v LSBs, >= 1
    // Weight in.
    input  logic                 in_valid,
    input  logic signed [HB-1:0] in_h,
    input  logic signed [GB-1:0] in_acc,
    input  logic signed [MB-1:0] in_m,
    input  logic [         31:0] in_v,
    input  logic [          3:0] in_lev,
    // Weight out (registered).
    output logic                 out_valid,
    output logic signed [HB-1:0] out_h,
    output logic signed [MB-1:0] out_m,
    output logic [         31:0] out_v,
    output logic [          3:0] out_lev,
    output logic                 out_changed
);
  localparam int NLUT = LUT_N + 2;
  localparam int NRSQ = 2 << RK;
  localparam int LW = $clog2(NLUT);
  localparam int TW = $clog2(MAXT);
  localparam int KQ = 28;  // Q0.28 optimizer constants
  localparam int KR = 16;  // Q0.16 1/sqrt table
  localparam `MU_S64T KFAR = 64'sd1 <<< 32;
  localparam `MU_S64T H_MAX = (64'sd1 <<< (HB - 1)) - 64'sd1;
  localparam `MU_S64T H_MIN = -H_MAX - 64'sd1;
  localparam `MU_S64T G_MAX = (64'sd1 <<< (GB - 1)) - 64'sd1;
  localparam `MU_S64T G_MIN = -G_MAX - 64'sd1;
  localparam `MU_S64T M_MAX = (64'sd1 <<< (MB - 1)) - 64'sd1;
  localparam `MU_S64T M_MIN = -M_MAX - 64'sd1;
  localparam `MU_S64T VMASK = (64'sd1 <<< VS) - 64'sd1;
  localparam `MU_S64T RMASK = (64'sd1 <<< RK) - 64'sd1;

  // ---- tables -------------------------------------------------------------------------
  logic [LUT_W-1:0] lut_tab[NLUT];
  logic        [16:0] rsq_tab[NRSQ];
  logic signed [31:0] thr    [MAXT];
  logic        [30:0] kthr_q [MAXT];
  logic        [ 5:0] kthr_s [MAXT];

  always_ff @(posedge clk) begin
    if (tab_we) begin
      unique case (tab_sel)
        2'd0: if (32'(tab_addr) < NLUT) lut_tab[tab_addr[LW-1:0]] <= tab_wdata[LUT_W-1:0];
        2'd1: if (32'(tab_addr) < NRSQ) rsq_tab[tab_addr[RK:0]] <= tab_wdata[16:0];
        2'd2: if (32'(tab_addr) < MAXT) thr[tab_addr[TW-1:0]] <= tab_wdata[31:0];
        default:
        if (32'(tab_addr) < MAXT) begin
          kthr_q[tab_addr[TW-1:0]] <= tab_wdata[30:0];
          kthr_s[tab_addr[TW-1:0]] <= tab_wdata[37:32];
        end
      endcase
    end
  end

  // ---- helpers --------------------------------------------------------------------------
  function automatic `MU_S64T sat(input `MU_S64T x, input `MU_S64T lo, input `MU_S64T hi);
    sat = x < lo ? lo : (x > hi ? hi : x);
  endfunction
  // Index of the leading one of x | 1 (x >= 0).
  function automatic `MU_S64T msb(input `MU_S64T x);
    msb = 64'sd0;
    for (int k = 0; k < 63; k++) if (x[k]) msb = `MU_S64(k);
  endfunction
  // (x + 2^(s-1)) >> s for s >= 1, as ((x >> (s-1)) + 1) >> 1.
  function automatic `MU_S64T rshift_round(input `MU_S64T x, input `MU_S64T s);
    rshift_round = ((x >>> (s - 1)) + 64'sd1) >>> 1;
  endfunction
  // Threshold with sentinels: index -1 = -KFAR, nthr.. = H_MAX + KFAR.
  function automatic `MU_S64T thr_pad(input `MU_S64T i, input `MU_S64T n, input `MU_S64T t);
    thr_pad = i < 0 ? -KFAR : (i >= n ? H_MAX + KFAR : t);
  endfunction

  // ---- datapath (combinational) ---------------------------------------------------------
  `MU_S64T          h, acc, m0, g, wdt, m_new, d, v_code_new, att_x;
  logic        att;
  logic [ 3:0] lev_new;
  `MU_S64T          h_new;

  always_comb begin
    // 64-bit intermediates as the C++ int64 ones; the table indices use their low bits.
    /* verilator lint_off UNUSEDSIGNAL */
    `MU_S64T mean, vcode0, v0, x, xh, xl, v, vp, ev, sh0, mant0, carry, mant, shv, vx, e, sh, f, idx;
    `MU_S64T t, s, b, l0, l1, ia, ib, ta, tb, dar, da, dbh, kq, ks, xc, k, r, fa, fb, fl, seg_half;
    `MU_S64T ia_c, ib_c;
    /* verilator lint_on UNUSEDSIGNAL */
    {mean, vcode0, v0, x, xh, xl, v, vp, ev, sh0, mant0, carry, mant, shv, vx, e, sh, f, idx} = '0;
    {t, s, b, l0, l1, ia, ib, ta, tb, dar, da, dbh, kq, ks, xc, k, r, fa, fb, fl, seg_half} = '0;
    {ia_c, ib_c} = '0;
    h = `MU_S64(in_h);
    acc = `MU_S64(in_acc);
    m0 = `MU_S64(in_m);
    // 1. gradient: batch mean, weight decay, saturation.
    if (st_rc == 33'h1_0000_0000) mean = acc;
    else mean = (acc * `MU_S64({31'd0, st_rc}) + (64'sd1 <<< 31)) >>> 32;
    wdt = (h * `MU_S64({33'd0, cfg_wd_q}) + (64'sd1 <<< (cfg_wd_s - 6'd1))) >>> cfg_wd_s;
    g = sat(mean + wdt, G_MIN, G_MAX);
    // 2. optimizer.
    m_new = m0;
    v_code_new = `MU_S64({32'd0, in_v});
    if (cfg_adam) begin
      m_new = sat(m0 + ((`MU_S64({35'd0, cfg_c1}) * (g - m0) + (64'sd1 <<< (KQ - 1))) >>> KQ),
                  M_MIN, M_MAX);
      vcode0 = `MU_S64({32'd0, in_v});
      v0 = (vcode0 & VMASK) <<< (vcode0 >>> VS);
      x = g * g - v0;
      xh = x >>> KQ;
      xl = x & ((64'sd1 <<< KQ) - 64'sd1);
      v = v0 + `MU_S64({35'd0, cfg_c2}) * xh +
          ((`MU_S64({35'd0, cfg_c2}) * xl + (64'sd1 <<< (KQ - 1))) >>> KQ);
      vp = v < 0 ? 64'sd0 : v;
      ev = msb(vp);
      sh0 = ev - `MU_S64(VS) + 1 > 0 ? ev - `MU_S64(VS) + 1 : 64'sd0;
      mant0 = sh0 > 0 ? rshift_round(vp, sh0) : vp;
      carry = mant0 >>> VS;
      mant = mant0 >>> carry;
      shv = sh0 + carry;
      v_code_new = (shv <<< VS) | mant;
      vx = ((v_code_new & VMASK) <<< (v_code_new >>> VS)) + `MU_S64({1'b0, st_eps_v});
      e = msb(vx);
      sh = e - `MU_S64(RK);
      f = sh >= 0 ? (vx >>> sh) : (vx <<< (-sh));
      idx = ((e & 64'sd1) <<< RK) | (f & RMASK);
      t = (m_new * `MU_S64({47'd0, rsq_tab[idx[RK:0]]}) + (64'sd1 <<< (KR - 1))) >>> KR;
      s = `MU_S64({57'd0, st_adam_shift}) + (e >>> 1);
      d = -rshift_round(t * `MU_S64({33'd0, st_ka_q}), s);
    end else begin
      if (cfg_mu != 29'd0) begin
        b = sat(((`MU_S64({35'd0, cfg_mu}) * m0 + (64'sd1 <<< (KQ - 1))) >>> KQ) + g, M_MIN, M_MAX);
        m_new = b;
      end else begin
        b = g;
      end
      d = -((b * `MU_S64({33'd0, st_ka_q}) + (64'sd1 <<< (st_sgd_shift - 7'd1))) >>> st_sgd_shift);
    end
    // 3. metaplastic attenuation.
    att = 1'b0;
    att_x = 64'sd0;
    if (cfg_opt == 2'd1) begin
      att = h[63] != d[63];  // the step shrinks |W| (h = 0: x = 0, f = 1)
      att_x = ((h < 0 ? -h : h) * `MU_S64({33'd0, cfg_kg_q}) + (64'sd1 <<< (cfg_kg_s - 6'd1)))
              >>> cfg_kg_s;
    end else begin
      l0 = `MU_S64({60'd0, in_lev});
      l1 = `MU_S64({60'd0, cfg_nthr});
      ia = d > 0 ? l0 : l0 - 1;  // threshold ahead (-1 or nthr: none)
      ib = d > 0 ? l0 - 1 : l0;  // threshold behind
      ia_c = ia < 0 ? 64'sd0 : (ia >= l1 ? 64'sd0 : ia);
      ib_c = ib < 0 ? 64'sd0 : (ib >= l1 ? 64'sd0 : ib);
      ta = thr_pad(ia, l1, `MU_S64(thr[ia_c[TW-1:0]]));
      tb = thr_pad(ib, l1, `MU_S64(thr[ib_c[TW-1:0]]));
      dar = d > 0 ? ta - h : h - ta;
      da = dar < KFAR ? dar : KFAR;
      att = (ia >= 0) && (ia < l1);
      if (cfg_opt == 2'd2) begin
        dbh = d > 0 ? h - tb : tb - h;
        att = att && (da <= dbh);
      end
      kq = att ? `MU_S64({33'd0, kthr_q[ia_c[TW-1:0]]}) : 64'sd0;
      ks = att ? `MU_S64({58'd0, kthr_s[ia_c[TW-1:0]]}) : 64'sd1;
      att_x = rshift_round((da < 0 ? 64'sd0 : da) * kq, ks);
    end
    if (cfg_meta) begin
      // The meta-function table with linear interpolation (MetaLut::eval_fx).
      xc = att_x < `MU_S64({32'd0, cfg_lut_xmax}) ? att_x : `MU_S64({32'd0, cfg_lut_xmax});
      k = xc >>> cfg_lut_seg;
      r = xc & ((64'sd1 <<< cfg_lut_seg) - 64'sd1);
      fa = `MU_S64({{(64-LUT_W){1'b0}}, lut_tab[k[LW-1:0]]});
      fb = `MU_S64({{(64-LUT_W){1'b0}}, lut_tab[k[LW-1:0]+LW'(1)]});
      seg_half = cfg_lut_seg > 0 ? (64'sd1 <<< (cfg_lut_seg - 6'd1)) : 64'sd0;
      fl = fa + (((fb - fa) * r + seg_half) >>> cfg_lut_seg);
      fl = `MU_S64({32'd0, fl[31:0]});
      if (att) d = (d * fl + (64'sd1 <<< (cfg_lut_frac - 5'd1))) >>> cfg_lut_frac;
    end
    // 4. new hidden weight (saturating) and level.
    h_new = sat(h + d, H_MIN, H_MAX);
    lev_new = 4'd0;
    for (int i = 0; i < MAXT; i++)
      if (4'(i) < cfg_nthr && h_new >= `MU_S64(thr[i])) lev_new = lev_new + 4'd1;
  end

  // ---- output register ------------------------------------------------------------------
  always_ff @(posedge clk or negedge rst_n) begin
    if (!rst_n) begin
      out_valid <= 1'b0;
      out_h <= '0;
      out_m <= '0;
      out_v <= '0;
      out_lev <= '0;
      out_changed <= 1'b0;
    end else begin
      out_valid <= in_valid;
      if (in_valid) begin
        out_h <= h_new[HB-1:0];
        out_m <= m_new[MB-1:0];
        out_v <= v_code_new[31:0];
        out_lev <= lev_new;
        out_changed <= lev_new != in_lev;
      end
    end
  end
endmodule

`undef MU_S64T
`undef MU_S64
