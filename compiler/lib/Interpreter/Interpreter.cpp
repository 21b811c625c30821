//===- Interpreter.cpp - reference interpreter driver -------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Walks a function in order, keeps one tensor per live SSA value and frees
// each as soon as its last user has run. f16/bf16 values are widened to f32
// around every kernel that computes (and narrowed back after), so kernels
// only see f32, f64, integers and bool.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Interpreter/Interpreter.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

#include "Kernels.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

//===----------------------------------------------------------------------===//
// KernelContext attribute helpers
//===----------------------------------------------------------------------===//

int64_t KernelContext::getInt(StringRef name, int64_t dflt) const {
  if (auto a = attrs ? dyn_cast_or_null<IntegerAttr>(attrs.get(name)) : nullptr)
    return a.getInt();
  return dflt;
}

float KernelContext::getFloat(StringRef name, float dflt) const {
  if (!attrs)
    return dflt;
  if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get(name)))
    return static_cast<float>(a.getValueAsDouble());
  if (auto a = dyn_cast_or_null<IntegerAttr>(attrs.get(name)))
    return static_cast<float>(a.getInt());
  return dflt;
}

std::string KernelContext::getString(StringRef name, StringRef dflt) const {
  if (auto a = attrs ? dyn_cast_or_null<StringAttr>(attrs.get(name)) : nullptr)
    return a.str();
  return dflt.str();
}

std::vector<int64_t> KernelContext::getInts(StringRef name) const {
  if (auto a = attrs ? dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get(name))
                     : nullptr)
    return std::vector<int64_t>(a.asArrayRef().begin(), a.asArrayRef().end());
  return {};
}

std::vector<float> KernelContext::getFloats(StringRef name) const {
  if (auto a = attrs ? dyn_cast_or_null<DenseF32ArrayAttr>(attrs.get(name))
                     : nullptr)
    return std::vector<float>(a.asArrayRef().begin(), a.asArrayRef().end());
  return {};
}

Tensor KernelContext::getTensor(StringRef name) const {
  if (!attrs || !attrs.get(name))
    return Tensor();
  FailureOr<Tensor> t = tensorFromAttr(attrs.get(name));
  return succeeded(t) ? *t : Tensor();
}

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

bool interp::broadcastShapes(const std::vector<int64_t> &a,
                             const std::vector<int64_t> &b,
                             std::vector<int64_t> &out) {
  size_t rank = std::max(a.size(), b.size());
  out.assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return false;
    out[i] = da == 1 ? db : da;
  }
  return true;
}

std::vector<int64_t>
interp::broadcastStrides(const std::vector<int64_t> &in,
                         const std::vector<int64_t> &out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t s = 1;
  for (int64_t i = static_cast<int64_t>(in.size()) - 1; i >= 0; --i) {
    size_t o = out.size() - in.size() + i;
    strides[o] = in[i] == 1 ? 0 : s;
    s *= in[i];
  }
  return strides;
}

std::vector<int64_t>
interp::contiguousStrides(const std::vector<int64_t> &shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

std::string interp::shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s + "]";
}

bool interp::normalizeAxis(int64_t &axis, int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return false;
  if (axis < 0)
    axis += rank;
  return true;
}

std::vector<int64_t> interp::toInts(const Tensor &t) {
  std::vector<int64_t> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = t.getInt(i);
  return v;
}

FailureOr<Tensor> interp::tensorFromAttr(Attribute attr) {
  auto typed = dyn_cast<TypedAttr>(attr);
  auto type = typed ? dyn_cast<RankedTensorType>(typed.getType()) : nullptr;
  if (!type)
    return failure();
  FailureOr<DType> dtype = dtypeFromType(type.getElementType());
  if (failed(dtype))
    return failure();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  if (auto res = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = res.getRawHandle().getBlob();
    if (!blob)
      return failure();
    ArrayRef<char> data = blob->getData();
    Tensor t = Tensor::borrow(*dtype, shape, data.data());
    if (data.size() != t.byteSize())
      return failure();
    return t;
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense)
    return failure();
  Tensor t = Tensor::zeros(*dtype, shape);
  int64_t n = t.numel();
  if (*dtype == DType::Bool) {
    auto values = dense.getValues<bool>();
    for (int64_t i = 0; i < n; ++i)
      t.data<uint8_t>()[i] = values[dense.isSplat() ? 0 : i];
    return t;
  }
  ArrayRef<char> raw = dense.getRawData();
  size_t width = dtypeSize(*dtype);
  if (dense.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(t.raw() + i * width, raw.data(), width);
  } else {
    std::memcpy(t.raw(), raw.data(), t.byteSize());
  }
  return t;
}

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

