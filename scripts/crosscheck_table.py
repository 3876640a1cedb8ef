#!/usr/bin/env python3
"""Prints the per-stage agreement table of docs/CROSSCHECK.md from a crosscheck's summary.json.

usage: python3 scripts/crosscheck_table.py OUT_DIR/summary.json [--onset]

One Markdown row per stage: the lab vs PyTorch float32 (trace order) over the compared steps, the
last step within rtol, the lab vs float64, the float32 replays' distances from float64 (smallest to
largest), the floor and what set it, the largest leave-one-out ratio, the lab vs torch.optim.Adam,
the accuracies (lab / float64 / range of the float32 replays) and the verdict.
--onset adds, per stage, when each float32 run (the lab and every replay) first leaves float64 by
more than 1e-4 and 1e-3 relative (from the per-step losses next to summary.json): is the lab's
departure from exact arithmetic earlier than float32's own?
"""
import json
import os
import sys

NAMES = {"source": "source", "finetune": "fine-tune", "combine": "combine (λ = 0.01)", "lwf": "LwF (λ_o = 1)", "ewc": "EWC (λ_ewc = 100)"}


def e(x):
    return f"{x:.2e}".replace("e-0", "e-").replace("e+00", "")


def first_over(a, b, tol):
    """1-based first step where |a - b| / |b| > tol, or '-' when none."""
    return next((str(i + 1) for i, (x, y) in enumerate(zip(a, b)) if abs(x - y) / max(1e-12, abs(y)) > tol), "-")


def onset(summary, out_dir):
    """Per stage: the step at which the lab and each float32 replay first leave float64 by 1e-4 and by 1e-3."""
    names = summary["rule"]["float32Replays"]
    print("| stage | float64 left by 1e-4 / 1e-3 at step: lab | " + " | ".join(names) + " |")
    print("| --- " * (len(names) + 2) + "|")
    for r in summary["results"]:
        def losses(suffix):
            with open(os.path.join(out_dir, f"{r['stage']}.{suffix}.json")) as f:
                return json.load(f)["losses"]
        f64 = losses("torch-float64")
        runs = [losses("lab")] + [losses("torch-float32" + ("" if n == "forward" else "-" + n.replace(":", ""))) for n in names]
        cells = [f"{first_over(x, f64, 1e-4)} / {first_over(x, f64, 1e-3)}" for x in runs]
        print(f"| {NAMES.get(r['stage'], r['stage'])} | " + " | ".join(cells) + " |")


def main():
    args = [a for a in sys.argv[1:] if a != "--onset"]
    if len(args) != 1:
        raise SystemExit(__doc__)
    with open(args[0]) as f:
        summary = json.load(f)
    rule = summary.get("rule", {})
    print(f"{summary['net']} (width {summary['width']}) on {summary['backend']}; float32 replays: {', '.join(rule.get('float32Replays', []))}")
    print("| stage | lab vs torch f32 | lab within 1e-4 up to step | lab vs f64 | float32 replays vs f64 (min – max) | floor s (set by) "
          "| leave-one-out, largest | lab vs `torch.optim.Adam` | accuracy lab / f64 / float32 replays (min – max) | verdict |")
    print("| --- " * 10 + "|")
    for r in summary["results"]:
        fl = r["floor"]
        ds = [x["d"] for x in fl["vsFloat64"]]
        loo = max(fl["leaveOneOut"], key=lambda x: x["ratio"]) if fl["leaveOneOut"] else None
        loo = f"{loo['ratio']:.2f} ({loo['name']})" if loo else "—"
        acc = ", ".join(f"{k} {a['lab']:.2f} / {a['float64']:.2f} / {min(a['replays']):.2f} – {max(a['replays']):.2f}" for k, a in r["acc"].items())
        within = "all" if r["firstOverRtol"] > r["steps"] else str(r["firstOverRtol"] - 1)
        verdict = r["verdict"] if r["verdict"] != "fail" else f"**fail** ({r['reason']})"
        print(f"| {NAMES.get(r['stage'], r['stage'])} | {e(r['maxRel'])} | {within} | {e(r['labVsFloat64'])} | {e(min(ds))} – {e(max(ds))} "
              f"| {e(fl['spread'])} ({fl['spreadFrom']}) | {loo} "
              f"| {e(r['labVsTorchAdam'])} | {acc} | {verdict} |")
    if "--onset" in sys.argv[1:]:
        print()
        onset(summary, os.path.dirname(args[0]) or ".")


if __name__ == "__main__":
    main()
