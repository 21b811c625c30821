//===- Compiled.h - load a compiled model folder for run/bench ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TOOLS_LOWBIT_COMPILED_H
#define LOWBIT_TOOLS_LOWBIT_COMPILED_H

#include "lowbit/abi.h"

#include <memory>
#include <string>

namespace lowbit_tool {

/// A `lowbit compile` output folder: its code (dlopen'ed <name>.so) and its
/// package (read into 64-byte aligned memory).
struct CompiledModel {
  std::string dir, name;
  void *library = nullptr;
  const lowbit_model_code_t *code = nullptr;
  std::unique_ptr<uint8_t, void (*)(void *)> package{nullptr, free};
  size_t packageSize = 0;
  ~CompiledModel();
};

/// True when `path` is a folder holding exactly one <name>.lbpkg.
bool isCompiledDir(const std::string &path);

/// Loads the folder; on failure returns null and sets `error`.
std::unique_ptr<CompiledModel> loadCompiled(const std::string &dir,
                                            std::string &error);

} // namespace lowbit_tool

#endif // LOWBIT_TOOLS_LOWBIT_COMPILED_H
