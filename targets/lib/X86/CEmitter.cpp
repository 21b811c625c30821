//===- CEmitter.cpp - lowbit IR -> C calling runtime kernels ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Three steps over the (static-shaped) function:
//  1. classify every value: constant (goes to the package, packed for the
//     kernel that reads it), input, alias (a view of another buffer:
//     Reshape, Flatten, ...), fused (an elementwise value with one
//     elementwise user of the same shape: it never hits memory), or buffer;
//  2. plan the arena: buffers and per-op scratch get offsets from a
//     first-fit allocator over their live ranges;
//  3. print C: kernel calls for layers, one loop nest per elementwise root
//     with its fused producers inlined as one expression.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/X86/X86Target.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Quant/Formats.h"

#include "lowbit_package_generated.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <sstream>

using namespace mlir;
using namespace mlir::lowbit;

extern "C" uint32_t lowbit_crc32(const void *data, size_t size);

#include "lowbit/abi.h"
#include "lowbit/runtime.h"

std::string mlir::lowbit::modelIdentifier(StringRef path) {
  std::string stem = llvm::sys::path::stem(path).str();
  std::string out;
  for (char c : stem)
    out.push_back(llvm::isAlnum(c) ? c : '_');
  if (out.empty() || llvm::isDigit(out[0]))
    out.insert(out.begin(), 'm');
  return out;
}

