#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Low-rank compensation of quantization error on all-MiniLM-L6-v2: int3
and int4 weights (per channel, g128) with a rank-R branch chosen by plain
SVD, EoRA (weighted by the calibration inputs) or SVDQuant's order, and the
integer program over (format, rank) candidates, at equal bytes against the
uniform formats. Every number is measured on compiled x86 code (`lowbit
compile`, then `lowbit run`): mean cosine similarity of the sentence
embeddings to the float model's on 32 held-out sentences; bits/w is the
average storage bits per layer weight, scales and branches included.

  python3 benchmarks/lowrank_accuracy.py --lowbit build/bin/lowbit [--quick]

About 25 minutes on 2 cores (EoRA and the ILP rows run the calibration set
through the interpreter); --quick keeps the rows of the issue's goal.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scripts"))
import quant_common as qc  # noqa: E402


def rows(calib, quick):
    c = ["--calib", calib]
    out = [("int4 per channel", ["--weights", "int4"]),
           ("int3 per channel", ["--weights", "int3"]),
           ("int3/g128", ["--weights", "int3/g128"])]
    for method in ("svd", "svdquant", "eora"):
        for rank in ((16,) if quick else (8, 16, 32)):
            out.append(("int3 + r%d %s" % (rank, method),
                        ["--weights", "int3", "--lowrank", str(rank),
                         "--lowrank-method", method] +
                        (c if method == "eora" else [])))
    out += [("int3/g128 + r16 eora", ["--weights", "int3/g128", "--lowrank",
                                       "16", "--lowrank-method", "eora"] + c),
            ("ILP 4.06 b: int3,int4,int8", ["--budget-bits", "4.06",
                                            "--formats", "int3,int4,int8"] + c),
            ("ILP 4.06 b: +int3+r16", ["--budget-bits", "4.06", "--formats",
                                       "int3+r16,int3,int4,int8"] + c)]
    if not quick:
        out += [("int4 gptq", ["--weights", "int4", "--rounding", "gptq"] + c),
                ("int3 gptq + r16 eora", ["--weights", "int3", "--rounding",
                                          "gptq", "--lowrank", "16",
                                          "--lowrank-method", "eora"] + c),
                ("ILP 3.7 b: int3,int4,int8", ["--budget-bits", "3.7",
                                               "--formats", "int3,int4,int8"]
                 + c),
                ("ILP 3.7 b: +int3+r16", ["--budget-bits", "3.7", "--formats",
                                          "int3+r16,int3,int4,int8"] + c)]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lowbit", default="lowbit")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    m = qc.minilm_model()
    if m is None:
        return 1
    lb = qc.Lowbit(args.lowbit)
    f32, _ = lb.compile(m, [])
    ref = lb.run(f32, m)
    print("== %s, x86, mean cos to float ==" % m.name)
    print("%-30s %8s %10s %8s  %s" % ("weights", "bits/w", "layer MB", "cos",
                                      "compile+run"))
    for label, flags in rows(m.calib, args.quick):
        t = time.time()
        folder, rep = lb.compile(m, flags, report=True)
        y = lb.run(folder, m)
        print("%-30s %8.3f %10.3f %8.4f  %.0f s" % (
            label, rep["average_weight_bits"],
            rep["layer_weight_bytes"] / 1e6, qc.score(m, y, ref),
            time.time() - t), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
