//===- Files.h - output files of the lowbit CLI --------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TOOLS_LOWBIT_FILES_H
#define LOWBIT_TOOLS_LOWBIT_FILES_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace lowbit_tool {

/// Writes `path` through a temporary file and a rename, so a failed or
/// interrupted write never leaves a partial file behind; "-" is stdout.
/// Prints "lowbit: error: ..." and returns false on failure.
bool writeAtomically(const std::string &path,
                     llvm::function_ref<void(llvm::raw_ostream &)> write);

} // namespace lowbit_tool

#endif // LOWBIT_TOOLS_LOWBIT_FILES_H