namespace {

constexpr int64_t kPanel = 16;

int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

StringRef opTypeOf(Operation *op) {
  if (auto node = dyn_cast<OnnxNodeOp>(op))
    return node.getOpType();
  return op->getName().getStringRef();
}

// One element-type numbering: the runtime's lowbit_dtype_t (runtime.h) is
// the source; the package schema's DType and the interpreter's DType must
// carry the same values, checked here where all three are visible.
#define LOWBIT_SAME_DTYPE(RT, PKG, INTERP)                                     \
  static_assert(int(RT) == int(::lowbit::pkg::DType_##PKG) &&                  \
                    int(RT) == int(DType::INTERP),                             \
                #RT " differs between runtime.h, the package and Tensor.h")
LOWBIT_SAME_DTYPE(LOWBIT_F32, F32, F32);
LOWBIT_SAME_DTYPE(LOWBIT_F64, F64, F64);
LOWBIT_SAME_DTYPE(LOWBIT_F16, F16, F16);
LOWBIT_SAME_DTYPE(LOWBIT_BF16, BF16, BF16);
LOWBIT_SAME_DTYPE(LOWBIT_I8, I8, I8);
LOWBIT_SAME_DTYPE(LOWBIT_I16, I16, I16);
LOWBIT_SAME_DTYPE(LOWBIT_I32, I32, I32);
LOWBIT_SAME_DTYPE(LOWBIT_I64, I64, I64);
LOWBIT_SAME_DTYPE(LOWBIT_U8, U8, U8);
LOWBIT_SAME_DTYPE(LOWBIT_U16, U16, U16);
LOWBIT_SAME_DTYPE(LOWBIT_U32, U32, U32);
LOWBIT_SAME_DTYPE(LOWBIT_U64, U64, U64);
LOWBIT_SAME_DTYPE(LOWBIT_BOOL, Bool, Bool);
static_assert(int(::lowbit::pkg::DType_MAX) == int(LOWBIT_BOOL),
              "the package schema has a dtype runtime.h lacks");
#undef LOWBIT_SAME_DTYPE

/// C element type and package dtype of an MLIR element type.
struct CType {
  const char *c;
  lowbit_dtype_t dtype;
  int64_t bytes;
};
std::optional<CType> cTypeOf(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    return q.getStorageTypeIntegralWidth() != 8 ? std::nullopt
           : q.isSigned() ? std::optional(CType{"int8_t", LOWBIT_I8, 1})
                          : std::optional(CType{"uint8_t", LOWBIT_U8, 1});
  if (t.isF32())
    return CType{"float", LOWBIT_F32, 4};
  if (t.isF64())
    return CType{"double", LOWBIT_F64, 8};
  if (t.isInteger(1))
    return CType{"uint8_t", LOWBIT_BOOL, 1};
  if (auto it = dyn_cast<IntegerType>(t)) {
    bool u = it.isUnsigned();
    switch (it.getWidth()) {
    case 8:
      return u ? CType{"uint8_t", LOWBIT_U8, 1} : CType{"int8_t", LOWBIT_I8, 1};
    case 16:
      return u ? CType{"uint16_t", LOWBIT_U16, 2}
               : CType{"int16_t", LOWBIT_I16, 2};
    case 32:
      return u ? CType{"uint32_t", LOWBIT_U32, 4}
               : CType{"int32_t", LOWBIT_I32, 4};
    case 64:
      return u ? CType{"uint64_t", LOWBIT_U64, 8}
               : CType{"int64_t", LOWBIT_I64, 8};
    default:
      break;
    }
  }
  return std::nullopt;
}

/// Limits that keep every size and offset in generated code far from
/// int64 overflow (stated in error messages and docs/x86-target.md).
constexpr int64_t kMaxTensorBytes = int64_t(1) << 36; // 64 GiB
constexpr int64_t kMaxArenaBytes = int64_t(1) << 38;  // 256 GiB

/// "[2147483648x2147483648]"
std::string shapeString(ShapedType t) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(t.getShape()))
    out += (i ? "x" : "") + std::to_string(d);
  return out + "]";
}

RankedTensorType tensorType(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Appends `bytes` to the weight blob at a 64-byte boundary.
int64_t appendBlob(std::string &blob, const char *data, int64_t bytes) {
  blob.resize(alignUp(blob.size(), 64), '\0');
  int64_t off = blob.size();
  blob.append(data, bytes);
  return off;
}

/// One filter per channel (groups == C == O): the direct depthwise kernel,
/// weights kept per channel instead of in (mostly empty) 16-wide panels.
bool isDepthwise(Operation *op) {
  auto conv = dyn_cast<Conv2DOp>(op);
  if (!conv || conv.getGroups() <= 1)
    return false;
  auto wt = cast<RankedTensorType>(conv.getWeight().getType());
  int64_t c = conv.getInput().getType().getDimSize(1);
  return wt.getDimSize(0) == int64_t(conv.getGroups()) &&
         wt.getDimSize(1) == 1 && c == int64_t(conv.getGroups()) &&
         wt.getDimSize(2) * wt.getDimSize(3) <= LOWBIT_DEPTHWISE_MAX_TAPS;
}

/// The W8A8 pattern: linear(dequantize(quantize(x) : u8 per tensor),
/// qweight int8 per channel) runs on the u8 x s8 integer kernel; returns
/// the quantize op.
QuantizeOp w8a8Input(Operation *op) {
  if (!isa<LinearOp, Conv2DOp>(op))
    return {};
  // A grouped convolution would run one 16-wide u8 x s8 panel per group
  // for a few channels each (depthwise: one): slower than decoding the
  // int8 weights for the f32 kernels, so those keep f32 activations.
  if (auto conv = dyn_cast<Conv2DOp>(op); conv && conv.getGroups() != 1)
    return {};
  auto dq = op->getOperand(0).getDefiningOp<DequantizeOp>();
  auto qw = op->getOperand(1).getDefiningOp<QWeightOp>();
  // The dequantized value may have other users (a residual branch): they
  // read it in f32, the layer reads the u8 codes (see the live ranges).
  if (!dq || !qw ||
      qw.getScheme().getFormat() != QuantFormat::Int8 ||
      !qw.getScheme().getSymmetric() ||
      qw.getScheme().getGranularity() != Granularity::PerChannel)
    return {};
  auto q = dq.getInput().getDefiningOp<QuantizeOp>();
  auto uq = q ? dyn_cast<quant::UniformQuantizedType>(
                    getElementTypeOrSelf(q.getOutput().getType()))
              : nullptr;
  if (!uq || uq.isSigned() || uq.getStorageTypeIntegralWidth() != 8 ||
      uq.getStorageTypeMin() != 0 || uq.getStorageTypeMax() != 255)
    return {};
  return q;
}

const llvm::StringSet<> &elementwiseOps() {
  static const llvm::StringSet<> ops = {
      "Add",  "Sub",     "Mul",         "Div",          "Pow",
      "Neg",  "Abs",     "Sqrt",        "Reciprocal",   "Exp",
      "Log",  "Erf",     "Tanh",        "Sigmoid",      "Relu",
      "LeakyRelu", "Clip", "HardSigmoid", "HardSwish",  "Gelu",
      "Cast", "Where",   "Equal",       "Less",         "Greater",
      "Not",  "QuantizeLinear", "DequantizeLinear", "Floor", "Ceil",
      "Round", "Sign",   "Expand",      "Max",          "Min",
      "LessOrEqual", "GreaterOrEqual", "And", "Or"};
  return ops;
}

const llvm::StringSet<> &aliasOps() {
  static const llvm::StringSet<> ops = {"Reshape", "Flatten", "Squeeze",
                                        "Unsqueeze", "Identity", "Dropout"};
  return ops;
}

enum class Kind { Constant, Input, Alias, Fused, Buffer, None };

struct ValueInfo {
  Kind kind = Kind::None;
  Value aliasOf;         // Alias
  /// Alias only: element strides of a strided view of aliasOf's memory (a
  /// Transpose folded into the MatMul that reads it); empty = contiguous.
  SmallVector<int64_t> strides;
  int64_t weightOffset = -1;  // Constant: plain copy
  int64_t packedOffset = -1;  // Constant: panel16 copy
  int buffer = -1;       // Buffer
  int argIndex = -1;     // Input
};

struct Buffer {
  int64_t bytes = 0;
  int start = 0, end = 0;
  int64_t offset = 0;
};

class Emitter {
public:
  Emitter(func::FuncOp func, StringRef name) : func(func), name(name.str()) {}

  FailureOr<X86Artifact> run();

private:
  LogicalResult classify();
  LogicalResult planWeights();
  LogicalResult planArena();
  LogicalResult emitBody();
  LogicalResult emitOp(Operation *op);
  LogicalResult emitElementwise(Operation *op);
  FailureOr<std::string> expr(Value v, ArrayRef<int64_t> root,
                              ArrayRef<std::string> idx,
                              std::optional<SmallVector<int64_t>> viewShape =
                                  std::nullopt);
  FailureOr<std::string> exprOfOp(OnnxNodeOp node, ArrayRef<int64_t> root,
                                  ArrayRef<std::string> idx);
  std::string ptr(Value v);
  /// Appends a named weight to the package blob; returns its offset.
  template <typename T>
  int64_t addWeight(const std::string &name, const std::vector<T> &data,
                    StringRef layout) {
    int64_t bytes = int64_t(data.size() * sizeof(T));
    int64_t off = appendBlob(weights,
                             reinterpret_cast<const char *>(data.data()), bytes);
    weightTable.emplace_back(name, off, bytes, layout.str());
    return off;
  }
  /// C initializer of the lowbit_qweight_t for a lowbit.qweight result.
  std::string qweightInit(Value w) {
    QWeightInfo q = qweights.lookup(w);
    std::string lut =
        q.lutOffset < 0
            ? std::string("NULL")
            : llvm::formatv("(const float *)(W + {0})", q.lutOffset).str();
    std::string zp =
        q.zeroPointOffset < 0
            ? std::string("NULL")
            : llvm::formatv("(const float *)(W + {0})", q.zeroPointOffset)
                  .str();
    return llvm::formatv("{{(const uint8_t *)(W + {0}), (const float *)(W + "
                         "{1}), {2}, {3}, {4}, {5}}",
                         info[w].packedOffset, info[w].weightOffset, q.group,
                         q.bits, lut, zp)
        .str();
  }
  std::string offsetExpr(ArrayRef<int64_t> shape, ArrayRef<int64_t> root,
                         ArrayRef<std::string> idx);
  int useIndex(Operation *user);
  Value rootOf(Value v);
  LogicalResult fail(Operation *op, const Twine &why) {
    return op->emitError() << "unsupported by the x86 target: "
                           << opTypeOf(op) << " at node '" << getNodeName(op)
                           << "': " << why;
  }
  /// The C expression a gather returns on a bad index: the status, with a
  /// message naming the node.
  std::string indexError(Operation *op, int64_t rows) {
    std::string msg;
    llvm::raw_string_ostream m(msg);
    m << "node '";
    m.write_escaped(getNodeName(op));
    m << "' (Gather): an index is outside [-" << rows << ", " << rows << ")";
    return "lowbit_exec_fail(ex, LOWBIT_INVALID_ARGUMENT, \"" + msg + "\")";
  }
  /// The C expression for a layer's bias: NULL, or its constant's pointer.
  FailureOr<std::string> biasPtr(Operation *op, Value bias) {
    if (!bias)
      return std::string("NULL");
    if (info[bias].kind != Kind::Constant)
      return fail(op, "the bias is not a constant");
    return ptr(bias);
  }
  int addScratch(Operation *op, int64_t bytes) {
    buffers.push_back(Buffer{alignUp(bytes, 64), opIndex[op], opIndex[op], 0});
    scratch[op] = buffers.size() - 1;
    return buffers.size() - 1;
  }

  func::FuncOp func;
  std::string name;
  std::vector<Operation *> ops;
  llvm::DenseMap<Operation *, int> opIndex;
  llvm::DenseMap<Value, ValueInfo> info;
  llvm::DenseMap<Operation *, int> scratch;
  llvm::DenseMap<Operation *, int> fusedAct; // layer op -> activation
  struct QWeightInfo {
    unsigned bits;
    int64_t group;
    int64_t bytes;
    int64_t colsumOffset; ///< >= 0: "s8-panel16x4" for the u8 x s8 kernel
    int64_t lutOffset = -1; ///< >= 0: codebook of an nf4/fp4/fp8 weight
    std::string format = "int8"; ///< for the layer report
    int64_t zeroPointOffset = -1; ///< >= 0: affine weight's zero points
    bool rows = false; ///< "FORMAT-rows" (a gather's table), not panels
  };
  llvm::DenseMap<Value, QWeightInfo> qweights; // lowbit.qweight results
  llvm::StringMap<int64_t> lutOffsets; // codebook format -> its table
  std::vector<Buffer> buffers;
  std::string weights; // the blob
  std::vector<std::tuple<std::string, int64_t, int64_t, std::string>>
      weightTable;
  std::string body;
  llvm::raw_string_ostream os{body};
  /// While emitting an elementwise loop: pointer expression -> restrict
  /// local, so the C compiler may vectorize (arena pointers could alias).
  std::map<std::string, std::string> *hoist = nullptr;
  std::string hoistDecls;
  /// Out-of-line loop bodies run through lowbit_k_parallel_for.
  std::string functions;
  int loopCounter = 0;
  int tmpCounter = 0;
  X86Artifact artifact;
};

Value Emitter::rootOf(Value v) {
  while (info[v].kind == Kind::Alias)
    v = info[v].aliasOf;
  return v;
}

/// Where a use by `user` happens: fused users run inside their root.
int Emitter::useIndex(Operation *user) {
  while (user->getNumResults() == 1 &&
         info[user->getResult(0)].kind == Kind::Fused)
    user = *user->getResult(0).getUsers().begin();
  auto it = opIndex.find(user);
  return it == opIndex.end() ? static_cast<int>(ops.size()) : it->second;
}

LogicalResult Emitter::classify() {
  Block &block = func.getBody().front();
  for (Operation &op : block)
    ops.push_back(&op);
  for (auto [i, op] : llvm::enumerate(ops))
    opIndex[op] = i;
  for (BlockArgument arg : func.getArguments()) {
    info[arg].kind = Kind::Input;
    info[arg].argIndex = arg.getArgNumber();
  }
  for (Value v : func.getArguments()) {
    auto t = tensorType(v);
    if (!t || !t.hasStaticShape() || !cTypeOf(t.getElementType()))
      return emitError(func.getLoc())
             << "unsupported by the x86 target: input "
             << cast<BlockArgument>(v).getArgNumber()
             << " has type " << v.getType()
             << "; fix symbolic dimensions with --input-shape";
  }
  // Relu fused into the layer that produces its operand.
  for (Operation *op : ops) {
    auto node = dyn_cast<OnnxNodeOp>(op);
    if (!node || node.getOpType() != "Relu")
      continue;
    Value in = node.getInputs()[0];
    Operation *def = in.getDefiningOp();
    // (The u8 x s8 GEMM has no ReLU epilogue; the u8 convolution applies
    // it while scattering to NCHW.)
    if (def && isa<LinearOp, Conv2DOp>(def) && in.hasOneUse() &&
        !(isa<LinearOp>(def) && w8a8Input(def))) {
      fusedAct[def] = 1;
      info[node.getResult(0)] = ValueInfo{Kind::Alias, in};
    }
  }
  for (Operation *op : ops) {
    if (isa<func::ReturnOp, NoValueOp>(op))
      continue;
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      info[cst.getResult()].kind = Kind::Constant;
      continue;
    }
    if (isa<QWeightOp>(op)) {
      info[op->getResult(0)].kind = Kind::Constant; // packed in planWeights
      continue;
    }
    if (isa<DequantizeOp>(op) && op->hasOneUse() &&
        w8a8Input(*op->getUsers().begin())) {
      info[op->getResult(0)].kind = Kind::Fused; // read as u8 by the layer
      continue;
    }
    for (Value r : op->getResults()) {
      if (info[r].kind == Kind::Alias)
        continue;
      auto t = tensorType(r);
      if (!t || !t.hasStaticShape() || !cTypeOf(t.getElementType())) {
        if (r.use_empty())
          continue; // unused optional output (Dropout mask, ...)
        return fail(op, "result type " + std::to_string(0) +
                            " is not a static tensor of a supported type; "
                            "fix symbolic dimensions with --input-shape");
      }
    }
    StringRef type = opTypeOf(op);
    if (isa<OnnxNodeOp>(op) && aliasOps().contains(type) &&
        op->getNumResults() >= 1) {
      info[op->getResult(0)] =
          ValueInfo{Kind::Alias, cast<OnnxNodeOp>(op).getInputs()[0]};
      continue;
    }
    for (Value r : op->getResults())
      if (info[r].kind == Kind::None && !r.use_empty())
        info[r].kind = Kind::Buffer;
  }
  // A Transpose read only by a MatMul becomes a strided view: the product
  // packs its operands anyway, so reading through strides is free while
  // copying is a full pass over memory. The left operand needs unit stride
  // along its last (contraction) dimension.
  for (Operation *op : ops) {
    auto node = dyn_cast<OnnxNodeOp>(op);
    if (!node || node.getOpType() != "Transpose" || !node->hasOneUse())
      continue;
    auto user = dyn_cast<OnnxNodeOp>(*node->getUsers().begin());
    Value in = node.getInputs()[0];
    auto inType = tensorType(in);
    if (!user || user.getOpType() != "MatMul" || !inType ||
        !inType.getElementType().isF32() ||
        !info[in].strides.empty() || info[rootOf(in)].kind == Kind::None)
      continue;
    SmallVector<int64_t> perm;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("perm")))
        perm.assign(a.asArrayRef().begin(), a.asArrayRef().end());
    int64_t rank = inType.getRank();
    if (perm.empty())
      for (int64_t d = rank - 1; d >= 0; --d)
        perm.push_back(d);
    SmallVector<int64_t> cs(rank, 1), strides(rank);
    for (int64_t d = rank - 2; d >= 0; --d)
      cs[d] = cs[d + 1] * inType.getDimSize(d + 1);
    for (int64_t d = 0; d < rank; ++d)
      strides[d] = cs[perm[d]];
    bool isLhs = user.getInputs()[0] == node.getResult(0);
    bool isRhs = user.getInputs()[1] == node.getResult(0);
    if (isLhs && (isRhs || strides.back() != 1))
      continue;
    ValueInfo view;
    view.kind = Kind::Alias;
    view.aliasOf = in;
    view.strides = strides;
    info[node.getResult(0)] = view;
  }

  // Fusion: an elementwise value whose only user is an elementwise op of
  // the same shape is computed inside that user's loop.
  for (Operation *op : ops) {
    if (!isa<OnnxNodeOp>(op) || !elementwiseOps().contains(opTypeOf(op)) ||
        op->getNumResults() != 1)
      continue;
    Value r = op->getResult(0);
    if (!r.hasOneUse() || info[r].kind != Kind::Buffer)
      continue;
    Operation *user = *r.getUsers().begin();
    if (!isa<OnnxNodeOp>(user) || !elementwiseOps().contains(opTypeOf(user)) ||
        user->getNumResults() != 1)
      continue;
    auto userType = tensorType(user->getResult(0));
    if (!userType || userType.getShape() != tensorType(r).getShape())
      continue;
    info[r].kind = Kind::Fused;
  }
  return success();
}