static const KernelTable &getKernels() {
  static const KernelTable table = [] {
    KernelTable t;
    registerElementwiseKernels(t);
    registerTensorKernels(t);
    registerNNKernels(t);
    registerQuantKernels(t);
    return t;
  }();
  return table;
}

/// Ops that only move bytes: they see f16/bf16 as stored.
static bool movesBytesOnly(StringRef opType) {
  static const llvm::StringSet<> ops = {
      "Reshape", "Flatten",  "Squeeze", "Unsqueeze", "Transpose",
      "Concat",  "Split",    "Slice",   "Gather",    "GatherElements",
      "Expand",  "Tile",     "Identity", "Shape",    "Size",
      "Constant", "Dropout", "Where",   "DepthToSpace", "SpaceToDepth",
      "Cast",    "CastLike", "EyeLike", "ConstantOfShape"};
  return ops.contains(opType);
}

bool mlir::lowbit::isSupportedOnnxOp(StringRef domain, StringRef opType) {
  std::string key = domain.empty() ? opType.str() : (domain + "." + opType).str();
  return getKernels().count(key);
}

/// Builds "node 'name' (Op, opset N)" for diagnostics.
static std::string describeNode(OnnxNodeOp op) {
  std::string name = "?";
  if (auto loc = dyn_cast<NameLoc>(op.getLoc()))
    name = loc.getName().str();
  return "node '" + name + "' (" + op.getOpType().str() + ", opset " +
         std::to_string(op.getOpset()) + ")";
}

/// Executes one lowbit layer op (linear, conv2d, matmul) by delegating to the
/// ONNX kernels with the equivalent attributes.
static LogicalResult runLayerOp(Operation *op, KernelContext &ctx,
                                const KernelTable &kernels) {
  Builder b(op->getContext());
  if (auto linear = dyn_cast<LinearOp>(op)) {
    // linear(x, W[N,K], b) == Gemm(x, W, b, transB=1) on the flattened batch.
    const Tensor &x = ctx.in(0);
    int64_t k = x.dim(x.rank() - 1);
    std::vector<int64_t> outShape(x.shape().begin(), x.shape().end() - 1);
    Tensor x2 = x.reshaped({x.numel() / std::max<int64_t>(k, 1), k});
    std::vector<const Tensor *> saved = ctx.inputs;
    ctx.inputs[0] = &x2;
    ctx.opType = "Gemm";
    ctx.attrs = b.getDictionaryAttr(
        {b.getNamedAttr("transB", b.getI64IntegerAttr(1))});
    LogicalResult r = kernels.lookup("Gemm")(ctx);
    ctx.inputs = saved;
    if (failed(r))
      return r;
    outShape.push_back(ctx.outputs[0].dim(1));
    ctx.outputs[0] = ctx.outputs[0].reshaped(outShape);
    return success();
  }
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    ArrayRef<int64_t> p = conv.getPadding();
    ctx.opType = "Conv";
    ctx.attrs = b.getDictionaryAttr(
        {b.getNamedAttr("strides", b.getDenseI64ArrayAttr(conv.getStrides())),
         b.getNamedAttr("dilations",
                        b.getDenseI64ArrayAttr(conv.getDilations())),
         b.getNamedAttr("pads", b.getDenseI64ArrayAttr({p[0], p[1], p[2], p[3]})),
         b.getNamedAttr("group", b.getI64IntegerAttr(conv.getGroups()))});
    return kernels.lookup("Conv")(ctx);
  }
  if (isa<MatmulOp>(op)) {
    ctx.opType = "MatMul";
    return kernels.lookup("MatMul")(ctx);
  }
  return failure();
}

