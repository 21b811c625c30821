#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Converts the int8 MLPerf Tiny TFLite models (../shared/models/mlperf-tiny)
into ONNX QDQ models that keep every int8 scale and zero point, per-channel
weight scales included (PyPI tflite2onnx refuses per-channel models).

The ONNX graph takes the TFLite model's float input in its layout (NHWC),
quantizes it with the input's parameters, transposes once to NCHW and runs
each TFLite operator as its float ONNX op between DequantizeLinear and
QuantizeLinear, so that ONNX semantics (ONNX Runtime with optimizations off,
or lowbit's interpreter) compute what the int8 TFLite model computes, up to
the rounding of TFLite's fixed-point requantization (at most 1 LSB). The
output is dequantized to float.

Operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, AVERAGE_POOL_2D,
MAX_POOL_2D, RESHAPE, SOFTMAX, QUANTIZE, DEQUANTIZE (what the four models
use); anything else is an error naming the operator.

Outputs go to a cache folder keyed by this script's hash (and the .tflite's):

  python3 scripts/models/tflite_qdq.py ../shared/models/mlperf-tiny/X.tflite
  -> prints <cache>/X_qdq.onnx

Needs: pip install tflite (FlatBuffers bindings of the TFLite schema); onnx.
"""
import hashlib
import os
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

OPS = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
NP_TYPES = {tflite.TensorType.INT8: np.int8, tflite.TensorType.UINT8: np.uint8,
            tflite.TensorType.INT32: np.int32, tflite.TensorType.FLOAT32: np.float32,
            tflite.TensorType.INT64: np.int64}


class Converter:
    def __init__(self, path):
        self.path = path
        buf = open(path, "rb").read()
        self.model = tflite.Model.GetRootAsModel(buf, 0)
        self.graph = self.model.Subgraphs(0)
        self.nodes, self.inits = [], []
        self.names = set()
        # TFLite tensor index -> ONNX name of its float (dequantized) value,
        # in NCHW for 4-D activations.
        self.value = {}

    # -- helpers -----------------------------------------------------------
    def fresh(self, base):
        base = base.replace(";", "_").replace(":", "_").replace("/", "_") or "t"
        name, i = base, 1
        while name in self.names:
            name, i = "%s_%d" % (base, i), i + 1
        self.names.add(name)
        return name

    def const(self, base, array):
        name = self.fresh(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, base, **attrs):
        out = self.fresh(base)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_" + op, **attrs))
        return out

    def tensor(self, i):
        return self.graph.Tensors(i)

    def data(self, i):
        t = self.tensor(i)
        buf = self.model.Buffers(t.Buffer())
        raw = buf.DataAsNumpy()
        if isinstance(raw, int) or raw is None or len(raw) == 0:
            raise ValueError("%s: tensor %s has no constant data" % (self.path, t.Name()))
        return np.frombuffer(raw.tobytes(), NP_TYPES[t.Type()]).reshape(t.ShapeAsNumpy())

    def qparams(self, i):
        q = self.tensor(i).Quantization()
        if q is None or q.ScaleLength() == 0:
            raise ValueError("%s: tensor %s is not quantized" % (self.path, self.tensor(i).Name()))
        return (q.ScaleAsNumpy().astype(np.float32), q.ZeroPointAsNumpy().astype(np.int64),
                q.QuantizedDimension())

    def qdq(self, x, i):
        """Q then DQ of float |x| with tensor i's (per-tensor) parameters."""
        s, z, _ = self.qparams(i)
        name = self.tensor(i).Name().decode()
        dtype = NP_TYPES[self.tensor(i).Type()]
        sc = self.const(name + "_scale", np.float32(s[0]))
        zp = self.const(name + "_zp", dtype(z[0]))
        q = self.node("QuantizeLinear", [x, sc, zp], name + "_q")
        return self.node("DequantizeLinear", [q, sc, zp], name)

    def weight(self, i, onnx_array, axis):
        """DQ of a constant int8 weight, per-channel along ONNX |axis|."""
        s, z, _ = self.qparams(i)
        name = self.tensor(i).Name().decode()
        w = self.const(name + "_w", onnx_array.astype(np.int8))
        if s.size == 1:
            sc = self.const(name + "_wscale", np.float32(s[0]))
            zp = self.const(name + "_wzp", np.int8(z[0]))
            return self.node("DequantizeLinear", [w, sc, zp], name + "_dq")
        sc = self.const(name + "_wscale", s)
        zp = self.const(name + "_wzp", z.astype(np.int8))
        return self.node("DequantizeLinear", [w, sc, zp], name + "_dq", axis=axis)

    def bias(self, i, in_scale, w_scale):
        """int32 bias dequantized by in_scale * w_scale (per channel)."""
        name = self.tensor(i).Name().decode()
        b = self.const(name + "_b", self.data(i).astype(np.int32))
        scale = (np.float32(in_scale) * w_scale.astype(np.float32)).astype(np.float32)
        s, _, _ = self.qparams(i)
        if not np.allclose(s, scale, rtol=1e-5):
            scale = s  # trust the file's own bias scale
        zp = self.const(name + "_bzp", np.zeros(scale.size, np.int32))
        sc = self.const(name + "_bscale", scale)
        return self.node("DequantizeLinear", [b, sc, zp], name + "_dq", axis=0)

    def activation(self, x, fused, base):
        if fused == tflite.ActivationFunctionType.NONE:
            return x
        if fused == tflite.ActivationFunctionType.RELU:
            return self.node("Relu", [x], base + "_relu")
        if fused == tflite.ActivationFunctionType.RELU6:
            lo = self.const(base + "_lo", np.float32(0))
            hi = self.const(base + "_hi", np.float32(6))
            return self.node("Clip", [x, lo, hi], base + "_relu6")
        raise ValueError("%s: fused activation %d is not supported" % (self.path, fused))

    @staticmethod
    def same_pads(in_hw, k_hw, strides, dil):
        pads_b, pads_e = [], []
        for n, k, s, d in zip(in_hw, k_hw, strides, dil):
            out = -(-n // s)
            total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
            pads_b.append(total // 2)
            pads_e.append(total - total // 2)
        return pads_b + pads_e

    def pads(self, padding, in_i, k_hw, strides, dil):
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        shape = self.tensor(in_i).ShapeAsNumpy()
        return self.same_pads(shape[1:3], k_hw, strides, dil)

    # -- operators ---------------------------------------------------------
    def conv(self, op, depthwise):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        o = (tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        w = self.data(ins[1])  # OHWI, or 1 x H x W x (C*mult) for depthwise
        if depthwise:
            w_onnx = w.transpose(3, 0, 1, 2)  # (C*mult) x 1 x H x W
            group = int(self.tensor(ins[0]).ShapeAsNumpy()[3])
        else:
            w_onnx = w.transpose(0, 3, 1, 2)
            group = 1
        name = self.tensor(out).Name().decode()
        wq = self.weight(ins[1], w_onnx, 0)
        s_in = self.qparams(ins[0])[0][0]
        args = [self.value[ins[0]], wq]
        if len(ins) > 2 and ins[2] >= 0:
            args.append(self.bias(ins[2], s_in, self.qparams(ins[1])[0]))
        strides = [o.StrideH(), o.StrideW()]
        dil = [o.DilationHFactor(), o.DilationWFactor()]
        k_hw = list(w.shape[1:3])
        y = self.node("Conv", args, name + "_conv", strides=strides, dilations=dil,
                      kernel_shape=k_hw, group=group,
                      pads=self.pads(o.Padding(), ins[0], k_hw, strides, dil))
        y = self.activation(y, o.FusedActivationFunction(), name)
        self.value[out] = self.qdq(y, out)

    def fully_connected(self, op):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        o = tflite.FullyConnectedOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        name = self.tensor(out).Name().decode()
        x = self.value[ins[0]]
        if len(self.tensor(ins[0]).ShapeAsNumpy()) != 2:
            x = self.nhwc_reshape(ins[0], [-1, int(self.tensor(ins[1]).ShapeAsNumpy()[1])], name)
        wq = self.weight(ins[1], self.data(ins[1]), 0)  # [out, in]
        args = [x, wq]
        if len(ins) > 2 and ins[2] >= 0:
            args.append(self.bias(ins[2], self.qparams(ins[0])[0][0], self.qparams(ins[1])[0]))
        y = self.node("Gemm", args, name + "_fc", transB=1)
        y = self.activation(y, o.FusedActivationFunction(), name)
        self.value[out] = self.qdq(y, out)

    def add(self, op):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        o = tflite.AddOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        name = self.tensor(out).Name().decode()
        y = self.node("Add", [self.value[ins[0]], self.value[ins[1]]], name + "_add")
        y = self.activation(y, o.FusedActivationFunction(), name)
        self.value[out] = self.qdq(y, out)

    def pool(self, op, kind):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        o = tflite.Pool2DOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        name = self.tensor(out).Name().decode()
        k_hw = [o.FilterHeight(), o.FilterWidth()]
        strides = [o.StrideH(), o.StrideW()]
        y = self.node(kind, [self.value[ins[0]]], name + "_pool", kernel_shape=k_hw,
                      strides=strides, pads=self.pads(o.Padding(), ins[0], k_hw, strides, [1, 1]))
        y = self.activation(y, o.FusedActivationFunction(), name)
        self.value[out] = self.qdq(y, out)

    def nhwc_reshape(self, i, shape, base):
        """Reshape with TFLite's (NHWC) element order."""
        x = self.value[i]
        if len(self.tensor(i).ShapeAsNumpy()) == 4:
            x = self.node("Transpose", [x], base + "_nhwc", perm=[0, 2, 3, 1])
        return self.node("Reshape", [x, self.const(base + "_shape", np.array(shape, np.int64))],
                         base + "_reshape")

    def reshape(self, op):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        shape = [int(d) for d in self.tensor(out).ShapeAsNumpy()]
        name = self.tensor(out).Name().decode()
        y = self.nhwc_reshape(ins[0], shape, name)
        if len(shape) == 4:
            y = self.node("Transpose", [y], name + "_nchw", perm=[0, 3, 1, 2])
        self.value[out] = self.qdq(y, out)

    def softmax(self, op):
        ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
        o = tflite.SoftmaxOptions()
        o.Init(op.BuiltinOptions().Bytes, op.BuiltinOptions().Pos)
        name = self.tensor(out).Name().decode()
        x = self.value[ins[0]]
        if o.Beta() != 1.0:
            x = self.node("Mul", [x, self.const(name + "_beta", np.float32(o.Beta()))], name + "_b")
        y = self.node("Softmax", [x], name + "_softmax", axis=-1)
        self.value[out] = self.qdq(y, out)

    def convert(self):
        g = self.graph
        if g.InputsLength() != 1 or g.OutputsLength() != 1:
            raise ValueError("%s: expected one input and one output" % self.path)
        i_in, i_out = g.Inputs(0), g.Outputs(0)
        in_shape = [int(d) for d in self.tensor(i_in).ShapeAsNumpy()]
        x = self.qdq("input", i_in)
        if len(in_shape) == 4:
            x = self.node("Transpose", [x], "input_nchw", perm=[0, 3, 1, 2])
        self.value[i_in] = x
        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            oc = self.model.OperatorCodes(op.OpcodeIndex())
            kind = OPS[max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())]
            if kind == "CONV_2D":
                self.conv(op, False)
            elif kind == "DEPTHWISE_CONV_2D":
                self.conv(op, True)
            elif kind == "FULLY_CONNECTED":
                self.fully_connected(op)
            elif kind == "ADD":
                self.add(op)
            elif kind == "AVERAGE_POOL_2D":
                self.pool(op, "AveragePool")
            elif kind == "MAX_POOL_2D":
                self.pool(op, "MaxPool")
            elif kind == "RESHAPE":
                self.reshape(op)
            elif kind == "SOFTMAX":
                self.softmax(op)
            elif kind in ("QUANTIZE", "DEQUANTIZE"):
                ins, out = op.InputsAsNumpy(), op.OutputsAsNumpy()[0]
                self.value[out] = self.value[ins[0]] if kind == "DEQUANTIZE" \
                    else self.qdq(self.value[ins[0]], out)
            else:
                raise ValueError("%s: operator %d (%s) is not supported" % (self.path, k, kind))
        y = self.value[i_out]
        out_shape = [int(d) for d in self.tensor(i_out).ShapeAsNumpy()]
        if len(out_shape) == 4:
            y = self.node("Transpose", [y], "output_nhwc", perm=[0, 2, 3, 1])
        self.nodes.append(helper.make_node("Identity", [y], ["output"], name="output"))
        graph = helper.make_graph(
            self.nodes, os.path.basename(self.path).split(".")[0],
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                  producer_name="lowbit tflite_qdq.py")
        model.ir_version = 8
        onnx.checker.check_model(model)
        return model


def cache_dir(tflite_path):
    h = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        h.update(f.read())
    with open(tflite_path, "rb") as f:
        h.update(f.read())
    root = os.environ.get("LOWBIT_MODEL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "lowbit", "models"))
    return os.path.join(root, "tflite-qdq-" + h.hexdigest()[:16])


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 1
    src = sys.argv[1]
    out_dir = cache_dir(src)
    out = os.path.join(out_dir, os.path.basename(src).rsplit(".", 1)[0] + "_qdq.onnx")
    if not os.path.exists(out):
        model = Converter(src).convert()
        os.makedirs(out_dir, exist_ok=True)
        tmp = out + ".tmp%d" % os.getpid()
        onnx.save(model, tmp)
        os.replace(tmp, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
