//===- McuEmbedded.cpp - runtime/kernels/mcu/ inside the compiler --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The files are read at configure time (targets/CMakeLists.txt), so an
// installed lowbit writes self-contained MCU artifacts.
//
//===----------------------------------------------------------------------===//

#include "McuEmbedded.h"

namespace mlir::lowbit::mcu {
const EmbeddedFile kEmbeddedFiles[] = {
#include "McuEmbedded.inc"
};
const size_t kNumEmbeddedFiles =
    sizeof(kEmbeddedFiles) / sizeof(kEmbeddedFiles[0]);
} // namespace mlir::lowbit::mcu
