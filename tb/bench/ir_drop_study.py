#!/usr/bin/env python3
"""tb/bench/ir_drop_study.py [MEMPLAST_BIN]: the reduced IR-drop study of docs/tile.md.

configs/quick.json (3000 training / 1000 test images per task, hidden 256, 2 + 2 epochs)
in functional mode, one seed, for tile sizes 64..512 and wire resistances 0.5 and 2 ohm
per segment (rows and columns), with and without tile.ir_compensation, plus IR drop
off; prints one Markdown row per run: accuracy after both tasks and CPU seconds."""
import json, os, resource, shutil, subprocess, sys, tempfile

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
b = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/release/memplast")
tmp = tempfile.mkdtemp()
print("| tile | ir_drop | r_wire (ohm) | compensation | MNIST % | Fashion-MNIST % | CPU s |")
print("|---|---|---|---|---|---|---|")
total = 0.0
for n in (64, 128, 256, 512):
    points = [("off", None, False)] + [("approx", r, c) for r in (0.5, 2.0) for c in (False, True)]
    for mode, r, comp in points:
        args = [b, "train", "--config", "configs/quick.json", "--mode", "functional", "--progress", "none",
                "--out", os.path.join(tmp, "run"), "--force", "--set", f"tile.rows={n}", "--set", f"tile.cols={n}",
                "--set", f"tile.ir_drop={mode}"]
        if r is not None:
            args += ["--set", f"tile.ir_r_row_ohm={r}", "--set", f"tile.ir_r_col_ohm={r}",
                     "--set", f"tile.ir_compensation={'true' if comp else 'false'}"]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, check=True, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        total += t
        acc = json.load(open(os.path.join(tmp, "run", "summary.json")))["accuracy"]["after_task"][-1]["accuracy"]
        print(f"| {n} | {mode} | {'-' if r is None else r} | {'-' if r is None else ('on' if comp else 'off')} | "
              f"{100 * acc['mnist']:.1f} | {100 * acc['fashion_mnist']:.1f} | {t:.1f} |", flush=True)
shutil.rmtree(tmp)
print(f"total CPU {total:.0f} s")
