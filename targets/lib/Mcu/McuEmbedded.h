//===- McuEmbedded.h - runtime/kernels/mcu/ inside the compiler ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGETS_MCU_MCUEMBEDDED_H
#define LOWBIT_TARGETS_MCU_MCUEMBEDDED_H

#include <cstddef>

namespace mlir::lowbit::mcu {
/// One file of runtime/kernels/mcu/, by its path there ("lowbit_mcu.c",
/// "qemu/startup.c").
struct EmbeddedFile {
  const char *path;
  const char *text;
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const size_t kNumEmbeddedFiles;
} // namespace mlir::lowbit::mcu

#endif // LOWBIT_TARGETS_MCU_MCUEMBEDDED_H
