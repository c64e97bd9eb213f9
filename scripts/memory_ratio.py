#!/usr/bin/env python3
"""Memory of the trained QNN (from a memplast summary.json) against the metaplastic
binarized network of Laborieux et al., Nat. Commun. 2021 (the 784-4096-4096-10 BNN of
its MNIST -> Fashion-MNIST experiment: float32 hidden weights, 1-bit weights, batch norm
after each layer with per-task parameters). Prints the arithmetic.

usage: scripts/memory_ratio.py out/paper/summary.json
"""
import json
import math
import sys


def bnn_bits(layers, hidden_bits=32, tasks=2, bn_bits=32):
    weights = sum(a * b for a, b in zip(layers[:-1], layers[1:]))
    bn = tasks * 4 * bn_bits * sum(layers[1:])  # gamma, beta, mean, var per neuron per task
    return weights, weights * hidden_bits, weights * 1, bn


def device_levels(mapping, levels):
    """Conductance levels a device holds (tile::device_levels_for, docs/tile.md)."""
    return levels // 2 + 1 if mapping == "differential" else levels


def qnn_devices(cfg, H, w_q):
    C = cfg["tile"]["cols"]
    if cfg["tile"]["mapping"] == "differential":
        return 2 * w_q
    return w_q + sum(n_in * ((n_out + C - 1) // C) for n_in, n_out in ((784, H), (H, 10)))


def crossbar(cfg, H, w_q):
    """The devices that hold the stored weights, and what they hold (docs/tile.md)."""
    mapping = cfg["tile"]["mapping"]
    L = cfg["meta"]["levels"]
    dl = device_levels(mapping, L)
    C = cfg["tile"]["cols"]
    if mapping == "differential":
        per_weight, ref = 2, 0
        how = "a differential pair G+ - G-"
    else:
        # One reference cell per row in use of every tile: rows x column blocks per layer.
        per_weight = 1
        ref = sum(n_in * ((n_out + C - 1) // C) for n_in, n_out in ((784, H), (H, 10)))
        how = "one device against its row's reference cell"
    devices = qnn_devices(cfg, H, w_q)
    print("  crossbar        %d weights x %d device(s) (%s)%s = %d devices" % (
        w_q, per_weight, how, " + %d reference cells" % ref if ref else "", devices))
    print("                  %d conductance levels per device = %.2f bits per device; "
          "%d weight levels = %.2f bits per weight" % (dl, math.log2(dl), L, math.log2(L)))
    print("                  %.3f devices per weight; %.2f bits of weight per device" % (
        devices / w_q, w_q * math.log2(L) / devices))


def main():
    s = json.load(open(sys.argv[1]))
    m = s["memory_bits"]
    cfg = s["config"]
    H = cfg["train"]["hidden"]
    w_q = 784 * H + H * 10
    ours = m["hidden"] + m["stored"] + m["task_specific"]
    print("QNN 784-%d-10: %d weights" % (H, w_q))
    print("  hidden weights  %d bits (%d x %d-bit fixed point)" % (m["hidden"], w_q, cfg["meta"]["hidden_bits"]))
    print("  stored weights  %d bits (%d x %.0f bits: the level index of %d levels)" % (
        m["stored"], w_q, m["stored"] / w_q, cfg["meta"]["levels"]))
    print("  task-specific   %d bits (per-task batch norm, fp32)" % m["task_specific"])
    print("  total           %d bits = %.2f Mbit (optimizer state, %d bits, not counted on either side)" % (
        ours, ours / 1e6, m["optimizer"]))
    crossbar(cfg, H, w_q)
    layers = [784, 4096, 4096, 10]
    n, hid, binw, bn = bnn_bits(layers)
    bnn = hid + binw + bn
    print("BNN 784-4096-4096-10 (Laborieux et al. 2021): %d weights" % n)
    print("  hidden weights  %d bits (fp32)" % hid)
    print("  binary weights  %d bits" % binw)
    print("  task-specific   %d bits (per-task batch norm, fp32, 2 tasks)" % bn)
    print("  total           %d bits = %.2f Mbit" % (bnn, bnn / 1e6))
    print("  crossbar        %d devices (one binary device per weight)" % n)
    print("ratio BNN / QNN = %.1fx (paper: 15x)" % (bnn / ours))
    print("device ratio BNN / QNN = %d / %d = %.1fx" % (n, qnn_devices(cfg, H, w_q),
                                                      n / qnn_devices(cfg, H, w_q)))
    # The same with 32-bit float hidden weights on the QNN side too (software QNN).
    ours32 = w_q * 32 + m["stored"] + m["task_specific"]
    print("ratio with fp32 hidden weights on both sides = %.1fx" % (bnn / ours32))
    # Counting the Adam state on both sides (BNN: two fp32 moments per weight).
    bnn_adam = bnn + n * 64
    ours_adam = ours + m["optimizer"]
    print("ratio with Adam state counted on both sides: %d / %d bits = %.1fx" % (
        bnn_adam, ours_adam, bnn_adam / ours_adam))


if __name__ == "__main__":
    main()
