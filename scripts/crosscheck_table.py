#!/usr/bin/env python3
"""Prints the per-stage agreement table of docs/CROSSCHECK.md from a crosscheck's summary.json.

usage: python3 scripts/crosscheck_table.py OUT_DIR/summary.json

One Markdown row per stage: the lab vs PyTorch float32 (trace order) over the compared steps, the
last step within rtol, the lab vs float64, the float32 replays' distances from float64 (smallest to
largest), the floor and what set it, the largest leave-one-out ratio, the lab vs torch.optim.Adam,
the accuracies (lab / float64 / range of the float32 replays) and the verdict.
"""
import json
import sys

NAMES = {"source": "source", "finetune": "fine-tune", "combine": "combine (λ = 0.01)", "lwf": "LwF (λ_o = 1)", "ewc": "EWC (λ_ewc = 100)"}


def e(x):
    return f"{x:.2e}".replace("e-0", "e-").replace("e+00", "")


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    with open(sys.argv[1]) as f:
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


if __name__ == "__main__":
    main()
