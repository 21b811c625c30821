//===- OnnxImporter.h - ONNX model -> lowbit IR -------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The importer is structural: it maps the protobuf onto IR one to one. Every
// node becomes a `lowbit.onnx_node` carrying its op type, domain, opset and
// attributes; initializers become `arith.constant`s (dense resources when
// large); graph inputs and outputs become the arguments and results of one
// `func.func`. Op semantics live in convert-onnx-to-lowbit and in the
// reference interpreter.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_IMPORTER_ONNXIMPORTER_H
#define LOWBIT_IMPORTER_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <map>
#include <string>
#include <vector>

namespace mlir::lowbit {

struct OnnxImportOptions {
  /// Fixes symbolic or unknown input dimensions: input name -> full shape.
  std::map<std::string, std::vector<int64_t>> inputShapes;
  /// Run ONNX's checker and strict shape inference (on by default).
  bool check = true;
};

/// Highest default-domain opset the importer accepts.
constexpr int64_t kMaxSupportedOpset = 21;

/// Imports the ONNX model at `path`: binary protobuf, or the ONNX text format
/// when the name ends in `.onnxtxt`/`.onnxtext` (lines starting with `//`
/// are dropped first, so lit RUN/CHECK lines can live in the file). External
/// data files are read relative to the model's directory. Emits diagnostics
/// on `ctx` that name the file, the node and the reason, and returns null on
/// failure; never throws and never exits.
OwningOpRef<ModuleOp> importOnnxFile(llvm::StringRef path, MLIRContext *ctx,
                                     const OnnxImportOptions &options = {});

/// Same, from bytes already in memory; `name` is used in diagnostics and
/// `baseDir` to resolve external data.
OwningOpRef<ModuleOp> importOnnxBuffer(llvm::StringRef bytes,
                                       llvm::StringRef name,
                                       llvm::StringRef baseDir, bool isText,
                                       MLIRContext *ctx,
                                       const OnnxImportOptions &options = {});

/// Turns a tensor name into a safe file or symbol name: characters other
/// than [A-Za-z0-9_.-] become '_', and a leading '.' or '-' is prefixed
/// with '_'. `lowbit run` writes outputs as `<sanitized name>.npy`.
std::string sanitizeName(llvm::StringRef name);

} // namespace mlir::lowbit

#endif // LOWBIT_IMPORTER_ONNXIMPORTER_H
