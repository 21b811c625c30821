#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""lowbit's x86 code beside ONNX Runtime on the same CPU, models and inputs,
in one run: per model and thread count, the median latency of each and the
ratio lowbit / ORT (below 1.0: lowbit is faster).

  python3 benchmarks/bench_vs_ort.py --lowbit build/bin/lowbit \\
      --shared ../shared --threads 1 2 --iters 50

ONNX Runtime runs with all graph optimizations, intra_op_num_threads = T and
one inter-op thread; lowbit with `lowbit bench --threads T` (and --cpu
FAMILY: the kernel family, e.g. avx2 on an AVX-512 machine). Both get the
same real inputs (the models' test data; MiniLM: 32 real sentences). The
int8 rows are the shared KWS QDQ model and the MLPerf Tiny int8 models
converted by scripts/models/tflite_qdq.py (pip `tflite`); ORT's optimized
int8 kernels are not exact on AVX2, lowbit's are (docs/x86-target.md).
--only SUBSTRING keeps the rows whose name contains it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))


def ort_median(model, feeds, threads, iters, warmup):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    for _ in range(warmup):
        sess.run(None, feeds)
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, feeds)
        times.append((time.perf_counter() - t) * 1000.0)
    return float(np.median(times))


def lowbit_median(lowbit, model, feeds, threads, iters, warmup, work, cpu="native"):
    out = os.path.join(work, os.path.basename(model) + "-" + "-".join(
        "x".join(map(str, a.shape)) for a in feeds.values()))
    if not os.path.isdir(out):
        cmd = [lowbit, "compile", model, "-o", out]
        for n, a in feeds.items():
            cmd += ["--input-shape", "%s=%s" % (n, "x".join(map(str, a.shape)))]
        subprocess.run(cmd, check=True, capture_output=True)
    cmd = [lowbit, "bench", out, "--threads", str(threads), "--iters", str(iters),
           "--warmup", str(warmup), "--json", "--cpu", cpu]
    for n, a in feeds.items():
        path = os.path.join(work, "in_%s.npy" % n)
        np.save(path, a)
        cmd += ["--input", "%s=%s" % (n, path)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])["median_ms"]


def tiny_int8_cases(shared):
    """MLPerf Tiny int8 .tflite -> ONNX QDQ (NHWC inputs), if pip tflite."""
    script = os.path.join(HERE, "..", "scripts", "models", "tflite_qdq.py")
    rng = np.random.default_rng(0)
    out = []
    for name, stem, shape in [("ResNet-8 int8 QDQ, batch 1", "pretrainedResnet_quant", (1, 32, 32, 3)),
                              ("MobileNetV1-0.25 VWW int8 QDQ, batch 1", "vww_96_int8", (1, 96, 96, 3)),
                              ("FC autoencoder int8 QDQ, batch 1", "ad01_int8", (1, 640))]:
        src = os.path.join(shared, "models", "mlperf-tiny", stem + ".tflite")
        res = subprocess.run([sys.executable, script, src], capture_output=True, text=True)
        if res.returncode != 0:
            print("skipping %s: %s" % (name, res.stderr.strip()[-200:]), file=sys.stderr)
            continue
        x = rng.uniform(0, 255 if "ResNet" in name else 1, shape).astype(np.float32)
        out.append((name, res.stdout.strip().splitlines()[-1], {"input": x}))
    return out


def cases(shared):
    out = []
    if shared:
        m, d = os.path.join(shared, "models"), os.path.join(shared, "data")
        digits = np.load(os.path.join(d, "digits_test.npz"))["image"].astype(np.float32)
        out.append(("digits CNN, batch 540", os.path.join(m, "digits_cnn.onnx"),
                    {"image": digits}))
        out.append(("digits CNN, batch 1", os.path.join(m, "digits_cnn.onnx"),
                    {"image": digits[:1]}))
        mnist = np.load(os.path.join(d, "mnist_test.npz"))["image"][:1].astype(np.float32)
        out.append(("mnist-8, batch 1", os.path.join(m, "mnist-8.onnx"),
                    {"Input3": mnist.reshape(1, 1, 28, 28)}))
        kws = np.load(os.path.join(d, "kws01_test.npz"))["features"][:1].astype(np.float32)
        out.append(("KWS DS-CNN int8 QDQ, batch 1",
                    os.path.join(m, "mlperf-tiny-onnx", "kws_dscnn_int8_qdq.onnx"),
                    {"input": kws}))
        out += tiny_int8_cases(shared)
        rng = np.random.default_rng(0)
        out.append(("ResNet-8 CIFAR-10, batch 1",
                    os.path.join(m, "mlperf-tiny-onnx", "resnet8_cifar10_float.onnx"),
                    {"input_1": rng.integers(0, 256, (1, 3, 32, 32)).astype(np.float32)}))
    try:
        res = subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts",
                                                           "models", "minilm.py")],
                             check=True, capture_output=True, text=True)
        mdir = res.stdout.strip().splitlines()[-1]
        data = np.load(os.path.join(mdir, "sentences.npz"))
        out.append(("all-MiniLM-L6-v2, 32 x 64 tokens", os.path.join(mdir, "minilm.onnx"),
                    {k: data[k] for k in data.files}))
    except (subprocess.CalledProcessError, OSError) as e:
        print("skipping MiniLM: %s" % e, file=sys.stderr)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lowbit", default="build/bin/lowbit")
    ap.add_argument("--shared", default=None)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--json", help="also write the table here")
    ap.add_argument("--only", help="keep the models whose name contains this")
    ap.add_argument("--cpu", default="native",
                    help="lowbit's kernel family: native, avx512, avx2, reference")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, model, feeds in cases(args.shared):
            if args.only and args.only not in name:
                continue
            # ONNX Runtime wants the model's own input names.
            sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
            names = [i.name for i in sess.get_inputs()]
            if len(names) == len(feeds) and set(names) != set(feeds):
                feeds = dict(zip(names, feeds.values()))
            for t in args.threads:
                o = ort_median(model, feeds, t, args.iters, args.warmup)
                l = lowbit_median(args.lowbit, model, feeds, t, args.iters,
                                  args.warmup, work, args.cpu)
                rows.append({"model": name, "threads": t, "ort_ms": o,
                             "lowbit_ms": l, "ratio": l / o})
                print("%-36s %d thread%s  ORT %9.3f ms  lowbit %9.3f ms  "
                      "lowbit/ORT %.2f" % (name, t, "" if t == 1 else "s", o, l,
                                           l / o), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
