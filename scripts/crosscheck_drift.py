#!/usr/bin/env python3
"""How far each float32 run's variables are from the float64 replay's after each of the first steps.

usage: python3 scripts/crosscheck_drift.py OUT_DIR STAGE

Reads what `npm run crosscheck -- --dump-steps N --stages STAGE` writes: OUT_DIR/STAGE.lab-dump.f32
(the lab), STAGE.torch-dump.npz (PyTorch float32, trace order), STAGE.torch-dump-<order>.npz (the
other float32 replays: reversed, perm1, ...) and STAGE.torch-dump-float64.npz. Prints, per step, the
L2 distance of all variables together (netState order: kernels, biases, BN gamma/beta and running
statistics, heads) from float64's, for the lab and every float32 replay, and where the lab ranks
among them. It answers whether the lab leaves exact arithmetic faster than float32 itself does.
"""
import glob
import os
import sys

import numpy as np


def load_npz(path):
    z = np.load(path)
    steps = sorted({int(k.split("_")[0][4:]) for k in z.files if k.startswith("step")})
    count = len([k for k in z.files if k.startswith("step1_")])
    return [[z[f"step{s}_{i}"].astype(np.float64) for i in range(count)] for s in steps]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    out, stage = sys.argv[1:]
    ref = load_npz(os.path.join(out, f"{stage}.torch-dump-float64.npz"))
    shapes = [a.shape for a in ref[0]]
    sizes = [int(np.prod(s)) for s in shapes]
    runs = {}
    lab = np.fromfile(os.path.join(out, f"{stage}.lab-dump.f32"), dtype=np.float32).astype(np.float64)
    per_step = sum(sizes)
    runs["lab"] = [np.split(lab[s * per_step:(s + 1) * per_step], np.cumsum(sizes)[:-1]) for s in range(lab.size // per_step)]
    runs["forward"] = load_npz(os.path.join(out, f"{stage}.torch-dump.npz"))
    for path in sorted(glob.glob(os.path.join(out, f"{stage}.torch-dump-*.npz"))):
        name = path[len(os.path.join(out, f"{stage}.torch-dump-")):-4]
        if name != "float64":
            runs[name] = load_npz(path)
    n = min(len(ref), *(len(r) for r in runs.values()))
    print("after step | " + " | ".join(runs) + " | lab's rank (1 = closest)")
    for s in range(n):
        d = {k: float(np.sqrt(sum(np.sum((a.reshape(-1) - b.reshape(-1)) ** 2) for a, b in zip(r[s], ref[s])))) for k, r in runs.items()}
        rank = 1 + sum(1 for k, v in d.items() if k != "lab" and v < d["lab"])
        print(f"{s + 1} | " + " | ".join(f"{v:.2e}" for v in d.values()) + f" | {rank} of {len(d)}")


if __name__ == "__main__":
    main()
