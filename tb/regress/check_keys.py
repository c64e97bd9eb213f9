#!/usr/bin/env python3
"""Regression (issue 11, "no dead keys"): every configuration key changes the run.

For every key of `memplast config --markdown` that is not on the allow-list of
docs/configuration.md ("Keys a run's outputs do not show"), set it to another valid
value on the tiny configuration tb/regress/keys_tiny.json and check that the outputs
of `memplast train` differ from the unchanged run's: in functional mode first, and in
hardware mode when functional mode does not show it (hardware-only keys). The outputs
compared: summary.json without the configuration echo and wall-clock figures,
accuracy.csv without its wall-time column, energy.csv, writes_per_device.csv, the
saved state without its configuration echo, and any other file the run writes.

The data sets are cut to their first 200 training and 100 test images per task in a
temporary folder (gzip IDX, the same reader), so a run takes well under a second.
Python 3 standard library only.

Usage: check_keys.py MEMPLAST_BIN SOURCE_DIR [--jobs N] [--only KEY ...]
"""
import concurrent.futures
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

from regress_util import fail

# Keys whose effect the run's outputs do not show, each with its reason. The same
# list, with the same reasons, is in docs/configuration.md; keep them in step.
ALLOW = {
    "log.level": "logging only",
    "log.modules": "logging only",
    "data.dir": "where the data sets are read from (the test itself sets it)",
    "trace.*": "trace outputs only (trace.json, waves.vcd; results never change, "
               "scripts/refactor_check): regress_trace and regress_vcd check what they write; "
               "this test does not yet run them (hardware mode, trace.enable = true as context)",
    "train.checkpoint_minutes": "a wall-clock trigger of checkpoints: the tiny runs end before "
                                "the altered value's first boundary; regress_resume checks it",
    "bus.max_burst_bytes": "a limit only: the bus refuses longer transactions, so a run either "
                           "gives the same outputs or fails (tb_bus_host tests the refusal)",
    "rtl.*": "runs a Verilated RTL block in place of its C++ model, bit-exact and with the same "
             "timing by design: the outputs must NOT change (cosim_training_swap checks that "
             "summary.json is identical); refused in the functional mode",
    "host_mem.size_MiB": "a limit only: the backed host memory; the firmware's buffers either fit "
                         "or the run fails (tb_dma tests an access beyond it)",
    "tile.levels": "a cross-check only: the device levels derived from meta.levels and "
                   "tile.mapping (0 = derived); any other value fails to load, so a run either "
                   "gives the same outputs or fails (test_config ConfigLevels tests both)",
    "sim.threads": "simulation speed only: the outputs must NOT change (regress_threads checks "
                   "every output file of quick runs in both modes at 1, 2 and 3 threads)",
    "host.lazy_sync": "simulation speed only: skips quantum syncs nothing could observe; the "
                      "outputs must NOT change (regress_lazy_sync checks every output file, "
                      "eight variants)",
}
# Alternative values where the generic rule (next choice, flipped bool, default x 1.5
# or + 1 inside the range) would be invalid or would not reach the code that reads the
# key on the tiny configuration: key -> (value, context). The context settings apply
# to the unchanged run and the changed one alike (e.g. the SGD momentum needs SGD).
OVERRIDE = {
    "train.tasks": ("fashion_mnist,mnist", []),
    "train.epochs": ("[2, 1]", []),
    # train.layers needs train.hidden at its default (the tiny configuration sets 32)
    "train.layers": ("[784, 32, 16, 10]", ["train.hidden=1024"]),
    "train.train_samples": ("100", []),  # the cut data sets hold 200 / 100 images
    "train.test_samples": ("50", []),
    "train.eval_every_epoch": ("false", ["train.epochs=[2, 1]"]),
    "pv.band_frac_per_level": ("[0.1, 0.2, 0.3]", []),
    "meta.level_values": ("[-1.0, 0.2, 1.0]", []),
    "meta.lut_entries": ("64", []),      # lut_range / lut_entries must be a power of two
    "meta.lut_range": ("16", []),
    "meta.eps": ("0.01", []),
    "meta.momentum": ("0.9", ["meta.optimizer=sgd"]),
    "meta.m_bits": ("24", ["meta.grad_bits=24"]),
    "device.sigma_fit_hi_uS": ("150", []),  # above g_max it clamps nothing
    "device.endurance_median": ("2", []),   # the tiny run writes a device a few times
    "device.endurance_sigma_ln": ("2.0", ["device.endurance_median=2"]),
    "device.stuck_lrs_prob": ("0.1", ["device.stuck_rate=0.2"]),
    "pv.v_gate_start_V": ("0.9", ["pv.set_start=fixed"]),
    "pv.bus_cmd_energy_pJ": ("1.5", ["pv.cmd_path=bus"]),  # charged on the bus path only
    "pv.v_gate_max_V": ("0.8", []),
    "pv.v_reset_max_V": ("1.3", []),
    "pv.reversal_backoff_steps": ("10", ["pv.band_frac=0.05"]),
    "pv.max_iterations": ("2", []),
    "tile.relax_refresh_s": ("0.001", []),  # the tiny run simulates a few ms
    "tile.buffer_vectors": ("50", []),      # below the batch of 100
    "tile.adc_trim_points": ("17", ["tile.adc_calibration=startup"]),  # the trim's cost
    "tile.adc_range_percentile": ("90", ["tile.adc_range=profile_tile"]),
    # Read disturb acts at full cache rebuilds: one per MVM with relax_refresh_s = 0.
    "device.read_disturb_rate": ("1e-4", ["tile.relax_refresh_s=0"]),
    "device.read_disturb_v_ref_V": ("0.3", ["device.read_disturb_rate=1e-4",
                                            "tile.relax_refresh_s=0"]),
    "device.read_disturb_v_accel_V": ("0.1", ["device.read_disturb_rate=1e-4",
                                              "tile.relax_refresh_s=0"]),
    "device.read_disturb_sigma": ("0.6", ["device.read_disturb_rate=1e-4",
                                          "tile.relax_refresh_s=0"]),
    # The HRS factor scales the I-V coefficients: read only with one of them not 0.
    "device.nl_hrs_factor": ("6", ["device.nl_a3_per_V2=0.5"]),
    "tile.adc_gain_sigma": ("0.05", []),
    "tile.ir_compensation": ("true", ["tile.ir_drop=approx"]),
    "tile.ir_r_row_ohm": ("0.75", ["tile.ir_drop=approx"]),  # read only with IR drop on
    "tile.ir_r_col_ohm": ("0.75", ["tile.ir_drop=approx"]),
    "tile.ir_r_driver_ohm": ("15", ["tile.ir_drop=approx"]),
    "tile.ir_r_sense_ohm": ("15", ["tile.ir_drop=approx"]),
    "host.burst_bytes": ("128", []),
    # The DMA engine and host memory move data only with host.data_movement = dma.
    "dma.f_clk_MHz": ("50", ["host.data_movement=dma"]),
    "dma.burst_bytes": ("256", ["host.data_movement=dma"]),
    "dma.cycles_per_burst": ("20", ["host.data_movement=dma"]),
    "dma.elements_per_cycle": ("1", ["host.data_movement=dma"]),
    "dma.e_beat_pJ": ("1.0", ["host.data_movement=dma"]),
    "host_mem.latency_ns": ("400", ["host.data_movement=dma"]),
    "host_mem.bandwidth_GBps": ("0.1", ["host.data_movement=dma"]),
    "host_mem.e_byte_pJ": ("5.0", ["host.data_movement=dma"]),
    "characterize.cells": ("128", []),
    "characterize.relax_s": ("60", []),
    # Fault injection and recovery (docs/reliability.md): faults need a context that has
    # failures for the recovery keys to act on.
    "device.stuck_cells": ("layer0_t0:0:0:pos:lrs;layer0_t0:0:0:neg:lrs", []),
    "tile.spare_cols": ("2", ["device.stuck_rate=0.05"]),
    "faults.pv_fail_rate": ("0.05", []),
    "faults.pv_fail_at_s": ("[0.0]", []),
    "faults.queue_drop_rate": ("0.05", []),
    "faults.queue_drop_at_s": ("[0.0]", []),
    # A low rate: with retry_limit 2, three errors in a row on one access fail the run.
    "faults.bus_error_rate": ("0.001", []),
    "faults.bus_error_at_s": ("[0.0]", []),
    # Half of the MVMs with a saturated ADC; the re-runs saturate as often.
    "faults.adc_sat_rate": ("0.5", []),
    "faults.adc_sat_at_s": ("[0.0]", []),
    "faults.adc_sat_tile": ("0", ["faults.adc_sat_at_s=[0.0]"]),
    "faults.adc_sat_recover": ("true", ["faults.adc_sat_at_s=[0.0]"]),
    "faults.dma_error_rate": ("0.01", ["host.data_movement=dma"]),
    "faults.dma_error_at_s": ("[0.0]", ["host.data_movement=dma"]),
    "faults.retry_limit": ("0", ["device.stuck_rate=0.05"]),
    "faults.remap": ("false", ["device.stuck_rate=0.05", "tile.spare_cols=2"]),
    "faults.skip": ("false", ["device.stuck_rate=0.05"]),
}
# Keys of `memplast characterize`, checked on a characterization of 256 weights.
CHARACTERIZE_BASE = ["characterize.cells=256"]

