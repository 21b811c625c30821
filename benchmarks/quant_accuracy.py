#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""The quantization accuracy table: lowbit's compiled x86 models (uniform
formats and the integer-program mixed precision) beside ONNX Runtime's own
quantizers (quantize_static int8 QDQ, MatMulNBits 4-bit) on the same real
models, calibration data and held-out evaluation data.

Every lowbit number is measured on compiled code (`lowbit compile` then
`lowbit run` of the package), never only in simulation. Metrics: top-1 on
the digits test split; for all-MiniLM-L6-v2 the mean cosine similarity of
the sentence embeddings to the float model's on 32 held-out sentences.
Sizes: lowbit's .lbpkg, ONNX Runtime's .onnx file. "bits/w" is the
average storage bits per weight of the quantizable layers, scales included.

It also checks the targets (exit 1 if one fails): digits int8 within 0.5
points of float, mixed 4.5 bits within 1.5 points; MiniLM mixed 4.5 bits
>= 0.97; and at equal size, the mixed assignment at least as good as the
uniform one; W8A8 within 0.5 points (digits) and cos >= 0.99 (MiniLM).

  python3 benchmarks/quant_accuracy.py --lowbit build/bin/lowbit --shared ../shared

ONNX Runtime's MatMulNBits quantizer needs `pip install onnx-ir`; without
it that row says so. The MiniLM half takes about 20 minutes on 2 cores.
"""
import argparse
import copy
import os
import sys
import tempfile

import numpy as np

import logging
logging.getLogger().setLevel(logging.ERROR)  # ORT quantizer hints

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "scripts"))
import quant_common as qc  # noqa: E402


def ort_outputs(path, model):
    import onnxruntime as ort
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    out = sess.run([model.output if model.output in names else names[0]],
                   model.evaluate)
    return out[0]


class CalibReader:
    def __init__(self, calib, batch):
        d = np.load(calib)
        n = d[d.files[0]].shape[0]
        self.batches = [{k: d[k][i:i + batch] for k in d.files}
                        for i in range(0, n - batch + 1, batch)]

    def get_next(self):
        return self.batches.pop(0) if self.batches else None


def ort_rows(model, ref, work, lb):
    """ONNX Runtime's quantizers on the same model and calibration data."""
    rows = []
    try:
        from onnxruntime.quantization import (QuantFormat, QuantType,
                                              quantize_static)
        for per_channel in (False, True):
            out = os.path.join(work, "ort_static_%d.onnx" % per_channel)
            quantize_static(model.path, out, CalibReader(model.calib, 8),
                            quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8,
                            weight_type=QuantType.QInt8,
                            per_channel=per_channel)
            y = ort_outputs(out, model)
            rows.append(("ORT quantize_static W8A8 QDQ" +
                         (" per-channel" if per_channel else ""), None,
                         os.path.getsize(out), qc.score(model, y, ref)))
    except Exception as e:  # noqa: BLE001 - report, keep going
        rows.append(("ORT quantize_static: failed: %s" % str(e)[:60], None,
                     0, float("nan")))
    if model.kind == "embedding":
        try:  # ORT's recommended mode for transformers
            from onnxruntime.quantization import QuantType, quantize_dynamic
            out = os.path.join(work, "ort_dynamic.onnx")
            quantize_dynamic(model.path, out, weight_type=QuantType.QInt8)
            y = ort_outputs(out, model)
            rows.append(("ORT quantize_dynamic W8 + dynamic u8 act.", None,
                         os.path.getsize(out), qc.score(model, y, ref)))
        except Exception as e:  # noqa: BLE001
            rows.append(("ORT quantize_dynamic: failed: %s" % str(e)[:60],
                         None, 0, float("nan")))
        for sym in (True, False):
            kind = "symmetric" if sym else "zero points"
            try:
                import logging

                import onnx
                from onnxruntime.quantization.matmul_nbits_quantizer import \
                    MatMulNBitsQuantizer
                logging.getLogger("onnxruntime.quantization").setLevel(
                    logging.WARNING)
                q = MatMulNBitsQuantizer(onnx.load(model.path), block_size=32,
                                         is_symmetric=sym)
                q.process()
                out = os.path.join(work, "ort_nbits_%d.onnx" % sym)
                q.model.save_model_to_file(out)
                y = ort_outputs(out, model)
                rows.append(("ORT MatMulNBits W4 block 32, %s" % kind, None,
                             os.path.getsize(out), qc.score(model, y, ref)))
                # The same ORT-quantized file compiled by lowbit.
                m = copy.copy(model)
                m.path = out
                folder, _ = lb.compile(m, [])
                yl = lb.run(folder, m)
                rows.append(("  same file compiled by lowbit (max|d| %.1e)"
                             % float(np.abs(yl - y).max()), None,
                             lb.package_bytes(folder), qc.score(model, yl, ref)))
            except Exception as e:  # noqa: BLE001
                rows.append(("ORT MatMulNBits: failed: %s" % str(e)[:60], None,
                             0, float("nan")))
    return rows


