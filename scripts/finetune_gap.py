#!/usr/bin/env python3
"""The fine-tuning study of docs/CROSSCHECK.md: how much MNIST an mlp keeps after fine-tuning on
Fashion-MNIST, with the lab's choices and with one choice changed at a time.

usage: python3 scripts/finetune_gap.py DATA_DIR [--seeds 1,2,3] [--epochs 3] [--variants a,b,...]

DATA_DIR: written by `npm run crosscheck -- --data-only 1 --train-limit 10000 --test-limit 10000`
(the lab's seeded 10k-per-task subsets). The training code is scripts/crosscheck_torch.py's, which
`npm run crosscheck` shows equal to the lab's step for step; batch order here is torch.randperm.
Variants (each changes one thing from 'lab'):
  lab           He-normal trunk (plain normal), Glorot-uniform head, zero biases, 20 head-only
                warm-up steps with their own Adam, decay (l/2)||W||^2 on the trainable kernels, eps 1e-7
  torch-init    PyTorch's nn.Linear default: W, b ~ U(+-1/sqrt(fan_in)) (trunk and heads)
  trunc-he      He with a truncated normal (Keras' he_normal: std sqrt(2/fan_in)/0.8796, cut at 2 std)
  no-warmup     fine-tuning starts with trunk and head together
  shared-warmup the head keeps its warm-up Adam moments
  decay-all     Adam(model.parameters(), weight_decay=1e-4): every parameter, biases and the old head too
  eps-1e-8      PyTorch's default Adam eps
"""
import math
import sys

import torch

from crosscheck_torch import Net, cross_entropy, head, load_split, plain_features, train_loop, weight_decay

VARIANTS = ["lab", "torch-init", "trunc-he", "no-warmup", "shared-warmup", "decay-all", "eps-1e-8"]


def init_tensor(shape, fan_in, kind, gen):
    if kind == "he":
        return torch.randn(shape, generator=gen) * math.sqrt(2 / fan_in)
    if kind == "trunc-he":
        t = torch.randn(shape, generator=gen)
        while True:  # resample beyond 2 std, as tf.truncatedNormal does
            bad = t.abs() > 2
            if not bool(bad.any()):
                break
            t[bad] = torch.randn(int(bad.sum()), generator=gen)
        return t * math.sqrt(2 / fan_in) / 0.87962566103423978
    bound = 1 / math.sqrt(fan_in)  # torch default (kaiming_uniform a=sqrt(5)) and its bias
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


def make_mlp(init, gen, tasks):
    """A lab-shaped mlp record (784-400-400, one head per task) with the chosen initialisation."""
    def t(x):
        return {"shape": list(x.shape), "data": x.flatten().tolist()}
    trunk_kind = {"lab": "he", "trunc-he": "trunc-he", "torch-init": "torch"}[init]
    units = []
    for uid, cin, cout in (("fc1", 784, 400), ("fc2", 400, 400)):
        bias = init_tensor([cout], cin, "torch", gen) if init == "torch-init" else torch.zeros(cout)
        units.append({"spec": {"id": uid, "op": "dense", "inChannels": cin, "outChannels": cout},
                      "kernel": t(init_tensor([cin, cout], cin, trunk_kind, gen)), "bias": t(bias)})
    heads = []
    for task in tasks:
        if init == "torch-init":
            k, b = init_tensor([400, 10], 400, "torch", gen), init_tensor([10], 400, "torch", gen)
        else:
            lim = math.sqrt(6 / 410)
            k, b = (torch.rand([400, 10], generator=gen) * 2 - 1) * lim, torch.zeros(10)
        heads.append({"taskId": task, "kernel": t(k), "bias": t(b)})
    topology = [{"type": "flatten"}, {"type": "unit", "unit": "fc1", "relu": True}, {"type": "unit", "unit": "fc2", "relu": True}]
    return Net({"topology": topology, "units": units, "heads": heads})


def batches(n, epochs, gen, size=128):
    out = []
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen).tolist()
        out += [perm[i:i + size] for i in range(0, n, size)]
    return out


def accuracy(net, h, x, y):
    with torch.no_grad():
        return float((head(h, plain_features(net, x, False, [])).argmax(1) == y).float().mean())


def run(variant, seed, data, epochs):
    (xs, ys, xs_test, ys_test), (xt, yt, xt_test, yt_test) = data
    gen = torch.Generator().manual_seed(seed)
    init = variant if variant in ("torch-init", "trunc-he") else "lab"
    net = make_mlp(init, gen, ["mnist", "fashion"])
    old, new = net.heads
    eps = 1e-8 if variant == "eps-1e-8" else 1e-7
    decay_all = variant == "decay-all"

    def stage(x, y, h, others, warmup):
        params = net.trunk_trainable() + [h["kernel"], h["bias"]] + ([p for o in others for p in (o["kernel"], o["bias"])] if decay_all else [])
        dec = params if decay_all else net.decayed([h])

        def loss_fn(bx, by, ix, updates, phase):
            return cross_entropy(head(h, plain_features(net, bx, phase == "main", updates)), by) + weight_decay(dec, 1e-4)
        plan = batches(x.shape[0], epochs, gen)
        train_loop(plan, x, y, [{"params": params, "lr": 1e-3}], loss_fn, eps,
                   min(warmup, len(plan) // 10), [h["kernel"], h["bias"]], "shared" if variant == "shared-warmup" else "fresh")

    stage(xs, ys, old, [], 0)  # the source net (no other head is trained: the lab's source stage)
    src_acc = accuracy(net, old, xs_test, ys_test)
    stage(xt, yt, new, [old], 0 if variant == "no-warmup" else 20)
    return src_acc, accuracy(net, old, xs_test, ys_test), accuracy(net, new, xt_test, yt_test)


def main():
    args = sys.argv[1:]
    opts = {"--seeds": "1,2,3", "--epochs": "3", "--variants": ",".join(VARIANTS)}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    if len(args) != 1:
        raise SystemExit(__doc__)
    torch.set_num_threads(1)
    data = [load_split(args[0], t, "train") + load_split(args[0], t, "test") for t in ("mnist", "fashion")]
    seeds = [int(s) for s in opts["--seeds"].split(",")]
    print("variant        | seed | source MNIST | MNIST after FT | Fashion after FT")
    for v in opts["--variants"].split(","):
        rows = [run(v, s, data, int(opts["--epochs"])) for s in seeds]
        for s, r in zip(seeds, rows):
            print(f"{v:14} | {s:4} | {100 * r[0]:11.2f} | {100 * r[1]:14.2f} | {100 * r[2]:15.2f}", flush=True)
        mean = [sum(r[i] for r in rows) / len(rows) for i in range(3)]
        print(f"{v:14} | mean | {100 * mean[0]:11.2f} | {100 * mean[1]:14.2f} | {100 * mean[2]:15.2f}", flush=True)


if __name__ == "__main__":
    main()
