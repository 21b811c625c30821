//===- LowbitOps.cpp - lowbit op verifiers and type inference -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Type inference is lenient on purpose: it computes a result type from
// whatever operands it gets, and the verifiers report inconsistencies with a
// message that names the offending dimensions. (A strict inferReturnTypes
// would surface every problem as "failed to infer returned types".)
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::lowbit;

#define GET_OP_CLASSES
#include "lowbit/Dialect/Lowbit/LowbitOps.cpp.inc"

std::string mlir::lowbit::getNodeName(Operation *op) {
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  return op->getName().getStringRef().str();
}

int64_t mlir::lowbit::getIntAttr(OnnxNodeOp op, StringRef name,
                                 int64_t dflt) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<IntegerAttr>(attrs.get(name)))
      return a.getInt();
  return dflt;
}

/// Formats a dimension for diagnostics ("?" for dynamic).
static std::string dimStr(int64_t d) {
  return ShapedType::isDynamic(d) ? std::string("?") : std::to_string(d);
}

/// True when both dimensions are static and differ.
static bool dimsConflict(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.size() < 2)
    return failure();
  auto input = dyn_cast<RankedTensorType>(operands[0].getType());
  auto weight = dyn_cast<RankedTensorType>(operands[1].getType());
  if (!input || !weight)
    return failure();
  // Malformed ranks still infer a type; the operand constraints and the
  // verifier report them with a precise message.
  SmallVector<int64_t> shape(
      input.getShape().drop_back(input.getRank() > 0 ? 1 : 0));
  shape.push_back(weight.getRank() > 0 ? weight.getDimSize(0)
                                       : ShapedType::kDynamic);
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult LinearOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (input.getRank() < 1)
    return emitOpError("input must have rank at least 1");
  int64_t k = input.getDimSize(input.getRank() - 1);
  if (dimsConflict(k, weight.getDimSize(1)))
    return emitOpError("input has ")
           << dimStr(k) << " features but weight [N, K] has K = "
           << dimStr(weight.getDimSize(1));
  if (auto bias = getBias()) {
    int64_t n = cast<RankedTensorType>(bias.getType()).getDimSize(0);
    if (dimsConflict(n, weight.getDimSize(0)))
      return emitOpError("bias has ")
             << dimStr(n) << " elements but weight has "
             << dimStr(weight.getDimSize(0)) << " output features";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

/// Returns `values` if it has `n` entries, else `n` copies of `fallback`.
static SmallVector<int64_t> valuesOr(ArrayRef<int64_t> values, size_t n,
                                     int64_t fallback) {
  if (values.size() == n)
    return SmallVector<int64_t>(values);
  return SmallVector<int64_t>(n, fallback);
}

/// Output size of one spatial dimension; dynamic in, dynamic out.
static int64_t convOutDim(int64_t in, int64_t kernel, int64_t stride,
                          int64_t padBegin, int64_t padEnd, int64_t dilation) {
  if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel) ||
      stride <= 0 || dilation <= 0)
    return ShapedType::kDynamic;
  int64_t span = dilation * (kernel - 1) + 1;
  int64_t padded = in + padBegin + padEnd;
  if (padded < span)
    return 0;
  return (padded - span) / stride + 1;
}

