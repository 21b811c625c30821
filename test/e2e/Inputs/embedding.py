# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes an embedding model into argv[1]: ids [2, 6] -> Gather from a
[50, 24] table -> MatMul [24, 8]; the ids (one negative, counted from the
end), and ids with one out of range."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(3)
table = rng.standard_normal((50, 24)).astype(np.float32)
table[7] *= 20  # rows of very different ranges: one scale per row matters
w = (rng.standard_normal((24, 8)) / 5).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Gather", ["table", "ids"], ["e"], name="embed"),
     helper.make_node("MatMul", ["e", "w"], ["y"], name="proj")],
    "embedding",
    [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6, 8])],
    [numpy_helper.from_array(table, "table"), numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "embedding.onnx"))
ids = np.array([[0, 7, 13, 49, -1, 7], [21, 22, 3, 3, 48, 1]], np.int64)
np.save(os.path.join(out, "ids.npy"), ids)
bad = ids.copy()
bad[1, 2] = 50
np.save(os.path.join(out, "bad_ids.npy"), bad)
