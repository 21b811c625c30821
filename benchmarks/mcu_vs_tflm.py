#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""lowbit's MCU target beside TensorFlow Lite Micro on the MLPerf Tiny models,
in one run: SRAM (lowbit's static arena against TFLM's arena, whose head is
the activations and whose tail is its tensor metadata), flash (lowbit's
model + kernels objects built for Cortex-M4 against the .tflite file, which
holds TFLM's weights and graph but not its kernels), instructions per
inference under QEMU (-icount: an instruction count, not cycles) against the
best published MLPerf Tiny v1.0 latencies on a Cortex-M4 at 120 MHz taken as
cycles, and the largest difference between TFLM's and lowbit's int8 output
codes on the same input codes.

  pip install tflite-micro tflite
  python3 benchmarks/mcu_vs_tflm.py --lowbit build/bin/lowbit --shared ../shared

Needs arm-none-eabi-gcc and qemu-system-arm (scripts/install-deps.sh).
"""
import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [  # .tflite stem, short name, published best M4 latency (ms)
    ("kws_ref_model", "KWS", 43.0),
    ("vww_96_int8", "VWW", 89.0),
    ("pretrainedResnet_quant", "IC", 165.0),
    ("ad01_int8", "AD", 4.0),
]


@contextlib.contextmanager
def captured_stdout(path):
    """TFLM prints its allocations from C++: redirect descriptors 1 and 2."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "w") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def tflm_run(path, codes, work):
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_file(path)
    outs = []
    for x in codes:
        it.set_input(x.reshape(it.get_input_details(0)["shape"]), 0)
        it.invoke()
        outs.append(it.get_output(0).copy())
    log = os.path.join(work, "tflm.txt")
    with captured_stdout(log):
        it.print_allocations()
    text = open(log).read()
    grab = lambda what: int(re.search(r"Arena allocation %s (\d+) bytes" % what, text).group(1))
    return np.stack(outs), grab("total"), grab("head")


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("command failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
    return r.stdout


def flash_bytes(out, name, work):
    objs = []
    for src in (name + ".c", "lowbit_mcu.c"):
        obj = os.path.join(work, src + ".o")
        run(["arm-none-eabi-gcc", "-std=c99", "-O2", "-mcpu=cortex-m4", "-mthumb", "-c",
             os.path.join(out, src), "-I", out, "-o", obj])
        objs.append(obj)
    text = run(["arm-none-eabi-size"] + objs).splitlines()[1:]
    cols = [list(map(int, l.split()[:3])) for l in text]
    return sum(c[0] + c[1] for c in cols), sum(c[2] for c in cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lowbit", required=True)
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--samples", type=int, default=16)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stem, short, ms in MODELS:
            tfl = os.path.join(args.shared, "models", "mlperf-tiny", stem + ".tflite")
            onnx_path = run([sys.executable, os.path.join(HERE, "..", "scripts", "models",
                                                          "tflite_qdq.py"), tfl]).strip()
            work = os.path.join(tmp, short)
            os.makedirs(work)
            out = os.path.join(work, "mcu")
            name = short.lower()
            line = run([args.lowbit, "compile", onnx_path, "--target", "mcu", "--name", name,
                        "-o", out])
            # The same model with TFLite's requantization rounding.
            out_tfl = os.path.join(work, "mcu-tflite")
            run([args.lowbit, "compile", onnx_path, "--target", "mcu", "--name", name,
                 "--integer-rounding", "tflite", "-o", out_tfl])
            arena = int(re.search(r"arena (\d+) bytes", line).group(1))
            man = json.load(open(os.path.join(out, name + ".mcu.json")))
            shape = man["inputs"][0]["shape"]
            codes = rng.integers(-128, 128, size=[args.samples] + shape[1:]).astype(np.int8)
            if short == "KWS":  # real speech features, quantized as TFLite does
                feats = np.load(os.path.join(args.shared, "data", "kws01_test.npz"))["features"]
                s, z = man["inputs"][0]["scale"], man["inputs"][0]["zero_point"]
                codes = np.clip(np.round(feats[:args.samples] / s) + z, -128, 127) \
                    .astype(np.int8).reshape([args.samples] + shape[1:])
            np.save(os.path.join(work, "x.npy"), codes)
            ran = run([args.lowbit, "run", out, "-i", os.path.join(work, "x.npy"), "-d",
                       os.path.join(work, "o")])
            insns = int(re.search(r"; (\d+) instructions per inference", ran).group(1))
            y = np.load(os.path.join(work, "o", os.listdir(os.path.join(work, "o"))[0]))
            o = man["outputs"][0]
            ours = np.round(y / o["scale"] + o["zero_point"]).astype(np.int64)
            run([args.lowbit, "run", out_tfl, "-i", os.path.join(work, "x.npy"), "-d",
                 os.path.join(work, "ot")])
            yt = np.load(os.path.join(work, "ot", os.listdir(os.path.join(work, "ot"))[0]))
            ours_tfl = np.round(yt / o["scale"] + o["zero_point"]).astype(np.int64)
            theirs, total, head = tflm_run(tfl, codes, work)
            ours = ours.reshape(theirs.shape)
            lsb = int(np.abs(ours - theirs.astype(np.int64)).max())
            lsb_tfl = int(np.abs(ours_tfl.reshape(theirs.shape) - theirs.astype(np.int64)).max())
            flat = lambda a: a.reshape(args.samples, -1)
            top1 = int(np.sum(flat(ours).argmax(1) == flat(theirs).argmax(1))) \
                if short != "AD" else None
            flash, bss = flash_bytes(out, name, work)
            cycles = ms * 120e3
            rows.append((short, arena, total, head, flash, os.path.getsize(tfl), insns, cycles,
                         lsb, sum(l["macs"] for l in man["layers"]), top1, lsb_tfl))
    print("| model | lowbit arena | TFLM arena (head + tail) | SRAM ratio | lowbit flash "
          "(model + kernels) | .tflite | lowbit instructions | best M4 cycles (est.) | "
          "ratio | MAC / instruction | max |lowbit - TFLM| | same top-1 | "
          "max |lowbit --integer-rounding tflite - TFLM| |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for short, arena, total, head, flash, tfl, insns, cycles, lsb, macs, top1, lsb_tfl in rows:
        print("| %s | %d B | %d B (%d + %d) | %.2fx smaller | %d B | %d B | %.1f M | %.1f M | "
              "%.1fx %s | %.3f | %d LSB | %s | %d LSB |" % (
                  short, arena, total, head, total - head, total / arena, flash, tfl,
                  insns / 1e6, cycles / 1e6, max(insns / cycles, cycles / insns),
                  "slower" if insns > cycles else "faster", macs / insns, lsb,
                  "-" if top1 is None else "%d / %d" % (top1, args.samples), lsb_tfl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
