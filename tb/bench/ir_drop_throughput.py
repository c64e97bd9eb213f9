#!/usr/bin/env python3
"""tb/bench/ir_drop_throughput.py [MEMPLAST_BIN] [--mode hardware|functional] [--reps N]: one
invocation: configs/quick.json (quick-size data), tile.ir_drop off and approx, run interleaved
N times each (default 2, hardware mode); CPU time (user + sys of the child) and samples/s
(summary.json, wall-clock based) of each run, and the ratios."""
import json, os, resource, subprocess, sys, tempfile
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
args = sys.argv[1:]
mode, reps = "hardware", 2
if "--mode" in args:
    i = args.index("--mode"); mode = args[i + 1]; del args[i:i + 2]
if "--reps" in args:
    i = args.index("--reps"); reps = int(args[i + 1]); del args[i:i + 2]
b = args[0] if args else os.path.join(root, "build/release/memplast")
tmp = tempfile.mkdtemp()
cpu = {"off": 0.0, "approx": 0.0}
sps = {"off": 0.0, "approx": 0.0}
for rep in range(1, reps + 1):
    for m in ("off", "approx"):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = os.path.join(tmp, m)
        subprocess.run([b, "train", "--config", "configs/quick.json", "--mode", mode, "--progress", "none",
                        "--out", out, "--force", "--set", f"tile.ir_drop={m}"], check=True, cwd=root,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        cpu[m] += t
        s = json.load(open(out + "/summary.json"))
        sps[m] += s.get("samples_per_second", 0.0)
        acc = s["accuracy"]["after_task"][-1]["accuracy"]
        print(f"rep {rep} {mode} tile.ir_drop={m}: cpu {t:.2f} s, samples/s "
              f"{s.get('samples_per_second', 0.0):.0f}, accuracy after last task {acc}", flush=True)
import shutil
shutil.rmtree(tmp)
print(f"{mode}: ratio approx/off CPU time ({reps} runs each): {cpu['approx'] / cpu['off']:.3f}; "
      f"samples/s off/approx (throughput fall): {sps['off'] / sps['approx']:.3f}x")
