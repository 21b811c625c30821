#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The real LoRA adapter of scripts/models/digits_lora.py through lowbit
compile (x86) in both --lora-mode settings, against ONNX Runtime running
the unmerged ONNX graph (float, graph optimizations off) on the 5,000
held-out MNIST-8x8 images. Prints one line per row and exits 1 when a
stated tolerance or accuracy floor is missed.

  lora_check.py --lowbit lowbit --shared ../shared
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                         p.stderr.strip()))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lowbit", default="lowbit")
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    args = ap.parse_args()
    folder = run([sys.executable, os.path.join(REPO, "scripts", "models",
                                               "digits_lora.py"),
                  "--shared", args.shared]).strip().splitlines()[-1]
    model = os.path.join(folder, "digits_lora.onnx")
    ev = np.load(os.path.join(folder, "mnist8_eval.npz"))
    stats = json.load(open(os.path.join(folder, "train.json")))
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"image": ev["image"]})[0]
    top1 = lambda y: 100.0 * float((y.argmax(1) == ev["label"]).mean())
    print("base CNN on MNIST-8x8: top-1 %.2f %%; with the LoRA adapter "
          "(ONNX Runtime, unmerged): %.2f %%" % (stats["base_eval_top1"],
                                               top1(ref)))
    work = tempfile.mkdtemp(prefix="lowbit-lora-")
    np.save(os.path.join(work, "image.npy"), ev["image"])
    n = len(ev["label"])
    calib = os.path.join(folder, "mnist8_train.npz")
    # (label, flags, max relative difference to ORT, max top-1 drop)
    rows = [("merge f32", ["--lora-mode", "merge"], 1e-5, None),
            ("branch f32", ["--lora-mode", "branch"], 1e-5, None),
            # Re-quantizing the merged weight: the adapter's delta is ~50x
            # the base weights, so per-channel int8 steps swallow the base.
            ("merge int8", ["--weights", "int8"], None, None),
            # SVDQuant's order takes the adapter's singular part back out.
            ("merge int8+svdq r4", ["--weights", "int8", "--lowrank", "4",
                                    "--lowrank-method", "svdquant"],
             None, 1.0),
            ("branch int8 base", ["--lora-mode", "branch", "--weights",
                                  "int8"], None, 1.0),
            ("branch int4 base", ["--lora-mode", "branch", "--weights",
                                  "int4"], None, 8.0)]
    # The same adapter from its PEFT files onto the base model.
    base = os.path.join(REPO, "examples", "digits", "digits_cnn.onnx")
    rows += [("--lora merge f32", ["--lora", "mnist=" + folder], 1e-5, None),
             ("--lora branch f32", ["--lora", os.path.join(
                 folder, "adapter_model.safetensors"), "--lora-mode",
                 "branch"], 1e-5, None)]
    ok = True
    for label, flags, tol, drop in rows:
        out = os.path.join(work, label.replace(" ", "_").replace("-", ""))
        src = base if "--lora" in flags else model
        run([args.lowbit, "compile", src, "-o", out, "--input-shape",
             "image=%dx1x8x8" % n, *flags])
        d = out + ".out"
        run([args.lowbit, "run", out, "-i",
             "image=" + os.path.join(work, "image.npy"), "-d", d])
        y = np.load(os.path.join(d, "logits.npy"))
        err = float(np.abs(y - ref).max() / np.abs(ref).max())
        acc = top1(y)
        good = (tol is None or err <= tol) and (drop is None or
                                                acc >= top1(ref) - drop)
        ok &= good
        print("%s %-18s max |diff| / max |ref| %.2e  top-1 %.2f %%" % (
            "ok  " if good else "FAIL", label, err, acc))
    print("all LoRA checks passed" if ok else "LoRA checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
