#!/usr/bin/env python3
"""Regression (issue 16 item 4): the worker threads (sim.threads) change no result.

The pool runs meta_unit's update on ranges of weights and the tiles of a functional-mode
MVM at the same time, and in hardware mode each tile's MVM as a deferred job while the
SystemC kernel goes on (models/common/thread_pool.hpp); which thread computes a part must
never show in an output. For each variant below (configs/quick.json, made smaller), in
both modes, runs `memplast train` with sim.threads = 1, 2 and 3 and requires, bit for
bit: summary.json and state/state.json (without the wall-clock keys and the echoed
sim.threads itself), accuracy.csv (without its wall_time_s column) and every other file
of the run folder. With more than one thread the pool must also have run parallel
sections with tasks on its workers, and a hardware run must have deferred its tile MVMs
(the debug line "sim.threads: N threads, S parallel sections, J deferred jobs, T tasks on
workers"), so a setting that is ignored cannot pass. Python 3
standard library only.

Usage: check_threads.py MEMPLAST_BIN SOURCE_DIR
"""
import os
import re
import subprocess
import sys
import tempfile

from regress_util import fail, load_run_file, quick_train_cmd

SMALL = ["train.train_samples=600", "train.test_samples=200"]
VARIANTS = {
    "pio": [],
    "dma": ["host.data_movement=dma"],
    "tile_backward": ["train.backward=tiles"],
    "reference_column": ["tile.mapping=reference_column", "meta.optimizer=sgd"],
    "three_layers": ["train.hidden=1024", "train.layers=[784, 256, 128, 10]"],
    # Saturated ADCs: the tile's saturation registers and IRQ_STATUS.ADC_SAT come from a
    # deferred MVM (set at the next access to the tile), and the firmware's retries.
    "adc_faults": ["faults.adc_sat_rate=0.05"],
}
MODES = ("functional", "hardware")
THREADS = (1, 2, 3)
POOL_RE = re.compile(r"sim\.threads: (\d+) threads, (\d+) parallel sections, (\d+) deferred jobs, "
                     r"(\d+) tasks on workers")


def drop_threads(d):
    """The echoed sim.threads differs between the runs."""
    if isinstance(d.get("sim"), dict):
        d["sim"].pop("threads", None)


def run(binary, src, out, mode, sets, threads):
    cmd = quick_train_cmd(binary, src, out, mode,
                          SMALL + sets + ["sim.threads=%d" % threads, "log.modules=threads=debug"])
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        fail("run failed: " + " ".join(cmd))
    m = POOL_RE.findall(r.stdout + r.stderr)
    if not m:
        fail("no 'sim.threads:' debug line: " + " ".join(cmd))
    size, sections, jobs, worker_tasks = (int(x) for x in m[-1])
    if size != threads:
        fail("sim.threads=%d ran a pool of %d threads" % (threads, size))
    if threads > 1 and (sections == 0 or worker_tasks == 0):
        fail("sim.threads=%d: %d parallel sections, %d tasks on workers (nothing ran in "
             "parallel): %s" % (threads, sections, worker_tasks, " ".join(cmd)))
    # Hardware mode defers every tile MVM to the pool (one job per MVM command).
    if mode == "hardware" and jobs == 0:
        fail("sim.threads=%d: no deferred tile MVM in hardware mode: %s" % (threads, " ".join(cmd)))
    found = {}
    for root, _dirs, files in os.walk(out):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, out)
            found[rel] = load_run_file(p, rel, drop_threads)
    return found, sections, jobs, worker_tasks


def main():
    if len(sys.argv) != 3:
        fail("usage: check_threads.py MEMPLAST_BIN SOURCE_DIR")
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="threads_") as tmp:
        for name, sets in VARIANTS.items():
            for mode in MODES:
                ref = None
                stats = []
                for t in THREADS:
                    out = os.path.join(tmp, "%s_%s_%d" % (name, mode, t))
                    got, sections, jobs, worker_tasks = run(binary, src, out, mode, sets, t)
                    stats.append("%d: %d sections, %d jobs, %d worker tasks"
                                 % (t, sections, jobs, worker_tasks))
                    if ref is None:
                        ref = got
                        continue
                    if sorted(got) != sorted(ref):
                        fail("%s %s: sim.threads=%d wrote other files than sim.threads=1: %s vs %s"
                             % (name, mode, t, sorted(got), sorted(ref)))
                    for rel in sorted(ref):
                        if got[rel] != ref[rel]:
                            fail("%s %s: %s differs between sim.threads=1 and %d" %
                                 (name, mode, rel, t))
                print("check_threads: %-16s %-10s %d files identical at 1, 2, 3 threads (%s)" %
                      (name, mode, len(ref), "; ".join(stats)), flush=True)
    print("check_threads: PASS")


if __name__ == "__main__":
    main()
