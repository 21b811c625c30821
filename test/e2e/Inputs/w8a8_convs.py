# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes a small CNN for W8A8 convolutions into argv[1]: inputs centred on
zero (so activation zero points are not 0 and padding must read the zero
point), a padded 3x3 convolution, a depthwise strided 3x3 convolution
(groups = channels), a 1x1 convolution with ReLU, then a Gemm; plus a
calibration set (calib.npz) and an evaluation input (x.npy)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(7)


def w(*shape):
    return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(
        np.float32)


inits = [numpy_helper.from_array(w(8, 3, 3, 3), "c1_w"),
         numpy_helper.from_array(w(8).reshape(8) * 0.1, "c1_b"),
         numpy_helper.from_array(w(8, 1, 3, 3), "dw_w"),
         numpy_helper.from_array(w(16, 8, 1, 1), "pw_w"),
         numpy_helper.from_array(w(16).reshape(16) * 0.1, "pw_b"),
         numpy_helper.from_array(w(10, 16 * 5 * 5), "fc_w")]
nodes = [
    helper.make_node("Conv", ["x", "c1_w", "c1_b"], ["c1"], name="conv1",
                     pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
    helper.make_node("Conv", ["c1", "dw_w"], ["dw"], name="depthwise",
                     pads=[1, 1, 1, 1], strides=[2, 2], group=8,
                     kernel_shape=[3, 3]),
    helper.make_node("Conv", ["dw", "pw_w", "pw_b"], ["pw"], name="pointwise",
                     kernel_shape=[1, 1]),
    helper.make_node("Relu", ["pw"], ["r"], name="relu"),
    helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
    helper.make_node("Gemm", ["f", "fc_w"], ["y"], name="fc", transB=1),
]
graph = helper.make_graph(
    nodes, "w8a8_convs",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3, 9, 9])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 10])], inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "convs.onnx"))
np.savez(os.path.join(out, "calib.npz"),
         x=(rng.standard_normal((64, 3, 9, 9)) - 0.5).astype(np.float32))
np.save(os.path.join(out, "x.npy"),
        (rng.standard_normal((4, 3, 9, 9)) - 0.5).astype(np.float32))
