#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Writes the small PEFT-layout adapters lora-errors.test feeds to lowbit
compile (for examples/digits/digits_cnn.onnx: Gemm weights 11 [64, 64] and
13 [10, 64]), each broken in one way, into the folder given."""
import json
import os
import struct
import sys

import numpy as np


def safetensors(path, tensors, cut=0):
    header, blob, off = {}, b"", 0
    for name, a in tensors.items():
        data = np.ascontiguousarray(a, np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [off, off + len(data)]}
        blob += data
        off += len(data)
    text = json.dumps(header).encode()
    raw = struct.pack("<Q", len(text)) + text + blob
    with open(path, "wb") as f:
        f.write(raw[:len(raw) - cut])


def adapter(folder, tensors, config=None, cut=0):
    os.makedirs(folder, exist_ok=True)
    safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors,
                cut)
    if config is not None:
        with open(os.path.join(folder, "adapter_config.json"), "w") as f:
            json.dump(config, f)


def main():
    out = sys.argv[1]
    r = np.random.RandomState(0)
    a = lambda *s: r.randn(*s).astype(np.float32) * 0.1
    key = "base_model.model.%s.lora_%s.weight"
    good = {key % ("11", "A"): a(2, 64), key % ("11", "B"): a(64, 2)}
    adapter(os.path.join(out, "good"), good, {"r": 2, "lora_alpha": 4})
    # An update ~20x the base weight's norm (digits_cnn's /11/Gemm).
    adapter(os.path.join(out, "big"),
            {key % ("11", "A"): a(2, 64) * 30, key % ("11", "B"): a(64, 2) * 30},
            {"r": 2, "lora_alpha": 2})
    adapter(os.path.join(out, "unmatched"),
            {**good, key % ("encoder.query", "A"): a(2, 64),
             key % ("encoder.query", "B"): a(64, 2)})
    adapter(os.path.join(out, "shape"),
            {key % ("13", "A"): a(2, 32), key % ("13", "B"): a(10, 2)})
    adapter(os.path.join(out, "half"), {key % ("11", "A"): a(2, 64)})
    adapter(os.path.join(out, "rank"), good, {"r": 8, "lora_alpha": 16})
    adapter(os.path.join(out, "truncated"), good, cut=100)
    adapter(os.path.join(out, "embedding"),
            {**good, "base_model.model.emb.lora_embedding_A": a(2, 64)})


if __name__ == "__main__":
    main()
