//===- LowerToInteger.cpp - float layers between codes -> integer ops -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// A quantized model (an int8 QDQ ONNX graph, or lowbit's own W8A8) runs each
// layer as dequantize -> float op -> quantize. On a microcontroller without
// an FPU that float op must become integer arithmetic: this pass matches each
// quantize back to the dequantized codes it was computed from and replaces
// the whole span by one integer op (LowbitOps.td, "Integer-only layers"),
// with every real-valued scale turned into a dyadic multiplier
// (lowbit/Quant/Dyadic.h). Anything it cannot express stays in float, with
// a remark naming the node, for the target to accept or refuse.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Interpreter/Tensor.h"
#include "lowbit/Quant/Dyadic.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_LOWERTOINTEGERPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {

quant::UniformQuantizedType codeType(Value v) {
  auto uq = dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(v));
  return uq && uq.getStorageTypeIntegralWidth() == 8 ? uq : nullptr;
}

/// u8 codes with zero point z are i8 codes with z - 128: the same reals.
quant::UniformQuantizedType toSigned(quant::UniformQuantizedType uq) {
  if (uq.isSigned())
    return uq;
  MLIRContext *ctx = uq.getContext();
  return quant::UniformQuantizedType::get(
      quant::QuantizationFlags::Signed, IntegerType::get(ctx, 8),
      uq.getExpressedType(), uq.getScale(), uq.getZeroPoint() - 128, -128,
      127);
}

/// Quantizes one real value as lowbit.quantize does (f32, half to even).
int64_t quantizeValue(double v, quant::UniformQuantizedType uq) {
  float q = std::nearbyint(float(v) / float(uq.getScale())) +
            float(uq.getZeroPoint());
  return int64_t(std::clamp(q, float(uq.getStorageTypeMin()),
                            float(uq.getStorageTypeMax())));
}

