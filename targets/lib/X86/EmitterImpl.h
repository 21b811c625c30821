//===- EmitterImpl.h - the x86 C emitter's shared state ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Private to targets/lib/X86: the Emitter class whose methods are split by
// concept over CEmitter.cpp (classification, arena plan, driver),
// WeightPacking.cpp, ElementwiseEmitter.cpp, OpEmitter.cpp and
// ArtifactWriter.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGETS_X86_EMITTERIMPL_H
#define LOWBIT_TARGETS_X86_EMITTERIMPL_H

#include "lowbit/Target/X86/X86Target.h"

#include "lowbit/Analysis/MemoryPlan.h"

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

#include "lowbit/abi.h"
#include "lowbit/runtime.h"

namespace mlir::lowbit::x86 {

constexpr int64_t kPanel = 16;

inline int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

inline StringRef opTypeOf(Operation *op) {
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
inline std::optional<CType> cTypeOf(Type t) {
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
inline std::string shapeString(ShapedType t) {
  std::string out = "[";
  for (auto [i, d] : llvm::enumerate(t.getShape()))
    out += (i ? "x" : "") + std::to_string(d);
  return out + "]";
}

inline RankedTensorType tensorType(Value v) {
  return dyn_cast<RankedTensorType>(v.getType());
}

/// Appends `bytes` to the weight blob at a 64-byte boundary.
inline int64_t appendBlob(std::string &blob, const char *data, int64_t bytes) {
  blob.resize(alignUp(blob.size(), 64), '\0');
  int64_t off = blob.size();
  blob.append(data, bytes);
  return off;
}

/// One filter per channel (groups == C == O): the direct depthwise kernel,
/// weights kept per channel instead of in (mostly empty) 16-wide panels.
inline bool isDepthwise(Operation *op) {
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
inline QuantizeOp w8a8Input(Operation *op) {
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

inline const llvm::StringSet<> &elementwiseOps() {
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
  LogicalResult planLiveRanges();
  LogicalResult emitBody();
  /// The C source, its header and the package (ArtifactWriter.cpp).
  FailureOr<X86Artifact> writeArtifact(int64_t arena, uint32_t crc);
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
  /// The C array of adapter names the model code points to ("" if none).
  std::string adapterTable() const {
    if (adapterNames.empty())
      return "";
    std::string out;
    llvm::raw_string_ostream o(out);
    o << "static const char *const adapter_names[] = {";
    for (auto [i, n] : llvm::enumerate(adapterNames)) {
      o << (i ? ", " : "") << "\"";
      o.write_escaped(n);
      o << "\"";
    }
    o << "};\n\n";
    return out;
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
  /// Switchable LoRA adapters (lowbit.adapters order) when a layer keeps
  /// one as a named branch; exec->adapter == i + 1 selects adapterNames[i].
  std::vector<std::string> adapterNames;
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

} // namespace mlir::lowbit::x86

#endif // LOWBIT_TARGETS_X86_EMITTERIMPL_H
