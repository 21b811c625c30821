//===- OnnxToLowbit.cpp - ONNX layers -> lowbit layer ops ---------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Semantics of imported nodes live here, one handler per (op type, first
// opset it applies to), as the importer stays structural. A handler that
// does not apply leaves the node alone: every onnx_node keeps its ONNX
// meaning, so a partial conversion is always correct.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/Passes.h"

#include "lowbit/Conversion/QdqWeights.h"
#include "lowbit/Quant/Formats.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_CONVERTONNXTOLOWBITPASS
#include "lowbit/Conversion/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

using Handler = LogicalResult (*)(OnnxNodeOp, PatternRewriter &);

/// One conversion: applies to `opType` from opset `sinceVersion` on (until
/// a handler with a higher sinceVersion takes over).
struct OnnxHandler {
  StringRef opType;
  int64_t sinceVersion;
  Handler handler;
};

int64_t intAttr(OnnxNodeOp op, StringRef name, int64_t dflt) {
  return getIntAttr(op, name, dflt);
}

double floatAttr(OnnxNodeOp op, StringRef name, double dflt) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get(name)))
      return a.getValueAsDouble();
  return dflt;
}

std::optional<SmallVector<int64_t>> intsAttr(OnnxNodeOp op, StringRef name) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(name)))
      return SmallVector<int64_t>(a.asArrayRef());
  return std::nullopt;
}

StringRef stringAttr(OnnxNodeOp op, StringRef name, StringRef dflt) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<StringAttr>(attrs.get(name)))
      return a.getValue();
  return dflt;
}

RankedTensorType f32Tensor(Value v, int64_t rank = -1) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.getElementType().isF32() || (rank >= 0 && t.getRank() != rank))
    return nullptr;
  return t;
}

bool isAbsent(OnnxNodeOp op, unsigned i) {
  return i >= op.getInputs().size() ||
         isa<NoneType>(op.getInputs()[i].getType());
}

/// [K, N] row-major -> [N, K], scaled.
SmallVector<float> transposeScaled(ArrayRef<float> b, int64_t k, int64_t n,
                                   float scale) {
  SmallVector<float> w(n * k);
  for (int64_t r = 0; r < k; ++r)
    for (int64_t c = 0; c < n; ++c)
      w[c * k + r] = b[r * n + c] * scale;
  return w;
}

/// Replaces `op` with a linear op when its inferred type is exactly the
/// node's result type (otherwise users would see a different type).
LogicalResult replaceWithLinear(OnnxNodeOp op, PatternRewriter &rewriter,
                                Value input, Value weight, Value bias) {
  SmallVector<Type> inferred;
  SmallVector<Value> operands = {input, weight};
  if (bias)
    operands.push_back(bias);
  if (failed(LinearOp::inferReturnTypes(op.getContext(), op.getLoc(), operands,
                                        nullptr, OpaqueProperties(nullptr), {},
                                        inferred)) ||
      inferred.front() != op.getResult(0).getType())
    return rewriter.notifyMatchFailure(op, "result type would change");
  rewriter.replaceOpWithNewOp<LinearOp>(op, op.getResult(0).getType(), input,
                                        weight, bias);
  return success();
}

/// Name for a rewritten weight's resource blob: the node's name.
std::string weightName(OnnxNodeOp op, StringRef suffix) {
  std::string name = "weight";
  if (auto loc = dyn_cast<NameLoc>(op.getLoc()))
    name = loc.getName().str();
  return name + suffix.str();
}

/// The int8 weight of a QDQ model as a lowbit.qweight of `type` (int8, one
/// scale per output channel), or null when operand 1 is not one.
Value qdqWeight(OnnxNodeOp op, PatternRewriter &rewriter,
                RankedTensorType type) {
  std::optional<Int8Weight> w = readQdqWeight(op, 1);
  if (!w)
    return Value();
  QuantizedMatrix q;
  q.rows = w->rows;
  q.cols = w->cols;
  q.groupSize = w->cols;
  q.groupsPerRow = 1;
  q.codes.assign(reinterpret_cast<const uint8_t *>(w->codes.data()),
                 reinterpret_cast<const uint8_t *>(w->codes.data()) +
                     w->codes.size());
  q.scales.assign(w->scales.begin(), w->scales.end());
  return createQWeight(rewriter, op.getLoc(), type, QuantFormat::Int8, q);
}