N_TRAIN, N_TEST = 200, 100
SUMMARY_DROP = {"config", "config_source", "wall_time_s", "train_wall_time_s",
                "samples_per_second", "isa", "status"}


def read_any(path):
    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        return fh.read()


def cut_idx(src, dst, n):
    """Write the first n records of IDX file src to dst (gzip)."""
    raw = read_any(src)
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    if dims[0] < n:
        fail("%s holds %d records, fewer than %d" % (src, dims[0], n))
    rec = 1
    for d in dims[1:]:
        rec *= d
    body = raw[4 + 4 * ndim:4 + 4 * ndim + n * rec]
    dims[0] = n
    with gzip.open(dst, "wb", compresslevel=1) as fh:
        fh.write(raw[:4] + struct.pack(">" + "I" * ndim, *dims) + body)


def tiny_data(src_data, dst):
    for task, suffix in (("mnist", ""), ("fashion_mnist", ".gz")):
        os.makedirs(os.path.join(dst, task))
        for stem, n in (("train-images-idx3-ubyte", N_TRAIN), ("train-labels-idx1-ubyte", N_TRAIN),
                        ("t10k-images-idx3-ubyte", N_TEST), ("t10k-labels-idx1-ubyte", N_TEST)):
            cut_idx(os.path.join(src_data, task, stem + suffix), os.path.join(dst, task, stem + suffix), n)


