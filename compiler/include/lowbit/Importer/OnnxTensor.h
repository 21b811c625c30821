//===- OnnxTensor.h - decode ONNX TensorProto payloads ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Shared by the importer (initializers, Constant attributes) and `lowbit run`
// (TensorProto .pb inputs): one place knows where each ONNX data type keeps
// its values (raw_data, typed fields, external files).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_IMPORTER_ONNXTENSOR_H
#define LOWBIT_IMPORTER_ONNXTENSOR_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <memory>
#include <string>

namespace onnx {
class TensorProto;
} // namespace onnx

namespace mlir::lowbit {

/// A TensorProto's values in host (little-endian) layout, one element per
/// `onnxElementBytes(dataType)` bytes; BOOL is one byte per element.
struct DecodedOnnxTensor {
  int32_t dataType = 0;
  SmallVector<int64_t> dims;
  int64_t numElements = 0;
  std::unique_ptr<std::string> bytes;
};

/// False, with `error` = "not a regular file (...)", when `path` exists but
/// is a device, pipe or folder: reading /dev/zero would go on until memory
/// runs out. A missing path passes (the read then names the OS error).
bool checkRegularFile(StringRef path, std::string &error);

/// Storage bytes per element of an ONNX data type; 0 when lowbit does not
/// support the type (strings, complex, sub-byte and 8-bit float types).
int64_t onnxElementBytes(int32_t dataType);

/// Name of an ONNX data type ("FLOAT", "INT64", ...).
std::string onnxDataTypeName(int32_t dataType);

/// Decodes `tensor`, moving raw_data out of it (no copy). External data is
/// read relative to `baseDir`. On failure returns failure and sets `error`
/// to a message that completes "<what> ...".
FailureOr<DecodedOnnxTensor> decodeOnnxTensor(onnx::TensorProto &tensor,
                                              StringRef baseDir,
                                              std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_IMPORTER_ONNXTENSOR_H