LogicalResult convertGemm(OnnxNodeOp op, PatternRewriter &rewriter) {
  if (op.getNumResults() != 1 || op.getInputs().size() < 2)
    return failure();
  Value a = op.getInputs()[0], b = op.getInputs()[1];
  auto bType = f32Tensor(b, 2);
  if (!f32Tensor(a, 2) || !bType || !bType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "needs rank-2 f32 A and B");
  if (intAttr(op, "transA", 0) != 0)
    return rewriter.notifyMatchFailure(op, "transA is not supported");
  bool transB = intAttr(op, "transB", 0);
  bool int8Weight = readQdqWeight(op, 1).has_value();
  std::optional<SmallVector<float>> bValues = readF32Constant(b);
  if (!bValues && !int8Weight)
    return rewriter.notifyMatchFailure(op, "B is not a constant");
  float alpha = static_cast<float>(floatAttr(op, "alpha", 1.0));
  float beta = static_cast<float>(floatAttr(op, "beta", 1.0));
  int64_t n = transB ? bType.getDimSize(0) : bType.getDimSize(1);
  int64_t k = transB ? bType.getDimSize(1) : bType.getDimSize(0);

  Value bias;
  if (!isAbsent(op, 2) && beta != 0.0f) {
    Value c = op.getInputs()[2];
    auto cType = f32Tensor(c);
    if (!cType || !cType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "C must be a static f32 tensor");
    std::optional<SmallVector<float>> cValues = readF32Constant(c);
    if (cType.getRank() == 1 && cType.getDimSize(0) == n && beta == 1.0f) {
      bias = c;
    } else if (cValues && (cType.getNumElements() == n ||
                           cType.getNumElements() == 1) &&
               (cType.getRank() < 2 || cType.getDimSize(0) == 1)) {
      // A row vector or scalar broadcast over M: fold into an [N] bias.
      SmallVector<float> values(n);
      for (int64_t i = 0; i < n; ++i)
        values[i] = beta * (*cValues)[cValues->size() == 1 ? 0 : i];
      bias = makeF32Constant(rewriter, op.getLoc(),
                             RankedTensorType::get({n}, rewriter.getF32Type()),
                             values, weightName(op, ".bias"));
    } else {
      return rewriter.notifyMatchFailure(op, "C is not a per-column bias");
    }
  }
  Value weight = b;
  if (int8Weight) {
    // Created last: a failed match must leave the IR untouched. Alpha is
    // in the scales.
    weight = qdqWeight(op, rewriter,
                       RankedTensorType::get({n, k}, rewriter.getF32Type()));
  } else if (!transB || alpha != 1.0f) {
    SmallVector<float> w =
        transB ? SmallVector<float>(*bValues)
               : transposeScaled(*bValues, k, n, 1.0f);
    if (alpha != 1.0f)
      for (float &x : w)
        x *= alpha;
    weight = makeF32Constant(rewriter, op.getLoc(),
                             RankedTensorType::get({n, k}, rewriter.getF32Type()),
                             w, weightName(op, ".weight"));
  }
  return replaceWithLinear(op, rewriter, a, weight, bias);
}

LogicalResult convertMatMul(OnnxNodeOp op, PatternRewriter &rewriter) {
  if (op.getNumResults() != 1 || op.getInputs().size() != 2)
    return failure();
  Value a = op.getInputs()[0], b = op.getInputs()[1];
  auto aType = f32Tensor(a);
  auto bType = f32Tensor(b, 2);
  if (!aType || aType.getRank() < 1 || !bType || !bType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "needs f32 A and a 2-D f32 B");
  int64_t k = bType.getDimSize(0), n = bType.getDimSize(1);
  if (Value w = qdqWeight(op, rewriter,
                          RankedTensorType::get({n, k}, rewriter.getF32Type())))
    return replaceWithLinear(op, rewriter, a, w, Value());
  std::optional<SmallVector<float>> bValues = readF32Constant(b);
  if (!bValues)
    return rewriter.notifyMatchFailure(op, "B is not a constant");
  Value weight = makeF32Constant(
      rewriter, op.getLoc(), RankedTensorType::get({n, k}, rewriter.getF32Type()),
      transposeScaled(*bValues, k, n, 1.0f), weightName(op, ".weight"));
  return replaceWithLinear(op, rewriter, a, weight, Value());
}

