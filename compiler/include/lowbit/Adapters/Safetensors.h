//===- Safetensors.h - a checked reader of .safetensors files -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The safetensors layout (Hugging Face): an 8-byte little-endian header
// length, a JSON header {"name": {"dtype", "shape", "data_offsets"}, ...,
// "__metadata__": {...}}, then the tensors' bytes. Every field is
// untrusted: the header length, offsets, shapes and dtypes are checked
// against the file before anything is allocated.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ADAPTERS_SAFETENSORS_H
#define LOWBIT_ADAPTERS_SAFETENSORS_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// One tensor, widened to f32 (F32, F16, BF16 and F64 are read).
struct SafetensorsTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

/// Largest header accepted (the format's own readers use 100 MB).
constexpr uint64_t kMaxSafetensorsHeader = 100u << 20;

/// Reads every tensor of `path`; on failure `error` says why (without the
/// path, which the caller prefixes).
FailureOr<std::map<std::string, SafetensorsTensor>>
readSafetensors(StringRef path, std::string &error);

/// The same from bytes already in memory (the fuzzer's entry point).
FailureOr<std::map<std::string, SafetensorsTensor>>
parseSafetensors(StringRef bytes, std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_ADAPTERS_SAFETENSORS_H
