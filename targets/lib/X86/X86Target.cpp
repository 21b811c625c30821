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

/// The marker every lowbit output folder holds: only such folders (or
/// empty ones, or older outputs with a package) are replaced without
/// --force.
static constexpr const char *kOutputMarker = ".lowbit-output";

static bool isReplaceableOutput(StringRef out, bool force,
                                std::string &error) {
  // The folder is replaced by a rename: the current directory (or one above
  // it) would leave the caller's shell in a deleted folder.
  SmallString<256> cwd;
  if (!llvm::sys::fs::current_path(cwd) &&
      (cwd == out || StringRef(cwd).starts_with((out + "/").str()))) {
    error = "-o '" + out.str() +
            "' is the current directory or above it; lowbit replaces the "
            "output folder as a whole, so give a subfolder (e.g. -o out)";
    return false;
  }
  llvm::sys::fs::file_status st;
  if (force || llvm::sys::fs::status(out, st))
    return true; // does not exist yet
  if (!llvm::sys::fs::is_directory(st)) {
    error = "'" + out.str() +
            "' is a file, not an output folder: remove it or choose another "
            "-o (or pass --force)";
    return false;
  }
  std::error_code ec;
  bool empty = true;
  for (llvm::sys::fs::directory_iterator it(out, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (name == kOutputMarker || name.ends_with(".lbpkg"))
      return true;
    empty = false;
  }
  if (empty)
    return true;
  error = "'" + out.str() +
          "' holds files lowbit did not write; refusing to replace it: "
          "choose a new or empty folder for -o (or pass --force)";
  return false;
}

LogicalResult mlir::lowbit::writeX86Artifact(const X86Artifact &artifact,
                                             const X86BuildOptions &options,
                                             std::string &error) {
  SmallString<256> out(options.outDir);
  if (std::error_code ec = llvm::sys::fs::make_absolute(out)) {
    error = "cannot resolve '" + options.outDir + "': " + ec.message();
    return failure();
  }
  llvm::sys::path::remove_dots(out, /*remove_dot_dot=*/true);
  while (out.size() > 1 && llvm::sys::path::is_separator(out.back()))
    out.pop_back();
  if (!isReplaceableOutput(out, options.force, error))
    return failure();
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
  SmallString<256> marker(tmp);
  llvm::sys::path::append(marker, kOutputMarker);
  if (!writeFile(marker, "written by lowbit compile; replaced by the next\n",
                 error) ||
      !writeFile(file(".c"), artifact.source, error) ||
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