LogicalResult convertConv(OnnxNodeOp op, PatternRewriter &rewriter) {
  if (op.getNumResults() != 1 || op.getInputs().size() < 2)
    return failure();
  Value x = op.getInputs()[0], w = op.getInputs()[1];
  auto xType = f32Tensor(x, 4);
  auto wType = f32Tensor(w, 4);
  if (!xType || !wType)
    return rewriter.notifyMatchFailure(op, "needs 4-D f32 X and W");
  Value bias;
  if (!isAbsent(op, 2)) {
    bias = op.getInputs()[2];
    if (!f32Tensor(bias, 1))
      return rewriter.notifyMatchFailure(op, "B must be a 1-D f32 tensor");
  }
  SmallVector<int64_t> strides = intsAttr(op, "strides").value_or(
      SmallVector<int64_t>{1, 1});
  SmallVector<int64_t> dilations = intsAttr(op, "dilations").value_or(
      SmallVector<int64_t>{1, 1});
  SmallVector<int64_t> pads = intsAttr(op, "pads").value_or(
      SmallVector<int64_t>{0, 0, 0, 0});
  if (std::optional<SmallVector<int64_t>> ks = intsAttr(op, "kernel_shape"))
    if (*ks != ArrayRef<int64_t>(wType.getShape().drop_front(2)))
      return rewriter.notifyMatchFailure(op, "kernel_shape does not match W");
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4)
    return rewriter.notifyMatchFailure(op, "not a 2-D convolution");
  StringRef autoPad = stringAttr(op, "auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads = {0, 0, 0, 0};
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      int64_t in = xType.getDimSize(2 + i), k = wType.getDimSize(2 + i);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k))
        return rewriter.notifyMatchFailure(op, "SAME padding on dynamic size");
      int64_t out = (in + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * strides[i] + dilations[i] * (k - 1) + 1 - in);
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[2 + i] = total - pads[i];
    }
  } else if (autoPad != "NOTSET") {
    return rewriter.notifyMatchFailure(op, "unknown auto_pad");
  }
  int64_t groups = intAttr(op, "group", 1);
  if (Value q = qdqWeight(op, rewriter, wType))
    w = q;
  auto conv = Conv2DOp::create(
      rewriter, op.getLoc(), x, w, bias, rewriter.getDenseI64ArrayAttr(strides),
      rewriter.getDenseI64ArrayAttr(pads),
      rewriter.getDenseI64ArrayAttr(dilations),
      rewriter.getI64IntegerAttr(groups));
  if (conv.getType() != op.getResult(0).getType() ||
      failed(mlir::verify(conv, /*verifyRecursively=*/false))) {
    rewriter.eraseOp(conv);
    return rewriter.notifyMatchFailure(op, "result type would change");
  }
  rewriter.replaceOp(op, conv.getResult());
  return success();
}

LogicalResult convertConstant(OnnxNodeOp op, PatternRewriter &rewriter) {
  auto attrs = op.getAttrsAttr();
  auto value = attrs ? dyn_cast_or_null<TypedAttr>(attrs.get("value")) : nullptr;
  if (!value || op.getNumResults() != 1 ||
      value.getType() != op.getResult(0).getType())
    return rewriter.notifyMatchFailure(op, "no tensor value of the result type");
  rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
  return success();
}