Value i32Constant(OpBuilder &b, Location loc, ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get({int64_t(values.size())}, b.getI32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

Value i8Constant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                 ArrayRef<int8_t> values) {
  auto type = RankedTensorType::get(shape, b.getIntegerType(8));
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

StringRef onnxType(Operation *op) {
  auto node = dyn_cast_or_null<OnnxNodeOp>(op);
  return node ? node.getOpType() : StringRef();
}

bool isMovement(StringRef type) {
  static const llvm::StringSet<> moves = {"Reshape",   "Flatten",
                                          "Squeeze",   "Unsqueeze",
                                          "Transpose", "Identity"};
  return moves.contains(type);
}

/// The codes a float value was computed from: `v` is dequantize(codes),
/// possibly through Reshape-like ops, which are then rebuilt on the codes
/// (at b's insertion point). Null when `v` is anything else.
Value codesBehind(Value v, OpBuilder &b) {
  SmallVector<OnnxNodeOp> chain;
  while (auto node = v.getDefiningOp<OnnxNodeOp>()) {
    if (!isMovement(node.getOpType()) || node->getNumResults() != 1)
      return {};
    chain.push_back(node);
    v = node->getOperand(0);
  }
  auto dq = v.getDefiningOp<DequantizeOp>();
  if (!dq || !codeType(dq.getInput()))
    return {};
  Value cur = dq.getInput();
  Type elem = getElementTypeOrSelf(cur);
  for (OnnxNodeOp node : llvm::reverse(chain)) {
    SmallVector<Value> operands(node->getOperands());
    operands[0] = cur;
    auto t = cast<RankedTensorType>(node->getResult(0).getType());
    cur = OnnxNodeOp::create(b, node.getLoc(), TypeRange{t.clone(elem)},
                             node.getOpTypeAttr(), node.getDomainAttr(),
                             node.getOpsetAttr(), operands,
                             node.getAttrsAttr())
              .getResult(0);
  }
  return cur;
}

/// Scalar f32 value of a constant operand.
std::optional<double> scalarConstant(Value v) {
  Attribute attr;
  if (!v || !matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  FailureOr<Tensor> t = tensorFromConstant(attr);
  if (failed(t) || t->numel() != 1)
    return std::nullopt;
  return t->getDouble(0);
}

/// [lo, hi] codes after an optional ReLU / Clip and the quantize.
struct Clamp {
  int64_t lo, hi;
};
std::optional<Clamp> clampFor(Operation *act, quant::UniformQuantizedType out) {
  Clamp c{out.getStorageTypeMin(), out.getStorageTypeMax()};
  if (!act)
    return c;
  if (onnxType(act) == "Relu") {
    c.lo = std::max(c.lo, out.getZeroPoint());
    return c;
  }
  if (onnxType(act) == "Clip") {
    auto node = cast<OnnxNodeOp>(act);
    std::optional<double> lo, hi;
    if (node.getOpset() < 11) {
      auto attrs = node.getAttrsAttr();
      auto f = [&](StringRef n) -> std::optional<double> {
        if (auto a = attrs ? dyn_cast_or_null<FloatAttr>(attrs.get(n)) : nullptr)
          return a.getValueAsDouble();
        return std::nullopt;
      };
      lo = f("min");
      hi = f("max");
    } else {
      if (node->getNumOperands() > 1 &&
          !isa<NoneType>(node->getOperand(1).getType())) {
        lo = scalarConstant(node->getOperand(1));
        if (!lo)
          return std::nullopt;
      }
      if (node->getNumOperands() > 2 &&
          !isa<NoneType>(node->getOperand(2).getType())) {
        hi = scalarConstant(node->getOperand(2));
        if (!hi)
          return std::nullopt;
      }
    }
    // quantize is monotonic: quantize(clip(y)) = clamp(quantize(y)).
    if (lo)
      c.lo = std::max(c.lo, quantizeValue(*lo, out));
    if (hi)
      c.hi = std::min(c.hi, quantizeValue(*hi, out));
    if (c.lo > c.hi)
      return std::nullopt;
    return c;
  }
  return std::nullopt;
}

class Lowering {
public:
  Lowering(func::FuncOp func, RoundingMode rounding)
      : func(func), rounding(rounding) {}

  void run() {
    makeCodesSigned();
    SmallVector<QuantizeOp> quantizes;
    func.walk([&](QuantizeOp q) { quantizes.push_back(q); });
    for (QuantizeOp q : quantizes)
      lower(q);
    eraseDead();
    reportFloat();
  }

private:
  void makeCodesSigned() {
    func.walk([&](Operation *op) {
      for (Value r : op->getResults()) {
        auto t = dyn_cast<RankedTensorType>(r.getType());
        auto uq = t ? codeType(r) : nullptr;
        if (uq && !uq.isSigned())
          r.setType(t.clone(toSigned(uq)));
      }
    });
  }

  void lower(QuantizeOp q) {
    auto out = codeType(q.getOutput());
    if (!out)
      return;
    Value y = q.getInput();
    Operation *def = y.getDefiningOp();
    if (!def)
      return;
    OpBuilder b(q);
    Value repl;
    // An activation between the layer and the quantize becomes the clamp.
    Operation *act = nullptr;
    if ((onnxType(def) == "Relu" || onnxType(def) == "Clip") &&
        def->getResult(0).hasOneUse()) {
      Operation *layer = def->getOperand(0).getDefiningOp();
      if (isa_and_nonnull<Conv2DOp, LinearOp>(layer) ||
          onnxType(layer) == "Add") {
        act = def;
        def = layer;
      }
    }
    if (act && !def->getResult(0).hasOneUse())
      return;
    if (isa<Conv2DOp, LinearOp>(def))
      repl = lowerLayer(b, def, act, q);
    else if (onnxType(def) == "Add")
      repl = lowerAdd(b, cast<OnnxNodeOp>(def), act, q);
    if (!repl && !act) {
      StringRef type = onnxType(def);
      if (type == "AveragePool" || type == "GlobalAveragePool" ||
          type == "MaxPool")
        repl = lowerPool(b, cast<OnnxNodeOp>(def), q);
      else if (type == "Softmax")
        repl = lowerSoftmax(b, cast<OnnxNodeOp>(def), q);
      if (!repl)
        repl = lowerMovement(b, q);
      if (!repl)
        repl = lowerLut(b, q);
    }
    if (!repl)
      return;
    q.getOutput().replaceAllUsesWith(repl);
    q.erase();
  }

  /// conv2d / linear over dequantized codes with an int8 symmetric weight.
  Value lowerLayer(OpBuilder &b, Operation *layer, Operation *act,
                   QuantizeOp q) {
    Value x = codesBehind(layer->getOperand(0), b);
    auto qw = layer->getOperand(1).getDefiningOp<QWeightOp>();
    if (!x || !qw || qw.getScheme().getFormat() != QuantFormat::Int8 ||
        !qw.getScheme().getSymmetric() || qw.getZeroPoints())
      return {};
    Granularity gran = qw.getScheme().getGranularity();
    if (gran != Granularity::PerChannel && gran != Granularity::PerTensor)
      return {};
    if (gran == Granularity::PerChannel && qw.getScheme().getAxis() != 0)
      return {};
    Attribute dataAttr, scaleAttr;
    if (!matchPattern(qw.getData(), m_Constant(&dataAttr)) ||
        !matchPattern(qw.getScales(), m_Constant(&scaleAttr)))
      return {};
    FailureOr<Tensor> data = tensorFromConstant(dataAttr);
    FailureOr<Tensor> scales = tensorFromConstant(scaleAttr);
    if (failed(data) || failed(scales))
      return {};
    auto wType = cast<RankedTensorType>(qw.getOutput().getType());
    int64_t channels = wType.getDimSize(0);
    if (data->numel() != wType.getNumElements())
      return {};
    std::optional<Tensor> bias;
    Value biasValue = layer->getNumOperands() > 2 ? layer->getOperand(2)
                                                  : Value();
    if (biasValue) {
      Attribute a;
      if (!matchPattern(biasValue, m_Constant(&a)))
        return {};
      FailureOr<Tensor> t = tensorFromConstant(a);
      if (failed(t) || t->numel() != channels)
        return {};
      bias = *t;
    }
    auto out = codeType(q.getOutput());
    std::optional<Clamp> clamp = clampFor(act, out);
    if (!clamp)
      return {};
    double sx = codeType(x).getScale(), sy = out.getScale();
    SmallVector<int32_t> b32(channels), mult(channels), shift(channels);
    for (int64_t c = 0; c < channels; ++c) {
      double sw = scales->getDouble(gran == Granularity::PerChannel ? c : 0);
      double accScale = sx * sw;
      double bv = bias ? std::nearbyint(bias->getDouble(c) / accScale) : 0;
      if (!(std::fabs(bv) < 2147483647.0))
        return {};
      b32[c] = int32_t(bv);
      std::optional<DyadicScale> d = toDyadic(accScale / sy);
      if (!d)
        return {};
      mult[c] = d->multiplier;
      shift[c] = d->shift;
    }
    SmallVector<int8_t> w8(data->numel());
    for (int64_t i = 0; i < data->numel(); ++i)
      w8[i] = int8_t(data->getInt(i));
    Location loc = layer->getLoc();
    Value w = i8Constant(b, loc, wType.getShape(), w8);
    Value bv = i32Constant(b, loc, b32), mv = i32Constant(b, loc, mult),
          shv = i32Constant(b, loc, shift);
    Type resultType = q.getOutput().getType();
    auto roundingAttr = RoundingModeAttr::get(b.getContext(), rounding);
    if (auto conv = dyn_cast<Conv2DOp>(layer))
      return QConv2DOp::create(
          b, loc, resultType, x, w, bv, mv, shv, conv.getStridesAttr(),
          conv.getPaddingAttr(), conv.getDilationsAttr(), conv.getGroupsAttr(),
          b.getI64IntegerAttr(clamp->lo), b.getI64IntegerAttr(clamp->hi),
          roundingAttr);
    if (cast<RankedTensorType>(x.getType()).getRank() != 2)
      return {};
    return QLinearOp::create(b, loc, resultType, x, w, bv, mv, shv,
                             b.getI64IntegerAttr(clamp->lo),
                             b.getI64IntegerAttr(clamp->hi), roundingAttr);
  }

  Value lowerAdd(OpBuilder &b, OnnxNodeOp add, Operation *act, QuantizeOp q) {
    Value lhs = codesBehind(add->getOperand(0), b);
    Value rhs = codesBehind(add->getOperand(1), b);
    if (!lhs || !rhs || cast<ShapedType>(lhs.getType()).getShape() !=
                            cast<ShapedType>(rhs.getType()).getShape() ||
        cast<ShapedType>(lhs.getType()).getShape() !=
            cast<ShapedType>(q.getOutput().getType()).getShape())
      return {};
    auto out = codeType(q.getOutput());
    std::optional<Clamp> clamp = clampFor(act, out);
    if (!clamp)
      return {};
    double ra = codeType(lhs).getScale() / out.getScale();
    double rb = codeType(rhs).getScale() / out.getScale();
    // One shift for both: the larger ratio gets a 31-bit multiplier.
    int exp;
    std::frexp(std::max(ra, rb), &exp);
    int64_t shift = 31 - exp;
    if (shift < 0 || shift > 62)
      return {};
    int64_t ma = std::llround(std::ldexp(ra, shift));
    int64_t mb = std::llround(std::ldexp(rb, shift));
    if (ma >= (int64_t(1) << 31) || mb >= (int64_t(1) << 31)) {
      ma = (ma + 1) >> 1;
      mb = (mb + 1) >> 1;
      --shift;
    }
    return QAddOp::create(b, add.getLoc(), q.getOutput().getType(), lhs, rhs,
                          b.getI64IntegerAttr(ma), b.getI64IntegerAttr(mb),
                          b.getI64IntegerAttr(shift),
                          b.getI64IntegerAttr(clamp->lo),
                          b.getI64IntegerAttr(clamp->hi));
  }

  Value lowerPool(OpBuilder &b, OnnxNodeOp pool, QuantizeOp q) {
    Value x = codesBehind(pool->getOperand(0), b);
    if (!x || !pool.getOutputs()[0].hasOneUse())
      return {};
    auto in = codeType(x), out = codeType(q.getOutput());
    auto xType = cast<RankedTensorType>(x.getType());
    auto yType = cast<RankedTensorType>(q.getOutput().getType());
    if (xType.getRank() != 4 || yType.getRank() != 4)
      return {};
    bool global = pool.getOpType() == "GlobalAveragePool";
    bool isMax = pool.getOpType() == "MaxPool";
    SmallVector<int64_t> kernel{xType.getDimSize(2), xType.getDimSize(3)};
    SmallVector<int64_t> strides{1, 1}, pads{0, 0, 0, 0};
    bool includePad = false;
    if (!global) {
      auto attrs = pool.getAttrsAttr();
      auto ints = [&](StringRef n) -> std::optional<SmallVector<int64_t>> {
        auto a = attrs ? dyn_cast_or_null<ArrayAttr>(attrs.get(n)) : nullptr;
        auto d = attrs ? dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(n))
                       : nullptr;
        if (d)
          return SmallVector<int64_t>(d.asArrayRef());
        if (!a)
          return std::nullopt;
        SmallVector<int64_t> v;
        for (Attribute e : a)
          v.push_back(cast<IntegerAttr>(e).getInt());
        return v;
      };
      auto k = ints("kernel_shape");
      if (!k || k->size() != 2)
        return {};
      kernel = *k;
      if (auto s = ints("strides"))
        strides = *s;
      if (auto p = ints("pads"))
        pads = {(*p)[0], (*p)[1], (*p)[2], (*p)[3]};
      if (auto dl = ints("dilations"))
        if (llvm::any_of(*dl, [](int64_t d) { return d != 1; }))
          return {};
      auto autoPad = attrs ? dyn_cast_or_null<StringAttr>(attrs.get("auto_pad"))
                           : nullptr;
      if (autoPad && autoPad.getValue() != "NOTSET" &&
          autoPad.getValue() != "VALID")
        return {};
      includePad = getIntAttr(pool, "count_include_pad", 0) != 0;
      if (isMax && getIntAttr(pool, "storage_order", 0) != 0)
        return {};
    }
    Location loc = pool.getLoc();
    auto mk = [&](Type resultType, int64_t m, int64_t s, int64_t lo,
                  int64_t hi) {
      return QPool2DOp::create(
          b, loc, resultType, x, b.getStringAttr(isMax ? "max" : "avg"),
          b.getDenseI64ArrayAttr(kernel), b.getDenseI64ArrayAttr(strides),
          b.getDenseI64ArrayAttr(pads), b.getBoolAttr(includePad),
          b.getI64IntegerAttr(m), b.getI64IntegerAttr(s),
          b.getI64IntegerAttr(lo), b.getI64IntegerAttr(hi));
    };
    if (isMax) {
      // The max of codes, then a change of scale if the result has another.
      Value m = mk(yType.clone(in), 1, 0, in.getStorageTypeMin(),
                   in.getStorageTypeMax());
      return in == out ? m : makeLut(b, loc, m, {}, q);
    }
    std::optional<DyadicScale> d = toDyadic(in.getScale() / out.getScale());
    if (!d)
      return {};
    int64_t m = d->multiplier, s = d->shift;
    while (s > 40) { // keep n * 2^shift far from int64 overflow
      m = (m + 1) >> 1;
      --s;
    }
    return mk(yType, m, s, out.getStorageTypeMin(), out.getStorageTypeMax());
  }

  Value lowerSoftmax(OpBuilder &b, OnnxNodeOp sm, QuantizeOp q) {
    auto xType = cast<RankedTensorType>(sm->getOperand(0).getType());
    int64_t axis = getIntAttr(sm, "axis", sm.getOpset() >= 13 ? -1 : 1);
    if (axis < 0)
      axis += xType.getRank();
    if (axis != xType.getRank() - 1)
      return {};
    double beta = 1;
    Value in = sm->getOperand(0);
    Value x = codesBehind(in, b);
    if (!x && onnxType(in.getDefiningOp()) == "Mul" && in.hasOneUse()) {
      Operation *mul = in.getDefiningOp();
      std::optional<double> c = scalarConstant(mul->getOperand(1));
      x = codesBehind(mul->getOperand(0), b);
      if (!c || *c <= 0)
        return {};
      beta = *c;
    }
    if (!x || !sm.getOutputs()[0].hasOneUse())
      return {};
    auto out = codeType(q.getOutput());
    std::optional<DyadicScale> d = toDyadic(1.0 / out.getScale());
    if (!d || d->shift > 30)
      return {};
    SmallVector<int32_t> table(256);
    double sx = codeType(x).getScale();
    for (int i = 0; i < 256; ++i)
      table[i] = int32_t(std::llround(std::ldexp(std::exp(-beta * sx * i), 20)));
    Location loc = sm.getLoc();
    return QSoftmaxOp::create(
        b, loc, q.getOutput().getType(), x, i32Constant(b, loc, table),
        b.getI64IntegerAttr(d->multiplier), b.getI64IntegerAttr(d->shift),
        b.getI64IntegerAttr(out.getStorageTypeMin()),
        b.getI64IntegerAttr(out.getStorageTypeMax()));
  }

  /// Reshape-like ops between codes of one type run on the codes.
  Value lowerMovement(OpBuilder &b, QuantizeOp q) {
    if (!isMovement(onnxType(q.getInput().getDefiningOp())))
      return {};
    auto dq = [&] {
      Value v = q.getInput();
      while (isMovement(onnxType(v.getDefiningOp())))
        v = v.getDefiningOp()->getOperand(0);
      return v.getDefiningOp<DequantizeOp>();
    }();
    if (!dq || getElementTypeOrSelf(dq.getInput()) !=
                   getElementTypeOrSelf(q.getOutput()))
      return {};
    return codesBehind(q.getInput(), b);
  }

  /// A chain of unary elementwise ops (or none: a change of scale) from
  /// codes to codes is a 256-entry table.
  Value lowerLut(OpBuilder &b, QuantizeOp q) {
    static const llvm::StringSet<> unary = {
        "Relu",  "Clip", "Sigmoid",  "Tanh", "HardSigmoid", "HardSwish",
        "LeakyRelu", "Elu", "Selu", "Exp", "Neg", "Abs",   "Sqrt",
        "Erf",   "Gelu", "Softplus", "Identity", "Mish", "Log", "Reciprocal"};
    SmallVector<Operation *> chain;
    Value v = q.getInput();
    while (Operation *def = v.getDefiningOp()) {
      if (isa<DequantizeOp>(def))
        break;
      if (!unary.contains(onnxType(def)) || !v.hasOneUse())
        return {};
      for (Value extra : def->getOperands().drop_front())
        if (!isa<NoneType>(extra.getType()) && !scalarConstant(extra))
          return {};
      chain.push_back(def);
      v = def->getOperand(0);
    }
    Value x = codesBehind(v, b);
    if (!x || cast<ShapedType>(x.getType()).getShape() !=
                  cast<ShapedType>(q.getOutput().getType()).getShape())
      return {};
    return makeLut(b, q.getLoc(), x, chain, q);
  }

  /// table[c] = quantize(f(dequantize(c))) for every code c, with the
  /// interpreter's kernels for f (the chain, innermost first reversed).
  Value makeLut(OpBuilder &b, Location loc, Value x,
                ArrayRef<Operation *> chain, QuantizeOp q) {
    auto in = codeType(x), out = codeType(q.getOutput());
    Tensor codes = Tensor::zeros(DType::I8, {256});
    for (int i = 0; i < 256; ++i)
      codes.data<int8_t>()[i] = int8_t(in.getStorageTypeMin() + i);
    // Dequantize exactly as the dequantize op does.
    Tensor f = Tensor::zeros(DType::F32, {256});
    for (int i = 0; i < 256; ++i)
      f.data<float>()[i] = float(
          double(in.getStorageTypeMin() + i - in.getZeroPoint()) *
          in.getScale());
    for (Operation *op : llvm::reverse(chain)) {
      SmallVector<Tensor> operands{f};
      for (Value extra : op->getOperands().drop_front()) {
        Attribute a;
        if (isa<NoneType>(extra.getType())) {
          operands.push_back(Tensor());
          continue;
        }
        (void)matchPattern(extra, m_Constant(&a));
        FailureOr<Tensor> t = tensorFromConstant(a);
        if (failed(t))
          return {};
        operands.push_back(*t);
      }
      FailureOr<std::vector<Tensor>> r = evaluateOp(op, operands);
      if (failed(r) || r->empty() || (*r)[0].numel() != 256)
        return {};
      f = (*r)[0].cast(DType::F32);
    }
    SmallVector<int8_t> table(256);
    for (int i = 0; i < 256; ++i)
      table[i] = int8_t(quantizeValue(f.data<float>()[i], out));
    return QLutOp::create(b, loc, q.getOutput().getType(), x,
                          i8Constant(b, loc, {256}, table));
  }

  void eraseDead() {
    bool changed = true;
    while (changed) {
      changed = false;
      SmallVector<Operation *> ops;
      for (Operation &op : func.getBody().front())
        ops.push_back(&op);
      for (Operation *op : llvm::reverse(ops))
        if (op->use_empty() && !op->hasTrait<OpTrait::IsTerminator>() &&
            (isMemoryEffectFree(op) || isa<OnnxNodeOp>(op))) {
          op->erase();
          changed = true;
        }
    }
  }

  void reportFloat() {
    for (Operation &op : func.getBody().front()) {
      if (isa<arith::ConstantOp, func::ReturnOp, QuantizeOp, DequantizeOp,
              NoValueOp>(op) ||
          isa<QConv2DOp, QLinearOp, QAddOp, QPool2DOp, QLutOp, QSoftmaxOp>(
              op) ||
          onnxType(&op) == "Identity")
        continue;
      if (llvm::all_of(op.getResultTypes(), [](Type t) {
            return isa<quant::QuantizedType>(getElementTypeOrSelf(t));
          }))
        continue; // data movement on codes
      op.emitRemark() << "stays in floating point: "
                      << (isa<OnnxNodeOp>(op) ? onnxType(&op)
                                              : op.getName().getStringRef())
                      << " at node '" << getNodeName(&op) << "'";
    }
  }

  func::FuncOp func;
  RoundingMode rounding;
};

struct LowerToIntegerPass
    : lowbit::impl::LowerToIntegerPassBase<LowerToIntegerPass> {
  using Base::Base;
  void runOnOperation() override {
    if (rounding != "away" && rounding != "tflite") {
      getOperation().emitError()
          << "lowbit-lower-to-integer: rounding must be away or tflite, got '"
          << rounding << "'";
      return signalPassFailure();
    }
    Lowering(getOperation(), rounding == "tflite"
                                 ? RoundingMode::DoublingHighMul
                                 : RoundingMode::HalfAwayFromZero)
        .run();
  }
};
} // namespace