LogicalResult Emitter::planWeights() {
  // Quantized weights in "s4-panel16" / "s8-panel16" with their scales per
  // (panel, group, column); a convolution's weight is packed per group of
  // output channels like its f32 form.
  for (Operation *op : ops) {
    auto qw = dyn_cast<QWeightOp>(op);
    if (!qw)
      continue;
    SchemeAttr scheme = qw.getScheme();
    auto wt = qw.getOutput().getType();
    bool perChannel = scheme.getGranularity() == Granularity::PerChannel &&
                      scheme.getAxis() == 0;
    bool grouped = scheme.getGranularity() == Granularity::Group &&
                   scheme.getAxis() == 1 && wt.getRank() == 2;
    auto dataCst = qw.getData().getDefiningOp<arith::ConstantOp>();
    auto scaleCst = qw.getScales().getDefiningOp<arith::ConstantOp>();
    // Signed integer formats int2..int8 decode natively ("sB-panel16");
    // the codebook formats (nf4, fp4, fp8) through a table of their values.
    // Affine integer weights (uintB with zero points, from MatMulNBits)
    // decode through a table of their integer values minus the zero point.
    FormatInfo fi = getFormatInfo(scheme.getFormat());
    bool affine = !scheme.getSymmetric();
    bool codebook = !fi.isInteger || affine;
    auto zpCst = affine ? qw.getZeroPoints().getDefiningOp<arith::ConstantOp>()
                        : arith::ConstantOp();
    unsigned bits = (fi.isInteger && (fi.isSigned || affine)) || !fi.isInteger
                        ? fi.bits
                        : 0;
    if (!bits || (affine && (!fi.isInteger || !zpCst)) ||
        !(perChannel || grouped) || !dataCst || !scaleCst ||
        !(scheme.getScaleType().isF32() || scheme.getScaleType().isF16()))
      return fail(op, "only int2..int8 (symmetric, or affine with constant "
                      "zero points), nf4, fp4_e2m1 and fp8 weights (per "
                      "channel or grouped along K, f32 or f16 scales) run "
                      "natively on x86; got " +
                          stringifyQuantFormat(scheme.getFormat()).str());
    std::optional<Tensor> zp;
    if (affine) {
      FailureOr<Tensor> z = tensorFromConstant(zpCst.getValue());
      if (failed(z))
        return fail(op, "unreadable zero points");
      zp = std::move(*z);
    }
    FailureOr<Tensor> data = tensorFromConstant(dataCst.getValue());
    FailureOr<Tensor> scales = tensorFromConstant(scaleCst.getValue());
    if (failed(data) || failed(scales))
      return fail(op, "unreadable packed weight");
    std::string format = stringifyQuantFormat(scheme.getFormat()).str();
    // One table of code values per format, shared by its weights.
    auto valueTable = [&]() {
      auto [it, added] = lutOffsets.try_emplace(format, -1);
      if (added) {
        std::vector<float> lut(size_t(1) << bits);
        for (uint32_t c = 0; c < lut.size(); ++c)
          lut[c] = static_cast<float>(decodeCode(scheme.getFormat(), c));
        it->second = addWeight(format + ".values", lut, "f32");
      }
      return it->second;
    };
    if (llvm::all_of(qw->getUsers(), [](Operation *u) {
          auto n = dyn_cast<OnnxNodeOp>(u);
          return (n && n.getOpType() == "Gather") || isDepthwise(u);
        })) {
      // An embedding table or depthwise filters: whole rows, byte-aligned
      // ("FORMAT-rows"), so a gather decodes only the rows it reads and a
      // depthwise convolution one channel's taps at a time.
      int64_t rows = wt.getDimSize(0), cols = wt.getNumElements() / rows;
      int64_t g = grouped ? scheme.getGroupSize() : cols;
      int64_t groups = (cols + g - 1) / g, rowBytes = (cols * bits + 7) / 8;
      std::vector<uint8_t> packed(rows * rowBytes, 0);
      std::vector<float> sc(rows * groups), zs(affine ? rows * groups : 0);
      const uint8_t *bytes = data->data<uint8_t>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          writePackedCode(&packed[r * rowBytes], c, bits,
                          readPackedCode(bytes, r * cols + c, bits));
      for (int64_t i = 0; i < rows * groups; ++i) {
        sc[i] = static_cast<float>(scales->getDouble(i));
        if (affine)
          zs[i] = static_cast<float>(zp->getDouble(i));
      }
      info[qw.getResult()].packedOffset =
          addWeight(getNodeName(op), packed, format + "-rows");
      info[qw.getResult()].weightOffset =
          addWeight(getNodeName(op) + ".scales", sc, "f32");
      QWeightInfo q{bits, g, int64_t(packed.size()), -1, valueTable(), format};
      q.rows = true;
      if (affine)
        q.zeroPointOffset =
            addWeight(getNodeName(op) + ".zero_points", zs, "f32");
      qweights[qw.getResult()] = q;
      continue;
    }
    int64_t convGroups = 1;
    for (Operation *u : qw->getUsers())
      if (auto conv = dyn_cast<Conv2DOp>(u))
        convGroups = conv.getGroups();
    int64_t rows = wt.getDimSize(0) / convGroups;
    int64_t k = wt.getNumElements() / wt.getDimSize(0);
    int64_t g = grouped ? scheme.getGroupSize() : k;
    int64_t groups = (k + g - 1) / g, panels = (rows + kPanel - 1) / kPanel;
    int64_t rowBytes = kPanel * bits / 8;
    std::vector<uint8_t> packed(convGroups * panels * k * rowBytes, 0);
    std::vector<float> sc(convGroups * panels * groups * kPanel, 0.0f);
    std::vector<float> zs(affine ? sc.size() : 0, 0.0f);
    const uint8_t *bytes = data->data<uint8_t>();
    for (int64_t cg = 0; cg < convGroups; ++cg)
      for (int64_t r = 0; r < rows; ++r) {
        int64_t row = cg * rows + r, panel = cg * panels + r / kPanel;
        int64_t j = r % kPanel;
        for (int64_t kk = 0; kk < k; ++kk) {
          uint32_t code = readPackedCode(bytes, row * k + kk, bits);
          writePackedCode(&packed[(panel * k + kk) * rowBytes], j, bits, code);
        }
        for (int64_t gi = 0; gi < groups; ++gi) {
          sc[(panel * groups + gi) * kPanel + j] = static_cast<float>(
              scales->getDouble(row * groups + gi));
          if (affine)
            zs[(panel * groups + gi) * kPanel + j] =
                static_cast<float>(zp->getDouble(row * groups + gi));
        }
      }
    bool vnni = llvm::any_of(qw->getUsers(), [](Operation *u) {
      return static_cast<bool>(w8a8Input(u));
    });
    if (vnni) {
      // "s8-panel16x4" for the u8 x s8 kernel, with column sums and one
      // f32 scale per output channel.
      // A convolution's groups are stacked in whole panels.
      int64_t k4 = (k + 3) / 4;
      std::vector<int8_t> p4(convGroups * panels * k4 * 64, 0);
      std::vector<int32_t> colsum(convGroups * panels * kPanel, 0);
      std::vector<float> sw(convGroups * panels * kPanel, 0.0f);
      for (int64_t cg = 0; cg < convGroups; ++cg)
        for (int64_t r = 0; r < rows; ++r) {
          int64_t row = cg * rows + r, col = cg * panels * kPanel + r;
          for (int64_t kk = 0; kk < k; ++kk) {
            int8_t v =
                static_cast<int8_t>(readPackedCode(bytes, row * k + kk, 8));
            p4[(cg * panels + r / kPanel) * k4 * 64 + (kk / 4) * 64 +
               (r % kPanel) * 4 + kk % 4] = v;
            colsum[col] += v;
          }
          sw[col] = static_cast<float>(scales->getDouble(row));
        }
      int64_t off = addWeight(getNodeName(op), p4, "s8-panel16x4");
      int64_t coff = addWeight(getNodeName(op) + ".colsum", colsum, "i32");
      int64_t soff = addWeight(getNodeName(op) + ".scales", sw, "f32");
      info[qw.getResult()].packedOffset = off;
      info[qw.getResult()].weightOffset = soff;
      qweights[qw.getResult()] =
          QWeightInfo{8, k, int64_t(p4.size()), coff};
      continue;
    }
    std::string layout =
        (codebook ? format + "-" : "s" + std::to_string(bits) + "-") +
        "panel16";
    int64_t off = addWeight(getNodeName(op), packed, layout);
    int64_t soff = addWeight(getNodeName(op) + ".scales", sc, "f32");
    info[qw.getResult()].packedOffset = off;
    info[qw.getResult()].weightOffset = soff;
    QWeightInfo q{bits, g, int64_t(packed.size()), -1, -1, format};
    if (affine)
      q.zeroPointOffset =
          addWeight(getNodeName(op) + ".zero_points", zs, "f32");
    if (codebook)
      q.lutOffset = valueTable();
    qweights[qw.getResult()] = q;
  }
  for (Operation *op : ops) {
    auto cst = dyn_cast<arith::ConstantOp>(op);
    if (!cst)
      continue;
    Value v = cst.getResult();
    if (v.use_empty())
      continue;
    FailureOr<Tensor> t = tensorFromConstant(cst.getValue());
    if (failed(t))
      return op->emitError() << "unsupported by the x86 target: constant of "
                             << "type " << cst.getType();
    bool packed = false, plain = false;
    for (OpOperand &use : v.getUses()) {
      Operation *u = use.getOwner();
      if (isa<QWeightOp>(u))
        continue; // repacked with its qweight
      if (isa<LinearOp, Conv2DOp>(u) && use.getOperandNumber() == 1 &&
          !isDepthwise(u))
        packed = true;
      else
        plain = true;
    }
    if (!packed && !plain)
      continue;
    std::string wname = getNodeName(op);
    if (plain) {
      info[v].weightOffset = appendBlob(weights, t->raw(), t->byteSize());
      weightTable.emplace_back(wname, info[v].weightOffset, t->byteSize(),
                               "f32");
    }
    if (packed) {
      if (t->dtype() != DType::F32)
        return op->emitError()
               << "unsupported by the x86 target: non-f32 layer weight";
      // [N, K] (linear) or [O, C/g, kh, kw] (conv, per group): panels.
      SmallVector<int64_t> n_k;
      int64_t groups = 1;
      for (Operation *u : v.getUsers())
        if (auto conv = dyn_cast<Conv2DOp>(u))
          groups = conv.getGroups();
      int64_t rows = t->dim(0) / groups;
      int64_t k = t->numel() / t->dim(0);
      int64_t panels = (rows + kPanel - 1) / kPanel;
      std::vector<float> out(groups * panels * k * kPanel, 0.0f);
      const float *src = t->data<float>();
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t kk = 0; kk < k; ++kk)
            out[((g * panels + r / kPanel) * k + kk) * kPanel + r % kPanel] =
                src[(g * rows + r) * k + kk];
      info[v].packedOffset = addWeight(wname, out, "f32-panel16");
    }
  }
  weights.resize(alignUp(weights.size(), 64), '\0');
  return success();
}

