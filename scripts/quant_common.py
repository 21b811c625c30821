# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Shared pieces of the quantization scripts (validate_sensitivity.py,
benchmarks/quant_accuracy.py): the real models with their calibration and
evaluation data, a `lowbit` runner, and the end-to-end metrics."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class Model:
    """A real model: calibration inputs, held-out evaluation inputs, and how
    to score outputs (`metric(outputs, float_outputs, labels)`)."""

    def __init__(self, name, path, calib, evaluate, labels, output, kind,
                 batch):
        self.name, self.path, self.calib = name, path, calib
        self.evaluate, self.labels, self.output = evaluate, labels, output
        self.kind, self.batch = kind, batch  # "classifier" | "embedding"


def digits_model(shared):
    test = os.path.join(shared, "data", "digits_test.npz")
    if not os.path.exists(test):
        return None
    d = np.load(test)
    return Model("digits CNN (sklearn digits, 540 test images)",
                 os.path.join(REPO, "examples", "digits", "digits_cnn.onnx"),
                 os.path.join(REPO, "examples", "digits", "digits_calib.npz"),
                 {"image": d["image"]}, d["label"], "logits", "classifier", 20)


def minilm_model():
    try:
        out = subprocess.run([sys.executable,
                              os.path.join(HERE, "models", "minilm.py")],
                             capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as e:
        print("skipping all-MiniLM-L6-v2: " + e.stderr.strip().splitlines()[-1])
        return None
    folder = out.stdout.strip().splitlines()[-1]
    d = np.load(os.path.join(folder, "sentences.npz"))
    return Model("all-MiniLM-L6-v2 (32 sentences x 64 tokens)",
                 os.path.join(folder, "minilm.onnx"),
                 os.path.join(folder, "calib.npz"),
                 {k: d[k] for k in d.files}, None, "sentence_embedding",
                 "embedding", 32)


def sanitize(name):
    return "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)


class Lowbit:
    def __init__(self, exe):
        self.exe = exe
        self.work = tempfile.mkdtemp(prefix="lowbit-quant-")
        self.count = 0

    def _tmp(self, stem):
        self.count += 1
        return os.path.join(self.work, "%s%d" % (stem, self.count))

    def call(self, args):
        proc = subprocess.run([self.exe, *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError("lowbit %s failed (%d):\n%s" % (
                " ".join(args), proc.returncode, proc.stderr.strip()))
        return proc

    def shapes(self, model):
        return sum((["--input-shape", "%s=%s" % (
            n, "x".join(str(d) for d in (model.batch,) + a.shape[1:]))]
            for n, a in model.evaluate.items()), [])

    def compile(self, model, flags, report=False):
        """Compiles for x86 at the model's batch; returns (folder, report)."""
        out = self._tmp("m")
        rep = out + ".json" if report else None
        self.call(["compile", model.path, "-o", out, *self.shapes(model),
                   *flags, *(["--report", rep] if rep else [])])
        return out, (json.load(open(rep)) if rep else None)

    def run(self, target, model, flags=()):
        """Runs a compiled folder or a model file on the evaluation inputs."""
        d = self._tmp("r")
        os.makedirs(d)
        cmd = ["run", target, "-d", d, *flags]
        for n, a in model.evaluate.items():
            p = os.path.join(d, "in_%s.npy" % sanitize(n))
            np.save(p, a)
            cmd += ["--input", "%s=%s" % (n, p)]
        self.call(cmd)
        return np.load(os.path.join(d, sanitize(model.output) + ".npy"))

    def package_bytes(self, folder):
        return sum(os.path.getsize(os.path.join(folder, f))
                   for f in os.listdir(folder) if f.endswith(".lbpkg"))


def score(model, out, ref):
    """Task metric: top-1 accuracy (%) or mean cosine similarity to float."""
    if model.kind == "classifier":
        return 100.0 * float((out.argmax(1) == model.labels).mean())
    cos = (out * ref).sum(1) / (np.linalg.norm(out, axis=1) *
                                np.linalg.norm(ref, axis=1))
    return float(cos.mean())


def distortion(out, ref):
    """The loss lowbit's sensitivity predicts: ||out - ref||^2 / ||ref||^2."""
    return float(((out - ref) ** 2).sum() / (ref ** 2).sum())


def spearman(a, b):
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(x):
        x = np.asarray(x, float)
        order = x.argsort()
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        for v in np.unique(x):
            r[x == v] = r[x == v].mean()
        return r
    ra, rb = ranks(a), ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    return float((ra * rb).sum() / np.sqrt((ra ** 2).sum() * (rb ** 2).sum()))
