# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes com.microsoft MatMulNBits models, their input and ONNX Runtime's
outputs into argv[1]:
  mmnb.onnx   one node, 4-bit, block 32, no zero points, with bias;
  chain.onnx  three nodes with a symbolic batch and no value_info between
              them (shapes must come from lowbit's contrib schemas):
              4-bit block 16 with packed zero points and bias -> Relu ->
              8-bit block 32 with zero points -> 2-bit block 32 without."""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)


def pack(codes, bits, block):
    """[N, K] codes -> ORT's B [N, K/block, block*bits/8], low bits first."""
    n, k = codes.shape
    blob = block * bits // 8
    b = np.zeros((n, k // block, blob), np.uint8)
    for r in range(n):
        for c in range(k):
            bit = (c % block) * bits
            v = int(codes[r, c]) << (bit % 8)
            b[r, c // block, bit // 8] |= v & 255
            if bit % 8 + bits > 8:
                b[r, c // block, bit // 8 + 1] |= v >> 8
    return b


def pack_zero_points(z, bits):
    """[N, blocks] zero points -> [N * ceil(blocks*bits/8)] uint8."""
    n, blocks = z.shape
    row = (blocks * bits + 7) // 8
    out = np.zeros((n, row), np.uint8)
    for r in range(n):
        for g in range(blocks):
            bit = g * bits
            out[r, bit // 8] |= (int(z[r, g]) << (bit % 8)) & 255
    return out.reshape(-1)


def layer(name, x, y, k, n, bits, block, zero_points, bias):
    codes = rng.integers(0, 1 << bits, size=(n, k)).astype(np.uint8)
    scales = (rng.random((n, k // block)) * 0.1 + 0.01).astype(np.float32)
    inits = [numpy_helper.from_array(pack(codes, bits, block), name + "_b"),
             numpy_helper.from_array(scales, name + "_s")]
    inputs = [x, name + "_b", name + "_s", "", "", ""]
    if zero_points:
        z = rng.integers(0, 1 << bits, size=(n, k // block))
        inits.append(numpy_helper.from_array(pack_zero_points(z, bits),
                                             name + "_z"))
        inputs[3] = name + "_z"
    if bias:
        inits.append(numpy_helper.from_array(
            rng.standard_normal(n).astype(np.float32), name + "_bias"))
        inputs[5] = name + "_bias"
    while inputs[-1] == "":
        inputs.pop()
    node = helper.make_node("MatMulNBits", inputs, [y], domain="com.microsoft",
                            K=k, N=n, bits=bits, block_size=block, name=name)
    return node, inits


def save(model, stem, inputs):
    model = helper.make_model(model, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx.save(model, os.path.join(out, stem + ".onnx"))
    sess = ort.InferenceSession(os.path.join(out, stem + ".onnx"),
                                providers=["CPUExecutionProvider"])
    for name, a in inputs.items():
        np.save(os.path.join(out, stem + "_" + name + ".npy"), a)
    y = sess.run(None, inputs)[0]
    np.save(os.path.join(out, stem + "_ort_y.npy"), y)


# One node (the file names of the first version of this test).
K, N, B = 64, 16, 32
node, inits = layer("mmnb", "a", "y", K, N, 4, B, False, True)
graph = helper.make_graph(
    [node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [3, K])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, N])], inits)
a = rng.standard_normal((3, K)).astype(np.float32)
save(graph, "mmnb", {"a": a})
os.replace(os.path.join(out, "mmnb_a.npy"), os.path.join(out, "a.npy"))
os.replace(os.path.join(out, "mmnb_ort_y.npy"), os.path.join(out, "ort_y.npy"))

# A chain with a symbolic batch.
n1, i1 = layer("l1", "x", "h1", 64, 48, 4, 16, True, True)
relu = helper.make_node("Relu", ["h1"], ["r1"], name="relu")
n2, i2 = layer("l2", "r1", "h2", 48, 32, 8, 16, True, False)
n3, i3 = layer("l3", "h2", "y", 32, 8, 2, 32, False, False)
graph = helper.make_graph(
    [n1, relu, n2, n3], "chain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    i1 + i2 + i3)
save(graph, "chain", {"x": rng.standard_normal((5, 64)).astype(np.float32)})
