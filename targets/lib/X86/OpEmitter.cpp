//===- OpEmitter.cpp - C for each op of the lowered function ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Kernel calls for layers and the ops the runtime implements; views and
// fused values emit nothing.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace mlir::lowbit::x86 {

int64_t intAttr(OnnxNodeOp op, StringRef n, int64_t d) {
  return getIntAttr(op, n, d);
}
SmallVector<int64_t> intsAttr(OnnxNodeOp op, StringRef n) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(n)))
      return SmallVector<int64_t>(a.asArrayRef());
  return {};
}
std::optional<SmallVector<int64_t>> constInts(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  FailureOr<Tensor> t = tensorFromConstant(cst.getValue());
  if (failed(t))
    return std::nullopt;
  SmallVector<int64_t> out;
  for (int64_t i = 0; i < t->numel(); ++i)
    out.push_back(t->getInt(i));
  return out;
}

LogicalResult Emitter::emitOp(Operation *op) {
  if (isa<arith::ConstantOp, NoValueOp, func::ReturnOp, QWeightOp, LowRankOp>(
          op))
    return success();
  if (op->getNumResults() >= 1 &&
      (info[op->getResult(0)].kind == Kind::Alias ||
       info[op->getResult(0)].kind == Kind::Fused))
    return success();
  if (op->getNumResults() >= 1 && op->getResult(0).use_empty() &&
      info[op->getResult(0)].kind != Kind::Buffer)
    return success();
  std::string where = getNodeName(op);
  os << "  /* " << opTypeOf(op) << " " << where << " */\n";
  X86LayerReport report{where, opTypeOf(op).str(), 0, 0};
  if (op->getNumResults())
    if (auto t = tensorType(op->getResult(0)))
      report.outputBytes =
          t.getNumElements() * cTypeOf(t.getElementType())->bytes;

  if (QuantizeOp q = w8a8Input(op); q && isa<LinearOp>(op)) {
    auto linear = cast<LinearOp>(op);
    Value w = linear.getWeight();
    auto wt = cast<RankedTensorType>(w.getType());
    int64_t k = wt.getDimSize(1), n = wt.getDimSize(0);
    int64_t m = linear.getInput().getType().getNumElements() / k;
    auto uq = cast<quant::UniformQuantizedType>(
        getElementTypeOrSelf(q.getOutput().getType()));
    FailureOr<std::string> biasOr = biasPtr(op, linear.getBias());
    if (failed(biasOr))
      return failure();
    std::string bias = *biasOr;
    QWeightInfo qi = qweights.lookup(w);
    os << llvm::formatv(
        "  lowbit_k_qgemm_u8s8(ex, {0}, {1}, {2}, {3}, {4}, {5:e9}f, "
        "(const int8_t *)(W + {6}), (const int32_t *)(W + {7}), "
        "(const float *)(W + {8}), {9}, {10}, {1});\n",
        m, n, k, ptr(q.getOutput()), uq.getZeroPoint(), uq.getScale(),
        info[w].packedOffset, qi.colsumOffset, info[w].weightOffset, bias,
        ptr(linear.getResult()));
    report.kind = "linear w8a8";
    report.weightBytes = qi.bytes;
    artifact.layers.push_back(report);
    return success();
  }
  if (auto dq = dyn_cast<DequantizeOp>(op)) {
    // Not read as u8 by an integer layer (pooling, reshapes, outputs): the
    // interpreter's (q - zero point) * scale in double, rounded to f32.
    auto uq = dyn_cast<quant::UniformQuantizedType>(
        getElementTypeOrSelf(dq.getInput().getType()));
    if (!uq)
      return fail(op, "only per-tensor !quant.uniform activations");
    os << llvm::formatv(
        "  for (int64_t i = 0; i < {0}; ++i)\n"
        "    {1}[i] = (float)((double)((int32_t){2}[i] - {3}) * {4:e17});\n",
        dq.getInput().getType().getNumElements(), ptr(dq.getOutput()),
        ptr(dq.getInput()), uq.getZeroPoint(), uq.getScale());
    report.kind = "dequantize";
    artifact.layers.push_back(report);
    return success();
  }
  if (auto q = dyn_cast<QuantizeOp>(op)) {
    // The runtime's kernel (f32 division, round half to even, saturate: the
    // interpreter's semantics; generated code is built with fast-math, which
    // could turn the division into a reciprocal product).
    auto uq = dyn_cast<quant::UniformQuantizedType>(
        getElementTypeOrSelf(q.getOutput().getType()));
    if (!uq || uq.isSigned() || uq.getStorageTypeIntegralWidth() != 8 ||
        uq.getStorageTypeMin() != 0 || uq.getStorageTypeMax() != 255)
      return fail(op, "only per-tensor u8 !quant.uniform activations");
    int64_t numel = q.getInput().getType().getNumElements();
    os << llvm::formatv("  lowbit_k_quantize_u8(ex, {0}, {1}, {2:e9}f, {3}, "
                        "{4});\n",
                        numel, ptr(q.getInput()), float(uq.getScale()),
                        uq.getZeroPoint(), ptr(q.getOutput()));
    report.kind = "quantize";
    artifact.layers.push_back(report);
    return success();
  }
  if (auto linear = dyn_cast<LinearOp>(op);
      linear && linear.getWeight().getDefiningOp<LowRankOp>()) {
    // x·Wᵀ + (x·Rᵀ)·Lᵀ with the branch in the GEMM's epilogue. A chain of
    // branches named for adapters is switchable: the one ex->adapter
    // selects runs (or none).
    SmallVector<LowRankOp> chain;
    Value base = linear.getWeight();
    while (auto lr = base.getDefiningOp<LowRankOp>()) {
      chain.push_back(lr);
      base = lr.getWeight();
    }
    bool named = chain.front().getAdapterAttr() != nullptr;
    for (LowRankOp lr : chain)
      if ((lr.getAdapterAttr() != nullptr) != named || (!named && chain.size() > 1))
        return fail(op, "a layer with both a compensation branch and "
                        "switchable adapters is not supported yet");
    auto wt = cast<RankedTensorType>(base.getType());
    int64_t k = wt.getDimSize(1), n = wt.getDimSize(0);
    int64_t m = linear.getInput().getType().getNumElements() / k;
    FailureOr<std::string> biasOr = biasPtr(op, linear.getBias());
    if (failed(biasOr))
      return failure();
    // Each operand as f32 panels or a lowbit_qweight_t.
    int64_t bytes = 0;
    auto operand = [&](Value v, std::string q, std::string &f32,
                       std::string &quant) -> LogicalResult {
      if (qweights.count(v)) {
        os << "    const lowbit_qweight_t " << q << " = " << qweightInit(v)
           << ";\n";
        quant = "&" + q;
        f32 = "NULL";
        bytes += qweights.lookup(v).bytes;
        return success();
      }
      if (info[v].kind != Kind::Constant || info[v].packedOffset < 0)
        return fail(op, "a low-rank operand is not a compile-time constant");
      f32 = llvm::formatv("(const float *)(W + {0})", info[v].packedOffset);
      quant = "NULL";
      bytes += cast<ShapedType>(v.getType()).getNumElements() * 4;
      return success();
    };
    std::string wF, wQ;
    os << "  {\n";
    if (failed(operand(base, "qw", wF, wQ)))
      return failure();
    std::string select, ranks;
    for (auto [i, lr] : llvm::enumerate(chain)) {
      std::string lF, lQ, rF, rQ, id = std::to_string(i);
      int64_t rank = lr.getRight().getType().getDimSize(0);
      if (failed(operand(lr.getLeft(), "ql" + id, lF, lQ)) ||
          failed(operand(lr.getRight(), "qr" + id, rF, rQ)))
        return failure();
      os << llvm::formatv("    const lowbit_lowrank_t lr{0} = {{{1}, {2}, "
                          "{3}, {4}, {5}, (float *)(A + {6})};\n",
                          id, rank, rF, rQ, lF, lQ,
                          buffers[scratch.lookup(op)].offset);
      ranks += (i ? "," : "") + std::to_string(rank);
      if (!named)
        continue;
      auto it = llvm::find(adapterNames, lr.getAdapter()->str());
      if (it == adapterNames.end())
        return fail(op, "adapter '" + lr.getAdapter()->str() +
                            "' is not in the function's lowbit.adapters");
      select += llvm::formatv("ex->adapter == {0} ? &lr{1} : ",
                              it - adapterNames.begin() + 1, id);
    }
    os << "    const lowbit_lowrank_t *lr = "
       << (named ? select + "NULL" : std::string("&lr0")) << ";\n";
    os << llvm::formatv("    lowbit_k_sgemm_lowrank(ex, {0}, {1}, {2}, {3}, "
                        "{2}, {4}, {5}, lr, {6}, {7}, {1}, {8});\n  }\n",
                        m, n, k, ptr(linear.getInput()), wF, wQ, *biasOr,
                        ptr(linear.getResult()), fusedAct.lookup(op));
    std::string baseFormat = qweights.count(base)
                                 ? qweights.lookup(base).format
                                 : std::string("f32");
    report.kind = (llvm::Twine("linear ") + baseFormat +
                   (named ? "+adapters" : "+lowrank") + ranks +
                   (fusedAct.lookup(op) ? "+relu" : ""))
                      .str();
    report.weightBytes = bytes;
    artifact.layers.push_back(report);
    return success();
  }
  if (auto linear = dyn_cast<LinearOp>(op);
      linear && linear.getWeight().getDefiningOp<QWeightOp>()) {
    Value w = linear.getWeight();
    auto wt = cast<RankedTensorType>(w.getType());
    int64_t k = wt.getDimSize(1), n = wt.getDimSize(0);
    int64_t m = linear.getInput().getType().getNumElements() / k;
    FailureOr<std::string> biasOr = biasPtr(op, linear.getBias());
    if (failed(biasOr))
      return failure();
    std::string bias = *biasOr;
    QWeightInfo q = qweights.lookup(w);
    os << "  {\n    const lowbit_qweight_t q = " << qweightInit(w) << ";\n";
    os << llvm::formatv("    lowbit_k_sgemm_wq(ex, {0}, {1}, {2}, {3}, {2}, "
                        "&q, {4}, {5}, {1}, {6});\n  }\n",
                        m, n, k, ptr(linear.getInput()), bias,
                        ptr(linear.getResult()), fusedAct.lookup(op));
    report.kind = (llvm::Twine("linear ") + q.format +
                   (fusedAct.lookup(op) ? "+relu" : ""))
                      .str();
    report.weightBytes = q.bytes;
    artifact.layers.push_back(report);
    return success();
  }
  if (auto linear = dyn_cast<LinearOp>(op)) {
    Value w = linear.getWeight();
    if (info[w].kind != Kind::Constant || info[w].packedOffset < 0)
      return fail(op, "the weight is not a compile-time constant");
    auto xt = linear.getInput().getType();
    auto wt = cast<RankedTensorType>(w.getType());
    int64_t k = wt.getDimSize(1), n = wt.getDimSize(0);
    int64_t m = xt.getNumElements() / k;
    FailureOr<std::string> biasOr = biasPtr(op, linear.getBias());
    if (failed(biasOr))
      return failure();
    std::string bias = *biasOr;
    os << llvm::formatv("  lowbit_k_sgemm_packed(ex, {0}, {1}, {2}, {3}, {2}, "
                        "(const float *)(W + {4}), {5}, {6}, {1}, 1, {7});\n",
                        m, n, k, ptr(linear.getInput()), info[w].packedOffset,
                        bias, ptr(linear.getResult()), fusedAct.lookup(op));
    report.kind = fusedAct.lookup(op) ? "linear+relu" : "linear";
    report.weightBytes = wt.getNumElements() * 4;
    artifact.layers.push_back(report);
    return success();
  }
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    Value w = conv.getWeight();
    bool quantized = qweights.count(w);
    // Depthwise f32 filters are a plain copy, everything else panels.
    bool plainDepthwise = isDepthwise(op) && !quantized;
    if (info[w].kind != Kind::Constant ||
        (plainDepthwise ? info[w].weightOffset : info[w].packedOffset) < 0)
      return fail(op, "the weight is not a compile-time constant");
    auto xt = conv.getInput().getType();
    auto wt = cast<RankedTensorType>(w.getType());
    auto yt = conv.getOutput().getType();
    ArrayRef<int64_t> s = conv.getStrides(), p = conv.getPadding(),
                      dl = conv.getDilations();
    std::string params = llvm::formatv(
        "{{{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, "
        "{13}, {14}, {15}, {16}}",
        xt.getDimSize(0), xt.getDimSize(1), xt.getDimSize(2), xt.getDimSize(3),
        wt.getDimSize(0), yt.getDimSize(2), yt.getDimSize(3), wt.getDimSize(2),
        wt.getDimSize(3), s[0], s[1], p[0], p[1], dl[0], dl[1],
        conv.getGroups(), fusedAct.lookup(op));
    FailureOr<std::string> biasOr = biasPtr(op, conv.getBias());
    if (failed(biasOr))
      return failure();
    std::string bias = *biasOr;
    os << "  {\n    static const lowbit_conv2d_params_t p = " << params
       << ";\n";
    if (isDepthwise(op)) {
      std::string w8 = "NULL", wq = "NULL";
      if (quantized) {
        if (!qweights.lookup(w).rows)
          return fail(op, "the quantized filters are shared with a layer");
        os << "    const lowbit_qweight_t q = " << qweightInit(w) << ";\n";
        wq = "&q";
      } else {
        w8 = ptr(w);
      }
      os << llvm::formatv("    lowbit_k_depthwise2d(ex, &p, {0}, {1}, {2}, {3}, "
                          "{4});\n  }\n",
                          ptr(conv.getInput()), w8, wq, bias,
                          ptr(conv.getOutput()));
      report.kind = (llvm::Twine("depthwise2d") +
                     (quantized ? " " + qweights.lookup(w).format : "") +
                     (fusedAct.lookup(op) ? "+relu" : ""))
                        .str();
      report.weightBytes = quantized ? qweights.lookup(w).bytes
                                     : wt.getNumElements() * 4;
    } else if (QuantizeOp q = w8a8Input(op)) {
      auto uq = cast<quant::UniformQuantizedType>(
          getElementTypeOrSelf(q.getOutput().getType()));
      QWeightInfo qi = qweights.lookup(w);
      os << llvm::formatv(
          "    lowbit_k_conv2d_u8s8(ex, &p, {0}, {1}, {2:e9}f, (const int8_t "
          "*)(W + {3}), (const int32_t *)(W + {4}), (const float *)(W + "
          "{5}), {6}, {7}, (float *)(A + {8}));\n  }\n",
          ptr(q.getOutput()), uq.getZeroPoint(), uq.getScale(),
          info[w].packedOffset, qi.colsumOffset, info[w].weightOffset, bias,
          ptr(conv.getOutput()), buffers[scratch.lookup(op)].offset);
      report.kind = fusedAct.lookup(op) ? "conv2d w8a8+relu" : "conv2d w8a8";
      report.weightBytes = qi.bytes;
    } else if (quantized) {
      QWeightInfo q = qweights.lookup(w);
      os << "    const lowbit_qweight_t q = " << qweightInit(w) << ";\n";
      os << llvm::formatv("    lowbit_k_conv2d_wq(ex, &p, {0}, &q, {1}, {2}, "
                          "(float *)(A + {3}));\n  }\n",
                          ptr(conv.getInput()), bias, ptr(conv.getOutput()),
                          buffers[scratch.lookup(op)].offset);
      report.kind = (llvm::Twine("conv2d ") + q.format +
                     (fusedAct.lookup(op) ? "+relu" : ""))
                        .str();
      report.weightBytes = q.bytes;
    } else {
      os << llvm::formatv("    lowbit_k_conv2d(ex, &p, {0}, (const float *)(W "
                          "+ {1}), {2}, {3}, (float *)(A + {4}));\n  }\n",
                          ptr(conv.getInput()), info[w].packedOffset, bias,
                          ptr(conv.getOutput()),
                          buffers[scratch.lookup(op)].offset);
      report.kind = fusedAct.lookup(op) ? "conv2d+relu" : "conv2d";
      report.weightBytes = wt.getNumElements() * 4;
    }
    artifact.layers.push_back(report);
    return success();
  }
  auto node = dyn_cast<OnnxNodeOp>(op);
  if (!node)
    return fail(op, "not an ONNX node or layer op");
  StringRef type = node.getOpType();
  if (elementwiseOps().contains(type)) {
    int fused = 0;
    std::function<void(Value)> count = [&](Value v) {
      if (info[rootOf(v)].kind == Kind::Fused) {
        ++fused;
        for (Value in : rootOf(v).getDefiningOp()->getOperands())
          count(in);
      }
    };
    for (Value in : op->getOperands())
      count(in);
    report.kind = fused ? "elementwise(" + std::to_string(fused + 1) +
                              " ops fused)"
                        : "elementwise";
    artifact.layers.push_back(report);
    return emitElementwise(op);
  }
  auto inT = [&](unsigned i) { return tensorType(node.getInputs()[i]); };
  auto outT = tensorType(node.getResult(0));
  artifact.layers.push_back(report);
  if (type == "MatMul") {
    auto a = inT(0), b = inT(1);
    if (!a || !b || a.getRank() < 2 || b.getRank() < 2 ||
        !a.getElementType().isF32())
      return fail(op, "needs f32 operands of rank >= 2");
    int64_t m = a.getDimSize(a.getRank() - 2), k = a.getDimSize(a.getRank() - 1),
            n = b.getDimSize(b.getRank() - 1);
    ArrayRef<int64_t> outShape = outT.getShape();
    SmallVector<int64_t> batch(outShape.drop_back(2));
    int64_t nb = 1;
    for (int64_t d : batch)
      nb *= d;
    // Element strides of each operand (a folded Transpose is a strided
    // view), then each batch item's start offset with broadcasting.
    auto stridesOf = [&](Value v) {
      if (!info[v].strides.empty())
        return info[v].strides;
      auto t = tensorType(v);
      SmallVector<int64_t> st(t.getRank(), 1);
      for (int64_t d = t.getRank() - 2; d >= 0; --d)
        st[d] = st[d + 1] * t.getDimSize(d + 1);
      return st;
    };
    auto batchOffsets = [&](Value v) {
      auto t = tensorType(v);
      SmallVector<int64_t> st = stridesOf(v);
      int64_t lead = batch.size() - (t.getRank() - 2);
      std::vector<int64_t> offs(nb);
      for (int64_t i = 0; i < nb; ++i) {
        int64_t rem = i, off = 0;
        for (int64_t d = batch.size() - 1; d >= 0; --d) {
          int64_t id = rem % batch[d];
          rem /= batch[d];
          int64_t sd = d - lead;
          if (sd >= 0 && t.getDimSize(sd) != 1)
            off += id * st[sd];
        }
        offs[i] = off;
      }
      return offs;
    };
    Value av = node.getInputs()[0], bv = node.getInputs()[1];
    SmallVector<int64_t> sa = stridesOf(av), sb = stridesOf(bv);
    std::vector<int64_t> oa = batchOffsets(av), ob = batchOffsets(bv);
    int64_t lda = sa[sa.size() - 2], brs = sb[sb.size() - 2],
            bcs = sb[sb.size() - 1];
    auto uniform = [&](const std::vector<int64_t> &o, int64_t step) {
      for (int64_t i = 0; i < nb; ++i)
        if (o[i] != i * step)
          return false;
      return true;
    };
    std::string aOff = "NULL", bOff = "NULL";
    os << "  {\n";
    if (!uniform(oa, m * k)) {
      os << "    static const int64_t oa[] = {";
      for (int64_t i = 0; i < nb; ++i)
        os << (i ? ", " : "") << oa[i];
      os << "};\n";
      aOff = "oa";
    }
    if (!uniform(ob, k * n)) {
      os << "    static const int64_t ob[] = {";
      for (int64_t i = 0; i < nb; ++i)
        os << (i ? ", " : "") << ob[i];
      os << "};\n";
      bOff = "ob";
    }
    os << llvm::formatv("    lowbit_k_sgemm_batched(ex, {0}, {1}, {2}, {3}, "
                        "{4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, "
                        "{14}, (float *)(A + {15}));\n  }\n",
                        nb, m, n, k, ptr(av), aOff, m * k, lda, ptr(bv), bOff,
                        k * n, brs, bcs, ptr(node.getResult(0)), m * n,
                        buffers[scratch.lookup(op)].offset);
    artifact.layers.back().kind = "matmul";
    return success();
  }
  if (type == "Softmax" || type == "LogSoftmax") {
    auto t = inT(0);
    int64_t rank = t.getRank();
    int64_t axis = intAttr(node, "axis", node.getOpset() < 13 ? 1 : -1);
    if (axis < 0)
      axis += rank;
    int64_t outer = 1, len = 1, inner = 1;
    for (int64_t d = 0; d < axis; ++d)
      outer *= t.getDimSize(d);
    if (node.getOpset() < 13) {
      len = t.getNumElements() / std::max<int64_t>(outer, 1);
    } else {
      len = t.getDimSize(axis);
      for (int64_t d = axis + 1; d < rank; ++d)
        inner *= t.getDimSize(d);
    }
    os << llvm::formatv("  lowbit_k_softmax(ex, {0}, {1}, {2}, {3}, {4}, "
                        "{5});\n",
                        outer, len, inner, ptr(node.getInputs()[0]),
                        ptr(node.getResult(0)), type == "Softmax" ? 0 : 1);
    return success();
  }
  if (type == "LayerNormalization") {
    auto t = inT(0);
    int64_t axis = intAttr(node, "axis", -1);
    if (axis < 0)
      axis += t.getRank();
    int64_t rows = 1;
    for (int64_t d = 0; d < axis; ++d)
      rows *= t.getDimSize(d);
    int64_t len = t.getNumElements() / std::max<int64_t>(rows, 1);
    Value scale = node.getInputs()[1];
    if (tensorType(scale).getNumElements() != len ||
        (node.getInputs().size() > 2 &&
         !isa<NoneType>(node.getInputs()[2].getType()) &&
         tensorType(node.getInputs()[2]).getNumElements() != len))
      return fail(op, "scale and bias must cover the normalized shape");
    for (unsigned i = 1; i < node.getNumResults(); ++i)
      if (!node.getResult(i).use_empty())
        return fail(op, "Mean/InvStdDev outputs are not supported");
    std::string bias = node.getInputs().size() > 2 &&
                               !isa<NoneType>(node.getInputs()[2].getType())
                           ? ptr(node.getInputs()[2])
                           : "NULL";
    float eps = 1e-5f;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get("epsilon")))
        eps = a.getValueAsDouble();
    os << llvm::formatv("  lowbit_k_layernorm(ex, {0}, {1}, {2}, {3}, {4}, "
                        "{5:e9}f, {6});\n",
                        rows, len, ptr(node.getInputs()[0]), ptr(scale), bias,
                        eps, ptr(node.getResult(0)));
    return success();
  }
  if (type == "Gather") {
    auto data = inT(0), indices = inT(1);
    int64_t axis = intAttr(node, "axis", 0);
    if (axis < 0)
      axis += data.getRank();
    if (axis != 0 || !indices.getElementType().isInteger(64))
      return fail(op, "only axis 0 with int64 indices");
    if (Value table = node.getInputs()[0]; qweights.count(table)) {
      if (!qweights.lookup(table).rows)
        return fail(op, "the quantized table is also a layer weight");
      // A quantized embedding table ("FORMAT-rows"): decode the rows read.
      os << "  {\n    const lowbit_qweight_t q = " << qweightInit(table)
         << ";\n";
      os << llvm::formatv("    if (lowbit_k_gather_rows_q({0}, {1}, &q, {2}, "
                          "{3}, {4}) != LOWBIT_OK)\n      return {5};\n  }\n",
                          data.getDimSize(0), data.getDimSize(1),
                          indices.getNumElements(), ptr(node.getInputs()[1]),
                          ptr(node.getResult(0)),
                          indexError(op, data.getDimSize(0)));
      return success();
    }
    int64_t rowBytes = data.getNumElements() / data.getDimSize(0) *
                       cTypeOf(data.getElementType())->bytes;
    os << llvm::formatv("  if (lowbit_k_gather_rows({0}, {1}, {2}, {3}, {4}, "
                        "{5}) != LOWBIT_OK)\n    return {6};\n",
                        data.getDimSize(0), rowBytes, ptr(node.getInputs()[0]),
                        indices.getNumElements(), ptr(node.getInputs()[1]),
                        ptr(node.getResult(0)),
                        indexError(op, data.getDimSize(0)));
    return success();
  }
  if (type == "Transpose") {
    auto t = inT(0);
    SmallVector<int64_t> perm = intsAttr(node, "perm");
    int64_t rank = t.getRank();
    if (perm.empty())
      for (int64_t d = rank - 1; d >= 0; --d)
        perm.push_back(d);
    SmallVector<int64_t> inStrides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      inStrides[d] = inStrides[d + 1] * t.getDimSize(d + 1);
    os << "  {\n    int64_t o = 0;\n";
    std::string off;
    for (int64_t d = 0; d < rank; ++d) {
      os << std::string(4 + 2 * d, ' ') << "for (int64_t i" << d << " = 0; i"
         << d << " < " << t.getDimSize(perm[d]) << "; ++i" << d << ")\n";
      off += (d ? " + " : "") + ("i" + std::to_string(d)) + " * " +
             std::to_string(inStrides[perm[d]]);
    }
    os << std::string(4 + 2 * rank, ' ') << ptr(node.getResult(0))
       << "[o++] = " << ptr(node.getInputs()[0]) << "[" << off << "];\n  }\n";
    return success();
  }
  if (type == "MaxPool" || type == "AveragePool" ||
      type == "GlobalAveragePool" || type == "GlobalMaxPool") {
    auto t = inT(0);
    if (t.getRank() != 4 || !t.getElementType().isF32())
      return fail(op, "only 2-D f32 pooling");
    if (node.getNumResults() > 1 && !node.getResult(1).use_empty())
      return fail(op, "MaxPool indices are not supported");
    int64_t h = t.getDimSize(2), w = t.getDimSize(3);
    bool global = type.starts_with("Global");
    SmallVector<int64_t> k = global ? SmallVector<int64_t>{h, w}
                                    : intsAttr(node, "kernel_shape");
    SmallVector<int64_t> s = intsAttr(node, "strides"),
                         d = intsAttr(node, "dilations"),
                         p = intsAttr(node, "pads");
    if (s.empty())
      s = {1, 1};
    if (d.empty())
      d = {1, 1};
    if (p.empty())
      p = {0, 0, 0, 0};
    std::string autoPad = "NOTSET";
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<StringAttr>(attrs.get("auto_pad")))
        autoPad = a.str();
    if (autoPad != "NOTSET" && autoPad != "VALID")
      return fail(op, "auto_pad " + autoPad);
    if (autoPad == "VALID")
      p = {0, 0, 0, 0};
    int kind = type.contains("Max") ? 0
               : intAttr(node, "count_include_pad", 0) ? 2
                                                        : 1;
    os << llvm::formatv(
        "  {\n    static const lowbit_pool2d_params_t p = {{{0}, {1}, {2}, "
        "{3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}, {13}, {14}, "
        "{15}};\n    lowbit_k_pool2d(ex, &p, {16}, {17});\n  }\n",
        t.getDimSize(0) * t.getDimSize(1), h, w, outT.getDimSize(2),
        outT.getDimSize(3), k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3],
        d[0], d[1], kind, ptr(node.getInputs()[0]), ptr(node.getResult(0)));
    return success();
  }
  if (type.starts_with("Reduce")) {
    auto t = inT(0);
    if (!t.getElementType().isF32())
      return fail(op, "only f32 reductions");
    SmallVector<int64_t> axes;
    bool axesInput = node.getOpset() >= (type == "ReduceSum" ? 13 : 18);
    if (axesInput) {
      if (node.getInputs().size() > 1 &&
          !isa<NoneType>(node.getInputs()[1].getType())) {
        std::optional<SmallVector<int64_t>> c = constInts(node.getInputs()[1]);
        if (!c)
          return fail(op, "axes must be constant");
        axes = *c;
      }
    } else {
      axes = intsAttr(node, "axes");
    }
    int64_t rank = t.getRank();
    std::vector<bool> red(rank, axes.empty());
    for (int64_t a : axes)
      red[a < 0 ? a + rank : a] = true;
    std::string init = "0.0f", acc = "s += v;", fin = "s";
    if (type == "ReduceMax")
      init = "-FLT_MAX", acc = "s = v > s ? v : s;";
    else if (type == "ReduceMin")
      init = "FLT_MAX", acc = "s = v < s ? v : s;";
    else if (type == "ReduceL2")
      acc = "s += v * v;", fin = "sqrtf(s)";
    else if (type == "ReduceSumSquare")
      acc = "s += v * v;";
    else if (type == "ReduceL1")
      acc = "s += fabsf(v);";
    else if (type == "ReduceMean")
      fin = "s / (float)count";
    else if (type != "ReduceSum")
      return fail(op, "this reduction");
    SmallVector<int64_t> strides(rank, 1);
    for (int64_t d = rank - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * t.getDimSize(d + 1);
    int64_t count = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (red[d])
        count *= t.getDimSize(d);
    os << "  {\n    const int64_t count = " << count << ";\n    int64_t o = 0;\n";
    std::string off;
    int depth = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (!red[d]) {
        os << std::string(4 + 2 * depth++, ' ') << "for (int64_t i" << d
           << " = 0; i" << d << " < " << t.getDimSize(d) << "; ++i" << d
           << ")\n";
      }
    std::string ind(4 + 2 * depth, ' ');
    os << ind << "{\n" << ind << "  float s = " << init << ";\n";
    int inner = 0;
    for (int64_t d = 0; d < rank; ++d)
      if (red[d])
        os << ind << std::string(2 + 2 * inner++, ' ') << "for (int64_t i"
           << d << " = 0; i" << d << " < " << t.getDimSize(d) << "; ++i" << d
           << ")\n";
    for (int64_t d = 0; d < rank; ++d)
      off += (d ? " + " : "") + ("i" + std::to_string(d)) + " * " +
             std::to_string(strides[d]);
    os << ind << std::string(2 + 2 * inner, ' ') << "{ float v = "
       << ptr(node.getInputs()[0]) << "[" << (rank ? off : "0") << "]; "
       << acc << " }\n";
    os << ind << "  " << ptr(node.getResult(0)) << "[o++] = " << fin << ";\n"
       << ind << "}\n  }\n  (void)0;\n";
    return success();
  }
  if (type == "Concat") {
    int64_t axis = intAttr(node, "axis", 0);
    int64_t rank = outT.getRank();
    if (axis < 0)
      axis += rank;
    int64_t outer = 1, innerOut = cTypeOf(outT.getElementType())->bytes;
    for (int64_t d = 0; d < axis; ++d)
      outer *= outT.getDimSize(d);
    for (int64_t d = axis; d < rank; ++d)
      innerOut *= outT.getDimSize(d);
    int64_t offset = 0;
    for (Value in : node.getInputs()) {
      auto it = tensorType(in);
      int64_t chunk = it.getNumElements() / std::max<int64_t>(outer, 1) *
                      cTypeOf(it.getElementType())->bytes;
      os << llvm::formatv("  for (int64_t o = 0; o < {0}; ++o)\n    "
                          "memcpy((char *){1} + o * {2} + {3}, (const char *){4}"
                          " + o * {5}, {5});\n",
                          outer, ptr(node.getResult(0)), innerOut, offset,
                          ptr(in), chunk);
      offset += chunk;
    }
    return success();
  }
  return fail(op, "no x86 lowering for this op yet");
}

LogicalResult Emitter::emitBody() {
  for (Operation *op : ops)
    if (failed(emitOp(op)))
      return failure();
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto t = tensorType(v);
    int64_t bytes = t.getNumElements() * cTypeOf(t.getElementType())->bytes;
    os << "  memcpy(outputs[" << i << "], " << ptr(v) << ", " << bytes
       << ");\n";
  }
  return success();
}

} // namespace mlir::lowbit::x86