/// The float tensor a lowbit.qweight denotes: codes unpacked (LSB-first,
/// row-major), decoded by their format, times their scale (minus the zero
/// point for affine schemes).
static FailureOr<Tensor> dequantizeQWeight(QWeightOp op, const Tensor &data,
                                           const Tensor &scales,
                                           const Tensor *zeroPoints) {
  SchemeAttr scheme = op.getScheme();
  auto type = op.getOutput().getType();
  std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
  Tensor out = Tensor::zeros(DType::F32, shape);
  unsigned bits = scheme.getBitWidth();
  int64_t numel = out.numel(), rank = type.getRank();
  int64_t axis = scheme.getAxis(), group = scheme.getGroupSize();
  std::vector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  const uint8_t *bytes = data.data<uint8_t>();
  for (int64_t i = 0; i < numel; ++i) {
    uint32_t code = readPackedCode(bytes, i, bits);
    int64_t s = 0;
    if (scheme.getGranularity() == Granularity::PerChannel) {
      s = (i / strides[axis]) % shape[axis];
    } else if (scheme.getGranularity() == Granularity::Group) {
      // Scales have the weight's shape with dim(axis) / group.
      int64_t rem = i, off = 0, sstride = 1;
      for (int64_t d = rank - 1; d >= 0; --d) {
        int64_t id = rem % shape[d];
        rem /= shape[d];
        int64_t sd = d == axis ? (shape[d] + group - 1) / group : shape[d];
        off += (d == axis ? id / group : id) * sstride;
        sstride *= sd;
      }
      s = off;
    }
    double v = decodeCode(scheme.getFormat(), code);
    if (zeroPoints)
      v -= zeroPoints->getDouble(s);
    out.data<float>()[i] = static_cast<float>(v * scales.getDouble(s));
  }
  return out;
}

