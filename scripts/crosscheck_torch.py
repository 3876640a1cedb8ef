#!/usr/bin/env python3
"""Replays one ResCL Lab training stage in PyTorch eager (`npm run crosscheck` calls it).

usage: python3 scripts/crosscheck_torch.py TRACE.json DATA_DIR OUT.json [--variant NAME=VALUE ...]

TRACE.json is written by scripts/crosscheck.ts (src/core/trace.ts): the stage's initial networks,
the exact batch order and the settings. DATA_DIR holds <task>-<split>-x.u8 (N*784 pixels) and
<task>-<split>-y.u8 (N labels). The stage is the lab's (src/core/train.ts), written independently
with torch ops: float32, NHWC activations kept as in tfjs (convs permute to NCHW and back), BN with
biased batch variance, running <- 0.9 running + 0.1 batch, eps 1e-3; Adam as tfjs computes it
(TfjsAdam: float32 betas and bias corrections, the lab's eps 1e-7; CROSSCHECK_ADAM=torch for
torch.optim.Adam); weight decay as the loss term (l/2)||W||^2 on the kernels the lab decays.
OUT.json gets {"losses": [per step], "acc": {name: accuracy}}.
Environment: CROSSCHECK_DTYPE=float64, CROSSCHECK_ORDER=reversed|perm:<k>, CROSSCHECK_SUMS=perm:<k>,
CROSSCHECK_ADAM=torch, CROSSCHECK_DUMP=file.npz (+ CROSSCHECK_DUMP_STEPS), each described where it
is read below.

--variant (for the fine-tuning study, not the agreement check) changes one choice:
  warmup_state=shared   the head keeps its warm-up Adam moments in the main phase (lab: fresh)
  warmup=0              no head-only warm-up
  decay=all             weight decay on every parameter the optimizer holds, biases and old heads too
  eps=1e-8              torch's default Adam eps
"""
import json
import math
import os
import random
import struct
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write(
        "crosscheck needs PyTorch for the system python3.\n"
        "Install it with:  sudo apt-get install -y python3-torch   (Debian/Ubuntu)\n"
        "or:               python3 -m pip install torch\n")
    sys.exit(3)

torch.set_num_threads(1)
# CROSSCHECK_DTYPE=float64 replays the stage in float64: the reference that shows how far float32
# rounding alone (Adam amplifies it) moves either float32 run
DTYPE = torch.float64 if os.environ.get("CROSSCHECK_DTYPE") == "float64" else torch.float32
torch.set_default_dtype(DTYPE)
# CROSSCHECK_ADAM=torch uses torch.optim.Adam (bias corrections in float64) instead of the lab's
# float32-constant Adam (TfjsAdam below)
ADAM = os.environ.get("CROSSCHECK_ADAM", "tfjs")
# CROSSCHECK_DUMP=file.npz saves every trained variable (step<k>_<i>) and gradient (grad<k>_<i>) after
# each of the first CROSSCHECK_DUMP_STEPS steps, for a variable-by-variable diff
DUMP = os.environ.get("CROSSCHECK_DUMP")
DUMP_STEPS = int(os.environ.get("CROSSCHECK_DUMP_STEPS", "10"))
# CROSSCHECK_ORDER feeds every batch's examples in another order: the same math, other float32
# summation orders (batch means, BN moments, gradient sums), i.e. a sibling float32 run that shows
# how far float32 rounding alone moves a run. "forward" (default): the trace's order; "reversed":
# each batch reversed; "perm:<k>" (k >= 1): each batch shuffled by a generator seeded (k, step), so
# siblings k = 1, 2, ... are independent draws of the within-batch order (the floor in
# scripts/crosscheckVerdict.ts is the largest distance among these runs and float64)
ORDER = os.environ.get("CROSSCHECK_ORDER", "forward")


def batch_order(idx, step, order=None):
    """The examples of batch `step` (0-based) in the order CROSSCHECK_ORDER asks for (a permutation of idx)."""
    order = ORDER if order is None else order
    if order == "forward":
        return list(idx)
    if order == "reversed":
        return list(idx)[::-1]
    if order.startswith("perm:") and order[5:].isdigit() and int(order[5:]) >= 1:
        out = list(idx)
        random.Random(int(order[5:]) * 1_000_003 + step).shuffle(out)
        return out
    raise SystemExit(f"CROSSCHECK_ORDER must be forward, reversed or perm:<k> with k >= 1, not {order!r}")


batch_order([], 0)  # a bad CROSSCHECK_ORDER stops here, before any work