/// com.microsoft MatMulNBits (B of `bits` 2..8 bits, block-quantized along
/// K) becomes lowbit.linear on a lowbit.qweight grouped by block_size, so
/// the compiled package keeps the packed weights. Code v stands for
/// (v - z) * scale. Without zero points (z = 2^(bits-1), ORT's symmetric
/// mode) or when every zero point is that midpoint, the weight is the
/// symmetric intB code v ^ 2^(bits-1) (two's complement of v - z); other
/// integer zero points make an affine uintB weight. Float zero points and
/// g_idx stay an onnx_node (the interpreter runs them).
struct ConvertMatMulNBits : OpRewritePattern<OnnxNodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnnxNodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "MatMulNBits" ||
        op.getDomain().value_or("") != "com.microsoft" ||
        op.getNumResults() != 1 || op.getInputs().size() < 3)
      return rewriter.notifyMatchFailure(op, "not a MatMulNBits");
    int64_t k = intAttr(op, "K", 0), n = intAttr(op, "N", 0);
    int64_t block = intAttr(op, "block_size", 0), bits = intAttr(op, "bits", 4);
    if (bits < 2 || bits > 8 || k <= 0 || n <= 0 || block < 2 ||
        (block * bits) % 8)
      return rewriter.notifyMatchFailure(op, "needs 2..8 bits, K, N, block");
    if (!isAbsent(op, 4))
      return rewriter.notifyMatchFailure(op, "g_idx");
    Value a = op.getInputs()[0];
    auto aType = f32Tensor(a);
    if (!aType || aType.getRank() < 1 || aType.getShape().back() != k)
      return rewriter.notifyMatchFailure(op, "A must be f32 [..., K]");
    std::optional<SmallVector<uint8_t>> b = readByteConstant(op.getInputs()[1]);
    std::optional<SmallVector<float>> scales =
        readF32Constant(op.getInputs()[2]);
    int64_t blocks = (k + block - 1) / block, blob = block * bits / 8;
    if (!b || !scales || int64_t(b->size()) != n * blocks * blob ||
        int64_t(scales->size()) != n * blocks)
      return rewriter.notifyMatchFailure(op, "B and scales must be constants");
    uint32_t mid = 1u << (bits - 1), mask = (1u << bits) - 1;
    std::vector<int32_t> zeroPoints;
    if (!isAbsent(op, 3)) {
      // Packed like B: ceil(blocks * bits / 8) bytes per row.
      auto zt = dyn_cast<RankedTensorType>(op.getInputs()[3].getType());
      std::optional<SmallVector<uint8_t>> zp =
          readByteConstant(op.getInputs()[3]);
      int64_t rowBytes = (blocks * bits + 7) / 8;
      if (!zt || !zt.getElementType().isInteger(8) || !zp ||
          int64_t(zp->size()) != n * rowBytes)
        return rewriter.notifyMatchFailure(op, "zero points must be packed "
                                               "uint8 constants");
      for (int64_t r = 0; r < n; ++r)
        for (int64_t g = 0; g < blocks; ++g)
          zeroPoints.push_back(int32_t(
              readPackedCode(zp->data() + r * rowBytes, g, bits)));
      if (llvm::all_of(zeroPoints, [&](int32_t z) { return z == int32_t(mid); }))
        zeroPoints.clear();
    }
    Value bias;
    if (!isAbsent(op, 5)) {
      bias = op.getInputs()[5];
      auto bt = f32Tensor(bias, 1);
      if (!bt || bt.getDimSize(0) != n)
        return rewriter.notifyMatchFailure(op, "bias must be f32 [N]");
    }
    bool affine = !zeroPoints.empty();
    QuantizedMatrix q;
    q.rows = n;
    q.cols = k;
    q.groupSize = std::min(block, k);
    q.groupsPerRow = blocks;
    q.codes.assign((n * k * bits + 7) / 8, 0);
    q.scales.assign(scales->begin(), scales->end());
    q.zeroPoints = std::move(zeroPoints);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        const uint8_t *src = b->data() + (r * blocks + c / block) * blob;
        uint32_t v = readPackedCode(src, c % block, bits) & mask;
        writePackedCode(q.codes.data(), r * k + c, bits, affine ? v : v ^ mid);
      }
    auto format = symbolizeQuantFormat((affine ? "uint" : "int") +
                                       std::to_string(bits));
    Value w = createQWeight(rewriter, op.getLoc(),
                            RankedTensorType::get({n, k}, rewriter.getF32Type()),
                            *format, q);
    return replaceWithLinear(op, rewriter, a, w, bias);
  }
};

