#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Runs real models through `lowbit run` and ONNX Runtime on the same real
inputs and reports, per model, the worst relative L2 difference of the
outputs (||lowbit - ort|| / ||ort||) and, where labels exist, the accuracy
of both. Fails when a difference exceeds --tol (default 1e-4) or the two
accuracies differ.

  python3 scripts/compare_ort.py --lowbit build/bin/lowbit --shared ../shared
  python3 scripts/compare_ort.py --model extra.onnx:input=x.npy   # any model
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


_COMPILED = {}
_WORK = tempfile.mkdtemp(prefix="lowbit-compare-")


def compiled_dir(lowbit, model, feeds):
    """Compiles `model` for the feeds' shapes once; returns the folder."""
    key = (model, tuple((n, a.shape) for n, a in sorted(feeds.items())))
    if key not in _COMPILED:
        out = os.path.join(_WORK, "m%d" % len(_COMPILED))
        cmd = [lowbit, "compile", model, "-o", out]
        for n, a in feeds.items():
            cmd += ["--input-shape", "%s=%s" % (n, "x".join(map(str, a.shape)))]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("lowbit compile failed (%d): %s" % (
                proc.returncode, proc.stderr.strip()))
        _COMPILED[key] = out
    return _COMPILED[key]


def lowbit_run(lowbit, model, feeds, extra=(), compiled=False):
    """Runs lowbit on {name: array}; returns {output name: array}."""
    target = compiled_dir(lowbit, model, feeds) if compiled else model
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [lowbit, "run", target, "-d", tmp, *extra]
        for name, arr in feeds.items():
            path = os.path.join(tmp, "in_%s.npy" % len(cmd))
            np.save(path, arr)
            cmd += ["--input", "%s=%s" % (name, path)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("lowbit failed (%d): %s" % (proc.returncode,
                                                           proc.stderr.strip()))
        names = [o.name for o in onnx.load(model, load_external_data=False).graph.output]
        return {n: np.load(os.path.join(tmp, sanitize(n) + ".npy")) for n in names}


def sanitize(name):
    import re
    out = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    return "_" + out if not out or out[0] in ".-" else out


def rel_l2(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


class Case:
    """One model with a list of input feeds (and optional labels)."""

    def __init__(self, name, model, feeds, labels=None, output=None):
        self.name, self.model, self.feeds, self.labels = name, model, feeds, labels
        self.output = output


def shared_cases(shared, samples):
    cases = []
    m = os.path.join(shared, "models")
    d = os.path.join(shared, "data")
    digits = np.load(os.path.join(d, "digits_test.npz"))
    # Dynamic batch: the whole test split in one run.
    cases.append(Case("digits_cnn (540 test digits, one batch)",
                      os.path.join(m, "digits_cnn.onnx"),
                      [{"image": digits["image"].astype(np.float32)}],
                      labels=[digits["label"]]))
    mnist = np.load(os.path.join(d, "mnist_test.npz"))
    imgs = mnist["image"][:samples].astype(np.float32)
    model = os.path.join(m, "mnist-8.onnx")
    in_name = onnx.load(model).graph.input[0].name
    cases.append(Case("mnist-8 (%d test digits)" % samples, model,
                      [{in_name: imgs[i].reshape(1, 1, 28, 28)} for i in range(samples)],
                      labels=[mnist["label"][i:i + 1] for i in range(samples)]))
    kws = np.load(os.path.join(d, "kws01_test.npz"))
    model = os.path.join(m, "mlperf-tiny-onnx", "kws_dscnn_int8_qdq.onnx")
    in_name = onnx.load(model).graph.input[0].name
    cases.append(Case("kws_dscnn_int8_qdq (%d speech commands)" % samples, model,
                      [{in_name: kws["features"][i:i + 1].astype(np.float32)}
                       for i in range(samples)],
                      labels=[kws["label"][i:i + 1] for i in range(samples)]))
    model = os.path.join(m, "mlperf-tiny-onnx", "resnet8_cifar10_float.onnx")
    in_name = onnx.load(model).graph.input[0].name
    rng = np.random.default_rng(0)
    cases.append(Case("resnet8_cifar10_float (8 random 0..255 images)", model,
                      [{in_name: rng.integers(0, 256, (1, 3, 32, 32)).astype(np.float32)}
                       for _ in range(8)]))
    return cases


def minilm_case():
    """all-MiniLM-L6-v2 on 32 real sentences (exported by scripts/models)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "minilm.py")
    out = subprocess.run([sys.executable, script], capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    data = np.load(os.path.join(out, "sentences.npz"))
    return Case("all-MiniLM-L6-v2 (32 sentences x 64 tokens)",
                os.path.join(out, "minilm.onnx"), [{k: data[k] for k in data.files}])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lowbit", default="build/bin/lowbit")
    ap.add_argument("--shared", help="the shared/ folder with real models and data")
    ap.add_argument("--model", action="append", default=[],
                    help="MODEL:NAME=FILE.npy[,NAME=FILE.npy] extra case")
    ap.add_argument("--minilm", action="store_true",
                    help="also export and compare all-MiniLM-L6-v2")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--compiled", action="store_true",
                    help="run the x86-compiled model instead of the interpreter")
    args = ap.parse_args()

    cases = []
    if args.shared:
        cases += shared_cases(args.shared, args.samples)
    if args.minilm:
        cases.append(minilm_case())
    for spec in args.model:
        model, _, feeds = spec.partition(":")
        feed = {}
        for item in feeds.split(","):
            n, _, p = item.partition("=")
            feed[n] = np.load(p)
        cases.append(Case(os.path.basename(model), model, [feed]))
    if not cases:
        print("nothing to compare: give --shared or --model")
        return 2

    failed = 0
    for case in cases:
        sess = ort.InferenceSession(case.model, providers=["CPUExecutionProvider"])
        worst = 0.0
        correct_ours = correct_ort = total = 0
        for i, feed in enumerate(case.feeds):
            ours = lowbit_run(args.lowbit, case.model, feed, compiled=args.compiled)
            ref = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feed)))
            for name, r in ref.items():
                worst = max(worst, rel_l2(ours[name], r))
            if case.labels is not None:
                first = sess.get_outputs()[0].name
                lab = case.labels[i]
                correct_ours += int((ours[first].argmax(-1).reshape(-1) == lab).sum())
                correct_ort += int((ref[first].argmax(-1).reshape(-1) == lab).sum())
                total += lab.size
        ok = worst <= args.tol and correct_ours == correct_ort
        failed += not ok
        acc = ""
        if total:
            acc = "  accuracy lowbit %.2f%% ort %.2f%%" % (100.0 * correct_ours / total,
                                                         100.0 * correct_ort / total)
        print("%-4s %-48s max rel L2 %.2e%s" % ("ok" if ok else "FAIL",
              case.name + (" [x86]" if args.compiled else ""), worst, acc))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
