//===- Tensor.h - host tensors for the reference interpreter ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_INTERPRETER_TENSOR_H
#define LOWBIT_INTERPRETER_TENSOR_H

#include "mlir/IR/Types.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// Element types the interpreter computes on. f16 and bf16 are stored as
/// such and computed in f32; Bool is one byte per element.
enum class DType : uint8_t {
  F32, F64, F16, BF16, I8, I16, I32, I64, U8, U16, U32, U64, Bool
};

/// Bytes per element.
size_t dtypeSize(DType t);
/// "f32", "i64", "bool", ...
const char *dtypeName(DType t);
bool isFloat(DType t);
bool isSignedInt(DType t);
bool isUnsignedInt(DType t);
/// Maps an MLIR element type; failure for anything else.
FailureOr<DType> dtypeFromType(Type t);
/// Maps an ONNX TensorProto data type; failure for anything else.
FailureOr<DType> dtypeFromOnnx(int32_t onnxType);
/// The ONNX TensorProto data type of `t`.
int32_t dtypeToOnnx(DType t);

/// A dense row-major host tensor. Copies share the buffer; kernels never
/// write to their inputs, so constants can borrow memory (resource blobs)
/// without copying.
class Tensor {
public:
  Tensor() = default;
  /// Allocates a zero-filled tensor.
  static Tensor zeros(DType dtype, std::vector<int64_t> shape);
  /// Wraps memory owned by someone else (must outlive the tensor).
  static Tensor borrow(DType dtype, std::vector<int64_t> shape,
                       const void *data);
  /// Takes ownership of `bytes`, which must hold exactly the tensor's data.
  static Tensor adopt(DType dtype, std::vector<int64_t> shape,
                      std::shared_ptr<std::string> bytes);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[i]; }
  int64_t numel() const;
  size_t byteSize() const { return numel() * dtypeSize(dtype_); }
  bool valid() const { return data_ != nullptr || numel() == 0; }

  template <typename T> T *data() { return reinterpret_cast<T *>(data_); }
  template <typename T> const T *data() const {
    return reinterpret_cast<const T *>(data_);
  }
  char *raw() { return data_; }
  const char *raw() const { return data_; }

  /// Same data, new shape (same element count).
  Tensor reshaped(std::vector<int64_t> shape) const;
  /// Converts to another element type with ONNX Cast semantics
  /// (float -> int truncates toward zero, saturation is not applied).
  Tensor cast(DType to) const;
  /// Element `i` (flat) as double / int64, for scalars and index tensors.
  double getDouble(int64_t i) const;
  int64_t getInt(int64_t i) const;
  /// "f32[1x3x8x8]".
  std::string describe() const;

private:
  DType dtype_ = DType::F32;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> owner_;
  char *data_ = nullptr;
};

/// Numeric type helpers.
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bf16ToFloat(uint16_t b);
uint16_t floatToBf16(float f);

/// Reads a NumPy .npy file (v1/v2/v3 headers, little-endian, C order).
FailureOr<Tensor> readNpy(StringRef path, std::string &error);
/// Parses .npy bytes held in memory (a member of an .npz archive).
FailureOr<Tensor> parseNpy(StringRef data, std::string &error);
/// Writes `t` as .npy to `path` through a temporary file and a rename.
LogicalResult writeNpy(StringRef path, const Tensor &t, std::string &error);
/// Reads an ONNX TensorProto (.pb); `name` receives the proto's name.
FailureOr<Tensor> readTensorProto(StringRef path, std::string &name,
                                  std::string &error);
/// Parses TensorProto bytes; external data is looked up under `dir`.
FailureOr<Tensor> parseTensorProto(StringRef bytes, StringRef dir,
                                   std::string &name, std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_INTERPRETER_TENSOR_H