LogicalResult Emitter::planArena() {
  // Live ranges: from the defining op to the last (effective) use; uses of
  // an alias count for its root.
  llvm::DenseMap<Value, int> lastUse;
  for (Operation *op : ops)
    for (Value operand : op->getOperands()) {
      Value root = rootOf(operand);
      if (info[root].kind != Kind::Buffer)
        continue;
      int at = isa<func::ReturnOp>(op) ? static_cast<int>(ops.size())
                                       : useIndex(op);
      lastUse[root] = std::max(lastUse.lookup(root), at);
    }
  // A W8A8 layer reads its input's u8 codes directly, past the
  // dequantize between them.
  for (Operation *op : ops)
    if (QuantizeOp q = w8a8Input(op)) {
      Value root = rootOf(q.getOutput());
      lastUse[root] = std::max(lastUse.lookup(root), useIndex(op));
    }
  // Fused values' operands are read when the root runs: handled by
  // useIndex. Buffers for values:
  for (Operation *op : ops)
    for (Value r : op->getResults())
      if (info[r].kind == Kind::Buffer) {
        auto t = tensorType(r);
        // Checked: a shape such as [2^31, 2^31] wraps the byte count and
        // used to compile to a 64-byte arena that the code then overran.
        int64_t bytes = cTypeOf(t.getElementType())->bytes;
        for (int64_t d : t.getShape())
          if (__builtin_mul_overflow(bytes, d, &bytes) ||
              bytes > kMaxTensorBytes)
            return fail(op, "result " +
                                std::to_string(cast<OpResult>(r).getResultNumber()) +
                                " has shape " + shapeString(t) +
                                ", more than the " +
                                std::to_string(kMaxTensorBytes >> 30) +
                                " GiB a tensor may take");
        buffers.push_back(
            Buffer{alignUp(std::max<int64_t>(bytes, 1), 64), opIndex[op],
                   std::max(lastUse.lookup(r), opIndex[op]), 0});
        info[r].buffer = buffers.size() - 1;
      }
  return success();
}