/// The per-tensor (scale, zero point) of a QuantizeLinear or
/// DequantizeLinear node with constant scalar parameters and 8-bit codes
/// (zero point absent: u8 with 0); `isSigned` for int8.
struct QdqParams {
  float scale;
  int64_t zeroPoint;
  bool isSigned;
  bool operator==(const QdqParams &o) const {
    return scale == o.scale && zeroPoint == o.zeroPoint &&
           isSigned == o.isSigned;
  }
};
std::optional<QdqParams> qdqParams(OnnxNodeOp node) {
  std::optional<SmallVector<float>> scale = readF32Constant(node.getInputs()[1]);
  if (!scale || scale->size() != 1 || !(scale->front() > 0) ||
      !std::isfinite(scale->front()))
    return std::nullopt;
  QdqParams p{scale->front(), 0, false};
  if (node.getInputs().size() > 2 && !isAbsent(node, 2)) {
    Value zp = node.getInputs()[2];
    auto zt = dyn_cast<RankedTensorType>(zp.getType());
    std::optional<SmallVector<uint8_t>> z = readByteConstant(zp);
    if (!zt || !zt.getElementType().isInteger(8) || !z || z->size() != 1)
      return std::nullopt;
    p.isSigned = !zt.getElementType().isUnsignedInteger();
    p.zeroPoint = p.isSigned ? int64_t(int8_t(z->front())) : z->front();
  }
  return p;
}

/// QuantizeLinear -> DequantizeLinear on activations (what quantize_static
/// writes around every quantized layer input) becomes lowbit.quantize ->
/// lowbit.dequantize, so the x86 target runs the layer on its integer
/// kernels instead of simulating the pair in float. Codes are u8 (int8
/// codes shift by 128 with their zero point: the same real values and the
/// same saturation). Every use of a DequantizeLinear result gets its own
/// lowbit.dequantize, so each layer can fuse the one it reads.
struct ConvertQdqActivation : OpRewritePattern<OnnxNodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnnxNodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "QuantizeLinear" ||
        (op.getDomain() && !op.getDomain()->empty()) ||
        op.getInputs().size() < 2 || op->use_empty())
      return rewriter.notifyMatchFailure(op, "not a QuantizeLinear");
    auto xt = f32Tensor(op.getInputs()[0]);
    std::optional<QdqParams> p = qdqParams(op);
    if (!xt || !p || op.getInputs()[0].getDefiningOp<arith::ConstantOp>())
      return rewriter.notifyMatchFailure(op, "not a per-tensor 8-bit "
                                             "activation quantization");
    SmallVector<OnnxNodeOp> dqs;
    for (Operation *user : op->getUsers()) {
      auto dq = dyn_cast<OnnxNodeOp>(user);
      if (!dq || dq.getOpType() != "DequantizeLinear" ||
          dq.getInputs()[0] != op.getResult(0) || !(qdqParams(dq) == p))
        return rewriter.notifyMatchFailure(op, "a use is not its "
                                               "DequantizeLinear");
      dqs.push_back(dq);
    }
    int64_t zp = p->zeroPoint + (p->isSigned ? 128 : 0);
    auto qt = quant::UniformQuantizedType::get(
        /*flags=*/0, rewriter.getIntegerType(8), rewriter.getF32Type(),
        p->scale, zp, 0, 255);
    rewriter.setInsertionPoint(op);
    Value q = QuantizeOp::create(rewriter, op.getLoc(),
                                 RankedTensorType::get(xt.getShape(), qt),
                                 op.getInputs()[0]);
    for (OnnxNodeOp dq : dqs) {
      rewriter.setInsertionPoint(dq);
      Value y = dq.getResult(0);
      for (OpOperand &use : llvm::make_early_inc_range(y.getUses())) {
        Value d = DequantizeOp::create(rewriter, dq.getLoc(), xt, q);
        rewriter.modifyOpInPlace(use.getOwner(), [&] { use.set(d); });
      }
      rewriter.eraseOp(dq);
    }
    rewriter.eraseOp(op);
    return success();
  }
};

const OnnxHandler kHandlers[] = {
    {"Gemm", 7, convertGemm},
    {"MatMul", 1, convertMatMul},
    {"Conv", 1, convertConv},
    {"Constant", 9, convertConstant},
};