/// Runs one op (onnx_node or lowbit layer op) on its operand tensors.
/// Emits diagnostics at the op and returns failure on error.
static LogicalResult
executeOp(Operation &op, const KernelTable &kernels,
          llvm::function_ref<const Tensor *(Value)> operandValue,
          std::vector<Tensor> &results) {
  KernelContext ctx;
  ctx.numOutputs = op.getNumResults();
  std::vector<Tensor> widened;
  widened.reserve(op.getNumOperands());
  std::optional<DType> halfType;
  auto node = dyn_cast<OnnxNodeOp>(op);
  bool keepHalf = node && movesBytesOnly(node.getOpType());
  for (Value v : op.getOperands()) {
    if (isa<NoneType>(v.getType())) {
      ctx.inputs.push_back(nullptr);
      continue;
    }
    const Tensor *tp = operandValue(v);
    if (!tp) {
      op.emitError() << "internal error: operand has no value";
      return failure();
    }
    const Tensor &t = *tp;
    if (!keepHalf && (t.dtype() == DType::F16 || t.dtype() == DType::BF16)) {
      halfType = t.dtype();
      widened.push_back(t.cast(DType::F32));
      ctx.inputs.push_back(&widened.back());
    } else {
      ctx.inputs.push_back(&t);
    }
  }

  LogicalResult result = failure();
  std::string where;
  if (node) {
    ctx.opType = node.getOpType();
    ctx.opset = node.getOpset();
    ctx.attrs = node.getAttrsAttr();
    StringRef domain = node.getDomain().value_or("");
    std::string key =
        domain.empty() ? ctx.opType.str() : (domain + "." + ctx.opType).str();
    where = describeNode(node);
    Kernel kernel = kernels.lookup(key);
    if (!kernel) {
      std::string name = "?";
      if (auto loc = dyn_cast<NameLoc>(op.getLoc()))
        name = loc.getName().str();
      op.emitError() << "unsupported: "
                     << (domain.empty() ? "" : (domain + ".").str())
                     << ctx.opType << " (opset " << ctx.opset
                     << ") at node '" << name << "'";
      return failure();
    }
    result = kernel(ctx);
  } else if (isa<QuantizeOp, DequantizeOp>(op)) {
    // Per-tensor !quant.uniform: round half to even, saturate.
    bool quantize = isa<QuantizeOp>(op);
    where = quantize ? "lowbit.quantize" : "lowbit.dequantize";
    Type qt = getElementTypeOrSelf(quantize ? op.getResult(0).getType()
                                            : op.getOperand(0).getType());
    auto uq = dyn_cast<quant::UniformQuantizedType>(qt);
    if (!uq) {
      op.emitError() << "unsupported: " << where
                     << " with a per-axis or non-uniform type " << qt;
      return failure();
    }
    const Tensor &in = *ctx.inputs[0];
    double scale = uq.getScale();
    int64_t zp = uq.getZeroPoint();
    int64_t lo = uq.getStorageTypeMin(), hi = uq.getStorageTypeMax();
    if (quantize) {
      Tensor out = Tensor::zeros(uq.isSigned() ? DType::I8 : DType::U8,
                                 in.shape());
      if (uq.getStorageTypeIntegralWidth() != 8) {
        op.emitError() << "unsupported: lowbit.quantize to " << qt
                       << " (8-bit storage only)";
        return failure();
      }
      // In f32, as ONNX QuantizeLinear (and the x86 runtime's kernel).
      float fscale = float(scale);
      for (int64_t i = 0; i < in.numel(); ++i) {
        float q = std::nearbyint(float(in.getDouble(i)) / fscale) + float(zp);
        int64_t v = int64_t(std::clamp(q, float(lo), float(hi)));
        if (uq.isSigned())
          out.data<int8_t>()[i] = int8_t(v);
        else
          out.data<uint8_t>()[i] = uint8_t(v);
      }
      ctx.outputs = {out};
    } else {
      Tensor out = Tensor::zeros(DType::F32, in.shape());
      for (int64_t i = 0; i < in.numel(); ++i)
        out.data<float>()[i] =
            float(double(in.getInt(i) - zp) * scale);
      ctx.outputs = {out};
    }
    result = success();
  } else if (auto qw = dyn_cast<QWeightOp>(op)) {
    where = "lowbit.qweight";
    FailureOr<Tensor> w = dequantizeQWeight(qw, *ctx.inputs[0], *ctx.inputs[1],
                                            ctx.inputs.size() > 2
                                                ? ctx.inputs[2]
                                                : nullptr);
    if (failed(w))
      return failure();
    ctx.outputs = {*w};
    result = success();
  } else if (isa<LowRankOp, LoraOp>(op)) {
    // lowrank(W, L, R) = W + L·R; lora(W, A, B) = W + (alpha / r)·B·A. The
    // sum is formed in double and rounded once (targets add the branch's
    // product to the layer's instead: equal up to f32 rounding).
    bool lora = isa<LoraOp>(op);
    where = lora ? "lowbit.lora" : "lowbit.lowrank";
    const Tensor &w = *ctx.inputs[0];
    const Tensor &left = *ctx.inputs[lora ? 2 : 1];
    const Tensor &right = *ctx.inputs[lora ? 1 : 2];
    int64_t n = w.dim(0), k = w.dim(1), r = left.dim(1);
    double scale = lora ? cast<LoraOp>(op).getAlpha().convertToDouble() / r
                        : 1.0;
    Tensor out = Tensor::zeros(DType::F32, w.shape());
    float *o = out.data<float>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double acc = 0;
        for (int64_t t = 0; t < r; ++t)
          acc += left.getDouble(i * r + t) * right.getDouble(t * k + j);
        o[i * k + j] = float(w.getDouble(i * k + j) + scale * acc);
      }
    ctx.outputs = {out};
    result = success();
  } else if (isa<LinearOp, Conv2DOp, MatmulOp>(op)) {
    where = op.getName().getStringRef().str();
    result = runLayerOp(&op, ctx, kernels);
  } else if (isIntegerOp(&op)) {
    where = op.getName().getStringRef().str();
    result = runIntegerOp(&op, ctx);
  } else {
    op.emitError() << "unsupported: the interpreter cannot run "
                   << op.getName();
    return failure();
  }
  if (failed(result)) {
    if (ctx.unsupported)
      op.emitError() << "unsupported: " << where << ": " << ctx.error;
    else
      op.emitError() << where << ": " << ctx.error;
    return failure();
  }
  results.clear();
  for (unsigned i = 0; i < op.getNumResults(); ++i) {
    Tensor t = i < ctx.outputs.size() ? ctx.outputs[i] : Tensor();
    // Narrow back to the half type the op computes in, unless its result
    // is declared f32 (a qweight with f16 scales dequantizes to f32).
    Type declared = getElementTypeOrSelf(op.getResult(i).getType());
    bool narrow = halfType && t.dtype() == DType::F32 && !declared.isF32() &&
                  !(node && (node.getOpType() == "Cast" ||
                             node.getOpType() == "CastLike"));
    results.push_back(narrow ? t.cast(*halfType) : t);
  }
  return success();
}

