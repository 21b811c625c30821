# Writes models whose weights live in ONNX external data files (the >2 GB
# format), plus broken variants, into the directory given as argv[1].
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
w = np.arange(12, dtype=np.float32).reshape(3, 4) / 4.0
graph = helper.make_graph(
    [helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "g",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
    [numpy_helper.from_array(w, "w")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "ext.onnx"), save_as_external_data=True,
          all_tensors_to_one_file=True, location="ext.weights", size_threshold=0)
np.save(os.path.join(out, "x.npy"), np.ones((1, 4), np.float32))

# A location outside the model's directory is refused, even when the file
# exists (the ONNX checker accepts it).
with open(os.path.join(out, "..", "escape.weights"), "wb") as f:
    f.write(w.tobytes())
m = onnx.load(os.path.join(out, "ext.onnx"), load_external_data=False)
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "../escape.weights"
onnx.save(m, os.path.join(out, "escape.onnx"))

# A range past the end of the data file.
m = onnx.load(os.path.join(out, "ext.onnx"), load_external_data=False)
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "short.weights"
with open(os.path.join(out, "short.weights"), "wb") as f:
    f.write(b"\0" * 20)
onnx.save(m, os.path.join(out, "short.onnx"))

# A symbolic link inside the folder that points outside it (to the escape
# file), and one to a folder outside: both refused after resolving.
m = onnx.load(os.path.join(out, "ext.onnx"), load_external_data=False)
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "link.weights"
os.symlink(os.path.abspath(os.path.join(out, "..", "escape.weights")),
           os.path.join(out, "link.weights"))
onnx.save(m, os.path.join(out, "link.onnx"))
os.makedirs(os.path.join(out, "..", "elsewhere"), exist_ok=True)
with open(os.path.join(out, "..", "elsewhere", "w.weights"), "wb") as f:
    f.write(w.tobytes())
os.symlink(os.path.abspath(os.path.join(out, "..", "elsewhere")), os.path.join(out, "sub"))
m = onnx.load(os.path.join(out, "ext.onnx"), load_external_data=False)
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "sub/w.weights"
onnx.save(m, os.path.join(out, "linkdir.onnx"))
# A link that stays inside the folder is fine.
os.symlink("ext.weights", os.path.join(out, "inside.weights"))
m = onnx.load(os.path.join(out, "ext.onnx"), load_external_data=False)
for kv in m.graph.initializer[0].external_data:
    if kv.key == "location":
        kv.value = "inside.weights"
onnx.save(m, os.path.join(out, "inside.onnx"))
