//===- InitAll.h - register every lowbit dialect and pass ---------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_INITALL_H
#define LOWBIT_INITALL_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mlir::lowbit {

/// Inserts the lowbit dialect and the upstream dialects a lowbit module can
/// contain. Never upstream's registerAllDialects(): it bloats link time.
void registerAllDialects(DialectRegistry &registry);

/// Registers every lowbit pass and pipeline plus the upstream cleanup passes
/// that pipelines use (canonicalize, cse, symbol-dce).
void registerAllPasses();

} // namespace mlir::lowbit

#endif // LOWBIT_INITALL_H
