#!/usr/bin/env python3
"""Regression: the host's lazy quantum synchronization (host.lazy_sync) changes nothing.

bus::Host skips a quantum sync during block transfers and host compute when the SystemC
kernel has nothing pending up to the host's local time, and catches up before anything
another process could react to (docs/bus.md, "Lazy synchronization"). That is a speed
measure only: every output must be the same as with a sync at every quantum.

For each variant below (configs/quick.json in hardware mode, made smaller), runs
`memplast train` with host.lazy_sync=true and =false and requires, bit for bit:
summary.json and state/state.json (without the wall-clock keys and the echoed lazy_sync
key itself), accuracy.csv
(without its wall_time_s column), trace.json (all of it, the trace writer's buffer
high-water mark otherData.max_buffered_events included), checkpoint.bin (but for its wall-clock fields, see same_checkpoint) and every other file
of the run folder, state/ included. The lazy run must also have
skipped syncs (the host's debug log line "quantum syncs: N waited, M skipped"), so a
flag that is ignored cannot pass. Python 3 standard library only.

Usage: check_lazy_sync.py MEMPLAST_BIN SOURCE_DIR
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
    "reference_column": ["tile.mapping=reference_column"],
    "ideal_devices": ["train.device_effects=false"],
    "refresh": ["train.refresh_every_epochs=1"],
    "faults": ["faults.adc_sat_rate=0.01", "faults.adc_sat_recover=true",
               "faults.bus_error_rate=0.0005", "faults.pv_fail_rate=0.001"],
    "dma_faults": ["host.data_movement=dma", "faults.dma_error_rate=0.0005"],
    "checkpoints": ["train.checkpoint_every=5"],
    # The trace writer must not see the kernel's lagging time: bus events aggregated over
    # the whole run and the smallest buffer (out-of-order events are counted).
    "trace_buffers": ["trace.bus_aggregate=100000", "trace.max_buffered_events=1024"],
}
SYNC_RE = re.compile(r"quantum syncs: (\d+) waited, (\d+) skipped")


def load(path, rel):
    """load_run_file without the echoed lazy_sync key; checkpoint.bin's echoed
    configuration (in its header) normalised to lazy_sync=false."""
    data = load_run_file(path, rel, lambda d: d.pop("lazy_sync", None))
    if rel == "checkpoint.bin":
        return data.replace(b'"lazy_sync":true', b'"lazy_sync":false')
    return data


def same_checkpoint(name, a, b):
    """checkpoint.bin (docs/reliability.md), the lazy run's with its configuration echo
    made the eager run's: the two may differ only in the header's length field (bytes
    18..25, the echo is one byte shorter), the 8-byte values of the wall_time_s fields and
    the trailing 8-byte checksum; anything else (the host's times included) fails."""
    if len(a) != len(b):
        fail("%s: checkpoint.bin: %d bytes against %d" % (name, len(a), len(b)))
    allowed = set(range(18, 26)) | set(range(len(a) - 8, len(a)))
    tag = b"wall_time_s"
    at = a.find(tag)
    while at >= 0:
        allowed |= set(range(at + len(tag), at + len(tag) + 17))  # type, count, value
        at = a.find(tag, at + 1)
    chunk = 1 << 16
    for c in range(0, len(a), chunk):
        if a[c:c + chunk] == b[c:c + chunk]:
            continue
        for k in range(c, min(c + chunk, len(a))):
            if a[k] != b[k] and k not in allowed:
                fail("%s: checkpoint.bin differs at byte %d (context %r)" %
                     (name, k, a[max(0, k - 40):k]))


def outputs(out):
    found = {}
    for root, _dirs, files in os.walk(out):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, out)
            found[rel] = load(p, rel)
    return found


def run(binary, src, out, sets, lazy):
    cmd = quick_train_cmd(binary, src, out, "hardware",
                          SMALL + sets + ["host.lazy_sync=" + lazy, "log.modules=host=debug"])
    r = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        fail("run failed: " + " ".join(cmd))
    m = SYNC_RE.findall(r.stdout + r.stderr)
    if not m:
        fail("no 'quantum syncs' line in the host's debug log: " + " ".join(cmd))
    return outputs(out), int(m[-1][0]), int(m[-1][1])


def main():
    if len(sys.argv) != 3:
        fail("usage: check_lazy_sync.py MEMPLAST_BIN SOURCE_DIR")
    binary, src = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="lazy_sync_") as tmp:
        for name, sets in VARIANTS.items():
            lazy, waited_l, skipped_l = run(binary, src, os.path.join(tmp, name + "_lazy"), sets,
                                            "true")
            eager, waited_e, skipped_e = run(binary, src, os.path.join(tmp, name + "_eager"),
                                             sets, "false")
            if skipped_e != 0:
                fail("%s: host.lazy_sync=false skipped %d syncs" % (name, skipped_e))
            if skipped_l == 0:
                fail("%s: host.lazy_sync=true skipped no sync (the flag has no effect)" % name)
            if sorted(lazy) != sorted(eager):
                fail("%s: the run folders hold different files: %s vs %s" %
                     (name, sorted(lazy), sorted(eager)))
            for rel in sorted(lazy):
                if rel == "checkpoint.bin":
                    same_checkpoint(name, lazy[rel], eager[rel])
                elif lazy[rel] != eager[rel]:
                    fail("%s: %s differs between host.lazy_sync=true and false" % (name, rel))
            print("check_lazy_sync: %-16s %d files identical; syncs %d waited + %d skipped "
                  "(lazy) against %d waited (eager)" % (name, len(lazy), waited_l, skipped_l,
                                                         waited_e), flush=True)
    print("check_lazy_sync: PASS")


if __name__ == "__main__":
    main()