LogicalResult Conv2DOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.size() < 2)
    return failure();
  auto input = dyn_cast<RankedTensorType>(operands[0].getType());
  auto weight = dyn_cast<RankedTensorType>(operands[1].getType());
  if (!input || !weight || input.getRank() != 4 || weight.getRank() != 4)
    return failure();
  Conv2DOp::Adaptor adaptor(operands, attributes, properties, regions);
  SmallVector<int64_t> strides = valuesOr(adaptor.getStrides(), 2, 1);
  SmallVector<int64_t> padding = valuesOr(adaptor.getPadding(), 4, 0);
  SmallVector<int64_t> dilations = valuesOr(adaptor.getDilations(), 2, 1);
  SmallVector<int64_t> shape = {input.getDimSize(0), weight.getDimSize(0)};
  for (int i = 0; i < 2; ++i)
    shape.push_back(convOutDim(input.getDimSize(2 + i),
                               weight.getDimSize(2 + i), strides[i],
                               padding[i], padding[2 + i], dilations[i]));
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult Conv2DOp::verify() {
  auto input = getInput().getType();
  auto weight = getWeight().getType();
  if (getStrides().size() != 2)
    return emitOpError("strides must have 2 entries, got ")
           << getStrides().size();
  if (getPadding().size() != 4)
    return emitOpError("padding must have 4 entries [top, left, bottom, "
                       "right], got ")
           << getPadding().size();
  if (getDilations().size() != 2)
    return emitOpError("dilations must have 2 entries, got ")
           << getDilations().size();
  if (llvm::any_of(getStrides(), [](int64_t s) { return s <= 0; }))
    return emitOpError("strides must be positive");
  if (llvm::any_of(getDilations(), [](int64_t d) { return d <= 0; }))
    return emitOpError("dilations must be positive");
  if (llvm::any_of(getPadding(), [](int64_t p) { return p < 0; }))
    return emitOpError("padding must be non-negative");
  int64_t groups = getGroups();
  if (groups <= 0)
    return emitOpError("groups must be positive, got ") << groups;
  int64_t channels = input.getDimSize(1);
  int64_t outChannels = weight.getDimSize(0);
  if (!ShapedType::isDynamic(channels) &&
      !ShapedType::isDynamic(weight.getDimSize(1)) &&
      weight.getDimSize(1) * groups != channels)
    return emitOpError("input has ")
           << channels << " channels but weight expects "
           << weight.getDimSize(1) << " per group x " << groups << " groups";
  if (!ShapedType::isDynamic(outChannels) && outChannels % groups != 0)
    return emitOpError("output channels ")
           << outChannels << " are not divisible by groups " << groups;
  if (auto bias = getBias()) {
    int64_t n = cast<RankedTensorType>(bias.getType()).getDimSize(0);
    if (dimsConflict(n, outChannels))
      return emitOpError("bias has ")
             << n << " elements but weight has " << outChannels
             << " output channels";
  }
  auto output = getOutput().getType();
  for (int i = 2; i < 4; ++i)
    if (output.getDimSize(i) == 0)
      return emitOpError("kernel does not fit in the padded input along "
                         "spatial dimension ")
             << i;
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// Broadcasts two batch shapes NumPy-style; a conflict keeps the lhs size
/// (the verifier reports it).
static SmallVector<int64_t> broadcastBatch(ArrayRef<int64_t> a,
                                           ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (ShapedType::isDynamic(da))
      out[i] = db;
    else
      out[i] = da;
  }
  return out;
}

LogicalResult MatmulOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.size() != 2)
    return failure();
  auto lhs = dyn_cast<RankedTensorType>(operands[0].getType());
  auto rhs = dyn_cast<RankedTensorType>(operands[1].getType());
  if (!lhs || !rhs || lhs.getRank() < 2 || rhs.getRank() < 2)
    return failure();
  SmallVector<int64_t> shape = broadcastBatch(lhs.getShape().drop_back(2),
                                              rhs.getShape().drop_back(2));
  shape.push_back(lhs.getDimSize(lhs.getRank() - 2));
  shape.push_back(rhs.getDimSize(rhs.getRank() - 1));
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

