//===- Files.cpp - output files of the lowbit CLI ------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Files.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

namespace lowbit_tool {

/// Writes through a temporary file and renames, so a failed or interrupted
/// write never leaves a partial file behind.
bool writeAtomically(const std::string &path,
                     llvm::function_ref<void(llvm::raw_ostream &)> write) {
  if (path == "-") {
    write(llvm::outs());
    return true;
  }
  llvm::SmallString<256> tmp(path);
  tmp += ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_None);
    if (ec) {
      llvm::errs() << "lowbit: error: cannot write '" << tmp
                   << "': " << ec.message() << "\n";
      return false;
    }
    write(os);
    os.close();
    if (os.has_error()) {
      llvm::sys::fs::remove(tmp);
      llvm::errs() << "lowbit: error: cannot write '" << path << "'\n";
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    llvm::errs() << "lowbit: error: cannot rename to '" << path
                 << "': " << ec.message() << "\n";
    return false;
  }
  return true;
}

} // namespace lowbit_tool