std::string Emitter::ptr(Value v) {
  Value root = rootOf(v);
  const ValueInfo &vi = info[root];
  std::string ct = cTypeOf(tensorType(v).getElementType())->c;
  std::string p;
  switch (vi.kind) {
  case Kind::Input:
    p = llvm::formatv("((const {0} *)inputs[{1}])", ct, vi.argIndex);
    break;
  case Kind::Constant:
    p = llvm::formatv("((const {0} *)(W + {1}))", ct, vi.weightOffset);
    break;
  case Kind::Buffer:
    p = llvm::formatv("(({0} *)(A + {1}))", ct, buffers[vi.buffer].offset);
    break;
  default:
    return "NULL";
  }
  if (!hoist)
    return p;
  auto it = hoist->find(p);
  if (it != hoist->end())
    return it->second;
  std::string local = "p" + std::to_string(hoist->size());
  hoistDecls += "    const " + ct + " *restrict " + local + " = " + p + ";\n";
  (*hoist)[p] = local;
  return local;
}

std::string Emitter::offsetExpr(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> root,
                                ArrayRef<std::string> idx) {
  int64_t numel = 1;
  for (int64_t d : shape)
    numel *= d;
  if (numel == 1)
    return "0";
  if (shape == root)
    return "o";
  std::string out;
  int64_t stride = 1;
  int64_t r = root.size(), s = shape.size();
  for (int64_t d = s - 1; d >= 0; --d) {
    int64_t rd = d + (r - s);
    if (shape[d] != 1) {
      if (!out.empty())
        out += " + ";
      out += idx[rd] + (stride == 1 ? "" : " * " + std::to_string(stride));
    }
    stride *= shape[d];
  }
  return out.empty() ? "0" : out;
}

/// The C expression for element (idx) of `v` broadcast to `root`.
FailureOr<std::string>
Emitter::expr(Value v, ArrayRef<int64_t> root, ArrayRef<std::string> idx,
              std::optional<SmallVector<int64_t>> viewShape) {
  Value base = rootOf(v);
  if (info[base].kind != Kind::Fused) {
    SmallVector<int64_t> shape = viewShape
                                     ? *viewShape
                                     : SmallVector<int64_t>(
                                           tensorType(v).getShape());
    return ptr(v) + "[" + offsetExpr(shape, root, idx) + "]";
  }
  return exprOfOp(cast<OnnxNodeOp>(base.getDefiningOp()), root, idx);
}

