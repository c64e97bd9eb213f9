#!/usr/bin/env python3
"""Regression (issue 12 item 2): waves.vcd of a quick hardware run.

Runs `memplast train` on configs/quick.json (fewer samples) with trace.vcd = true, reads
<out>/waves.vcd back with a small VCD parser (header $scope/$var, then #time and value
changes) and checks:

* the expected signals are there: every interrupt line (irq_sysctl, irq_pv_ctrl,
  irq_meta_unit, one per tile), each tile's busy flag, pv_ctrl's busy and queue_depth,
  meta_unit's busy and stalled;
* they toggle: every tile's busy rises and falls, pv_ctrl's queue depth takes several
  values, meta_unit's busy and the interrupt lines toggle;
* a known stimulus at the time the model predicts: the first forward MVM of batch 0 on
  tile layer0_t0 (the trace.json event of the same run gives its start) takes
  vectors x (t_dac + t_settle + ceil(cols / ceil(cols / cols_per_adc)) x (adc_bits + 2) /
  f_adc) with the run's tile parameters (docs/tile.md; amplitude encoding, unsigned
  inputs), and the VCD's busy flag of layer0_t0 rises exactly at its start and falls
  exactly that latency later.

The checks are shown to fail on a copy of the VCD with that falling edge moved by 1 ps
and on one without the pv_ctrl queue_depth variable.

usage: check_vcd.py MEMPLAST_BIN SOURCE_DIR
"""
import json
import math
import os
import re
import sys
import tempfile

from regress_util import expect_rejected, fail, quick_train_cmd, run_or_fail


class VcdError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise VcdError(msg)


def parse_vcd(text):
    """Returns (timescale_ps, {full_name: [(time, value), ...]})."""
    tokens = text.split()
    i = 0
    scope = []
    ids = {}  # id -> [names]
    timescale_ps = None
    n = len(tokens)
    while i < n:
        t = tokens[i]
        if t == "$timescale":
            j = tokens.index("$end", i)
            spec = "".join(tokens[i + 1:j])
            m = re.match(r"^(\d+)(s|ms|us|ns|ps|fs)$", spec)
            need(m, "bad $timescale %r" % spec)
            unit = {"s": 1e12, "ms": 1e9, "us": 1e6, "ns": 1e3, "ps": 1.0, "fs": 1e-3}[m.group(2)]
            need(unit >= 1.0, "timescale below 1 ps: %r" % spec)
            timescale_ps = int(m.group(1)) * int(unit)
            i = j + 1
        elif t == "$scope":
            scope.append(tokens[i + 2])
            i = tokens.index("$end", i) + 1
        elif t == "$upscope":
            scope.pop()
            i = tokens.index("$end", i) + 1
        elif t == "$var":
            j = tokens.index("$end", i)
            ident, ref = tokens[i + 3], tokens[i + 4]
            ids.setdefault(ident, []).append(".".join(scope[1:] + [ref]))
            i = j + 1
        elif t == "$enddefinitions":
            i = tokens.index("$end", i) + 1
            break
        elif t.startswith("$"):
            i = tokens.index("$end", i) + 1
        else:
            i += 1
    need(timescale_ps is not None, "no $timescale")
    waves = {name: [] for names in ids.values() for name in names}
    now = 0
    while i < n:
        t = tokens[i]
        if t.startswith("#"):
            now = int(t[1:])
            i += 1
        elif t == "$comment":
            i = tokens.index("$end", i) + 1
        elif t in ("$dumpvars", "$dumpon", "$dumpoff", "$dumpall", "$end"):
            i += 1
        elif t[0] in "bBrR":
            value, ident = t[1:], tokens[i + 1]
            need(ident in ids, "value change of an undeclared id %r" % ident)
            for name in ids[ident]:
                waves[name].append((now * timescale_ps, value))
            i += 2
        else:
            value, ident = t[0], t[1:]
            need(ident in ids, "value change of an undeclared id %r" % ident)
            for name in ids[ident]:
                waves[name].append((now * timescale_ps, value))
            i += 1
    return timescale_ps, waves


def level(v):
    """'0'/'1' or a binary vector as an int."""
    return int(v, 2) if set(v) <= {"0", "1"} else None


def edges(wave, rising):
    out = []
    prev = None
    for t, v in wave:
        lv = level(v)
        if prev is not None and lv is not None and lv != prev and (lv > prev) == rising:
            out.append(t)
        prev = lv
    return out