LogicalResult MatmulOp::verify() {
  auto lhs = getLhs().getType();
  auto rhs = getRhs().getType();
  int64_t k1 = lhs.getDimSize(lhs.getRank() - 1);
  int64_t k2 = rhs.getDimSize(rhs.getRank() - 2);
  if (dimsConflict(k1, k2))
    return emitOpError("contraction dimensions differ: lhs has K = ")
           << k1 << ", rhs has K = " << k2;
  ArrayRef<int64_t> a = lhs.getShape().drop_back(2);
  ArrayRef<int64_t> b = rhs.getShape().drop_back(2);
  for (size_t i = 1; i <= std::min(a.size(), b.size()); ++i) {
    int64_t da = a[a.size() - i], db = b[b.size() - i];
    if (da != 1 && db != 1 && dimsConflict(da, db))
      return emitOpError("batch dimensions ")
             << da << " and " << db << " do not broadcast";
  }
  if (lhs.getElementType() != rhs.getElementType())
    return emitOpError("operand element types differ: ")
           << lhs.getElementType() << " and " << rhs.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// Quantize / Dequantize / Requantize
//===----------------------------------------------------------------------===//

/// Checks that a per-axis quantized type fits the tensor it describes.
static LogicalResult verifyPerAxis(Operation *op, RankedTensorType type) {
  auto perAxis =
      dyn_cast<quant::UniformQuantizedPerAxisType>(type.getElementType());
  if (!perAxis)
    return success();
  int32_t axis = perAxis.getQuantizedDimension();
  if (axis >= type.getRank())
    return op->emitOpError("quantized dimension ")
           << axis << " is out of range for a rank-" << type.getRank()
           << " tensor";
  int64_t dim = type.getDimSize(axis);
  int64_t scales = perAxis.getScales().size();
  if (!ShapedType::isDynamic(dim) && dim != scales)
    return op->emitOpError("quantized dimension ")
           << axis << " has size " << dim << " but the type carries "
           << scales << " scales";
  return success();
}

LogicalResult QuantizeOp::verify() {
  auto qtype = cast<quant::QuantizedType>(getOutput().getType().getElementType());
  Type inElt = getInput().getType().getElementType();
  if (qtype.getExpressedType() != inElt)
    return emitOpError("result expresses ")
           << qtype.getExpressedType() << " but the input is " << inElt;
  return verifyPerAxis(*this, getOutput().getType());
}

LogicalResult DequantizeOp::verify() {
  auto qtype = cast<quant::QuantizedType>(getInput().getType().getElementType());
  Type outElt = getOutput().getType().getElementType();
  if (qtype.getExpressedType() != outElt)
    return emitOpError("input expresses ")
           << qtype.getExpressedType() << " but the result is " << outElt;
  return verifyPerAxis(*this, getInput().getType());
}

/// Per-axis parameters must stay on the same dimension; anything else would
/// silently reinterpret the scales.
LogicalResult RequantizeOp::verify() {
  auto inType = getInput().getType();
  auto outType = getOutput().getType();
  auto in = cast<quant::QuantizedType>(inType.getElementType());
  auto out = cast<quant::QuantizedType>(outType.getElementType());
  if (in.getExpressedType() != out.getExpressedType())
    return emitOpError("expressed type changes from ")
           << in.getExpressedType() << " to " << out.getExpressedType();
  auto inAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(in);
  auto outAxis = dyn_cast<quant::UniformQuantizedPerAxisType>(out);
  if (inAxis && outAxis &&
      inAxis.getQuantizedDimension() != outAxis.getQuantizedDimension())
    return emitOpError("per-axis quantized dimension changes from ")
           << inAxis.getQuantizedDimension() << " to "
           << outAxis.getQuantizedDimension();
  if (failed(verifyPerAxis(*this, inType)))
    return failure();
  return verifyPerAxis(*this, outType);
}

//===----------------------------------------------------------------------===//
// QWeightOp
//===----------------------------------------------------------------------===//

LogicalResult QWeightOp::verify() {
  SchemeAttr scheme = getScheme();
  auto result = getOutput().getType();
  auto scales = getScales().getType();
  if (!result.hasStaticShape())
    return emitOpError("result shape must be static, got ") << result;
  if (scales.getElementType() != scheme.getScaleType())
    return emitOpError("scales have element type ")
           << scales.getElementType() << " but the scheme stores scales as "
           << scheme.getScaleType();
  int64_t axis = scheme.getAxis();
  if (scheme.getGranularity() != Granularity::PerTensor &&
      axis >= result.getRank())
    return emitOpError("scheme axis ")
           << axis << " is out of range for a rank-" << result.getRank()
           << " weight";

  int64_t numel = result.getNumElements();
  int64_t bytes = (numel * scheme.getBitWidth() + 7) / 8;
  int64_t dataBytes = getData().getType().getDimSize(0);
  if (dimsConflict(dataBytes, bytes))
    return emitOpError("data holds ")
           << dataBytes << " bytes but " << numel << " "
           << stringifyQuantFormat(scheme.getFormat()) << " codes need "
           << bytes << " bytes";

  SmallVector<int64_t> expected;
  switch (scheme.getGranularity()) {
  case Granularity::PerTensor:
    expected = {1};
    break;
  case Granularity::PerChannel:
    expected = {result.getDimSize(axis)};
    break;
  case Granularity::Group: {
    expected = SmallVector<int64_t>(result.getShape());
    int64_t size = scheme.getGroupSize();
    expected[axis] = (expected[axis] + size - 1) / size;
    break;
  }
  }
  if (scales.getShape() != ArrayRef<int64_t>(expected)) {
    std::string want;
    llvm::raw_string_ostream os(want);
    llvm::interleave(expected, os, "x");
    return emitOpError("scales have shape ")
           << scales << " but the scheme needs " << want;
  }
  Value zeroPoints = getZeroPoints();
  if (!scheme.getSymmetric() && !zeroPoints)
    return emitOpError("affine scheme needs zero_points");
  if (scheme.getSymmetric() && zeroPoints)
    return emitOpError("symmetric scheme takes no zero_points");
  if (zeroPoints &&
      cast<RankedTensorType>(zeroPoints.getType()).getShape() !=
          scales.getShape())
    return emitOpError("zero_points shape must match scales shape");
  return success();
}

//===----------------------------------------------------------------------===//
// LoraOp / LowRankOp
//===----------------------------------------------------------------------===//

/// Checks `weight [N, K] ≈ left [N, r] · right [r, K]`.
static LogicalResult verifyLowRankShapes(Operation *op, ShapedType weight,
                                         ShapedType left, ShapedType right,
                                         StringRef leftName,
                                         StringRef rightName) {
  if (dimsConflict(left.getDimSize(0), weight.getDimSize(0)))
    return op->emitOpError()
           << leftName << " has " << left.getDimSize(0)
           << " rows but the weight has " << weight.getDimSize(0);
  if (dimsConflict(right.getDimSize(1), weight.getDimSize(1)))
    return op->emitOpError()
           << rightName << " has " << right.getDimSize(1)
           << " columns but the weight has " << weight.getDimSize(1);
  if (dimsConflict(left.getDimSize(1), right.getDimSize(0)))
    return op->emitOpError("rank mismatch: ")
           << leftName << " has rank " << left.getDimSize(1) << ", "
           << rightName << " has rank " << right.getDimSize(0);
  return success();
}

LogicalResult LoraOp::verify() {
  // lora(W, A, B): W [N, K], B [N, r], A [r, K].
  if (getAlpha().convertToDouble() <= 0.0)
    return emitOpError("alpha must be positive");
  return verifyLowRankShapes(*this, getWeight().getType(), getB().getType(),
                             getA().getType(), "B", "A");
}

LogicalResult LowRankOp::verify() {
  return verifyLowRankShapes(*this, getWeight().getType(), getLeft().getType(),
                             getRight().getType(), "left", "right");
}

//===----------------------------------------------------------------------===//
// RotateOp / PermuteOp
//===----------------------------------------------------------------------===//

LogicalResult RotateOp::verify() {
  auto type = getInput().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOpError("axis ") << axis << " is out of range for a rank-"
                                << type.getRank() << " tensor";
  int64_t dim = type.getDimSize(axis);
  if (getKind() == RotationKind::Hadamard) {
    if (getMatrix())
      return emitOpError("a hadamard rotation takes no matrix operand");
    if (!ShapedType::isDynamic(dim) && !llvm::isPowerOf2_64(dim))
      return emitOpError("hadamard rotation needs a power-of-two dimension, "
                         "got ")
             << dim;
    return success();
  }
  if (!getMatrix())
    return emitOpError("a matrix rotation needs a matrix operand");
  auto matrix = cast<RankedTensorType>(getMatrix().getType());
  if (dimsConflict(matrix.getDimSize(0), dim) ||
      dimsConflict(matrix.getDimSize(1), dim))
    return emitOpError("rotation matrix must be ")
           << dim << "x" << dim << ", got " << matrix;
  return success();
}

LogicalResult PermuteOp::verify() {
  auto type = getInput().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOpError("axis ") << axis << " is out of range for a rank-"
                                << type.getRank() << " tensor";
  ArrayRef<int64_t> perm = getPermutation();
  int64_t dim = type.getDimSize(axis);
  if (!ShapedType::isDynamic(dim) && static_cast<int64_t>(perm.size()) != dim)
    return emitOpError("permutation has ")
           << perm.size() << " entries but axis " << axis << " has size "
           << dim;
  llvm::SmallBitVector seen(perm.size());
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(perm.size()) || seen.test(p))
      return emitOpError("permutation is not a permutation of [0, ")
             << perm.size() << "): bad or repeated entry " << p;
    seen.set(p);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// OnnxNodeOp
//===----------------------------------------------------------------------===//

LogicalResult OnnxNodeOp::verify() {
  if (getOpType().empty())
    return emitOpError("op_type must not be empty");
  if (getOpset() < 1)
    return emitOpError("opset must be at least 1, got ") << getOpset();
  // Ops that only re-view their input keep its element count; with both
  // shapes static a mismatch is an error here, not a wrong answer later
  // (the interpreter checks the same at run time).
  StringRef type = getOpType();
  if ((type == "Reshape" || type == "Flatten" || type == "Squeeze" ||
       type == "Unsqueeze" || type == "Identity") &&
      !getDomain() && !getInputs().empty() && getNumResults() == 1) {
    auto in = dyn_cast<RankedTensorType>(getInputs()[0].getType());
    auto out = dyn_cast<RankedTensorType>(getResult(0).getType());
    if (in && out && in.hasStaticShape() && out.hasStaticShape() &&
        in.getNumElements() != out.getNumElements())
      return emitOpError() << type
                           << (isa<NameLoc>(getLoc())
                                   ? " at node '" + getNodeName(*this) + "'"
                                   : std::string())
                           << " cannot turn " << in << " ("
                           << in.getNumElements() << " elements) into " << out
                           << " (" << out.getNumElements() << " elements)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Integer-only layers
//===----------------------------------------------------------------------===//

/// Integer ops read and write per-tensor 8-bit uniform codes only.
static LogicalResult verifyInt8Value(Operation *op, Value v, StringRef what) {
  auto uq = dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(v));
  if (!uq || uq.getStorageTypeIntegralWidth() != 8)
    return op->emitOpError() << what
                             << " must be a per-tensor 8-bit !quant.uniform "
                                "tensor, got "
                             << v.getType();
  return success();
}

static LogicalResult verifySameShape(Operation *op, Value in, Value out) {
  if (cast<ShapedType>(in.getType()).getShape() !=
      cast<ShapedType>(out.getType()).getShape())
    return op->emitOpError() << "input " << in.getType() << " and result "
                             << out.getType() << " differ in shape";
  return success();
}

static LogicalResult verifyClamp(Operation *op, Value out, int64_t lo,
                                 int64_t hi) {
  auto uq = cast<quant::UniformQuantizedType>(getElementTypeOrSelf(out));
  if (lo > hi || lo < uq.getStorageTypeMin() || hi > uq.getStorageTypeMax())
    return op->emitOpError() << "clamp [" << lo << ", " << hi
                             << "] is not inside the result's storage range ["
                             << uq.getStorageTypeMin() << ", "
                             << uq.getStorageTypeMax() << "]";
  return success();
}

/// The codes in and out of an integer op, and its clamp.
static LogicalResult verifyCodes(Operation *op, Value in, Value out,
                                 int64_t lo, int64_t hi) {
  if (failed(verifyInt8Value(op, in, "input")) ||
      failed(verifyInt8Value(op, out, "result")))
    return failure();
  return verifyClamp(op, out, lo, hi);
}

/// bias, multiplier and shift: one entry per output channel; shifts in
/// [0, 62] and multipliers non-negative where they are constants.
static LogicalResult verifyRequantOperands(Operation *op, int64_t channels,
                                           Value bias, Value multiplier,
                                           Value shift) {
  auto rounding = op->getAttrOfType<RoundingModeAttr>("rounding");
  if (rounding && rounding.getValue() == RoundingMode::HalfToEven)
    return op->emitOpError("rounding must be half_away_from_zero or "
                           "doubling_high_mul");
  for (auto [v, what] : {std::pair{bias, "bias"},
                         std::pair{multiplier, "multiplier"},
                         std::pair{shift, "shift"}}) {
    int64_t n = cast<RankedTensorType>(v.getType()).getDimSize(0);
    if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(channels) &&
        n != channels)
      return op->emitOpError() << what << " has " << n << " entries but the "
                               << "layer has " << channels
                               << " output channels";
  }
  DenseIntElementsAttr attr;
  if (matchPattern(shift, m_Constant(&attr)))
    for (const APInt &s : attr.getValues<APInt>())
      if (s.getSExtValue() < 0 || s.getSExtValue() > 62)
        return op->emitOpError() << "shift " << s.getSExtValue()
                                 << " is outside [0, 62]";
  if (matchPattern(multiplier, m_Constant(&attr)))
    for (const APInt &m : attr.getValues<APInt>())
      if (m.isNegative())
        return op->emitOpError() << "multiplier " << m.getSExtValue()
                                 << " is negative";
  return success();
}

LogicalResult QConv2DOp::verify() {
  if (failed(verifyCodes(*this, getInput(), getOutput(),
                         int64_t(getClampMin()), int64_t(getClampMax()))))
    return failure();
  if (getStrides().size() != 2 || getDilations().size() != 2 ||
      getPadding().size() != 4)
    return emitOpError("strides and dilations need 2 entries, padding 4");
  if (llvm::any_of(getStrides(), [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(getDilations(), [](int64_t d) { return d <= 0; }) ||
      llvm::any_of(getPadding(), [](int64_t p) { return p < 0; }))
    return emitOpError("strides and dilations must be positive and padding "
                       "non-negative");
  auto in = getInput().getType();
  auto w = getWeight().getType();
  int64_t groups = getGroups();
  if (groups <= 0 || w.getDimSize(1) * groups != in.getDimSize(1) ||
      w.getDimSize(0) % groups != 0)
    return emitOpError() << "weight " << w << " does not fit input " << in
                         << " with " << groups << " groups";
  if (getOutput().getType().getDimSize(1) != w.getDimSize(0))
    return emitOpError() << "result has " << getOutput().getType().getDimSize(1)
                         << " channels but the weight " << w.getDimSize(0);
  return verifyRequantOperands(*this, w.getDimSize(0), getBias(),
                               getMultiplier(), getShift());
}

LogicalResult QLinearOp::verify() {
  if (failed(verifyCodes(*this, getInput(), getOutput(),
                         int64_t(getClampMin()), int64_t(getClampMax()))))
    return failure();
  auto in = getInput().getType();
  auto w = getWeight().getType();
  auto out = getOutput().getType();
  if (in.getDimSize(1) != w.getDimSize(1) ||
      out.getDimSize(1) != w.getDimSize(0) ||
      out.getDimSize(0) != in.getDimSize(0))
    return emitOpError() << "shapes do not fit: input " << in << ", weight "
                         << w << ", result " << out;
  return verifyRequantOperands(*this, w.getDimSize(0), getBias(),
                               getMultiplier(), getShift());
}

LogicalResult QAddOp::verify() {
  if (failed(verifyInt8Value(*this, getLhs(), "lhs")) ||
      failed(verifyInt8Value(*this, getRhs(), "rhs")) ||
      failed(verifyInt8Value(*this, getOutput(), "result")) ||
      failed(verifyClamp(*this, getOutput(), int64_t(getClampMin()), int64_t(getClampMax()))))
    return failure();
  if (int64_t(getShift()) < 0 || int64_t(getShift()) > 62 || int64_t(getLhsMultiplier()) < 0 ||
      int64_t(getRhsMultiplier()) < 0 || int64_t(getLhsMultiplier()) >= (int64_t(1) << 31) ||
      int64_t(getRhsMultiplier()) >= (int64_t(1) << 31))
    return emitOpError("multipliers must be in [0, 2^31) and the shift in "
                       "[0, 62]");
  return success();
}

LogicalResult QPool2DOp::verify() {
  if (failed(verifyCodes(*this, getInput(), getOutput(),
                         int64_t(getClampMin()), int64_t(getClampMax()))))
    return failure();
  if (getKind() != "max" && getKind() != "avg")
    return emitOpError() << "kind must be \"max\" or \"avg\", got \""
                         << getKind() << "\"";
  if (getKernel().size() != 2 || getStrides().size() != 2 ||
      getPadding().size() != 4)
    return emitOpError("kernel and strides need 2 entries, padding 4");
  if (llvm::any_of(getKernel(), [](int64_t k) { return k <= 0; }) ||
      llvm::any_of(getStrides(), [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(getPadding(), [](int64_t p) { return p < 0; }))
    return emitOpError("kernel and strides must be positive and padding "
                       "non-negative");
  if (getKind() == "max" && getInput().getType().getElementType() !=
                                getOutput().getType().getElementType())
    return emitOpError("max pooling keeps the input's scale and zero point");
  if (int64_t(getShift()) < 0 || int64_t(getShift()) > 40 || int64_t(getMultiplier()) < 0 ||
      int64_t(getMultiplier()) >= (int64_t(1) << 31))
    return emitOpError("the multiplier must be in [0, 2^31) and the shift in "
                       "[0, 40]");
  return success();
}

LogicalResult QLutOp::verify() {
  if (failed(verifyInt8Value(*this, getInput(), "input")) ||
      failed(verifyInt8Value(*this, getOutput(), "result")))
    return failure();
  if (failed(verifySameShape(*this, getInput(), getOutput())))
    return failure();
  if (getTable().getType().getDimSize(0) != 256)
    return emitOpError() << "the table must have 256 entries, got "
                         << getTable().getType().getDimSize(0);
  return success();
}

LogicalResult QSoftmaxOp::verify() {
  if (failed(verifyCodes(*this, getInput(), getOutput(),
                         int64_t(getClampMin()), int64_t(getClampMax()))))
    return failure();
  if (failed(verifySameShape(*this, getInput(), getOutput())))
    return failure();
  if (getTable().getType().getDimSize(0) != 256)
    return emitOpError() << "the table must have 256 entries, got "
                         << getTable().getType().getDimSize(0);
  if (int64_t(getShift()) < 0 || int64_t(getShift()) > 30 || int64_t(getMultiplier()) < 0 ||
      int64_t(getMultiplier()) >= (int64_t(1) << 31))
    return emitOpError("the multiplier must be in [0, 2^31) and the shift in "
                       "[0, 30]");
  return success();
}
