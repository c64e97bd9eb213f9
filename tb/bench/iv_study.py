#!/usr/bin/env python3
"""tb/bench/iv_study.py [MEMPLAST_BIN]: one invocation: configs/quick.json (one seed) in
functional and hardware mode, tile.encoding amplitude and bit_serial, the I-V nonlinearity
off and on (docs/device.md study values: device.nl_a3_per_V2=0.5, device.nl_hrs_factor=6),
plus tile.ir_drop=approx (amplitude, nonlinearity off); accuracy after the last task per
task, CPU time (user + sys of the child), wall time and samples/s from summary.json, and the
ratios on/off and approx/off. Prints a markdown table."""
import json, os, resource, shutil, subprocess, sys, tempfile
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
b = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/release/memplast")
NL = ["--set", "device.nl_a3_per_V2=0.5", "--set", "device.nl_hrs_factor=6"]
variants = [("amplitude", "off", []), ("amplitude", "on", NL),
            ("bit_serial", "off", []), ("bit_serial", "on", NL),
            ("amplitude", "off, ir_drop=approx", ["--set", "tile.ir_drop=approx"])]
tmp = tempfile.mkdtemp()
res = {}
print("| mode | encoding | I-V nonlinearity | MNIST % | Fashion-MNIST % | CPU s | wall s | samples/s |")
print("|---|---|---|---|---|---|---|---|")
for mode in ("functional", "hardware"):
    for enc, nl, extra in variants:
        out = os.path.join(tmp, "run")
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([b, "train", "--config", "configs/quick.json", "--mode", mode, "--progress",
                        "none", "--out", out, "--force", "--set", f"tile.encoding={enc}"] + extra,
                       check=True, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        s = json.load(open(os.path.join(out, "summary.json")))
        acc = s["accuracy"]["after_task"][-1]["accuracy"]
        accs = f"{100 * acc['mnist']:.1f} | {100 * acc['fashion_mnist']:.1f}"
        res[(mode, enc, nl)] = (cpu, s.get("wall_time_s", 0.0), s.get("samples_per_second", 0.0))
        print(f"| {mode} | {enc} | {nl} | {accs} | {cpu:.2f} | {res[(mode, enc, nl)][1]:.2f} "
              f"| {res[(mode, enc, nl)][2]:.0f} |", flush=True)
shutil.rmtree(tmp)
for mode in ("functional", "hardware"):
    for enc in ("amplitude", "bit_serial"):
        on, off = res[(mode, enc, "on")], res[(mode, enc, "off")]
        print(f"{mode} {enc}: nonlinearity on/off CPU {on[0] / off[0]:.3f}, wall {on[1] / off[1]:.3f}")
    ap, off = res[(mode, "amplitude", "off, ir_drop=approx")], res[(mode, "amplitude", "off")]
    print(f"{mode}: ir_drop approx/off samples/s {ap[2] / off[2]:.3f} (throughput falls by "
          f"{off[2] / ap[2]:.3f}x), CPU {ap[0] / off[0]:.3f}")
