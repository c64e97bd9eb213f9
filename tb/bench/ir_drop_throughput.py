#!/usr/bin/env python3
"""tb/bench/ir_drop_throughput.py [MEMPLAST_BIN]: one invocation: configs/quick.json, hardware mode, tile.ir_drop off and approx, run
interleaved twice each; CPU time (user + sys of the child) of each run and the ratio."""
import json, os, resource, subprocess, sys, tempfile
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
b = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/release/memplast")
tmp = tempfile.mkdtemp()
cpu = {"off": 0.0, "approx": 0.0}
for rep in (1, 2):
    for m in ("off", "approx"):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = os.path.join(tmp, m)
        subprocess.run([b, "train", "--config", "configs/quick.json", "--mode", "hardware", "--progress", "none",
                        "--out", out, "--force", "--set", f"tile.ir_drop={m}"], check=True, cwd=root,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        cpu[m] += t
        acc = json.load(open(out + "/summary.json"))["accuracy"]["after_task"][-1]["accuracy"]
        print(f"rep {rep} tile.ir_drop={m}: cpu {t:.2f} s, accuracy after last task {acc}", flush=True)
import shutil
shutil.rmtree(tmp)
print(f"ratio approx/off (CPU time, 2 runs each): {cpu['approx'] / cpu['off']:.3f}")
