//===- X86Target.cpp - write and build the x86 artifact -----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/X86/X86Target.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::lowbit;

static bool writeFile(StringRef path, StringRef data, std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  os << data;
  os.close();
  if (os.has_error()) {
    error = "cannot write '" + path.str() + "'";
    return false;
  }
  return true;
}

/// Runs a program; on failure `error` gets its command line and output.
static bool runTool(ArrayRef<std::string> argv, StringRef logPath,
                    std::string &error) {
  auto program = llvm::sys::findProgramByName(argv[0]);
  if (!program) {
    error = "cannot find the C compiler '" + argv[0] + "' (use --cc)";
    return false;
  }
  SmallVector<StringRef> args(argv.begin(), argv.end());
  std::optional<StringRef> redirects[] = {std::nullopt, logPath, logPath};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, redirects,
                                     0, 0, &message);
  if (rc != 0) {
    std::string cmd;
    for (StringRef a : args)
      cmd += a.str() + " ";
    auto log = llvm::MemoryBuffer::getFile(logPath);
    error = "'" + cmd + "' failed" +
            (message.empty() ? "" : ": " + message) + "\n" +
            (log ? (*log)->getBuffer().str() : "");
    return false;
  }
  return true;
}

LogicalResult mlir::lowbit::writeX86Artifact(const X86Artifact &artifact,
                                             const X86BuildOptions &options,
                                             std::string &error) {
  SmallString<256> out(options.outDir);
  llvm::sys::path::remove_dots(out, /*remove_dot_dot=*/true);
  while (out.size() > 1 && llvm::sys::path::is_separator(out.back()))
    out.pop_back();
  SmallString<256> tmp(out);
  tmp += ".tmp-" + std::to_string(llvm::sys::Process::getProcessId());
  llvm::sys::fs::remove_directories(tmp);
  if (std::error_code ec = llvm::sys::fs::create_directories(tmp)) {
    error = "cannot create '" + tmp.str().str() + "': " + ec.message();
    return failure();
  }
  auto cleanup = [&] { llvm::sys::fs::remove_directories(tmp); };
  auto file = [&](StringRef ext) {
    SmallString<256> p(tmp);
    llvm::sys::path::append(p, artifact.name + ext.str());
    return std::string(p);
  };
  StringRef pkg(reinterpret_cast<const char *>(artifact.package.data()),
                artifact.package.size());
  if (!writeFile(file(".c"), artifact.source, error) ||
      !writeFile(file(".h"), artifact.header, error) ||
      !writeFile(file(".lbpkg"), pkg, error)) {
    cleanup();
    return failure();
  }
  if (!options.cc.empty()) {
    std::string march = "-march=" + options.cpu;
    std::string log = file(".log");
    // Fast-math lets GCC vectorize expf/erff/tanhf through glibc's libmvec
    // (it does so only under -ffast-math); generated code starts
    // reductions from -FLT_MAX, never from infinities.
    if (!runTool({options.cc, "-O3", march, "-fPIC", "-std=c11", "-ffast-math",
                  "-I" + std::string(LOWBIT_RUNTIME_INCLUDE_DIR), "-I" +
                  std::string(tmp), "-c", file(".c"), "-o", file(".o")},
                 log, error) ||
        !runTool({options.cc, "-shared", "-o", file(".so"), file(".o"),
                  LOWBIT_RUNTIME_LIBRARY, "-lm", "-lpthread"},
                 log, error)) {
      cleanup();
      return failure();
    }
    llvm::sys::fs::remove(log);
  }
  // Replace the output folder only now that everything is in place.
  SmallString<256> old(out);
  old += ".old-" + std::to_string(llvm::sys::Process::getProcessId());
  bool hadOld = llvm::sys::fs::exists(out);
  if (hadOld) {
    if (std::error_code ec = llvm::sys::fs::rename(out, old)) {
      error = "cannot replace '" + out.str().str() + "': " + ec.message();
      cleanup();
      return failure();
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, out)) {
    error = "cannot create '" + out.str().str() + "': " + ec.message();
    if (hadOld)
      llvm::sys::fs::rename(old, out);
    cleanup();
    return failure();
  }
  if (hadOld)
    llvm::sys::fs::remove_directories(old);
  return success();
}
