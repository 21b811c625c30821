# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes a one-node com.microsoft MatMulNBits model (4-bit, block 32, no
zero points, with bias), its input, and ONNX Runtime's output into argv[1]."""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)
K, N, B = 64, 16, 32
q = rng.integers(0, 16, size=(N, K)).astype(np.uint8)
packed = np.zeros((N, K // B, B // 2), np.uint8)
for r in range(N):
    for c in range(K):
        packed[r, c // B, (c % B) // 2] |= q[r, c] << (4 * (c % 2))
scales = (rng.random((N, K // B)) * 0.1 + 0.01).astype(np.float32)
bias = rng.standard_normal(N).astype(np.float32)
node = helper.make_node("MatMulNBits", ["a", "b", "s", "", "", "bias"], ["y"],
                        domain="com.microsoft", K=K, N=N, bits=4,
                        block_size=B, name="mmnb")
graph = helper.make_graph(
    [node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [3, K])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, N])],
    [numpy_helper.from_array(packed, "b"), numpy_helper.from_array(scales, "s"),
     numpy_helper.from_array(bias, "bias")])
model = helper.make_model(graph, opset_imports=[
    helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
onnx.save(model, os.path.join(out, "mmnb.onnx"))
a = rng.standard_normal((3, K)).astype(np.float32)
np.save(os.path.join(out, "a.npy"), a)
y = ort.InferenceSession(os.path.join(out, "mmnb.onnx")).run(None, {"a": a})[0]
np.save(os.path.join(out, "ort_y.npy"), y)