# CROSSCHECK_SUMS=perm:<k> (k >= 1) feeds the inputs of every dot product in another order: each
# dense/conv unit and head reads its input features (channels for a conv) through a permutation p,
# seeded (k, unit), and its kernel's input rows through the same p, so z = x[..., p] @ W[p, :] is the
# same math with other float32 sums in the forward pass (the lab's own matmuls, XNNPACK's or tfjs's,
# sum in yet another order; batch-order siblings alone leave every per-example logit's rounding as is)
SUMS = os.environ.get("CROSSCHECK_SUMS", "forward")
if SUMS != "forward" and not (SUMS.startswith("perm:") and SUMS[5:].isdigit() and int(SUMS[5:]) >= 1):
    raise SystemExit(f"CROSSCHECK_SUMS must be forward or perm:<k> with k >= 1, not {SUMS!r}")
_feature_perms = {}


def feature_perm(name, n):
    """The input-feature permutation of unit/head `name` with n inputs (None: identity, CROSSCHECK_SUMS=forward)."""
    if SUMS == "forward" or n < 2:
        return None
    key = (name, n)
    if key not in _feature_perms:
        order = list(range(n))
        random.Random(f"{SUMS}:{name}:{n}").shuffle(order)
        _feature_perms[key] = torch.tensor(order, dtype=torch.int64)
    return _feature_perms[key]


BN_EPS = 1e-3
BN_MOMENTUM = 0.9
KD_T = 2.0


def tensor(t, grad=True):
    x = torch.tensor(t["data"], dtype=DTYPE).reshape(t["shape"])
    return x.requires_grad_(grad)


class Net:
    """A plain net from a serialized record: ordered units, topology and heads."""

    def __init__(self, s):
        self.topology = s["topology"]
        self.units = {}
        self.order = []
        for u in s["units"]:
            p = {"spec": u["spec"]}
            for k in ("kernel", "bias"):
                if k in u:
                    p[k] = tensor(u[k])
            if "bn" in u:
                p["gamma"] = tensor(u["bn"]["gamma"])
                p["beta"] = tensor(u["bn"]["beta"])
                p["mean"] = tensor(u["bn"]["movingMean"], False)
                p["var"] = tensor(u["bn"]["movingVariance"], False)
            self.units[u["spec"]["id"]] = p
            self.order.append(u["spec"]["id"])
        self.heads = [{"taskId": h["taskId"], "kernel": tensor(h["kernel"]), "bias": tensor(h["bias"])} for h in s["heads"]]

    def trunk_trainable(self):
        out = []
        for uid in self.order:
            u = self.units[uid]
            out += [u[k] for k in ("kernel", "bias", "gamma", "beta") if k in u]
        return out

    def decayed(self, heads):
        ks = [self.units[uid]["kernel"] for uid in self.order if "kernel" in self.units[uid] and self.units[uid]["spec"]["op"] != "affine"]
        return ks + [h["kernel"] for h in heads]

    def state(self):
        """Every tensor in the lab's netState order: per unit kernel, bias, gamma, beta, mean, var; then heads."""
        out = [self.units[uid][k] for uid in self.order for k in ("kernel", "bias", "gamma", "beta", "mean", "var") if k in self.units[uid]]
        return out + [p for h in self.heads for p in (h["kernel"], h["bias"])]

    def head_index(self, task_id):
        return [h["taskId"] for h in self.heads].index(task_id)