FailureOr<std::vector<Tensor>>
mlir::lowbit::interpret(func::FuncOp func, ArrayRef<Tensor> inputs,
                        const InterpreterOptions &options) {
  const KernelTable &kernels = getKernels();
  FunctionType fnType = func.getFunctionType();
  if (inputs.size() != fnType.getNumInputs()) {
    emitError(func.getLoc()) << "the model takes " << fnType.getNumInputs()
                             << " inputs but " << inputs.size()
                             << " were given";
    return failure();
  }
  llvm::DenseMap<Value, Tensor> values;
  for (auto [i, arg] : llvm::enumerate(func.getArguments())) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "lowbit.name");
    std::string argName = name ? name.str() : "#" + std::to_string(i);
    Tensor t = inputs[i];
    auto type = dyn_cast<ShapedType>(arg.getType());
    FailureOr<DType> want = type ? dtypeFromType(type.getElementType())
                                 : FailureOr<DType>(failure());
    // Half-precision data often arrives as raw 16-bit words (u16).
    if (succeeded(want) && (*want == DType::BF16 || *want == DType::F16) &&
        t.dtype() == DType::U16)
      t = Tensor::borrow(*want, t.shape(), t.raw());
    if (succeeded(want) && *want != t.dtype()) {
      emitError(func.getLoc())
          << "input '" << argName << "' must be " << dtypeName(*want)
          << " but the given tensor is " << t.describe();
      return failure();
    }
    if (type && type.hasRank()) {
      bool ok = type.getRank() == t.rank();
      for (int64_t d = 0; ok && d < t.rank(); ++d)
        ok = type.isDynamicDim(d) || type.getDimSize(d) == t.dim(d);
      if (!ok) {
        emitError(func.getLoc()) << "input '" << argName << "' must have shape "
                                 << type << " but the given tensor is "
                                 << t.describe();
        return failure();
      }
    }
    values[arg] = t;
  }

  // Last use of every value, so tensors are freed as early as possible.
  llvm::DenseMap<Value, Operation *> lastUse;
  for (Operation &op : func.getBody().front())
    for (Value v : op.getOperands())
      lastUse[v] = &op;

  std::string adapter;
  if (options.adapter)
    adapter = *options.adapter;
  else if (auto names = func->getAttrOfType<ArrayAttr>("lowbit.adapters");
           names && !names.empty())
    if (auto first = dyn_cast<StringAttr>(names[0]))
      adapter = first.str();

  bool skipping = options.resumeAt && options.cache;
  for (Operation &op : func.getBody().front()) {
    if (&op == options.resumeAt)
      skipping = false;
    if (skipping && !isa<arith::ConstantOp, func::ReturnOp>(op)) {
      for (Value r : op.getResults())
        if (auto it = options.cache->find(r); it != options.cache->end())
          values[r] = it->second;
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<Tensor> results;
      for (Value v : ret.getOperands())
        results.push_back(values.lookup(v));
      return results;
    }
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      FailureOr<Tensor> t = tensorFromAttr(cst.getValue());
      if (failed(t)) {
        op.emitError() << "unsupported constant " << cst.getValue().getType();
        return failure();
      }
      values[cst.getResult()] = *t;
      continue;
    }
    if (isa<NoValueOp>(op))
      continue;
    // A switchable adapter that is not selected adds nothing.
    StringAttr branchOf = isa<LowRankOp>(op) ? cast<LowRankOp>(op).getAdapterAttr()
                          : isa<LoraOp>(op)  ? cast<LoraOp>(op).getAdapterAttr()
                                             : StringAttr();
    if (branchOf && branchOf.getValue() != adapter) {
      values[op.getResult(0)] = values.lookup(op.getOperand(0));
      continue;
    }

    std::vector<Tensor> results;
    if (failed(executeOp(
            op, kernels,
            [&](Value v) -> const Tensor * {
              auto it = values.find(v);
              return it == values.end() ? nullptr : &it->second;
            },
            results)))
      return failure();
    if (options.transform)
      options.transform(&op, results);
    for (unsigned i = 0; i < op.getNumResults(); ++i)
      values[op.getResult(i)] = results[i];
    if (options.observer) {
      std::vector<Tensor> outs;
      for (Value r : op.getResults())
        outs.push_back(values.lookup(r));
      options.observer(&op, outs);
    }
    for (Value v : op.getOperands()) {
      auto it = lastUse.find(v);
      if (it != lastUse.end() && it->second == &op)
        values.erase(v);
    }
  }
  emitError(func.getLoc()) << "function has no return";
  return failure();
}

FailureOr<std::vector<Tensor>>
mlir::lowbit::evaluateOp(Operation *op, ArrayRef<Tensor> operands) {
  std::vector<Tensor> results;
  unsigned i = 0;
  if (failed(executeOp(
          *op, getKernels(),
          [&](Value v) -> const Tensor * {
            for (unsigned k = 0; k < op->getNumOperands(); ++k)
              if (op->getOperand(k) == v)
                return &operands[k];
            return nullptr;
          },
          results)))
    return failure();
  (void)i;
  return results;
}

FailureOr<Tensor> mlir::lowbit::tensorFromConstant(Attribute attr) {
  return interp::tensorFromAttr(attr);
}
