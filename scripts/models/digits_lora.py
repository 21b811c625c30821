#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""A real LoRA adapter for lowbit's tests and benchmarks: the digits CNN
(examples/digits, trained on scikit-learn's 8x8 digits) adapted to a new
domain, MNIST digits reduced to the same 8x8 format, by rank-4 LoRA on its
two fully connected layers (Gemm /11 64x64 and /13 10x64), trained here in
numpy (cross-entropy, Adam) on 5,000 real MNIST test images and evaluated
on the other 5,000.

The adapted model is exported as PEFT's models export with the adapters
left unmerged: each adapted layer is the base Gemm plus
Gemm(Gemm(x, lora_A), lora_B) * scaling, added to it (initializers named
like PEFT's `<layer>.base_layer.weight`, `<layer>.lora_A.default.weight`,
`<layer>.lora_B.default.weight`). The adapter is also written in PEFT's
file layout (adapter_model.safetensors + adapter_config.json).

  python3 scripts/models/digits_lora.py --shared ../shared   # prints the folder
  -> digits_lora.onnx (unmerged adapters), mnist8_train.npz / mnist8_eval.npz
     (`image` float32 [N,1,8,8], `label` int64), adapter_model.safetensors,
     adapter_config.json, train.json (accuracies measured by ONNX Runtime)

Outputs are cached in a folder keyed by this script's hash and the inputs'
sizes. Needs numpy, onnx, onnxruntime and ../shared/data/mnist_test.npz.
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BASE = os.path.join(REPO, "examples", "digits", "digits_cnn.onnx")
RANK, ALPHA = 4, 8.0
TARGETS = {"/11/Gemm": "11", "/13/Gemm": "13"}


def to_digits8(images):
    """MNIST uint8 [N, 28, 28] -> the digits format: 32x32 (2-pixel border),
    the mean of each 4x4 block, scaled to [0, 1] like pixels / 16."""
    x = np.pad(images.astype(np.float32), ((0, 0), (2, 2), (2, 2)))
    x = x.reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4)) / 255.0
    return x[:, None, :, :].astype(np.float32)


def features(images):
    """The CNN's 64 features before /11/Gemm (ONNX Runtime)."""
    import onnxruntime as ort
    m = onnx.load(BASE)
    m.graph.output.append(helper.make_tensor_value_info(
        "/10/Flatten_output_0", onnx.TensorProto.FLOAT, None))
    s = ort.InferenceSession(m.SerializeToString(),
                             providers=["CPUExecutionProvider"])
    return s.run(["/10/Flatten_output_0"], {"image": images})[0]


def erf(x):
    """Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): training only."""
    t = 1 / (1 + 0.3275911 * np.abs(x))
    y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t
              - 0.284496736) * t + 0.254829592) * t * np.exp(-x * x)
    return np.sign(x) * y


def gelu_and_grad(h):
    """GELU as the model computes it (x/2 · (1 + erf(x/√2))) and its slope."""
    c = 0.5 * (1 + erf(h / np.sqrt(2)))
    return h * c, c + h * np.exp(-0.5 * h * h) / np.sqrt(2 * np.pi)


def train(f, labels, weights, steps=1000, lr=1e-2, seed=0):
    """Rank-RANK adapters on both Gemms; W, b frozen. Returns {layer: (A, B)}."""
    rng = np.random.RandomState(seed)
    s = ALPHA / RANK
    W1, b1, W2, b2 = (weights[k].astype(np.float64) for k in
                      ("11.weight", "11.bias", "13.weight", "13.bias"))
    # PEFT's initialization: A uniform (Kaiming), B zero.
    bound1, bound2 = 1 / np.sqrt(W1.shape[1]), 1 / np.sqrt(W2.shape[1])
    params = {"A1": rng.uniform(-bound1, bound1, (RANK, W1.shape[1])),
              "B1": np.zeros((W1.shape[0], RANK)),
              "A2": rng.uniform(-bound2, bound2, (RANK, W2.shape[1])),
              "B2": np.zeros((W2.shape[0], RANK))}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(v) for k, v in params.items()}
    x = f.astype(np.float64)
    n = len(labels)
    onehot = np.eye(10)[labels]
    for t in range(1, steps + 1):
        p = params
        t1 = x @ p["A1"].T
        h = x @ W1.T + b1 + s * t1 @ p["B1"].T
        g, dg = gelu_and_grad(h)
        t2 = g @ p["A2"].T
        z = g @ W2.T + b2 + s * t2 @ p["B2"].T
        z -= z.max(1, keepdims=True)
        prob = np.exp(z)
        prob /= prob.sum(1, keepdims=True)
        dz = (prob - onehot) / n
        grads = {"B2": s * dz.T @ t2, "A2": s * (dz @ p["B2"]).T @ g}
        dgout = dz @ W2 + s * (dz @ p["B2"]) @ p["A2"]
        dh = dgout * dg
        grads["B1"] = s * dh.T @ t1
        grads["A1"] = s * (dh @ p["B1"]).T @ x
        for k in params:
            m[k] = 0.9 * m[k] + 0.1 * grads[k]
            v[k] = 0.999 * v[k] + 0.001 * grads[k] ** 2
            mh, vh = m[k] / (1 - 0.9 ** t), v[k] / (1 - 0.999 ** t)
            params[k] -= lr * mh / (np.sqrt(vh) + 1e-8)
    return {"11": (params["A1"].astype(np.float32), params["B1"].astype(np.float32)),
            "13": (params["A2"].astype(np.float32), params["B2"].astype(np.float32))}


