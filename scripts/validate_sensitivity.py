#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Checks lowbit's per-layer sensitivity against reality. For each real
model and format: one `lowbit run --weights FMT --calib ... --report`
gives the predicted loss of quantizing each layer alone; then each layer is
quantized alone (`--keep LAYER=FMT --keep '.*=f32'`) and the model is run
on held-out data (not the calibration set) to measure the real end-to-end
degradation: the output distortion ||y - y_float||^2 / ||y_float||^2 and
the task metric (top-1 or cosine similarity). Prints Spearman's rank
correlation between predicted and measured degradation; fails below --min.

  python3 scripts/validate_sensitivity.py --lowbit build/bin/lowbit --shared ../shared
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_common as qc  # noqa: E402


def validate(lb, model, fmt):
    ref = lb.run(model.path, model)
    rep = os.path.join(lb.work, "sens_%s.json" % qc.sanitize(fmt))
    lb.call(["run", model.path, "--weights", fmt, "--calib", model.calib,
             "--report", rep, *sum((["--input", "%s=%s" % (n, p)] for n, p in
                                     save_inputs(lb, model)), [])])
    import json
    layers = json.load(open(rep))["layers"]
    predicted, measured, metric = [], [], []
    for l in layers:
        out = lb.run(model.path, model,
                     ["--keep", "%s=%s" % (l["name"], fmt), "--keep", ".*=f32"])
        predicted.append(l["sensitivity"])
        measured.append(qc.distortion(out, ref))
        metric.append(qc.score(model, out, ref))
        print("  %-28s predicted %.3e  measured %.3e  %s %.4f" % (
            l["name"][-28:], predicted[-1], measured[-1],
            "top-1" if model.kind == "classifier" else "cos", metric[-1]))
    rho = qc.spearman(predicted, measured)
    base = qc.score(model, ref, ref)
    drop = [base - m for m in metric]
    rho_metric = qc.spearman(predicted, drop)
    return rho, rho_metric, len(layers)


def save_inputs(lb, model):
    out = []
    for n, a in model.evaluate.items():
        p = os.path.join(lb.work, "eval_%s.npy" % qc.sanitize(n))
        np.save(p, a)
        out.append((n, p))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lowbit", default=os.path.join(qc.REPO, "build", "bin", "lowbit"))
    ap.add_argument("--shared", default=os.path.join(qc.REPO, "..", "shared"))
    ap.add_argument("--formats", default="int4,int3",
                    help="formats to validate, comma-separated")
    ap.add_argument("--no-minilm", action="store_true")
    ap.add_argument("--min", type=float, default=0.6,
                    help="fail when a Spearman correlation is below this")
    args = ap.parse_args()
    lb = qc.Lowbit(args.lowbit)
    models = [qc.digits_model(args.shared)]
    if not args.no_minilm:
        models.append(qc.minilm_model())
    rows, ok = [], True
    for m in models:
        if m is None:
            continue
        for fmt in args.formats.split(","):
            print("%s, %s:" % (m.name, fmt))
            rho, rho_metric, n = validate(lb, m, fmt)
            rows.append((m.name, fmt, n, rho, rho_metric))
            ok &= rho >= args.min
    print("\nSpearman correlation of predicted vs measured per-layer "
          "degradation (held-out data):")
    print("%-46s %-6s %6s %12s %12s" % ("model", "format", "layers",
                                        "distortion", "task metric"))
    for name, fmt, n, rho, rm in rows:
        print("%-46s %-6s %6d %12.3f %12.3f" % (name, fmt, n, rho, rm))
    if not ok:
        print("FAIL: a correlation is below %.2f" % args.min)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