def linear(u, x):
    op = u["spec"]["op"]
    p = feature_perm(u["spec"]["id"], x.shape[-1])
    if op == "conv":
        kernel = u["kernel"] if p is None else u["kernel"][:, :, p, :]
        x = x if p is None else x[..., p]
        k = kernel.permute(3, 2, 0, 1)  # [k,k,cin,cout] -> [cout,cin,k,k]
        z = F.conv2d(x.permute(0, 3, 1, 2), k, stride=u["spec"].get("stride", 1), padding=u["spec"].get("kernelSize", 3) // 2).permute(0, 2, 3, 1)
    elif op == "dense":
        z = x @ u["kernel"] if p is None else x[..., p] @ u["kernel"][p]
    else:
        raise SystemExit(f"unit op {op} is not replayed (mlp and conv4 only)")
    return z + u["bias"] if "bias" in u else z


def batch_norm(u, z, training, updates):
    axes = tuple(range(z.dim() - 1))
    if training:
        mean = z.mean(axes)
        var = ((z - mean) ** 2).mean(axes)  # biased, like tf.moments
        updates.append((u, mean.detach(), var.detach()))
    else:
        mean, var = u["mean"], u["var"]
    return (z - mean) / torch.sqrt(var + BN_EPS) * u["gamma"] + u["beta"]


def run_topology(topology, x, unit_fn):
    h = x
    for node in topology:
        t = node["type"]
        if t == "unit":
            z = unit_fn(node["unit"], h)
            h = torch.relu(z) if node["relu"] else z
        elif t == "maxpool":
            h = F.max_pool2d(h.permute(0, 3, 1, 2), 2, 2).permute(0, 2, 3, 1)
        elif t == "flatten":
            h = h.reshape(h.shape[0], -1)
        else:
            raise SystemExit(f"topology node {t} is not replayed (mlp and conv4 only)")
    return h


def plain_features(net, x, training, updates):
    def unit(uid, h):
        u = net.units[uid]
        z = linear(u, h)
        return batch_norm(u, z, training, updates) if "gamma" in u else z
    return run_topology(net.topology, x, unit)


def head(h, f):
    p = feature_perm("head:" + h["taskId"], f.shape[-1])
    return (f @ h["kernel"] if p is None else f[:, p] @ h["kernel"][p]) + h["bias"]


def apply_bn_updates(updates):
    with torch.no_grad():
        for u, mean, var in updates:
            u["mean"].copy_(u["mean"] * BN_MOMENTUM + mean * (1 - BN_MOMENTUM))
            u["var"].copy_(u["var"] * BN_MOMENTUM + var * (1 - BN_MOMENTUM))
    updates.clear()


def cross_entropy(logits, y):
    return -(F.one_hot(y, logits.shape[1]) * F.log_softmax(logits, 1)).sum(1).mean()


def distillation(teacher, student):
    logq = F.log_softmax(teacher / KD_T, 1)
    logp = F.log_softmax(student / KD_T, 1)
    return (logq.exp() * (logq - logp)).sum(1).mean() * KD_T * KD_T


def weight_decay(ts, lam):
    return sum((t * t).sum() for t in ts) * (lam / 2) if lam and ts else torch.zeros(())


def load_split(data_dir, task, split):
    with open(os.path.join(data_dir, f"{task}-{split}-x.u8"), "rb") as f:
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    with open(os.path.join(data_dir, f"{task}-{split}-y.u8"), "rb") as f:
        y = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    n = y.numel()
    return x.reshape(n, 28, 28, 1).to(DTYPE) / 255, y.to(torch.int64)


def record(forward, x, batch=512):
    with torch.no_grad():
        return torch.cat([forward(x[i:i + batch]) for i in range(0, x.shape[0], batch)])


def accuracy(forward, x, y, batch=1000):
    with torch.no_grad():
        correct = sum(int((forward(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, x.shape[0], batch))
    return correct / max(1, x.shape[0])


def f32(v):
    """v rounded to the nearest float32 (as a Python float)."""
    return struct.unpack("f", struct.pack("f", v))[0]


class TfjsAdam:
    """Adam exactly as tfjs 4.22 (and the lab's fused kernel, src/core/optimizer.ts) computes it.

    Same math as torch.optim.Adam (eps added to the bias-corrected sqrt(v)), but every constant is a
    float32: beta1 = f32(0.9), beta2 = f32(0.999) = 0.99900001, and the bias corrections 1 - beta^t come
    from float32 running products acc <- acc * beta, subtracted in float32. torch.optim.Adam computes
    1 - beta^t in float64 from the exact 0.999, so its 1 - beta2^t is 1.29e-5 larger (relative) in the
    first hundreds of steps, which makes every torch update ~6.4e-6 larger than the lab's.
    In float64 mode (the reference) the same float32-rounded constants are used, with float64 arithmetic.
    """

    def __init__(self, groups, eps):
        self.groups = [{"params": list(g["params"]), "lr": g["lr"]} for g in groups]
        self.eps = eps
        self.b1, self.b2 = f32(0.9), f32(0.999)
        self.acc1, self.acc2 = self.b1, self.b2
        self.state = {}

    def zero_grad(self, set_to_none=True):
        for g in self.groups:
            for p in g["params"]:
                p.grad = None

    def _r(self, v):
        return f32(v) if DTYPE == torch.float32 else v

    @torch.no_grad()
    def step(self):
        c = lambda v: torch.tensor(self._r(v), dtype=DTYPE)
        bc1, bc2 = c(1 - self._r(self.acc1)), c(1 - self._r(self.acc2))
        b1, b2, omb1, omb2, eps = c(self.b1), c(self.b2), c(1 - 0.9), c(1 - 0.999), c(self.eps)
        for g in self.groups:
            neg_lr = c(-g["lr"])
            for p in g["params"]:
                if p.grad is None:
                    continue
                m, v = self.state.setdefault(p, [torch.zeros_like(p), torch.zeros_like(p)])
                grad = p.grad
                m.copy_(m * b1 + grad * omb1)
                v.copy_(v * b2 + (grad * grad) * omb2)
                p.copy_((m / bc1) / (torch.sqrt(v / bc2) + eps) * neg_lr + p)
        self.acc1 = self._r(self.acc1 * self.b1)
        self.acc2 = self._r(self.acc2 * self.b2)


def make_adam(groups, eps):
    """The replay's Adam: ADAM=tfjs (default, the lab's float32 constants) or ADAM=torch (torch.optim.Adam)."""
    if ADAM == "torch":
        return torch.optim.Adam([{"params": g["params"], "lr": g["lr"]} for g in groups], betas=(0.9, 0.999), eps=eps)
    return TfjsAdam(groups, eps)


def train_loop(batches, x, y, groups, loss_fn, eps, warmup_steps=0, warmup_vars=None, warmup_state="fresh", dump_vars=None):
    """The lab's trainingLoop: a head-only Adam during the warm-up, then one Adam per group.

    With CROSSCHECK_DUMP, saves dump_vars() (default: the trained variables) and the gradients after each step."""
    lr0 = groups[0]["lr"]
    warm = make_adam([{"params": warmup_vars, "lr": lr0}], eps) if warmup_vars and warmup_steps > 0 else None
    main = make_adam(groups, eps)
    all_vars = [p for g in groups for p in g["params"]]
    losses = []
    updates = []
    dump = {}
    for step, idx in enumerate(batches):
        phase = "head-warmup" if step < warmup_steps else "main"
        if warm is not None and step == warmup_steps and warmup_state == "shared":
            for p in warmup_vars:
                main.state[p] = warm.state[p]
        ix = torch.tensor(batch_order(idx, step), dtype=torch.int64)
        loss = loss_fn(x[ix], y[ix], ix, updates, phase)
        opt, params = (warm, warmup_vars) if phase == "head-warmup" and warm is not None else (main, all_vars)
        opt.zero_grad(set_to_none=True)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        for p, g in zip(params, grads):
            p.grad = torch.zeros_like(p) if g is None else g  # tfjs' Adam gets zeros too
        opt.step()
        apply_bn_updates(updates)
        losses.append(float(loss))
        if DUMP and step < DUMP_STEPS:
            dump[f"step{step + 1}"] = [p.detach().numpy().copy() for p in (dump_vars() if dump_vars else all_vars)]
            dump[f"grad{step + 1}"] = [p.grad.detach().numpy().copy() for p in params]
    if DUMP:
        import numpy as np
        flat = {f"{k}_{i}": a for k, arrs in dump.items() for i, a in enumerate(arrs)}
        np.savez(DUMP, **flat)
    return losses


def main():
    args = sys.argv[1:]
    variants = {}
    while "--variant" in args:
        i = args.index("--variant")
        k, v = args[i + 1].split("=", 1)
        variants[k] = v
        del args[i:i + 2]
    if len(args) != 3:
        raise SystemExit(__doc__)
    trace_path, data_dir, out_path = args
    with open(trace_path) as f:
        trace = json.load(f)
    st = trace["settings"]
    stage = trace["stage"]
    eps = float(variants.get("eps", st["adamEpsilon"]))
    lam = st["weightDecay"]
    batches = trace["batches"]
    warmup = min(int(variants.get("warmup", st.get("headWarmupSteps", 0))), len(batches) // 10)
    warmup_state = variants.get("warmup_state", "fresh")
    decay_all = variants.get("decay") == "all"
    tasks = st["tasks"].split(",")
    x, y = load_split(data_dir, st["task"], "train")
    tests = {t: load_split(data_dir, t, "test") for t in tasks}
    acc = {}

    def decayed(net, heads, params):
        return [p for p in params if p.dim() > 0] if decay_all else net.decayed(heads)

    if stage in ("source", "finetune", "lwf", "ewc"):
        net = Net(trace["nets"]["net"])
        hi = net.head_index(st["task"])
        new = net.heads[hi]
        old = [i for i in range(len(net.heads)) if i != hi]
        if stage == "source":
            params = net.trunk_trainable() + [new["kernel"], new["bias"]]
        elif stage == "lwf":
            params = net.trunk_trainable() + [p for h in net.heads for p in (h["kernel"], h["bias"])]
        else:
            params = net.trunk_trainable() + [new["kernel"], new["bias"]]
        if decay_all:  # an outside-style optimizer: every parameter, old heads too
            params = params + [p for i in old for p in (net.heads[i]["kernel"], net.heads[i]["bias"]) if p not in params]
        dec = decayed(net, net.heads if stage == "lwf" else [new], params)
        recorded = [record(lambda b, i=i: head(net.heads[i], plain_features(net, b, False, [])), x) for i in old] if stage == "lwf" else []
        if stage == "ewc":
            ewc_params = (net.trunk_trainable() + [p for i in old for p in (net.heads[i]["kernel"], net.heads[i]["bias"])])
            fisher = [tensor(t, False) for t in trace["extra"]["fisher"]]
            anchors = [tensor(t, False) for t in trace["extra"]["anchors"]]
            ewc_params = ewc_params[:len(fisher)]

        def loss_fn(bx, by, ix, updates, phase):
            training = phase == "main"
            f = plain_features(net, bx, training, updates)
            terms = [cross_entropy(head(new, f), by)]
            if stage == "lwf":
                terms += [distillation(recorded[k][ix], head(net.heads[i], f)) * st["lambdaOld"] for k, i in enumerate(old)]
            if stage == "ewc":
                terms.append(sum((fi * (p - a) ** 2).sum() for p, a, fi in zip(ewc_params, anchors, fisher)) * (st["lambdaEwc"] / 2))
            terms.append(weight_decay(dec, lam))
            return sum(terms)

        losses = train_loop(batches, x, y, [{"params": params, "lr": st["learningRate"]}], loss_fn, eps,
                            warmup if stage != "source" else 0, [new["kernel"], new["bias"]], warmup_state, net.state)
        for i, h in enumerate(net.heads):
            tx, ty = tests[h["taskId"]]
            acc[h["taskId"]] = accuracy(lambda b, h=h: head(h, plain_features(net, b, False, [])), tx, ty)
    elif stage == "combine":
        src, tgt = Net(trace["nets"]["source"]), Net(trace["nets"]["target"])
        for p in src.trunk_trainable() + [q for h in src.heads for q in (h["kernel"], h["bias"])]:
            p.requires_grad_(False)
        alpha_s = {uid: torch.full([src.units[uid]["spec"]["outChannels"]], st["alphaSourceInit"], requires_grad=True) for uid in src.order}
        alpha_t = {uid: torch.full([src.units[uid]["spec"]["outChannels"]], st["alphaTargetInit"], requires_grad=True) for uid in src.order}
        new = tgt.heads[-1]
        teach_s = [record(lambda b, h=h: head(h, plain_features(src, b, False, [])), x) for h in src.heads]
        teach_t = record(lambda b: head(new, plain_features(tgt, b, False, [])), x)
        alphas = list(alpha_s.values()) + list(alpha_t.values())
        params = tgt.trunk_trainable() + [new["kernel"], new["bias"]]
        dec = tgt.decayed([new])

        def forward(bx, updates):
            def unit(uid, h):
                us, ut = src.units[uid], tgt.units[uid]
                zs, zt = linear(us, h), linear(ut, h)
                if "gamma" in us:
                    zs = batch_norm(us, zs, False, updates)
                    zt = batch_norm(ut, zt, False, updates)  # targetBatchNorm 'inference'
                return (1 + alpha_s[uid]) * zs + alpha_t[uid] * zt
            f = run_topology(src.topology, bx, unit)
            return [head(h, f) for h in src.heads] + [head(new, f)]

        def loss_fn(bx, by, ix, updates, phase):
            logits = forward(bx, updates)
            kd = [distillation(teach_s[h][ix], logits[h]) for h in range(len(src.heads))]
            kd.append(distillation(teach_t[ix], logits[-1]))
            return sum(kd) + st["lambda"] * sum(a.abs().sum() for a in alphas) + weight_decay(dec, lam)

        losses = train_loop(batches, x, y, [{"params": alphas, "lr": st["alphaLearningRate"]}, {"params": params, "lr": st["learningRate"]}], loss_fn, eps)
        for i, h in enumerate(src.heads + [new]):
            tx, ty = tests[h["taskId"]]
            acc[h["taskId"]] = accuracy(lambda b, i=i: forward(b, [])[i], tx, ty)
    else:
        raise SystemExit(f"unknown stage {stage}")
    with open(out_path, "w") as f:
        json.dump({"losses": losses, "acc": acc, "warmupSteps": warmup if stage != "source" else 0}, f)


if __name__ == "__main__":
    main()