/// The C expression of one elementwise node over its operands' expressions.
FailureOr<std::string> Emitter::exprOfOp(OnnxNodeOp node,
                                         ArrayRef<int64_t> root,
                                         ArrayRef<std::string> idx) {
  Value base = node.getResult(0);
  StringRef t = node.getOpType();
  auto in = [&](unsigned i) -> FailureOr<std::string> {
    return expr(node.getInputs()[i], root, idx);
  };
  // Shape of a per-axis quantization parameter seen from `root`.
  auto axisView = [&](Value param) -> std::optional<SmallVector<int64_t>> {
    auto pt = tensorType(param);
    if (!pt || pt.getNumElements() <= 1)
      return std::nullopt;
    int64_t axis = 1;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<IntegerAttr>(attrs.get("axis")))
        axis = a.getInt();
    int64_t rank = root.size();
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> shape(rank, 1);
    shape[axis] = pt.getNumElements();
    return shape;
  };
  auto floatAttr = [&](StringRef n, double d) {
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get(n)))
        return a.getValueAsDouble();
    return d;
  };
  auto lit = [](double d) {
    std::string s = llvm::formatv("{0:e9}", d);
    return "(float)" + s;
  };
  std::string ct = cTypeOf(tensorType(base).getElementType())->c;
  bool isFloat = tensorType(node.getInputs()[0]) &&
                 tensorType(node.getInputs()[0]).getElementType().isF32();
  SmallVector<std::string> a;
  unsigned n = node.getInputs().size();
  for (unsigned i = 0; i < n; ++i) {
    if (isa<NoneType>(node.getInputs()[i].getType())) {
      a.push_back("");
      continue;
    }
    if ((t == "QuantizeLinear" || t == "DequantizeLinear") && i > 0) {
      FailureOr<std::string> e =
          expr(node.getInputs()[i], root, idx, axisView(node.getInputs()[i]));
      if (failed(e))
        return failure();
      a.push_back(*e);
      continue;
    }
    if (t == "Expand" && i == 1)
      continue;
    FailureOr<std::string> e = in(i);
    if (failed(e))
      return failure();
    a.push_back(*e);
  }
  auto bin = [&](StringRef opStr) {
    return "(" + a[0] + " " + opStr.str() + " " + a[1] + ")";
  };
  if (t == "Add")
    return bin("+");
  if (t == "Sub")
    return bin("-");
  if (t == "Mul")
    return bin("*");
  if (t == "Div")
    return bin("/");
  if (t == "Equal")
    return bin("==");
  if (t == "Less")
    return bin("<");
  if (t == "Greater")
    return bin(">");
  if (t == "LessOrEqual")
    return bin("<=");
  if (t == "GreaterOrEqual")
    return bin(">=");
  if (t == "And")
    return bin("&&");
  if (t == "Or")
    return bin("||");
  if (t == "Max")
    return "(" + a[0] + " > " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
  if (t == "Min")
    return "(" + a[0] + " < " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
  if (t == "Not")
    return "(!" + a[0] + ")";
  if (t == "Neg")
    return "(-" + a[0] + ")";
  if (t == "Expand")
    return a[0];
  if (t == "Where")
    return "(" + a[0] + " ? " + a[1] + " : " + a[2] + ")";
  if (t == "Cast") {
    if (ct == std::string("uint8_t") &&
        tensorType(base).getElementType().isInteger(1))
      return "(uint8_t)(" + a[0] + " != 0)";
    return "(" + ct + ")(" + a[0] + ")";
  }
  if (!isFloat && t != "DequantizeLinear")
    return fail(node, "elementwise math on non-f32 values");
  if (t == "Pow")
    return "powf(" + a[0] + ", " + a[1] + ")";
  if (t == "Abs")
    return "fabsf(" + a[0] + ")";
  if (t == "Sqrt")
    return "sqrtf(" + a[0] + ")";
  if (t == "Reciprocal")
    return "(1.0f / " + a[0] + ")";
  if (t == "Exp")
    return "expf(" + a[0] + ")";
  if (t == "Log")
    return "logf(" + a[0] + ")";
  if (t == "Erf")
    return "erff(" + a[0] + ")";
  if (t == "Tanh")
    return "tanhf(" + a[0] + ")";
  if (t == "Floor")
    return "floorf(" + a[0] + ")";
  if (t == "Ceil")
    return "ceilf(" + a[0] + ")";
  if (t == "Round")
    return "nearbyintf(" + a[0] + ")";
  if (t == "Sign")
    return "lb_sign(" + a[0] + ")";
  if (t == "Sigmoid")
    return "lb_sigmoid(" + a[0] + ")";
  if (t == "Relu")
    return "fmaxf(" + a[0] + ", 0.0f)";
  if (t == "LeakyRelu")
    return "lb_leaky(" + a[0] + ", " + lit(floatAttr("alpha", 0.01)) + ")";
  if (t == "HardSigmoid")
    return "fminf(fmaxf(" + lit(floatAttr("alpha", 0.2)) + " * " + a[0] +
           " + " + lit(floatAttr("beta", 0.5)) + ", 0.0f), 1.0f)";
  if (t == "HardSwish")
    return "lb_hardswish(" + a[0] + ")";
  if (t == "Gelu")
    return "lb_gelu(" + a[0] + ")";
  if (t == "Clip") {
    if (node.getOpset() < 11)
      return "fminf(fmaxf(" + a[0] + ", " +
             lit(floatAttr("min", -3.4028234663852886e38)) + "), " +
             lit(floatAttr("max", 3.4028234663852886e38)) + ")";
    std::string e = a[0];
    if (n > 1 && !a[1].empty())
      e = "fmaxf(" + e + ", " + a[1] + ")";
    if (n > 2 && !a[2].empty())
      e = "fminf(" + e + ", " + a[2] + ")";
    return e;
  }
  if (t == "DequantizeLinear") {
    std::string zp = n > 2 && !a[2].empty() ? "(float)" + a[2] : "0.0f";
    return "(((float)" + a[0] + " - " + zp + ") * " + a[1] + ")";
  }
  if (t == "QuantizeLinear") {
    std::string zp = n > 2 && !a[2].empty() ? "(float)" + a[2] : "0.0f";
    StringRef sat = ct == std::string("int8_t")    ? "lb_sat_i8"
                    : ct == std::string("uint8_t") ? "lb_sat_u8"
                                                   : "";
    if (sat.empty())
      return fail(node, "QuantizeLinear to " + ct);
    return sat.str() + "(nearbyintf(" + a[0] + " / " + a[1] + ") + " + zp + ")";
  }
  return fail(node, "no C expression for this op");
}

