#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Cost of a low-rank branch fused into lowbit's x86 quantized GEMM.

For each shape (M tokens x K -> N), one MatMul model is compiled by
`lowbit compile` with int4 weights (per channel) and again with
`--lowrank R` (int8 and f32 factors), and timed by `lowbit bench` in one
run, the runs interleaved (5 rounds, the best median of each kept, since
the machines are shared). The overhead is branch / no branch - 1; the
issue's goal is <= 10 % at rank 32 (Nunchaku fuses it; unfused it costs
~57 %). ONNX Runtime's f32 MatMul on the same shape is printed beside, as
the peer reference.

  python3 benchmarks/lowrank_overhead.py --lowbit build/bin/lowbit
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SHAPES = [(1, 4096, 4096), (16, 4096, 4096), (64, 1024, 4096),
          (256, 1024, 1024)]


def model(path, m, k, n):
    w = (np.random.RandomState(0).randn(k, n) * 0.02).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")], "fc",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [m, n])],
        [numpy_helper.from_array(w, "w")])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]),
              path)


def bench(lb, folder, iters):
    out = subprocess.run([lb, "bench", folder, "--iters", str(iters),
                          "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)["median_ms"]


def ort_ms(path, m, k, iters):
    import onnxruntime as ort
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.random.RandomState(1).randn(m, k).astype(np.float32)
    for _ in range(10):
        s.run(None, {"x": x})
    t = []
    for _ in range(iters):
        t0 = time.perf_counter()
        s.run(None, {"x": x})
        t.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(t))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbit", default="lowbit")
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="lowbit-lowrank-")
    print("rank %d, int4 weights per channel; best median of %d rounds of %d "
          "runs (lowbit bench), 2 threads" % (args.rank, args.rounds,
                                              args.iters))
    print("%-18s %10s %14s %14s %8s %8s %10s" % (
        "M x K -> N", "int4 ms", "+branch int8", "+branch f32", "ovh i8",
        "ovh f32", "ORT f32"))
    for m, k, n in SHAPES:
        path = os.path.join(work, "fc_%d_%d_%d.onnx" % (m, k, n))
        model(path, m, k, n)
        variants = {"base": [], "i8": ["--lowrank", str(args.rank),
                                       "--lowrank-bits", "8"],
                    "f32": ["--lowrank", str(args.rank), "--lowrank-bits",
                            "32"]}
        folders = {}
        for name, flags in variants.items():
            folders[name] = path[:-5] + "_" + name
            subprocess.run([args.lowbit, "compile", path, "-o",
                            folders[name], "--weights", "int4", *flags],
                           capture_output=True, check=True)
        best = {name: float("inf") for name in variants}
        for _ in range(args.rounds):
            for name in variants:
                best[name] = min(best[name],
                                 bench(args.lowbit, folders[name], args.iters))
        peer = ort_ms(path, m, k, args.iters)
        print("%-18s %10.3f %14.3f %14.3f %7.1f%% %7.1f%% %10.3f" % (
            "%d x %d -> %d" % (m, k, n), best["base"], best["i8"], best["f32"],
            100 * (best["i8"] / best["base"] - 1),
            100 * (best["f32"] / best["base"] - 1), peer), flush=True)


if __name__ == "__main__":
    main()
