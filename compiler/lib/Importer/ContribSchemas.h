//===- ContribSchemas.h - ONNX Runtime contrib ops for libonnx ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// libonnx knows only the standard domains, so a model that imports
// com.microsoft would skip ONNX's checker and shape inference altogether and
// every value after the first contrib op would stay unranked. Registering
// schemas (with their shape inference) for the contrib ops lowbit converts
// keeps such models fully typed.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_IMPORTER_CONTRIBSCHEMAS_H
#define LOWBIT_IMPORTER_CONTRIBSCHEMAS_H

namespace onnx {
class ModelProto;
} // namespace onnx

namespace mlir::lowbit {

/// Registers the com.microsoft schemas lowbit understands (once per
/// process): MatMulNBits.
void registerContribSchemas();

/// True when every node of a non-standard domain in `model` has a
/// registered schema, i.e. the checker and shape inference can run on it.
bool contribOpsKnown(const onnx::ModelProto &model);

} // namespace mlir::lowbit

#endif // LOWBIT_IMPORTER_CONTRIBSCHEMAS_H
