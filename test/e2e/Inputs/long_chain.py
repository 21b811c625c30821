"""Writes a straight chain of N elementwise ONNX nodes (alternating
Mul 0.999 and Add 0.001 on a [4, 64] f32 input), its input and the float32
result computed step by step in numpy: a model whose depth, not size,
stresses the compiler (recursion, fusion, compile time)."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

n, out = int(sys.argv[1]), sys.argv[2]
mul = numpy_helper.from_array(np.array(0.999, np.float32), "m")
add = numpy_helper.from_array(np.array(0.001, np.float32), "a")
nodes, prev = [], "x"
for i in range(n):
    name = "y" if i == n - 1 else f"t{i}"
    op, c = ("Mul", "m") if i % 2 == 0 else ("Add", "a")
    nodes.append(helper.make_node(op, [prev, c], [name], name=f"n{i}"))
    prev = name
graph = helper.make_graph(
    nodes, "chain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 64])],
    [mul, add])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
          f"{out}/chain.onnx")
x = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
np.save(f"{out}/x.npy", x)
y = x.copy()
for i in range(n):
    y = y * np.float32(0.999) if i % 2 == 0 else y + np.float32(0.001)
np.save(f"{out}/expected.npy", y)
