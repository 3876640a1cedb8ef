#!/usr/bin/env python3
"""Variable-by-variable diff of the lab and the PyTorch replay after each of the first steps.

usage: python3 scripts/crosscheck_diff.py OUT_DIR STAGE [--steps N]

Reads OUT_DIR/STAGE.lab-dump.f32 and OUT_DIR/STAGE.torch-dump.npz, which
`npm run crosscheck -- --dump-steps N --stages STAGE` writes (the lab's and the float32 replay's
every variable, in netState order, after each of the first N steps). Prints, per step, each
tensor's largest absolute difference and largest difference relative to the tensor's largest
value, and the first step at which any tensor differs by more than 1e-5 relative.
"""
import sys

import numpy as np


def main():
    args = sys.argv[1:]
    steps = None
    if "--steps" in args:
        i = args.index("--steps")
        steps = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        raise SystemExit(__doc__)
    out, stage = args
    torch = np.load(f"{out}/{stage}.torch-dump.npz")
    keys = sorted({k.split("_")[0] for k in torch.files if k.startswith("step")}, key=lambda k: int(k[4:]))
    count = len([k for k in torch.files if k.startswith("step1_")])
    shapes = [torch[f"step1_{i}"].shape for i in range(count)]
    sizes = [int(np.prod(s)) for s in shapes]
    lab = np.fromfile(f"{out}/{stage}.lab-dump.f32", dtype=np.float32)
    per_step = sum(sizes)
    n = min(len(keys), lab.size // per_step, steps or len(keys))
    first = None
    for s in range(n):
        row = lab[s * per_step:(s + 1) * per_step]
        offset = 0
        cells = []
        for i, size in enumerate(sizes):
            a = row[offset:offset + size].reshape(shapes[i])
            b = torch[f"step{s + 1}_{i}"]
            offset += size
            d = np.abs(a.astype(np.float64) - b.astype(np.float64))
            rel = d.max() / max(1e-30, np.abs(b).max())
            if rel > 1e-5 and first is None:
                first = (s + 1, i, np.unravel_index(d.argmax(), d.shape))
            cells.append(f"{d.max():.1e}/{rel:.1e}")
        print(f"step {s + 1}: " + " ".join(cells))
    print("tensors (netState order):", ", ".join(f"#{i} {list(sh)}" for i, sh in enumerate(shapes)))
    print("first tensor over 1e-5 relative:", f"step {first[0]}, tensor #{first[1]}, element {tuple(int(x) for x in first[2])}" if first else "none")


if __name__ == "__main__":
    main()
