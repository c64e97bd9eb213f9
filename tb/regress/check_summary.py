#!/usr/bin/env python3
"""Regression: run `memplast train --config configs/quick.json --mode hardware --out DIR`
and check that summary.json has every key architecture.md lists, with sane ranges, and
that the other output files exist. Python 3 standard library only.

The energy and time ledger (issue 12 item 3, traces/README.md "energy.csv"):
* energy.csv has the header component,phase,operation,count,joules,seconds, one row per
  key, phases and operations from traces/schema.json's "ledger" (which README.md names);
* its rows sum to summary.json's energy_j.total and ledger.total_j within floating-point
  rounding, and per component to energy_j.by_component (tiles summed as "tile") and
  ledger.by_component_j;
* the exclusive phase times (time_s.by_phase, "other" = outside every phase) sum to
  simulated_time_s; data movement and contention equal the bus, dma, tile busy_wait and
  meta_unit queue_full_wait rows (0 J); the contention times are >= 0 and sum to at most
  simulated_time_s;
* the per-sample table times its sample counts gives the phase totals back.
The same checks must reject deliberately corrupted copies (a row dropped, a phase time
changed, a per-sample figure off, an unknown phase), so they can fail.

Usage: check_summary.py MEMPLAST_BIN SOURCE_DIR [--mode hardware] [extra --set args]
"""
import copy
import csv
import json
import math
import os
import re
import subprocess
import sys
import tempfile

from regress_util import fail


TILE = re.compile(r"^layer\d+_t\d+$")