def check(text, tiles, mvm_start_ps, mvm_latency_ps):
    _, waves = parse_vcd(text)
    expected = ["irq_sysctl", "irq_pv_ctrl", "irq_meta_unit", "pv_ctrl.busy",
                "pv_ctrl.queue_depth", "meta_unit.busy", "meta_unit.stalled"]
    for t in tiles:
        expected += ["irq_" + t, t + ".busy"]
    missing = [s for s in expected if s not in waves]
    need(not missing, "signals missing: %r" % missing)
    for t in tiles:
        need(edges(waves[t + ".busy"], True) and edges(waves[t + ".busy"], False),
             "%s.busy never toggles" % t)
    depths = {level(v) for _, v in waves["pv_ctrl.queue_depth"]}
    need(len(depths) >= 3, "pv_ctrl.queue_depth takes only the values %r" % sorted(depths))
    need(edges(waves["meta_unit.busy"], True), "meta_unit.busy never rises")
    need(edges(waves["irq_sysctl"], True), "irq_sysctl never rises")
    rises = edges(waves["layer0_t0.busy"], True)
    falls = edges(waves["layer0_t0.busy"], False)
    need(mvm_start_ps in rises,
         "layer0_t0.busy does not rise at the MVM's start %d ps" % mvm_start_ps)
    fall = next((f for f in falls if f > mvm_start_ps), None)
    need(fall == mvm_start_ps + mvm_latency_ps,
         "layer0_t0.busy falls at %r ps, the model predicts %d ps (start %d + latency %d)"
         % (fall, mvm_start_ps + mvm_latency_ps, mvm_start_ps, mvm_latency_ps))
    return waves, rises, fall


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        run_or_fail(quick_train_cmd(binary, src, out, "hardware",
                                    ("trace.vcd=true", "train.train_samples=400",
                                     "train.test_samples=200")), src)
        path = os.path.join(out, "waves.vcd")
        if not os.path.exists(path):
            fail("no waves.vcd")
        size = os.path.getsize(path)
        text = open(path).read()
        trace = json.load(open(os.path.join(out, "trace.json")))
        summary = json.load(open(os.path.join(out, "summary.json")))
    tp = summary["config"]["tile"]
    if tp["encoding"] != "amplitude":
        fail("the stimulus assumes amplitude encoding")
    # The first MVM of layer0_t0 in the traced batch (trace.json), and its latency from
    # the tile's cost model with the run's parameters.
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in trace["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    mvm = next(e for e in trace["traceEvents"] if e["ph"] == "X" and e["name"] == "mvm_fwd"
               and names[(e["pid"], e["tid"])] == "layer0_t0")
    cols = int(tp["cols"])
    adcs = math.ceil(cols / int(tp["cols_per_adc"]))
    series = math.ceil(cols / adcs)
    t_read_ps = (float(tp["t_dac_ns"]) + float(tp["t_settle_ns"])) * 1e3 + \
        series * (int(tp["adc_bits"]) + 2) / (float(tp["f_adc_MHz"]) * 1e6) * 1e12
    latency_ps = round(mvm["args"]["vectors"] * t_read_ps)
    start_ps = round(float(mvm["ts"]) * 1e6)
    if round(float(mvm["dur"]) * 1e6) != latency_ps:
        fail("trace.json's MVM takes %s us, the cost model %d ps" % (mvm["dur"], latency_ps))
    tiles = sorted({n for n in names.values() if re.match(r"^layer\d+_t\d+$", n)})
    try:
        waves, rises, fall = check(text, tiles, start_ps, latency_ps)
    except VcdError as e:
        fail(str(e))
    changes = sum(len(w) for w in waves.values())
    print("waves.vcd: %d bytes, %d signals, %d value changes" % (size, len(waves), changes))
    print("layer0_t0.busy: rises at %.6f us, falls at %.6f us (model: start + %d vectors x %.0f ps)"
          % (start_ps / 1e6, fall / 1e6, mvm["args"]["vectors"], t_read_ps))
    # The checks can fail: the falling edge moved by 1 ps, the queue depth removed.
    ts_ps, _ = parse_vcd(text)
    bad = re.sub(r"^#%d$" % (fall // ts_ps), "#%d" % (fall // ts_ps + 1), text, count=1,
                 flags=re.M)
    bad2 = re.sub(r"^\$var .* queue_depth .*\$end$", "", text, count=1, flags=re.M)
    expect_rejected("VCD", (("falling edge 1 ps late", bad), ("queue_depth missing", bad2)),
                    lambda t: check(t, tiles, start_ps, latency_ps), VcdError)
    print("check_vcd: OK")


if __name__ == "__main__":
    main()
