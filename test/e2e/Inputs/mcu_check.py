#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Checks `lowbit compile --target mcu` models bit for bit.

For each model: compile it for the MCU, lower it to the integer IR
(`lowbit import --emit lowered --target mcu`), run N samples on the MCU
(QEMU or a host build of the same C, one run for all samples) and each
sample on the interpreter, both on the integer IR (must be equal, bit for
bit) and on the float QDQ graph (ONNX semantics: at most --lsb codes of the
output apart). Prints one line per model.

  mcu_check.py --lowbit lowbit --work DIR --runner host --edge
      small QDQ models written here that hit every kernel's edge cases
      (strides, dilations, asymmetric padding, depthwise multipliers,
      count_include_pad, residual adds of different scales, softmax, tables,
      a real transpose)
  mcu_check.py ... --model NAME=PATH.onnx --data NAME=npz:KEY[:LABELS]
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


# -- edge-case models -------------------------------------------------------
class Graph:
    def __init__(self, rng):
        self.nodes, self.inits, self.rng, self.n = [], [], rng, 0

    def name(self, base):
        self.n += 1
        return "%s%d" % (base, self.n)

    def const(self, arr):
        nm = self.name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, **attrs):
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, ins, [out], name=out, **attrs))
        return out

    def qdq(self, x, scale, zp, signed=True):
        dt = np.int8 if signed else np.uint8
        s, z = self.const(np.float32(scale)), self.const(dt(zp))
        return self.node("DequantizeLinear", [self.node("QuantizeLinear", [x, s, z]), s, z])

    def weight(self, shape):
        w = self.rng.integers(-127, 128, size=shape).astype(np.int8)
        s = (self.rng.uniform(0.002, 0.02, size=shape[0])).astype(np.float32)
        dq = self.node("DequantizeLinear", [self.const(w), self.const(s),
                                            self.const(np.zeros(shape[0], np.int8))], axis=0)
        return dq, s

    def bias(self, n, sx, sw):
        b = self.rng.integers(-2000, 2000, size=n).astype(np.int32)
        return self.node("DequantizeLinear", [self.const(b), self.const((np.float32(sx) * sw).astype(np.float32)),
                                              self.const(np.zeros(n, np.int32))], axis=0)

    def conv(self, x, sx, cin, cout, k, group=1, **attrs):
        w, sw = self.weight([cout, cin // group] + k)
        return self.node("Conv", [x, w, self.bias(cout, sx, sw)], group=group, kernel_shape=k, **attrs)

    def model(self, name, in_shape, out, out_shape):
        g = helper.make_graph(self.nodes, name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
        m.ir_version = 8
        # The output's shape comes from ONNX's own shape inference.
        m = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        onnx.checker.check_model(m)
        return m


def edge_models(rng):
    models = {}
    # Strided, dilated, asymmetrically padded conv with ReLU6, u8 input.
    g = Graph(rng)
    x = g.qdq("x", 0.05, 120, signed=False)
    y = g.conv(x, 0.05, 3, 5, [3, 2], strides=[2, 1], pads=[1, 0, 2, 1], dilations=[1, 2])
    y = g.node("Clip", [y, g.const(np.float32(0)), g.const(np.float32(6))])
    y = g.qdq(y, 0.03, -128)
    models["conv_strided_relu6"] = (g.model("conv_strided_relu6", [1, 3, 7, 6], y, [1, 5, 4, 4]), [1, 3, 7, 6])
    # Depthwise with channel multiplier 2, then a pointwise conv and a
    # residual add of two different scales with ReLU.
    g = Graph(rng)
    x = g.qdq("x", 0.04, -3)
    d = g.qdq(g.conv(x, 0.04, 4, 8, [3, 3], group=4, strides=[2, 2], pads=[1, 1, 1, 1]), 0.02, 5)
    p = g.qdq(g.conv(d, 0.02, 8, 8, [1, 1]), 0.035, -10)
    a = g.qdq(g.node("Relu", [g.node("Add", [d, p])]), 0.05, -128)
    models["depthwise_residual"] = (g.model("depthwise_residual", [1, 4, 5, 5], a, [1, 8, 3, 3]), [1, 4, 5, 5])
    # Depthwise with multiplier 1 over 6 channels (blocks of four and a
    # tail), dilated and strided, ahead of a 1-channel-per-group conv.
    g = Graph(rng)
    x = g.qdq("x", 0.03, 11)
    d = g.qdq(g.conv(x, 0.03, 6, 6, [3, 3], group=6, strides=[1, 2], pads=[2, 1, 0, 2],
                     dilations=[2, 1]), 0.025, -7)
    c = g.qdq(g.conv(d, 0.025, 6, 4, [2, 2], group=2, pads=[1, 1, 1, 1]), 0.04, 2)
    models["depthwise_grouped"] = (g.model("depthwise_grouped", [1, 6, 7, 8], c, None), [1, 6, 7, 8])
    # Convolutions that run in place over their input (stride 1, same
    # shape): a 3x3 with one group, then a 5x3 depthwise with two rows of
    # padding on top (a ring of three rows) and asymmetric padding.
    g = Graph(rng)
    x = g.qdq("x", 0.04, 3)
    a = g.qdq(g.conv(x, 0.04, 3, 5, [3, 3], pads=[1, 1, 1, 1]), 0.03, -20)
    b = g.qdq(g.node("Relu", [g.conv(a, 0.03, 5, 5, [3, 3], pads=[1, 1, 1, 1])]), 0.05, -128)
    c = g.qdq(g.conv(b, 0.05, 5, 5, [5, 3], group=5, pads=[2, 0, 2, 2]), 0.02, 4)
    # ... a 1x1 convolution keeping 5 channels over 2 x 6 x 5 pixels (an odd
    # count: a last single pixel), and a sigmoid table, both in place.
    d = g.qdq(g.conv(c, 0.02, 5, 5, [1, 1]), 0.03, -1)
    e = g.qdq(g.node("Sigmoid", [d]), 1 / 256, -128)
    models["in_place"] = (g.model("in_place", [2, 3, 6, 5], e, None), [2, 3, 6, 5])
    # Pooling: average with and without counted padding, max with padding,
    # global average (to another scale).
    g = Graph(rng)
    x = g.qdq("x", 0.1, 7)
    a1 = g.qdq(g.node("AveragePool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                      count_include_pad=1), 0.1, 7)
    a2 = g.qdq(g.node("AveragePool", [a1], kernel_shape=[2, 3], pads=[0, 1, 1, 0]), 0.1, 7)
    m = g.qdq(g.node("MaxPool", [a2], kernel_shape=[2, 2], pads=[1, 0, 0, 1]), 0.1, 7)
    gp = g.qdq(g.node("GlobalAveragePool", [m]), 0.07, -20)
    models["pools"] = (g.model("pools", [1, 3, 9, 8], gp, [1, 3, 1, 1]), [1, 3, 9, 8])
    # A real transpose, a fully connected layer with odd sizes (the DSP
    # paths' tails), a sigmoid table, softmax.
    g = Graph(rng)
    x = g.qdq("x", 0.05, 0)
    t = g.node("Transpose", [x], perm=[0, 2, 3, 1])
    f = g.node("Reshape", [t, g.const(np.array([1, 27], np.int64))])
    f = g.qdq(f, 0.05, 0)
    w, sw = g.weight([11, 27])
    y = g.qdq(g.node("Gemm", [f, w, g.bias(11, 0.05, sw)], transB=1), 0.08, 3)
    s = g.qdq(g.node("Sigmoid", [y]), 1 / 256, -128)
    o = g.qdq(g.node("Softmax", [s], axis=-1), 1 / 256, -128)
    models["fc_tables"] = (g.model("fc_tables", [1, 3, 3, 3], o, [1, 11]), [1, 3, 3, 3])
    return models


# -- running ----------------------------------------------------------------
def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write("command failed: %s\n%s%s" % (" ".join(cmd), r.stdout, r.stderr))
        sys.exit(1)
    return r.stdout


def interpret(lowbit, model, x, work, batch=1):
    outs = []
    for i in range(0, x.shape[0], batch):
        np.save(os.path.join(work, "s.npy"), x[i:i + batch])
        run([lowbit, "run", model, "-i", os.path.join(work, "s.npy"), "-d", os.path.join(work, "io")])
        files = sorted(f for f in os.listdir(os.path.join(work, "io")) if f.endswith(".npy"))
        outs.append(np.load(os.path.join(work, "io", files[0])))
    return np.concatenate(outs)


def check(args, name, path, x, labels=None, batch=1):
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "mcu")
    line = run([args.lowbit, "compile", path, "--target", "mcu", "--cpu", args.cpu,
                "--integer-rounding", args.integer_rounding,
                "--name", re.sub(r"\W", "_", name), "-o", out])
    arena = int(re.search(r"arena (\d+) bytes", line).group(1))
    lowered = os.path.join(work, "lowered.mlir")
    run([args.lowbit, "import", path, "--emit", "lowered", "--target", "mcu",
         "--integer-rounding", args.integer_rounding, "-o", lowered])
    np.save(os.path.join(work, "x.npy"), x)
    ran = run([args.lowbit, "run", out, "-i", os.path.join(work, "x.npy"), "-d",
               os.path.join(work, "mcu-out"), "--mcu-runner", args.runner])
    files = [f for f in os.listdir(os.path.join(work, "mcu-out")) if f.endswith(".npy")]
    mcu = np.load(os.path.join(work, "mcu-out", files[0]))
    ints = interpret(args.lowbit, lowered, x, work, batch)
    ref = interpret(args.lowbit, path, x, work, batch)
    import json
    with open(os.path.join(out, re.sub(r"\W", "_", name) + ".mcu.json")) as f:
        scale = json.load(f)["outputs"][0]["scale"]
    exact = np.array_equal(mcu, ints)
    lsb = float(np.abs(mcu - ref).max() / scale)
    # TFLite's rounding (two roundings) is not held to the float graph.
    ok = exact and (args.integer_rounding != "away" or lsb <= args.lsb + 1e-3)
    extra = ""
    if labels is not None:
        acc = lambda y: 100.0 * np.mean(y.reshape(len(labels), -1).argmax(1) == labels)
        extra = ", accuracy mcu %.2f%% float-QDQ %.2f%%" % (acc(mcu), acc(ref))
    insns = re.search(r"; (\d+) instructions per inference", ran)
    if insns:
        extra += ", %s instructions per inference" % insns.group(1)
    print("%s %s: %d samples, mcu %s the integer interpreter, %.0f LSB from the "
          "float QDQ graph, arena %d bytes%s" % ("ok  " if ok else "FAIL", name, x.shape[0] // batch,
                                                 "equals" if exact else "DIFFERS FROM", lsb,
                                                 arena, extra))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lowbit", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runner", default="qemu")
    ap.add_argument("--cpu", default="cortex-m4")
    ap.add_argument("--integer-rounding", default="away")
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--lsb", type=float, default=1)
    ap.add_argument("--edge", action="store_true")
    ap.add_argument("--only", help="run only the edge model of this name")
    ap.add_argument("--model", action="append", default=[], help="NAME=PATH")
    ap.add_argument("--data", action="append", default=[],
                    help="NAME=NPZ:KEY[:LABELKEY] or NAME=random:LO:HI")
    args = ap.parse_args()
    rng = np.random.default_rng(7)
    ok = True
    if args.edge:
        for name, (model, shape) in edge_models(rng).items():
            if args.only and name != args.only:
                continue
            path = os.path.join(args.work, name + ".onnx")
            os.makedirs(args.work, exist_ok=True)
            onnx.save(model, path)
            x = rng.normal(0, 2, size=[args.samples * shape[0]] + shape[1:]).astype(np.float32)
            ok &= check(args, name, path, x, batch=shape[0])
    data = dict(d.split("=", 1) for d in args.data)
    for spec in args.model:
        name, path = spec.split("=", 1)
        shape = [d.dim_value for d in onnx.load(path).graph.input[0].type.tensor_type.shape.dim]
        src = data.get(name, "random:-1:1").split(":")
        labels = None
        if src[0] == "random":
            x = rng.uniform(float(src[1]), float(src[2]),
                            size=[args.samples] + shape[1:]).astype(np.float32)
        else:
            npz = np.load(src[0])
            x = npz[src[1]][:args.samples].reshape([-1] + shape[1:]).astype(np.float32)
            if len(src) > 2:
                labels = npz[src[2]][:args.samples]
        ok &= check(args, name, path, x, labels)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