def keys(binary):
    """(key, type, default, range) of every key, from the generated documentation table."""
    out = subprocess.run([binary, "config", "--markdown"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows.append((cells[0].strip("`"), cells[1], cells[3], cells[4]))
    if len(rows) < 50:
        fail("only %d keys parsed from `memplast config --markdown`" % len(rows))
    return rows


def resolved(binary, cfg):
    out = subprocess.run([binary, "config", "--config", cfg], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def lookup(doc, key):
    cur = doc
    for part in key.split("."):
        cur = cur[part]
    return cur


def alternative(key, typ, default, rng, current):
    """Another valid value of the key, as a --set text."""
    if key in OVERRIDE:
        return OVERRIDE[key][0]
    if typ == "bool":
        return "false" if current else "true"
    if typ == "string":
        choices = [c.strip() for c in rng.split(",")]
        if rng == "any":
            fail("%s: free-text key without an OVERRIDE value" % key)
        others = [c for c in choices if c != current]
        return others[0]
    if typ in ("integer", "number"):
        lo, hi = [float(x) for x in rng.strip("[]").split(",")]
        if typ == "integer":
            v = current + 1 if current + 1 <= hi else current - 1
            return str(int(v))
        if current == 0:
            v = min(hi, max(lo, 0.1 if hi >= 0.1 else hi / 2))
        else:
            v = current * 1.5
            if v > hi or v < lo:
                v = current * 0.5
        return repr(float(v))
    fail("%s: type %s without an OVERRIDE value" % (key, typ))


def fingerprint(out):
    h = hashlib.sha256()
    for root, dirs, files in os.walk(out):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(root, f)
            rel = os.path.relpath(path, out)
            with open(path, "rb") as fh:
                data = fh.read()
            if rel == "summary.json":
                s = json.loads(data)
                data = json.dumps({k: v for k, v in s.items() if k not in SUMMARY_DROP},
                                  sort_keys=True).encode()
            elif rel == os.path.join("state", "state.json"):
                s = json.loads(data)
                s.pop("config", None)
                data = json.dumps(s, sort_keys=True).encode()
            elif rel == "accuracy.csv":
                data = "\n".join(l.rsplit(",", 1)[0] for l in data.decode().splitlines()).encode()
            h.update(rel.encode() + b"\0" + data + b"\0")
    return h.hexdigest()


def run(binary, cfg, data, mode, sets, tmp):
    """mode: functional or hardware (memplast train), or characterize."""
    out = tempfile.mkdtemp(dir=tmp)
    if mode == "characterize":
        cmd = [binary, "characterize", "--config", cfg, "--no-plot", "--out", out,
               "--set", "log.level=error"]
        sets = CHARACTERIZE_BASE + sets
    else:
        # train.mode by --set, not --mode, so that the key itself can be checked.
        cmd = [binary, "train", "--config", cfg, "--out", out, "--set", "data.dir=" + data,
               "--set", "log.level=error", "--set", "train.mode=" + mode]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, "exit %d: %s" % (r.returncode, r.stderr.strip()[-400:])
    return fingerprint(out), None


# Settings the functional mode refuses (a configuration error naming the key); runs with
# one of them are hardware-mode runs only. None today: the functional mode also times the
# DMA chains (host.data_movement = dma; models/functional/functional.hpp).
HARDWARE_ONLY = set()


def modes_for(sets):
    if any(s in HARDWARE_ONLY for s in sets):
        return ("hardware",)
    return ("functional", "hardware")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        fail("usage: check_keys.py MEMPLAST_BIN SOURCE_DIR [--jobs N] [--only KEY ...]")
    binary, src = args[0], args[1]
    jobs = int(args[args.index("--jobs") + 1]) if "--jobs" in args else 2
    only = args[args.index("--only") + 1:] if "--only" in args else None
    cfg = os.path.join(src, "tb", "regress", "keys_tiny.json")
    doc = resolved(binary, cfg)
    table = keys(binary)
    names = {k for k, _, _, _ in table}
    def allowed(k):
        return k in ALLOW or any(a.endswith("*") and k.startswith(a[:-1]) for a in ALLOW)

    for k in list(ALLOW) + list(OVERRIDE):
        if k.endswith("*"):
            if not any(n.startswith(k[:-1]) for n in names):
                fail("allow-list pattern %s matches no configuration key (remove it)" % k)
        elif k not in names:
            fail("allow-list/override key %s is not a configuration key (remove it)" % k)
    todo = [row for row in table if not allowed(row[0]) and (only is None or row[0] in only)]
    with tempfile.TemporaryDirectory(prefix="memplast_keys_") as tmp:
        data = os.path.join(tmp, "data")
        tiny_data(os.path.join(src, "data"), data)
        # The unchanged runs, one per mode and context.
        contexts = {(): None}
        for key, _, _, _ in todo:
            if key in OVERRIDE:
                contexts[tuple(OVERRIDE[key][1])] = None
        base = {}
        for ctx in contexts:
            for mode in modes_for(ctx) + ("characterize",):
                if mode == "characterize" and ctx:
                    continue
                base[(mode, ctx)], err = run(binary, cfg, data, mode, list(ctx), tmp)
                if err:
                    fail("unchanged %s run %s: %s" % (mode, list(ctx), err))

        def check(row):
            key, typ, default, rng = row
            ctx = tuple(OVERRIDE[key][1]) if key in OVERRIDE else ()
            sets = [key + "=" + alternative(key, typ, default, rng, lookup(doc, key))]
            modes = ("characterize",) if key.startswith("characterize.") else \
                modes_for(list(ctx) + sets)
            for mode in modes:
                fp, err = run(binary, cfg, data, mode, list(ctx) + sets, tmp)
                if err:
                    return key, sets, "run failed (%s): %s" % (mode, err)
                if fp != base[(mode, ctx)]:
                    return key, sets, None
            return key, sets, "outputs unchanged in " + " and ".join(modes)

        bad = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as ex:
            for key, sets, err in ex.map(check, todo):
                print("check_keys: %-32s %-40s %s" % (key, sets[0].split("=", 1)[1][:40], err or "changes"))
                if err:
                    bad.append("%s (%s): %s" % (key, sets[0], err))
    print("check_keys: %d keys checked, %d on the allow-list" % (len(todo), len(ALLOW)))
    if bad:
        fail("%d keys do not change the outputs:\n  " % len(bad) + "\n  ".join(bad))


if __name__ == "__main__":
    main()