/// Dispatches each default-domain node to the newest handler whose
/// sinceVersion does not exceed the node's opset.
struct OnnxNodeConversion : OpRewritePattern<OnnxNodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnnxNodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getDomain() && !op.getDomain()->empty())
      return rewriter.notifyMatchFailure(op, "not the default domain");
    const OnnxHandler *best = nullptr;
    for (const OnnxHandler &h : kHandlers)
      if (h.opType == op.getOpType() && h.sinceVersion <= static_cast<int64_t>(op.getOpset()) &&
          (!best || h.sinceVersion > best->sinceVersion))
        best = &h;
    if (!best)
      return rewriter.notifyMatchFailure(op, "no conversion for this op");
    return best->handler(op, rewriter);
  }
};

/// Add(linear(x, W), b) with a constant per-feature b -> linear(x, W, b):
/// exported models often write nn.Linear as MatMul followed by Add.
struct FoldBiasIntoLinear : OpRewritePattern<OnnxNodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnnxNodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Add" || (op.getDomain() && !op.getDomain()->empty()) ||
        op.getInputs().size() != 2)
      return rewriter.notifyMatchFailure(op, "not an Add");
    for (int side = 0; side < 2; ++side) {
      auto linear = op.getInputs()[side].getDefiningOp<LinearOp>();
      Value other = op.getInputs()[1 - side];
      if (!linear || linear.getBias() || !linear->hasOneUse() ||
          linear.getType() != op.getResult(0).getType())
        continue;
      auto bType = f32Tensor(other);
      int64_t n = linear.getWeight().getType().getDimSize(0);
      if (!bType || !bType.hasStaticShape() || bType.getNumElements() != n ||
          (bType.getRank() > 0 && bType.getDimSize(bType.getRank() - 1) != n))
        continue;
      std::optional<SmallVector<float>> values = readF32Constant(other);
      if (!values)
        continue;
      Value bias = makeF32Constant(
          rewriter, op.getLoc(), RankedTensorType::get({n}, rewriter.getF32Type()),
          *values, weightName(op, ".bias"));
      rewriter.replaceOpWithNewOp<LinearOp>(op, linear.getType(),
                                            linear.getInput(),
                                            linear.getWeight(), bias);
      rewriter.eraseOp(linear);
      return success();
    }
    return rewriter.notifyMatchFailure(op, "no bias-free linear operand");
  }
};

struct ConvertOnnxToLowbitPass
    : lowbit::impl::ConvertOnnxToLowbitPassBase<ConvertOnnxToLowbitPass> {
  using Base::Base;

  void runOnOperation() override {
    // A convolution whose kernel cannot fit is invalid input (the
    // interpreter refuses it the same way), not a layer left unconverted
    // for a backend to call unsupported.
    WalkResult invalid = getOperation().walk([](OnnxNodeOp op) {
      if (op.getOpType() != "Conv" || op.getInputs().size() < 2)
        return WalkResult::advance();
      auto x = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
      auto w = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
      if (!x || !w || x.getRank() != 4 || w.getRank() != 4 ||
          stringAttr(op, "auto_pad", "NOTSET") != "NOTSET")
        return WalkResult::advance();
      SmallVector<int64_t> pads = intsAttr(op, "pads").value_or(
          SmallVector<int64_t>{0, 0, 0, 0});
      SmallVector<int64_t> dil = intsAttr(op, "dilations").value_or(
          SmallVector<int64_t>{1, 1});
      if (pads.size() != 4 || dil.size() != 2)
        return WalkResult::advance();
      for (int i = 0; i < 2; ++i) {
        int64_t in = x.getDimSize(2 + i), k = w.getDimSize(2 + i);
        if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k))
          continue;
        int64_t span = dil[i] * (k - 1) + 1, padded = in + pads[i] + pads[2 + i];
        if (span > padded) {
          std::string name = "?";
          if (auto loc = dyn_cast<NameLoc>(op.getLoc()))
            name = loc.getName().str();
          op.emitError() << "node '" << name << "' (Conv, opset "
                         << op.getOpset()
                         << "): kernel does not fit in the padded input ("
                         << (i ? "width" : "height") << " " << in << " + pads "
                         << pads[i] << "+" << pads[2 + i]
                         << " < dilated kernel " << span << ")";
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (invalid.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<OnnxNodeConversion, FoldBiasIntoLinear, ConvertMatMulNBits,
                 ConvertQdqActivation>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