def lowbit_row(lb, model, label, flags, ref):
    folder, rep = lb.compile(model, flags, report=True)
    y = lb.run(folder, model)
    return (label, rep["average_weight_bits"], lb.package_bytes(folder),
            qc.score(model, y, ref))


ALL_KINDS = ("ort", "uniform", "codebook", "w8a8", "gptq", "mixed", "equal",
             "embeddings")


def table(model, lb, work, uniform, budgets, kinds=ALL_KINDS, codebook=()):
    print("\n== %s ==" % model.name, flush=True)
    f32, _ = lb.compile(model, [])
    ref = lb.run(f32, model)
    ort_ref = ort_outputs(model.path, model)
    metric = "top-1 %" if model.kind == "classifier" else "mean cos"
    rows = [("float (lowbit compiled)", 32.0, lb.package_bytes(f32),
             qc.score(model, ref, ref)),
            ("float (ONNX Runtime)", None, os.path.getsize(model.path),
             qc.score(model, ort_ref, ref))]
    if "ort" in kinds:
        rows += ort_rows(model, ref, work, lb)
    uni = {}
    for fmt in uniform if ("uniform" in kinds or "equal" in kinds) else []:
        r = lowbit_row(lb, model, "lowbit uniform %s" % fmt,
                       ["--weights", fmt.split("/")[0]] +
                       (["--group-size", fmt.split("/g")[1]] if "/g" in fmt
                        else []), ref)
        uni[fmt] = r
        rows.append(r)
    # NF4 and the minifloats: uniform rows only (table-decoded on x86).
    for fmt in codebook if "codebook" in kinds else []:
        rows.append(lowbit_row(lb, model, "lowbit uniform %s" % fmt,
                               ["--weights", fmt.split("/")[0]] +
                               (["--group-size", fmt.split("/g")[1]]
                                if "/g" in fmt else []), ref))
    calib = ["--calib", model.calib]
    w8a8 = None
    if "w8a8" in kinds:
        w8a8 = lowbit_row(lb, model, "lowbit W8A8 (u8 activations, MSE ranges)",
                          calib + ["--activations", "int8"], ref)
        rows.append(w8a8)
        rows.append(lowbit_row(lb, model, "lowbit W8A8, SmoothQuant alpha 0.8",
                               calib + ["--activations", "int8", "--smooth",
                                        "0.8"], ref))
    if "gptq" in kinds:
        rows.append(lowbit_row(lb, model, "lowbit uniform int4, GPTQ rounding",
                               calib + ["--weights", "int4", "--rounding",
                                        "gptq"], ref))
    mixed = {}
    for b in budgets if "mixed" in kinds else []:
        r = lowbit_row(lb, model, "lowbit mixed ILP, budget %.2f bits" % b,
                       calib + ["--budget-bits", "%g" % b, "--formats",
                                ",".join(uniform) + ",f32"], ref)
        mixed[b] = r
        rows.append(r)
        if "gptq" in kinds:
            rows.append(lowbit_row(
                lb, model, "lowbit mixed ILP, %.2f bits, GPTQ" % b,
                calib + ["--budget-bits", "%g" % b, "--rounding", "gptq",
                         "--formats", ",".join(uniform) + ",f32"], ref))
    # Whole-model size: embedding tables quantized too (transformers).
    if "embeddings" in kinds and model.kind == "embedding":
        rows.append(lowbit_row(lb, model, "lowbit W8A8 + int8 embeddings",
                               calib + ["--activations", "int8",
                                        "--embeddings", "int8"], ref))
        rows.append(lowbit_row(
            lb, model, "lowbit mixed 4.5 bits, GPTQ + int4/g32 embeddings",
            calib + ["--budget-bits", "4.5", "--rounding", "gptq",
                     "--formats", ",".join(uniform) + ",f32",
                     "--embeddings", "int4/g32"], ref))
    # Equal size: the ILP given exactly the bits of each uniform choice.
    equal = []
    for fmt, u in uni.items() if "equal" in kinds else []:
        r = lowbit_row(lb, model, "lowbit mixed ILP at %s's size" % fmt,
                       calib + ["--budget-bits", "%.6f" % u[1], "--formats",
                                ",".join(uniform) + ",f32"], ref)
        equal.append((fmt, u, r))
    print("%-44s %7s %12s %10s" % ("configuration", "bits/w", "bytes", metric))
    for label, bits, size, m in rows:
        print("%-44s %7s %12d %10.4f" % (label, "-" if bits is None else
                                         "%.3f" % bits, size, m))
    if equal:
        print("equal size, uniform vs mixed (ILP):")
    for fmt, u, r in equal:
        print("  %-12s uniform %.4f at %.3f bits/w, mixed %.4f at %.3f bits/w"
              % (fmt, u[3], u[1], r[3], r[1]))
    return rows, uni, mixed, equal, w8a8


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lowbit", default=os.path.join(qc.REPO, "build", "bin", "lowbit"))
    ap.add_argument("--shared", default=os.path.join(qc.REPO, "..", "shared"))
    ap.add_argument("--no-minilm", action="store_true")
    ap.add_argument("--no-digits", action="store_true")
    ap.add_argument("--minilm-rows", default=",".join(ALL_KINDS),
                    help="which MiniLM rows to measure (comma-separated: %s)"
                    % ", ".join(ALL_KINDS))
    args = ap.parse_args()
    lb = qc.Lowbit(args.lowbit)
    work = tempfile.mkdtemp(prefix="lowbit-acc-")
    failures = []
    d = None if args.no_digits else qc.digits_model(args.shared)
    if d:
        rows, uni, mixed, equal, w8a8 = table(
            d, lb, work, ["int8", "int4"], [4.5],
            codebook=["nf4", "fp4_e2m1", "fp8_e4m3", "fp8_e5m2"])
        base = rows[0][3]
        if base - w8a8[3] > 0.5:
            failures.append("digits W8A8 %.2f vs float %.2f" % (w8a8[3], base))
        if base - uni["int8"][3] > 0.5:
            failures.append("digits int8 %.2f vs float %.2f" % (uni["int8"][3], base))
        if base - mixed[4.5][3] > 1.5:
            failures.append("digits mixed 4.5 bits %.2f vs float %.2f" % (mixed[4.5][3], base))
        failures += ["digits: mixed below uniform %s at equal size" % f
                     for f, u, r in equal if r[3] < u[3]]
    elif not args.no_digits:
        print("skipping the digits CNN: %s/data/digits_test.npz is missing" % args.shared)
    m = None if args.no_minilm else qc.minilm_model()
    if m:
        rows, uni, mixed, equal, w8a8 = table(
            m, lb, work, ["int8", "int4", "int4/g128", "int4/g32"], [4.5],
            args.minilm_rows.split(","),
            codebook=["nf4", "nf4/g32", "fp4_e2m1/g32", "fp8_e4m3"])
        if w8a8 and w8a8[3] < 0.99:
            failures.append("MiniLM W8A8 cos %.4f < 0.99" % w8a8[3])
        if 4.5 in mixed and mixed[4.5][3] < 0.97:
            failures.append("MiniLM mixed 4.5 bits cos %.4f < 0.97" % mixed[4.5][3])
        failures += ["MiniLM: mixed below uniform %s at equal size" % f
                     for f, u, r in equal if r[3] < u[3]]
    print("\nlowbit 'uniform' rows are weight-only (activations f32); the "
          "W8A8 rows quantize the inputs of every linear and convolution "
          "layer to u8.")
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("all accuracy targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
