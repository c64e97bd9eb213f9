#!/usr/bin/env python3
"""Golden regression (issue 12 item 6a): a fixed small configuration (configs/quick.json
with 400 training and 200 test samples per task, one epoch each), run in hardware mode
(tracing its first batch, as quick.json does) and in functional mode, on the forced
generic ISA path (MEMPLAST_ISA=generic: no AVX2/AVX-512 kernels, so the numbers do not
depend on the CPU). Compared exactly against the references in traces/golden/:

  * every result field of summary.json (accuracies, writes, pulses, level changes,
    energy by component, the ledger, phase times, per-sample costs, simulated time,
    memory; not wall-clock fields, the version or the echoed configuration);
  * the number of trace events per track (block) of the hardware run's trace.json.

The model is deterministic on that path (same seed, same binary, same results, bit for
bit), so the comparison is exact: any change of the model's results fails here. A
change that is meant to change results refreshes the references on purpose:

  tb/regress/check_golden.py build/release/memplast . --refresh

and the commit says why they changed.

usage: check_golden.py MEMPLAST_BIN SOURCE_DIR [--refresh]
"""
import json
import os
import sys
import tempfile

from regress_util import fail, quick_train_cmd, run_or_fail

SETS = ("train.train_samples=400", "train.test_samples=200", "train.epochs=[1,1]")
DROP = {"config", "config_source", "memplast_version", "wall_time_s", "train_wall_time_s",
        "samples_per_second", "schema_version", "timing", "isa", "status"}


def trace_counts(path):
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    # Per track: the process (block group) and thread (block instance) names.
    procs = {e["pid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "process_name"}
    threads = {(e["pid"], e.get("tid")): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    counts = {}
    for e in events:
        if e.get("ph") == "M":
            continue
        pid, tid = e.get("pid"), e.get("tid")
        track = threads.get((pid, tid), "%s" % tid)
        key = "%s/%s/%s" % (procs.get(pid, pid), track, e.get("ph"))
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def diff(old, new, path, out):
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new)):
            if k not in new:
                out.append("%s.%s: missing" % (path, k))
            elif k not in old:
                out.append("%s.%s: new (%r)" % (path, k, new[k]))
            else:
                diff(old[k], new[k], "%s.%s" % (path, k), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            diff(a, b, "%s[%d]" % (path, i), out)
    elif old != new or type(old) != type(new):
        out.append("%s: %r -> %r" % (path, old, new))


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary, src = sys.argv[1], os.path.abspath(sys.argv[2])
    refresh = "--refresh" in sys.argv[3:]
    os.environ["MEMPLAST_ISA"] = "generic"
    golden_dir = os.path.join(src, "traces", "golden")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("hardware", "functional"):
            out = os.path.join(tmp, mode)
            run_or_fail(quick_train_cmd(binary, src, out, mode, SETS), src)
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            isa = s.get("isa", {})
            if any(v != "generic" for v in isa.values()):
                fail("%s run did not take the generic ISA path: %r" % (mode, isa))
            got = {"summary": {k: v for k, v in s.items() if k not in DROP}}
            trace = os.path.join(out, "trace.json")
            if mode == "hardware":
                if not os.path.exists(trace):
                    fail("the hardware run left no trace.json")
                got["trace_event_counts"] = trace_counts(trace)
            ref = os.path.join(golden_dir, "quick_small_%s.json" % mode)
            if refresh:
                os.makedirs(golden_dir, exist_ok=True)
                with open(ref + ".tmp", "w") as f:
                    json.dump(got, f, indent=1, sort_keys=True)
                    f.write("\n")
                os.replace(ref + ".tmp", ref)
                print("check_golden: refreshed %s" % os.path.relpath(ref, src))
                continue
            if not os.path.exists(ref):
                fail("%s: no reference (refresh with: %s %s %s --refresh)"
                     % (ref, sys.argv[0], binary, src))
            with open(ref) as f:
                old = json.load(f)
            d = []
            diff(old, got, mode, d)
            if d:
                failures.append((mode, d))
            else:
                acc = s["accuracy"]["after_task"][-1]["accuracy"]
                print("check_golden: %s identical to %s (accuracy after the last task %r, "
                      "energy %r J, simulated %r s%s)"
                      % (mode, os.path.relpath(ref, src), acc, s["energy_j"]["total"],
                         s["simulated_time_s"],
                         ", %d trace events" % sum(got["trace_event_counts"].values())
                         if "trace_event_counts" in got else ""))
    if failures:
        for mode, d in failures:
            print("check_golden: %s differs from its reference in %d place(s):" % (mode, len(d)),
                  file=sys.stderr)
            for line in d[:30]:
                print("    " + line, file=sys.stderr)
        fail("results differ from traces/golden/ (a change meant to change them refreshes "
             "the references: %s BIN SRC --refresh)" % os.path.basename(sys.argv[0]))


if __name__ == "__main__":
    main()
