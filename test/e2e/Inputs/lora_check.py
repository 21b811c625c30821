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
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                         p.stderr.strip()))
    return p.stdout


def ort_run(path, images):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, {"image": images})[0]


def write_half_adapter(src, dst):
    """The adapter of `src` with every lora_B halved, in PEFT's layout."""
    raw = open(os.path.join(src, "adapter_model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    for key, e in header.items():
        if key.endswith("lora_B.weight"):
            b, end = e["data_offsets"]
            half = np.frombuffer(bytes(data[b:end]), np.float32) / 2
            data[b:end] = half.tobytes()
    with open(os.path.join(dst, "adapter_model.safetensors"), "wb") as f:
        f.write(raw[:8 + n] + bytes(data))
    with open(os.path.join(src, "adapter_config.json")) as f:
        config = f.read()
    with open(os.path.join(dst, "adapter_config.json"), "w") as f:
        f.write(config)


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
    # Every kernel family this CPU can run gives the same logits for the
    # quantized rows (int4/int8 decoders, the fused low-rank GEMM).
    families = ["reference", "avx2"]
    if "avx512f" in open("/proc/cpuinfo").read():
        families.append("avx512")
    quantized = [r for r in rows if r[0] in ("merge int8+svdq r4",
                                            "branch int4 base")]
    rows_by_cpu = [(label + " --cpu " + cpu, flags, None, drop, cpu)
                   for label, flags, _, drop in quantized for cpu in families]
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
        for cpu_label, _, _, _, cpu in (r for r in rows_by_cpu
                                        if r[1] is flags):
            dc = out + "." + cpu
            run([args.lowbit, "run", out, "-i",
                 "image=" + os.path.join(work, "image.npy"), "-d", dc,
                 "--cpu", cpu])
            yc = np.load(os.path.join(dc, "logits.npy"))
            diff = float(np.abs(yc - y).max() / np.abs(y).max())
            good = diff <= 1e-5
            ok &= good
            print("%s %-28s max |diff| / max |native| %.2e" % (
                "ok  " if good else "FAIL", cpu_label, diff))
    # Two switchable adapters in one package (--lora-mode branch): the
    # trained one and a half-strength copy (B / 2, written here), selected
    # at run time; each equals ONNX Runtime on its own unmerged graph.
    half = os.path.join(work, "half")
    os.makedirs(half)
    write_half_adapter(folder, half)
    half_model = os.path.join(work, "half.onnx")
    m = onnx.load(model)
    for init in m.graph.initializer:
        if init.name == "lora_scaling":
            init.CopyFrom(numpy_helper.from_array(
                numpy_helper.to_array(init) / 2, init.name))
    onnx.save(m, half_model)
    refs = {"mnist": ref,
            "half": ort_run(half_model, ev["image"]),
            None: ort_run(base, ev["image"])}
    out = os.path.join(work, "switch")
    run([args.lowbit, "compile", base, "-o", out, "--input-shape",
         "image=%dx1x8x8" % n, "--lora", "mnist=" + folder, "--lora",
         "half=" + half, "--lora-mode", "branch"])
    for name, flags in (("mnist", ["--adapter", "mnist"]),
                        ("half", ["--adapter", "half"]), (None, ["--base"])):
        d = out + "." + str(name)
        run([args.lowbit, "run", out, "-i",
             "image=" + os.path.join(work, "image.npy"), "-d", d, *flags])
        y = np.load(os.path.join(d, "logits.npy"))
        r = refs[name]
        err = float(np.abs(y - r).max() / np.abs(r).max())
        good = err <= 1e-5
        ok &= good
        print("%s switch %-11s max |diff| / max |ref| %.2e  top-1 %.2f %%" % (
            "ok  " if good else "FAIL", " ".join(flags), err, top1(y)))
    print("all LoRA checks passed" if ok else "LoRA checks FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
