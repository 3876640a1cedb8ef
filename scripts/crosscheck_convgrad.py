#!/usr/bin/env python3
"""Accuracy of the lab's conv filter gradient against PyTorch float32's, both against float64.

usage: node scripts/run-ts.mjs scripts/crosscheckConvGrad.ts wasm OUT.f32
       python3 scripts/crosscheck_convgrad.py OUT.f32

For each case of crosscheckConvGrad.ts (conv4 at width 0.25, batch 128, 3x3 'same') prints the
largest and the median |dW - dW_float64| relative to max |dW_float64| for the lab, PyTorch float32,
and PyTorch float32 with the batch permuted (another float32 summation order).
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

CASES = [[128, 28, 28, 1, 8], [128, 28, 28, 8, 8], [128, 14, 14, 8, 16], [128, 14, 14, 16, 16]]


def filter_grad(x, dy, dtype, perm=None):
    """d/dk sum(conv2d(x, k) * dy) in PyTorch, as [3, 3, ci, co] float64."""
    xt = torch.tensor(x, dtype=dtype).permute(0, 3, 1, 2)
    dyt = torch.tensor(dy, dtype=dtype).permute(0, 3, 1, 2)
    if perm is not None:
        xt, dyt = xt[perm], dyt[perm]
    k = torch.zeros(dy.shape[3], x.shape[3], 3, 3, dtype=dtype, requires_grad=True)
    (g,) = torch.autograd.grad((F.conv2d(xt, k, padding=1) * dyt).sum(), k)
    return g.permute(2, 3, 1, 0).detach().numpy().astype(np.float64)


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    buf = np.fromfile(sys.argv[1], dtype=np.float32)
    o = 0
    print("case [n, h, w, ci] -> co | terms per element | error / max|dW|, largest and median: lab | torch f32 | torch f32, batch permuted")
    for n, h, w, ci, co in CASES:
        x = buf[o:o + n * h * w * ci].reshape(n, h, w, ci)
        o += x.size
        dy = buf[o:o + n * h * w * co].reshape(n, h, w, co)
        o += dy.size
        lab = buf[o:o + 9 * ci * co].reshape(3, 3, ci, co).astype(np.float64)
        o += lab.size
        ref = filter_grad(x, dy, torch.float64)
        scale = np.abs(ref).max()
        runs = [lab, filter_grad(x, dy, torch.float32), filter_grad(x, dy, torch.float32, torch.randperm(n, generator=torch.Generator().manual_seed(1)))]
        cells = [f"{np.abs(a - ref).max() / scale:.1e} {np.median(np.abs(a - ref)) / scale:.1e}" for a in runs]
        print(f"{[n, h, w, ci]} -> {co} | {n * h * w} | " + " | ".join(cells))


if __name__ == "__main__":
    main()