/// A loop nest over the root's shape computing the fused expression.
LogicalResult Emitter::emitElementwise(Operation *op) {
  auto node = cast<OnnxNodeOp>(op);
  Value r = node.getResult(0);
  auto t = tensorType(r);
  ArrayRef<int64_t> shape = t.getShape();
  // When every leaf of the fused tree has the root's shape or one element,
  // a single flat loop suffices (and vectorizes best).
  bool flat = true;
  std::function<void(Value)> scan = [&](Value v) {
    if (isa<NoneType>(v.getType()))
      return;
    Value b = rootOf(v);
    if (info[b].kind == Kind::Fused) {
      for (Value in : b.getDefiningOp()->getOperands())
        scan(in);
      return;
    }
    auto vt = tensorType(v);
    if (vt && vt.getShape() != shape && vt.getNumElements() != 1)
      flat = false;
  };
  for (Value in : node.getInputs())
    scan(in);
  if (node.getOpType() == "QuantizeLinear" ||
      node.getOpType() == "DequantizeLinear")
    flat = flat && llvm::all_of(node.getInputs().drop_front(), [](Value v) {
             auto vt = tensorType(v);
             return !vt || vt.getNumElements() == 1;
           });
  SmallVector<std::string> idx;
  std::string ct = cTypeOf(t.getElementType())->c;
  std::string outPtr = ptr(r);
  std::map<std::string, std::string> locals;
  hoist = &locals;
  hoistDecls.clear();
  if (flat)
    idx.assign(shape.size(), "o");
  else
    for (size_t d = 0; d < shape.size(); ++d)
      idx.push_back("i" + std::to_string(d));
  FailureOr<std::string> e = exprOfOp(node, shape, idx);
  hoist = nullptr;
  if (failed(e))
    return failure();
  // Large loops run on all threads: the body becomes a function of the
  // bounds of its outermost index (flat: the element index); the arena,
  // weights and inputs travel in a context.
  int64_t numel = t.getNumElements();
  bool parallel =
      numel >= (1 << 16) && (flat || (shape.size() >= 2 && shape[0] >= 2));
  std::string lo = parallel ? "begin" : "0";
  std::string loop;
  llvm::raw_string_ostream l(loop);
  if (flat) {
    l << "  for (int64_t o = " << lo << "; o < "
      << (parallel ? "end" : std::to_string(numel)) << "; ++o)\n    y[o] = "
      << *e << ";\n";
  } else {
    int64_t outer = shape.empty() ? 1 : shape[0];
    l << "  for (int64_t i0 = " << lo << "; i0 < "
      << (parallel ? "end" : std::to_string(outer)) << "; ++i0) {\n"
      << "    int64_t o = i0 * " << numel / std::max<int64_t>(outer, 1)
      << ";\n";
    for (size_t d = 1; d < shape.size(); ++d)
      l << std::string(4 + 2 * (d - 1), ' ') << "for (int64_t i" << d
        << " = 0; i" << d << " < " << shape[d] << "; ++i" << d << ")\n";
    l << std::string(4 + 2 * (shape.size() ? shape.size() - 1 : 0), ' ')
      << "y[o++] = " << *e << ";\n  }\n";
  }
  std::string decls = "  " + ct + " *restrict y = " + outPtr + ";\n";
  for (StringRef line : llvm::split(StringRef(hoistDecls), '\n'))
    if (!line.empty())
      decls += line.drop_front(2).str() + "\n";
  if (!parallel) {
    os << "  {\n" << decls << loop << "  }\n";
    return success();
  }
  std::string fn = "lb_loop" + std::to_string(loopCounter++);
  llvm::raw_string_ostream f(functions);
  f << "static void " << fn << "(void *c, int64_t begin, int64_t end) {\n"
    << "  const lb_ctx *x = (const lb_ctx *)c;\n"
    << "  uint8_t *A = x->A;\n  const uint8_t *W = x->W;\n"
    << "  const void *const *inputs = x->inputs;\n"
    << "  (void)A;\n  (void)W;\n  (void)inputs;\n"
    << decls << loop << "}\n\n";
  os << "  lowbit_k_parallel_for(ex, " << (flat ? numel : shape[0]) << ", "
     << fn << ", &lbc);\n";
  return success();
}

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
  if (isa<arith::ConstantOp, NoValueOp, func::ReturnOp, QWeightOp>(op))
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

