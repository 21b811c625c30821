//===- InitAllTargets.h - register every target backend ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Tools call this once at start-up; a program linking the compiler calls it
// (or registerX86Target() alone) before building a compile pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_INITALLTARGETS_H
#define LOWBIT_TARGET_INITALLTARGETS_H

namespace mlir::lowbit {

/// The x86 backend (targets/lib/X86/X86Backend.cpp).
void registerX86Target();

/// The MCU backend (targets/lib/Mcu/McuBackend.cpp).
void registerMcuTarget();

/// Every backend lowbit has; idempotent.
void registerAllTargets();

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_INITALLTARGETS_H