class LedgerError(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise LedgerError(msg)


def close(a, b, rel=1e-9):
    """Equal within floating-point rounding of a sum of a few hundred terms."""
    return abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-18


def check_ledger(s, header, rows, schema, mode):
    """Raise LedgerError on the first inconsistency between energy.csv and summary.json."""
    need(header == ["component", "phase", "operation", "count", "joules", "seconds"],
         "energy.csv header %r" % header)
    led = schema["ledger"]
    phases = set(led["phases"])
    ops = led["operations"]
    keys = set()
    for i, r in enumerate(rows):
        where = "energy.csv row %d %r" % (i + 2, r)
        key = (r["component"], r["phase"], r["operation"])
        need(key not in keys, where + ": duplicate key")
        keys.add(key)
        comp = "layer<l>_t<k>" if TILE.match(r["component"]) else r["component"]
        need(comp in ops, where + ": component not in traces/schema.json ledger.operations")
        need(r["operation"] in ops[comp], where + ": operation not in the schema for " + comp)
        need(r["phase"] in phases, where + ": phase not in traces/schema.json ledger.phases")
        need(int(r["count"]) >= 0, where + ": negative count")
        for f in ("joules", "seconds"):
            v = float(r[f])
            need(math.isfinite(v) and v >= 0, where + ": %s = %r" % (f, v))
    joules = [float(r["joules"]) for r in rows]
    total = s["energy_j"]["total"]
    need(close(sum(joules), total),
         "energy.csv joules sum to %r, energy_j.total is %r" % (sum(joules), total))
    need(close(s["ledger"]["total_j"], total),
         "ledger.total_j %r, energy_j.total %r" % (s["ledger"]["total_j"], total))
    by_cls, by_comp = {}, {}
    for r in rows:
        j = float(r["joules"])
        by_comp[r["component"]] = by_comp.get(r["component"], 0.0) + j
        cls = "tile" if TILE.match(r["component"]) else r["component"]
        by_cls[cls] = by_cls.get(cls, 0.0) + j
    for c, v in s["energy_j"]["by_component"].items():
        need(close(by_cls.get(c, 0.0), v),
             "energy.csv rows of %s sum to %r, energy_j.by_component.%s is %r"
             % (c, by_cls.get(c, 0.0), c, v))
    for c, v in by_cls.items():
        need(v == 0.0 or c in s["energy_j"]["by_component"],
             "energy.csv charges %r J to %s, which energy_j.by_component lacks" % (v, c))
    need(set(by_comp) == set(s["ledger"]["by_component_j"]),
         "ledger.by_component_j components %r, energy.csv has %r"
         % (sorted(s["ledger"]["by_component_j"]), sorted(by_comp)))
    for c, v in by_comp.items():
        need(close(s["ledger"]["by_component_j"][c], v),
             "ledger.by_component_j.%s %r, energy.csv %r" % (c, s["ledger"]["by_component_j"][c], v))
    by_phase = {}
    for r in rows:
        by_phase[r["phase"]] = by_phase.get(r["phase"], 0.0) + float(r["joules"])
    for p, v in by_phase.items():
        need(close(s["ledger"]["by_phase_j"].get(p, -1.0), v),
             "ledger.by_phase_j.%s %r, energy.csv %r" % (p, s["ledger"]["by_phase_j"].get(p), v))

    # Time: the exclusive phase times cover the run.
    t = s["time_s"]
    sim = s["simulated_time_s"]
    need(set(t["by_phase"]) <= phases, "time_s.by_phase phases %r" % sorted(t["by_phase"]))
    need(all(v >= 0 for v in t["by_phase"].values()), "a negative phase time")
    need(close(sum(t["by_phase"].values()), sim),
         "time_s.by_phase sums to %r, simulated_time_s is %r" % (sum(t["by_phase"].values()), sim))
    need(close(t["phases_sum"], sim), "time_s.phases_sum %r != %r" % (t["phases_sum"], sim))
    # The functional software baseline (ideal devices) has no tiles and no P&V: its
    # forward and programming take no simulated time.
    timed = ["update", "evaluation"]
    if mode == "hardware" or s["config"]["train"]["device_effects"]:
        timed += ["forward", "programming"]
    for p in timed:
        need(t["by_phase"].get(p, 0) > 0, "time_s.by_phase.%s is not positive" % p)
    need(t["phase_count"]["forward"] == t["phase_count"]["batch"] == t["phase_count"]["programming"],
         "phase counts forward/batch/programming differ: %r" % t["phase_count"])
    bus = sum(float(r["seconds"]) for r in rows
              if r["component"] == "bus" and r["operation"] in ("read", "write"))
    wait = sum(float(r["seconds"]) for r in rows
               if r["component"] == "bus" and r["operation"] == "arbitration_wait")
    need(close(t["data_movement"]["bus"], bus),
         "time_s.data_movement.bus %r, energy.csv bus rows %r" % (t["data_movement"]["bus"], bus))
    need(close(t["contention"]["bus_arbitration"], wait),
         "time_s.contention.bus_arbitration %r, energy.csv %r" % (t["contention"]["bus_arbitration"], wait))
    # The DMA engine (docs/system.md "DMA engine"): its chains' durations and the time
    # starts waited for its channel, from the dma rows.
    dma = sum(float(r["seconds"]) for r in rows
              if r["component"] == "dma" and r["operation"] == "transfer")
    dma_n = sum(int(r["count"]) for r in rows
                if r["component"] == "dma" and r["operation"] == "transfer")
    dma_busy = sum(float(r["seconds"]) for r in rows
                   if r["component"] == "dma" and r["operation"] == "channel_busy")
    need(close(t["data_movement"]["dma"], dma),
         "time_s.data_movement.dma %r, energy.csv dma rows %r" % (t["data_movement"]["dma"], dma))
    need(t["data_movement"]["dma_transfers"] == dma_n,
         "time_s.data_movement.dma_transfers %r, energy.csv %r" % (t["data_movement"]["dma_transfers"], dma_n))
    need(close(t["contention"]["dma_channel_busy"], dma_busy),
         "time_s.contention.dma_channel_busy %r, energy.csv %r" % (t["contention"]["dma_channel_busy"], dma_busy))
    # The tiles' and meta_unit's contention rows (any instance name): time with 0 J.
    named = {"tile_busy": "busy_wait", "pv_queue_full": "queue_full_wait"}
    for key, op in named.items():
        op_rows = [r for r in rows if r["operation"] == op]
        need(all(float(r["joules"]) == 0 and float(r["seconds"]) > 0 for r in op_rows),
             "energy.csv %s rows must have 0 J and positive seconds" % op)
        v = sum(float(r["seconds"]) for r in op_rows)
        need(close(t["contention"][key], v),
             "time_s.contention.%s %r, energy.csv %s rows %r" % (key, t["contention"][key], op, v))
    need(all(v >= 0 for v in t["contention"].values()), "a negative contention time %r" % t["contention"])
    need(sum(t["contention"].values()) <= sim,
         "time_s.contention sums to %r, above simulated_time_s %r" % (sum(t["contention"].values()), sim))
    if mode == "functional":
        need(t["contention"]["tile_busy"] == 0 and t["contention"]["pv_queue_full"] == 0,
             "functional mode has no tiles/pv_ctrl queue but contention %r" % t["contention"])
    movement = s["config"]["host"]["data_movement"]
    if mode == "hardware" and movement == "dma":
        need(dma_n > 0 and 0 < dma < sim, "host.data_movement = dma but %d DMA chains, %r s" % (dma_n, dma))
    elif movement == "pio" or mode == "functional":
        need(dma_n == 0, "host.data_movement = %s (%s mode) but %d DMA chains" % (movement, mode, dma_n))
    if mode == "hardware":
        need(0 < bus < sim, "bus time %r outside (0, simulated time %r)" % (bus, sim))
        host_s = sum(float(r["seconds"]) for r in rows if r["component"] == "host")
        need(0 < host_s < sim, "host compute time %r outside (0, %r)" % (host_s, sim))

    # Per-sample table: figure x samples = the phase's total.
    ps = s["per_sample"]
    tr, inf = ps["training"], ps["inference"]
    need(tr["samples"] == s["samples_trained"] > 0, "per_sample.training.samples %r" % tr["samples"])
    need(inf["samples"] == s["samples_evaluated"] > 0,
         "per_sample.inference.samples %r" % inf["samples"])
    train_phases = [p for p in tr["energy_j"] if p != "total"]
    need(set(train_phases) == set(tr["latency_s"]) - {"total"}, "per_sample.training phases differ")
    for p in train_phases:
        need(close(tr["energy_j"][p] * tr["samples"], s["ledger"]["by_phase_j"].get(p, 0.0)),
             "per_sample.training.energy_j.%s x samples != ledger.by_phase_j.%s" % (p, p))
        need(close(tr["latency_s"][p] * tr["samples"], t["by_phase"].get(p, 0.0)),
             "per_sample.training.latency_s.%s x samples != time_s.by_phase.%s" % (p, p))
    need(close(tr["energy_j"]["total"], sum(tr["energy_j"][p] for p in train_phases)),
         "per_sample.training.energy_j.total is not the sum of its phases")
    need(close(tr["latency_s"]["total"], sum(tr["latency_s"][p] for p in train_phases)),
         "per_sample.training.latency_s.total is not the sum of its phases")
    need(close(inf["energy_j"]["total"] * inf["samples"], s["ledger"]["by_phase_j"]["evaluation"]),
         "per_sample.inference.energy_j.total x samples != ledger.by_phase_j.evaluation")
    need(close(inf["latency_s"]["total"] * inf["samples"], t["by_phase"]["evaluation"]),
         "per_sample.inference.latency_s.total x samples != time_s.by_phase.evaluation")
    # Everything but init, task/epoch overhead and "other" is in a per-sample figure.
    covered = tr["energy_j"]["total"] * tr["samples"] + inf["energy_j"]["total"] * inf["samples"]
    need(covered <= total * (1 + 1e-9), "per-sample energies exceed the total")


def ledger_corruptions(s, rows):
    out = []
    r = copy.deepcopy(rows)
    big = max(range(len(r)), key=lambda i: float(r[i]["joules"]))
    del r[big]
    out.append(("the largest energy.csv row dropped", s, r))
    t = copy.deepcopy(s)
    longest = max(t["time_s"]["by_phase"], key=lambda p: t["time_s"]["by_phase"][p])
    t["time_s"]["by_phase"][longest] *= 1.001
    out.append(("time_s.by_phase.%s (the longest) 0.1 %% high" % longest, t, rows))
    t = copy.deepcopy(s)
    t["per_sample"]["training"]["latency_s"]["update"] *= 1.001
    out.append(("per_sample.training.latency_s.update 0.1 % high", t, rows))
    t = copy.deepcopy(s)
    t["per_sample"]["inference"]["energy_j"]["total"] *= 0.999
    out.append(("per_sample.inference.energy_j.total 0.1 % low", t, rows))
    r = copy.deepcopy(rows)
    r[0]["phase"] = "warmup"
    out.append(("a phase not in the schema", s, r))
    r = copy.deepcopy(rows)
    r.append(dict(rows[0]))
    out.append(("a duplicate row key", s, r))
    t = copy.deepcopy(s)
    t["energy_j"]["by_component"]["host"] *= 1.000001
    out.append(("energy_j.by_component.host 1 ppm high", t, rows))
    for key in ("tile_busy", "pv_queue_full"):
        t = copy.deepcopy(s)
        t["time_s"]["contention"][key] = t["time_s"]["contention"][key] * 1.001 + 1e-9
        out.append(("time_s.contention.%s 0.1 %% + 1 ns high" % key, t, rows))
    # A tile's busy_wait row with energy moved from its "array" row (the sums hold).
    r = copy.deepcopy(rows)
    tile = next(x for x in r if x["operation"] == "array")
    moved = float(tile["joules"]) / 2
    tile["joules"] = repr(float(tile["joules"]) - moved)
    r.append({"component": tile["component"], "phase": tile["phase"], "operation": "busy_wait",
              "count": "1", "joules": repr(moved), "seconds": "1e-9"})
    out.append(("a busy_wait row with energy", s, r))
    return out




def check_state_bytes(s, n_w):
    dev = number(s, "state_bytes.devices")
    per = number(s, "state_bytes.per_device")
    if dev < n_w:
        fail("state_bytes.devices = %r: fewer devices than the %d weights" % (dev, n_w))
    if abs(per * dev - number(s, "state_bytes.device_state")) > 1e-6 * per * dev:
        fail("state_bytes.per_device %r x devices %r != device_state %r" %
             (per, dev, s["state_bytes"]["device_state"]))
    # DeviceArray's per-cell fields: 5 floats, a double, 2 counters, a flag, a random stream
    if not 37 <= per <= 256:
        fail("state_bytes.per_device = %r outside [37, 256]" % per)
    if number(s, "state_bytes.tile_caches") <= 0:
        fail("state_bytes.tile_caches is not positive")


def number(d, path):
    cur = d
    for k in path.split("."):
        if not isinstance(cur, dict) or k not in cur:
            fail("summary.json has no key '%s'" % path)
        cur = cur[k]
    if not isinstance(cur, (int, float)) or isinstance(cur, bool) or not math.isfinite(cur):
        fail("summary.json '%s' is not a finite number: %r" % (path, cur))
    return cur


def main():
    if len(sys.argv) < 3:
        fail("usage: check_summary.py MEMPLAST_BIN SOURCE_DIR [--mode MODE] [--set k=v ...]")
    binary, src = sys.argv[1], sys.argv[2]
    extra = sys.argv[3:]
    mode = "hardware"
    if "--mode" in extra:
        mode = extra[extra.index("--mode") + 1]
    else:
        extra = ["--mode", mode] + extra
    with tempfile.TemporaryDirectory(prefix="memplast_regress_") as out:
        cmd = [binary, "train", "--config", os.path.join(src, "configs", "quick.json"),
               "--out", out] + extra
        print("check_summary: " + " ".join(cmd))
        r = subprocess.run(cmd, cwd=src)
        if r.returncode != 0:
            fail("memplast train exited with %d" % r.returncode)
        for f in ("summary.json", "accuracy.csv", "energy.csv", "writes_per_device.csv"):
            if not os.path.isfile(os.path.join(out, f)):
                fail("missing output file " + f)
        with open(os.path.join(out, "summary.json")) as fh:
            s = json.load(fh)
        with open(os.path.join(out, "energy.csv")) as fh:
            rd = csv.DictReader(fh)
            rows = list(rd)
            header = rd.fieldnames

    # Layout version (docs/system.md) and the program version, from CMake alone.
    if s.get("schema_version") != 1:
        fail("summary.json schema_version %r, expected 1" % s.get("schema_version"))
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    if len(ver) != 2 or s.get("memplast_version") != ver[1]:
        fail("summary.json memplast_version %r, `memplast --version` prints %r"
             % (s.get("memplast_version"), " ".join(ver)))
    if s.get("mode") != mode:
        fail("summary mode %r, expected %r" % (s.get("mode"), mode))
    if not isinstance(s.get("config"), dict) or "train" not in s["config"]:
        fail("summary.json has no resolved configuration ('config')")
    number(s, "seed")
    after = s.get("accuracy", {}).get("after_task")
    tasks = ["mnist", "fashion_mnist"]
    if not isinstance(after, list) or len(after) != len(tasks):
        fail("accuracy.after_task should list %d tasks: %r" % (len(tasks), after))
    for i, entry in enumerate(after):
        if entry.get("task") != tasks[i]:
            fail("after_task[%d].task = %r, expected %r" % (i, entry.get("task"), tasks[i]))
        acc = entry.get("accuracy", {})
        if sorted(acc) != sorted(tasks[: i + 1]):
            fail("after_task[%d].accuracy keys %r, expected %r" % (i, sorted(acc), tasks[: i + 1]))
        for t, a in acc.items():
            if not (0.0 <= a <= 1.0):
                fail("accuracy %s = %r outside [0, 1]" % (t, a))
    # Learning happened: the task just trained is well above chance (10 classes). quick.json
    # trains 3000 samples x 2 epochs; functional runs reach > 0.8 on MNIST.
    if after[0]["accuracy"]["mnist"] < 0.5:
        fail("MNIST accuracy after task 1 = %.3f < 0.5" % after[0]["accuracy"]["mnist"])
    if after[1]["accuracy"]["fashion_mnist"] < 0.4:
        fail("Fashion-MNIST accuracy after task 2 = %.3f < 0.4" % after[1]["accuracy"]["fashion_mnist"])

    wall = number(s, "wall_time_s")
    sim = number(s, "simulated_time_s")
    sps = number(s, "samples_per_second")
    if not (0 < wall < 3600):
        fail("wall_time_s = %r" % wall)
    if mode == "hardware" and not (1e-6 < sim < 1e4):
        fail("simulated_time_s = %r outside (1 us, 1e4 s)" % sim)
    if sps <= 0:
        fail("samples_per_second = %r" % sps)
    e_tot = number(s, "energy_j.total")
    by = s.get("energy_j", {}).get("by_component")
    if not isinstance(by, dict) or not by:
        fail("energy_j.by_component missing or empty")
    if mode == "hardware":
        # Programming energy is the tiles' (their programming port), not pv_ctrl's.
        for comp in ("tile", "meta_unit", "host"):
            if by.get(comp, 0) <= 0:
                fail("energy_j.by_component.%s = %r, expected > 0" % (comp, by.get(comp)))
    if not (0 < e_tot < 1e3):
        fail("energy_j.total = %r" % e_tot)
    if abs(sum(by.values()) - e_tot) > 1e-9 * max(1.0, e_tot) + 1e-12:
        fail("energy_j.by_component sums to %r, total is %r" % (sum(by.values()), e_tot))
    wmax = number(s, "writes_per_device.max")
    wp99 = number(s, "writes_per_device.p99")
    wmean = number(s, "writes_per_device.mean")
    if not (0 <= wmean <= wmax and wp99 <= wmax):
        fail("writes_per_device mean %r p99 %r max %r inconsistent" % (wmean, wp99, wmax))
    if wmax < 1:
        fail("writes_per_device.max = %r: nothing was ever programmed" % wmax)
    budget = number(s, "config.device.endurance_median")
    if wmax >= budget:
        fail("writes_per_device.max = %r reaches the endurance budget %r" % (wmax, budget))
    hid = number(s, "memory_bits.hidden")
    sto = number(s, "memory_bits.stored")
    tot = number(s, "memory_bits.total")
    hidden = s["config"]["train"]["hidden"]
    n_w = 784 * hidden + hidden * 10
    if hid != n_w * s["config"]["meta"]["hidden_bits"]:
        fail("memory_bits.hidden = %r, expected %d weights x %d bits" % (hid, n_w, s["config"]["meta"]["hidden_bits"]))
    if not (0 < sto <= hid and tot >= hid + sto):
        fail("memory_bits stored %r total %r inconsistent with hidden %r" % (sto, tot, hid))
    # state_bytes: the model's own memory for the tiles (issue 19 item 4); every run with
    # device tiles has it (hardware mode always)
    if "state_bytes" not in s and s.get("mode") == "hardware":
        fail("summary.json has no key 'state_bytes' in hardware mode")
    if "state_bytes" in s:
        check_state_bytes(s, n_w)
    schema = json.load(open(os.path.join(src, "traces", "schema.json")))
    readme = open(os.path.join(src, "traces", "README.md")).read()
    led = schema["ledger"]
    for n in led["phases"] + list(led["operations"]) + [o for v in led["operations"].values() for o in v]:
        if "`%s`" % n not in readme:
            fail("traces/README.md does not document the ledger name `%s`" % n)
    try:
        check_ledger(s, header, rows, schema, mode)
    except LedgerError as e:
        fail(str(e))
    for label, bad_s, bad_rows in ledger_corruptions(s, rows):
        try:
            check_ledger(bad_s, header, bad_rows, schema, mode)
        except LedgerError as e:
            print("  rejected as it must be: %s (%s)" % (label, str(e)[:90]))
            continue
        fail("the ledger checks accepted a corrupted copy: " + label)
    t = s["time_s"]
    print("ledger: %d rows, %.6g J (energy_j.total %.6g J); simulated %.6g s = phases %s"
          % (len(rows), sum(float(r["joules"]) for r in rows), e_tot, sim,
             ", ".join("%s %.4g" % kv for kv in sorted(t["by_phase"].items()) if kv[1] > 0)))
    print("  data movement: bus %.4g s in %d transfers, dma %.4g s in %d chains; contention: "
          "bus arbitration %.4g s, tile busy %.4g s, pv queue full %.4g s, dma channel busy %.4g s"
          % (t["data_movement"]["bus"], t["data_movement"]["bus_transfers"],
             t["data_movement"]["dma"], t["data_movement"]["dma_transfers"],
             t["contention"]["bus_arbitration"], t["contention"]["tile_busy"],
             t["contention"]["pv_queue_full"], t["contention"]["dma_channel_busy"]))
    for kind in ("training", "inference"):
        p = s["per_sample"][kind]
        print("  per %s sample (%d): %s J, %s s" % (
            kind, p["samples"], "%.4g" % p["energy_j"]["total"], "%.4g" % p["latency_s"]["total"]))
        for ph in sorted(k for k in p["energy_j"] if k != "total"):
            print("    %-12s %.4g J  %.4g s" % (ph, p["energy_j"][ph], p["latency_s"][ph]))
    print("check_summary: OK (%s mode: MNIST %.3f -> %.3f, Fashion %.3f; %.1f s wall, %.4f s simulated, %.3g J)"
          % (mode, after[0]["accuracy"]["mnist"], after[1]["accuracy"]["mnist"],
             after[1]["accuracy"]["fashion_mnist"], wall, sim, e_tot))


if __name__ == "__main__":
    main()