FailureOr<X86Artifact> Emitter::run() {
  if (failed(classify()) || failed(planWeights()))
    return failure();
  // Scratch for ops that need it, then the arena plan.
  for (Operation *op : ops) {
    if (auto conv = dyn_cast<Conv2DOp>(op)) {
      auto xt = conv.getInput().getType();
      auto wt = cast<RankedTensorType>(conv.getWeight().getType());
      auto yt = conv.getOutput().getType();
      // The runtime says how much scratch its convolution needs.
      lowbit_conv2d_params_t p = {};
      p.n = xt.getDimSize(0);
      p.c = xt.getDimSize(1);
      p.o = wt.getDimSize(0);
      p.oh = yt.getDimSize(2);
      p.ow = yt.getDimSize(3);
      p.kh = wt.getDimSize(2);
      p.kw = wt.getDimSize(3);
      p.groups = conv.getGroups();
      addScratch(op, lowbit_k_conv2d_scratch(&p));
    } else if (auto node = dyn_cast<OnnxNodeOp>(op);
               node && node.getOpType() == "MatMul") {
      auto b = tensorType(node.getInputs()[1]);
      if (b && b.getRank() >= 2) {
        int64_t k = b.getDimSize(b.getRank() - 2),
                n = b.getDimSize(b.getRank() - 1);
        // One packing slice per thread (LOWBIT_MAX_THREADS in abi.h).
        addScratch(op, 8 * ((n + kPanel - 1) / kPanel * kPanel *
                            std::max<int64_t>(k, 1) * 4));
      }
    }
  }
  if (failed(planArena()))
    return failure();
  // First-fit over live ranges.
  std::vector<int> order(buffers.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return buffers[a].start < buffers[b].start;
  });
  std::vector<int> placed;
  int64_t arena = 0;
  for (int id : order) {
    Buffer &b = buffers[id];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int p : placed) {
      const Buffer &o = buffers[p];
      if (o.end >= b.start && o.start <= b.end)
        busy.push_back({o.offset, o.offset + o.bytes});
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (auto [s, e] : busy) {
      if (at + b.bytes <= s)
        break;
      at = std::max(at, alignUp(e, 64));
    }
    b.offset = at;
    arena = std::max(arena, at + b.bytes);
    placed.push_back(id);
  }
  if (arena > kMaxArenaBytes)
    return func.emitError() << "unsupported by the x86 target: the model "
                               "needs an activation arena of "
                            << arena << " bytes, more than the "
                            << (kMaxArenaBytes >> 30) << " GiB limit";
  if (failed(emitBody()))
    return failure();

  artifact.name = name;
  artifact.arenaSize = arena;
  artifact.weightBytes = weights.size();
  uint32_t crc = lowbit_crc32(weights.data(), weights.size());

  // Signature descriptors.
  std::string sig;
  llvm::raw_string_ostream s(sig);
  auto describe = [&](StringRef prefix, ArrayRef<Type> types,
                      ArrayRef<std::string> names) {
    for (auto [i, ty] : llvm::enumerate(types)) {
      auto t = cast<RankedTensorType>(ty);
      s << "static const int64_t " << prefix << "_shape_" << i << "[] = {";
      for (auto [j, d] : llvm::enumerate(t.getShape()))
        s << (j ? ", " : "") << d;
      if (t.getRank() == 0)
        s << "1";
      s << "};\n";
    }
    s << "static const lowbit_tensor_desc_t " << prefix << "_desc[] = {\n";
    for (auto [i, ty] : llvm::enumerate(types)) {
      auto t = cast<RankedTensorType>(ty);
      s << "  {\"" << names[i] << "\", " << cTypeOf(t.getElementType())->dtype
        << ", " << t.getRank() << ", " << prefix << "_shape_" << i << "},\n";
    }
    s << "};\n";
  };
  SmallVector<std::string> inNames, outNames;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto n = func.getArgAttrOfType<StringAttr>(i, "lowbit.name");
    inNames.push_back(n ? n.str() : "input" + std::to_string(i));
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto n = func.getResultAttrOfType<StringAttr>(i, "lowbit.name");
    outNames.push_back(n ? n.str() : "output" + std::to_string(i));
  }
  for (Type t : func.getResultTypes())
    if (!isa<RankedTensorType>(t) ||
        !cast<RankedTensorType>(t).hasStaticShape())
      return emitError(func.getLoc())
             << "unsupported by the x86 target: an output has type " << t;
  describe("in", func.getArgumentTypes(), inNames);
  describe("out", func.getResultTypes(), outNames);

  std::string src;
  llvm::raw_string_ostream c(src);
  c << "/* " << name << ".c - generated by lowbit compile --target x86. */\n"
    << "#include \"" << name << ".h\"\n#include \"lowbit/abi.h\"\n\n"
    << "#include <float.h>\n#include <math.h>\n#include <stdint.h>\n"
    << "#include <string.h>\n\n"
    << "static inline float lb_sigmoid(float x) { return 1.0f / (1.0f + "
       "expf(-x)); }\n"
    << "static inline float lb_gelu(float x) { return 0.5f * x * (1.0f + "
       "erff(x * 0.70710678118654752f)); }\n"
    << "static inline float lb_hardswish(float x) { return x * fminf(fmaxf("
       "x / 6.0f + 0.5f, 0.0f), 1.0f); }\n"
    << "static inline float lb_leaky(float x, float a) { return x >= 0.0f ? "
       "x : a * x; }\n"
    << "static inline float lb_sign(float x) { return (float)((x > 0.0f) - "
       "(x < 0.0f)); }\n"
    << "static inline int8_t lb_sat_i8(float v) { return (int8_t)(v < "
       "-128.0f ? -128.0f : v > 127.0f ? 127.0f : v); }\n"
    << "static inline uint8_t lb_sat_u8(float v) { return (uint8_t)(v < "
       "0.0f ? 0.0f : v > 255.0f ? 255.0f : v); }\n\n"
    << sig << "\n"
    << "typedef struct lb_ctx {\n  uint8_t *A;\n  const uint8_t *W;\n"
       "  const void *const *inputs;\n} lb_ctx;\n\n"
    << functions
    << "static lowbit_status_t run(const lowbit_exec_t *ex, const void *const "
       "*inputs, void *const *outputs) {\n"
    << "  uint8_t *A = ex->arena;\n  const uint8_t *W = ex->weights;\n"
    << "  lb_ctx lbc = {A, W, inputs};\n"
    << "  (void)A;\n  (void)W;\n  (void)lbc;\n"
    << body << "  return LOWBIT_OK;\n}\n\n"
    << "const lowbit_model_code_t lowbit_model_" << name << " = {\n"
    << "  LOWBIT_RUNTIME_ABI_VERSION, \"" << name << "\", " << arena
    << "ull, 0x" << llvm::format_hex_no_prefix(crc, 8) << "u, "
    << func.getNumArguments() << ", " << func.getNumResults()
    << ", in_desc, out_desc, run};\n";
  artifact.source = src;

  std::string hdr;
  llvm::raw_string_ostream h(hdr);
  std::string guard = "LOWBIT_MODEL_" + llvm::StringRef(name).upper() + "_H_";
  h << "/* " << name << ".h - generated by lowbit compile --target x86.\n"
    << " * Link " << name << ".o (or " << name
    << ".c) with the lowbit runtime and\n * load " << name
    << ".lbpkg; see lowbit/runtime.h. */\n"
    << "#ifndef " << guard << "\n#define " << guard << "\n\n"
    << "#include \"lowbit/runtime.h\"\n\n#ifdef __cplusplus\nextern \"C\" "
       "{\n#endif\n\n"
    << "#define LOWBIT_MODEL_" << llvm::StringRef(name).upper()
    << "_ARENA_SIZE " << arena << "ull\n"
    << "#define LOWBIT_MODEL_" << llvm::StringRef(name).upper()
    << "_NUM_INPUTS " << func.getNumArguments() << "\n"
    << "#define LOWBIT_MODEL_" << llvm::StringRef(name).upper()
    << "_NUM_OUTPUTS " << func.getNumResults() << "\n\n";
  auto dtypeName = [](Type t) {
    // The runtime.h spelling, from the package schema's names.
    return "LOWBIT_" +
           llvm::StringRef(::lowbit::pkg::EnumNameDType(
                               ::lowbit::pkg::DType(cTypeOf(t)->dtype)))
               .upper();
  };
  auto io = [&](StringRef what, ArrayRef<Type> types,
                ArrayRef<std::string> names) {
    for (auto [i, ty] : llvm::enumerate(types)) {
      auto t = cast<RankedTensorType>(ty);
      std::string up = llvm::StringRef(name).upper();
      h << "/* " << what << " " << i << ": \"" << names[i] << "\", "
        << dtypeName(t.getElementType()) << " [";
      for (auto [j, d] : llvm::enumerate(t.getShape()))
        h << (j ? ", " : "") << d;
      h << "] */\n#define LOWBIT_MODEL_" << up << "_" << what.upper() << i
        << "_NUMEL " << t.getNumElements() << "\n#define LOWBIT_MODEL_" << up
        << "_" << what.upper() << i << "_DTYPE "
        << dtypeName(t.getElementType()) << "\n";
    }
  };
  io("input", func.getArgumentTypes(), inNames);
  io("output", func.getResultTypes(), outNames);
  h << "\n/* The generated code; pass it to lowbit_session_create. */\n"
    << "extern const lowbit_model_code_t lowbit_model_" << name << ";\n\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  artifact.header = hdr;

  // The package.
  flatbuffers::FlatBufferBuilder fbb(weights.size() + 4096);
  auto tensors = [&](ArrayRef<Type> types, ArrayRef<std::string> names) {
    std::vector<flatbuffers::Offset<::lowbit::pkg::TensorInfo>> out;
    for (auto [i, ty] : llvm::enumerate(types)) {
      auto t = cast<RankedTensorType>(ty);
      std::vector<int64_t> shape(t.getShape().begin(), t.getShape().end());
      out.push_back(::lowbit::pkg::CreateTensorInfoDirect(
          fbb, names[i].c_str(),
          static_cast<::lowbit::pkg::DType>(cTypeOf(t.getElementType())->dtype),
          &shape));
    }
    return out;
  };
  auto ins = tensors(func.getArgumentTypes(), inNames);
  auto outs = tensors(func.getResultTypes(), outNames);
  std::vector<flatbuffers::Offset<::lowbit::pkg::Weight>> table;
  for (auto &[wname, off, size, layout] : weightTable)
    table.push_back(::lowbit::pkg::CreateWeightDirect(fbb, wname.c_str(), off,
                                                    size, layout.c_str()));
  fbb.ForceVectorAlignment(weights.size(), 1, 64);
  auto blob = fbb.CreateVector(reinterpret_cast<const uint8_t *>(weights.data()),
                               weights.size());
  std::vector<flatbuffers::Offset<::lowbit::pkg::QuantInfo>> quant;
  auto model = ::lowbit::pkg::CreateModel(
      fbb, LOWBIT_RUNTIME_ABI_VERSION, fbb.CreateString(name),
      fbb.CreateVector(ins),
      fbb.CreateVector(outs), arena, crc, fbb.CreateVector(table),
      fbb.CreateVector(quant), blob);
  fbb.Finish(model, ::lowbit::pkg::ModelIdentifier());
  artifact.package.assign(fbb.GetBufferPointer(),
                          fbb.GetBufferPointer() + fbb.GetSize());
  return artifact;
}

} // namespace

FailureOr<X86Artifact> mlir::lowbit::emitX86Model(ModuleOp module,
                                                  StringRef name) {
  func::FuncOp entry;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      entry = f;
  if (!entry)
    return emitError(module.getLoc()) << "the module has no function";
  Emitter emitter(entry, name);
  return emitter.run();
}
