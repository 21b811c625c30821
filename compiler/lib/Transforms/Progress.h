//===- Progress.h - progress lines of the long quantization passes -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Calibration, sensitivity probes and kernel timing take minutes on large
// models: one redrawn bar on a terminal, a line per half on a pipe (CI).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_LIB_TRANSFORMS_PROGRESS_H
#define LOWBIT_LIB_TRANSFORMS_PROGRESS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <string>

namespace mlir::lowbit {

class Progress {
public:
  void operator()(llvm::StringRef stage, int64_t done, int64_t total) {
    bool tty = llvm::sys::Process::StandardErrIsDisplayed();
    if (stage != current) {
      if (!current.empty() && tty)
        llvm::errs() << "\n";
      current = stage.str();
      start = std::chrono::steady_clock::now();
      lastTenth = -1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count();
    int width = 30, filled = total ? int(width * done / total) : width;
    if (tty) {
      llvm::errs() << "\rlowbit: " << llvm::format("%-18s", stage.str().c_str())
                   << " [" << std::string(filled, '#')
                   << std::string(width - filled, ' ') << "] " << done << "/"
                   << total << llvm::format(" %.1f s", s);
      if (done == total)
        llvm::errs() << "\n";
      current = done == total ? "" : current;
      return;
    }
    int tenth = total ? int(10 * done / total) : 10;
    if (tenth != lastTenth && (tenth % 5 == 0 || done == total)) {
      llvm::errs() << "lowbit: " << stage << ": " << done << "/" << total
                   << llvm::format(" (%.1f s)\n", s);
      lastTenth = tenth;
    }
  }

private:
  std::string current;
  std::chrono::steady_clock::time_point start;
  int lastTenth = -1;
};

} // namespace mlir::lowbit

#endif // LOWBIT_LIB_TRANSFORMS_PROGRESS_H