def export_unmerged(adapters, path):
    """The base graph with each target Gemm as PEFT exports it unmerged."""
    m = onnx.load(BASE)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    nodes = []
    scaling = numpy_helper.from_array(np.array(ALPHA / RANK, np.float32),
                                      "lora_scaling")
    g.initializer.append(scaling)
    for node in g.node:
        layer = TARGETS.get(node.name)
        if layer is None:
            nodes.append(node)
            continue
        x, w, b = node.input
        y = node.output[0]
        pre = "/" + layer
        for old, new in ((w, layer + ".base_layer.weight"),
                         (b, layer + ".base_layer.bias")):
            inits[old].name = new
        A, B = adapters[layer]
        g.initializer.extend([
            numpy_helper.from_array(A, layer + ".lora_A.default.weight"),
            numpy_helper.from_array(B, layer + ".lora_B.default.weight")])
        nodes += [
            helper.make_node("Gemm", [x, layer + ".base_layer.weight",
                                      layer + ".base_layer.bias"],
                             [pre + "/base_layer/Gemm_output_0"],
                             name=pre + "/base_layer/Gemm", transB=1),
            helper.make_node("Gemm", [x, layer + ".lora_A.default.weight"],
                             [pre + "/lora_A/default/Gemm_output_0"],
                             name=pre + "/lora_A/default/Gemm", transB=1),
            helper.make_node("Gemm", [pre + "/lora_A/default/Gemm_output_0",
                                      layer + ".lora_B.default.weight"],
                             [pre + "/lora_B/default/Gemm_output_0"],
                             name=pre + "/lora_B/default/Gemm", transB=1),
            helper.make_node("Mul", [pre + "/lora_B/default/Gemm_output_0",
                                     "lora_scaling"],
                             [pre + "/Mul_output_0"], name=pre + "/Mul"),
            helper.make_node("Add", [pre + "/base_layer/Gemm_output_0",
                                     pre + "/Mul_output_0"], [y],
                             name=pre + "/Add")]
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path + ".tmp")
    os.replace(path + ".tmp", path)


def write_safetensors(tensors, path):
    """PEFT's adapter_model.safetensors: an 8-byte header length, a JSON
    header (dtype, shape, data_offsets per tensor), then the raw data."""
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as fh:
        fh.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(path + ".tmp", path)


def accuracy(model_path, data):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    y = s.run(None, {"image": data["image"]})[0]
    return float((y.argmax(1) == data["label"]).mean() * 100)


def cache_dir(shared):
    h = hashlib.sha256(open(os.path.abspath(__file__), "rb").read())
    h.update(open(BASE, "rb").read())
    h.update(str(os.path.getsize(os.path.join(shared, "data",
                                              "mnist_test.npz"))).encode())
    root = os.environ.get("LOWBIT_MODEL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache",
                                       "lowbit", "models"))
    return os.path.join(root, "digits-lora-" + h.hexdigest()[:16])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    args = ap.parse_args()
    mnist = os.path.join(args.shared, "data", "mnist_test.npz")
    if not os.path.exists(mnist):
        print("needs %s" % mnist, file=sys.stderr)
        return 2
    out = cache_dir(args.shared)
    files = ("digits_lora.onnx", "mnist8_train.npz", "mnist8_eval.npz",
             "adapter_model.safetensors", "adapter_config.json", "train.json")
    if all(os.path.exists(os.path.join(out, f)) for f in files):
        print(out)
        return 0
    os.makedirs(out, exist_ok=True)
    d = np.load(mnist)
    images, labels = to_digits8(d["image"]), d["label"].astype(np.int64)
    train_set = {"image": images[:5000], "label": labels[:5000]}
    eval_set = {"image": images[5000:], "label": labels[5000:]}
    weights = {i.name: numpy_helper.to_array(i)
               for i in onnx.load(BASE).graph.initializer}
    adapters = train(features(train_set["image"]), train_set["label"], weights)
    export_unmerged(adapters, os.path.join(out, "digits_lora.onnx"))
    for name, data in (("mnist8_train.npz", train_set),
                       ("mnist8_eval.npz", eval_set)):
        np.savez(os.path.join(out, name + ".tmp.npz"), **data)
        os.replace(os.path.join(out, name + ".tmp.npz"),
                   os.path.join(out, name))
    write_safetensors(
        {"base_model.model.%s.lora_%s.weight" % (layer, ab): t
         for layer, (A, B) in adapters.items()
         for ab, t in (("A", A), ("B", B))},
        os.path.join(out, "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "r": RANK, "lora_alpha": ALPHA,
              "target_modules": sorted(TARGETS.values()),
              "base_model_name_or_path": "examples/digits/digits_cnn.onnx"}
    with open(os.path.join(out, "adapter_config.json"), "w") as fh:
        json.dump(config, fh, indent=1)
    stats = {"base_eval_top1": accuracy(BASE, eval_set),
             "lora_eval_top1": accuracy(os.path.join(out, "digits_lora.onnx"),
                                        eval_set),
             "base_train_top1": accuracy(BASE, train_set),
             "lora_train_top1": accuracy(os.path.join(out, "digits_lora.onnx"),
                                         train_set),
             "rank": RANK, "alpha": ALPHA}
    with open(os.path.join(out, "train.json"), "w") as fh:
        json.dump(stats, fh, indent=1)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
