//===- Kernels.h - interpreter kernel interface (internal) --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_INTERPRETER_KERNELS_H
#define LOWBIT_LIB_INTERPRETER_KERNELS_H

#include "lowbit/Interpreter/Tensor.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mlir::lowbit::interp {

/// What a kernel sees: its inputs (null for omitted optional inputs), the
/// node's attributes and opset, and room for its outputs.
struct KernelContext {
  StringRef opType;
  int64_t opset = 0;
  DictionaryAttr attrs;
  std::vector<const Tensor *> inputs;
  std::vector<Tensor> outputs;
  /// Number of results the node declares (optional outputs may be unused).
  size_t numOutputs = 0;
  std::string error;
  bool unsupported = false;

  size_t numInputs() const { return inputs.size(); }
  bool hasInput(size_t i) const { return i < inputs.size() && inputs[i]; }
  const Tensor &in(size_t i) const { return *inputs[i]; }

  bool has(StringRef name) const { return attrs && attrs.get(name); }
  int64_t getInt(StringRef name, int64_t dflt) const;
  float getFloat(StringRef name, float dflt) const;
  std::string getString(StringRef name, StringRef dflt) const;
  std::vector<int64_t> getInts(StringRef name) const;
  std::vector<float> getFloats(StringRef name) const;
  /// A TENSOR attribute materialized as a Tensor (null attr -> invalid).
  Tensor getTensor(StringRef name) const;

  /// Records an error and returns failure.
  LogicalResult fail(const std::string &message) {
    error = message;
    return failure();
  }
  /// Records "unsupported: ..." and returns failure.
  LogicalResult notSupported(const std::string &what) {
    error = what;
    unsupported = true;
    return failure();
  }
};

using Kernel = LogicalResult (*)(KernelContext &);
using KernelTable = llvm::StringMap<Kernel>;

void registerElementwiseKernels(KernelTable &table);
void registerTensorKernels(KernelTable &table);
void registerNNKernels(KernelTable &table);
void registerQuantKernels(KernelTable &table);

/// The integer-only lowbit ops (lowbit.qconv2d, ...; IntegerKernels.cpp).
bool isIntegerOp(Operation *op);
LogicalResult runIntegerOp(Operation *op, KernelContext &ctx);

/// Converts a constant attribute (dense or dense resource) to a tensor;
/// resources are borrowed, not copied.
FailureOr<Tensor> tensorFromAttr(Attribute attr);

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

/// NumPy broadcasting of two shapes; false when incompatible.
bool broadcastShapes(const std::vector<int64_t> &a,
                     const std::vector<int64_t> &b, std::vector<int64_t> &out);
/// Strides (in elements) of `in` viewed as `out` (0 on broadcast dims).
std::vector<int64_t> broadcastStrides(const std::vector<int64_t> &in,
                                      const std::vector<int64_t> &out);
/// Row-major strides of a shape.
std::vector<int64_t> contiguousStrides(const std::vector<int64_t> &shape);
std::string shapeStr(const std::vector<int64_t> &shape);
/// Normalizes a possibly negative axis; false when out of range.
bool normalizeAxis(int64_t &axis, int64_t rank);
/// Reads a 1-D integer tensor into a vector.
std::vector<int64_t> toInts(const Tensor &t);

/// Calls f(outIndex, offsets) for every element of `outShape`, where
/// offsets[k] is the element offset into input k (given its strides).
template <typename F>
void forEachIndex(const std::vector<int64_t> &outShape,
                  const std::vector<std::vector<int64_t>> &strides, F f) {
  int64_t rank = static_cast<int64_t>(outShape.size());
  int64_t total = 1;
  for (int64_t d : outShape)
    total *= d;
  if (total == 0)
    return;
  size_t k = strides.size();
  std::vector<int64_t> idx(rank, 0);
  std::vector<int64_t> off(k, 0);
  for (int64_t n = 0; n < total; ++n) {
    f(n, off.data());
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++idx[d] < outShape[d]) {
        for (size_t j = 0; j < k; ++j)
          off[j] += strides[j][d];
        break;
      }
      for (size_t j = 0; j < k; ++j)
        off[j] -= strides[j][d] * (outShape[d] - 1);
      idx[d] = 0;
    }
  }
}

/// Dispatches on every non-half dtype, binding T to the C++ element type
/// (Bool -> uint8_t).
#define LOWBIT_DISPATCH_ALL(DT, T, ...)                                        \
  switch (DT) {                                                                \
  case DType::F32: {                                                           \
    using T = float;                                                           \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::F64: {                                                           \
    using T = double;                                                          \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::I8: {                                                            \
    using T = int8_t;                                                          \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::I16: {                                                           \
    using T = int16_t;                                                         \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::I32: {                                                           \
    using T = int32_t;                                                         \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::I64: {                                                           \
    using T = int64_t;                                                         \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::U8:                                                              \
  case DType::Bool: {                                                          \
    using T = uint8_t;                                                         \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::U16: {                                                           \
    using T = uint16_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::U32: {                                                           \
    using T = uint32_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  case DType::U64: {                                                           \
    using T = uint64_t;                                                        \
    __VA_ARGS__;                                                               \
  } break;                                                                     \
  default:                                                                     \
    break;                                                                     \
  }

} // namespace mlir::lowbit::interp

#endif // LOWBIT_LIB_INTERPRETER_KERNELS_H
