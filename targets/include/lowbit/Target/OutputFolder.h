//===- OutputFolder.h - artifacts written whole or not at all ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Every backend writes its artifact into a temporary sibling of the output
// folder and renames it over the old one only when every file (and every
// build step) succeeded, so a failed or killed compile never leaves a
// half-written folder. Folders that lowbit did not write are refused
// unless forced.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_OUTPUTFOLDER_H
#define LOWBIT_TARGET_OUTPUTFOLDER_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/SmallString.h"

#include <memory>
#include <string>

namespace mlir::lowbit {

class OutputFolder {
public:
  /// Checks that `outDir` may be replaced (see above) and creates the
  /// temporary folder; null with `error` set otherwise.
  static std::unique_ptr<OutputFolder> create(StringRef outDir, bool force,
                                              std::string &error);
  ~OutputFolder();

  /// `file` inside the temporary folder.
  std::string path(StringRef file) const;
  bool write(StringRef file, StringRef data, std::string &error);
  /// Runs a build step; its output goes to a log in the folder, which is
  /// quoted in `error` when the step fails.
  bool run(ArrayRef<std::string> argv, std::string &error);
  /// Replaces the output folder by the temporary one.
  bool commit(std::string &error);

private:
  OutputFolder() = default;
  llvm::SmallString<256> out, tmp;
  bool committed = false;
};

/// Runs `argv` (argv[0] looked up on PATH) with stdout and stderr to
/// `logPath`; on failure `error` holds the command line and the log.
bool runProgram(ArrayRef<std::string> argv, StringRef logPath,
                std::string &error);

/// Writes `data` to `path` (not atomically: for files in a temporary
/// folder).
bool writeFile(StringRef path, StringRef data, std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_OUTPUTFOLDER_H
