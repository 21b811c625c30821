//===- OutputFolder.cpp - artifacts written whole or not at all ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/OutputFolder.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::lowbit;

bool mlir::lowbit::writeFile(StringRef path, StringRef data, std::string &error) {
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
bool mlir::lowbit::runProgram(ArrayRef<std::string> argv, StringRef logPath,
                    std::string &error) {
  auto program = llvm::sys::findProgramByName(argv[0]);
  if (!program) {
    error = "cannot find '" + argv[0] + "' on PATH";
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
    // The end of the log says what went wrong; a long one is cut.
    StringRef text = log ? (*log)->getBuffer() : StringRef();
    if (text.size() > 4000)
      text = text.take_back(4000);
    error = "'" + cmd + "' failed" +
            (message.empty() ? "" : ": " + message) +
            (rc > 0 ? " (exit code " + std::to_string(rc) + ")" : "") + "\n" +
            text.str();
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

/// `OUT.tmp-PID` and `OUT.old-PID` folders left by a compile that was
/// killed (its PID no longer runs) are removed; a live compile's are kept.
static void removeStaleSiblings(StringRef out) {
  StringRef parent = llvm::sys::path::parent_path(out);
  std::string base = llvm::sys::path::filename(out).str();
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(parent.empty() ? "." : parent, ec),
       end;
       it != end && !ec; it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    for (StringRef kind : {".tmp-", ".old-"}) {
      std::string prefix = base + kind.str();
      unsigned pid = 0;
      if (!name.starts_with(prefix) ||
          name.drop_front(prefix.size()).getAsInteger(10, pid) || pid == 0)
        continue;
      if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
        llvm::sys::fs::remove_directories(it->path());
    }
  }
}

/// fsync of a file or folder, so that a crash after the rename cannot leave
/// a complete-looking folder with empty files.
static void syncPath(StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::unique_ptr<OutputFolder>
OutputFolder::create(StringRef outDir, bool force, std::string &error) {
  std::unique_ptr<OutputFolder> f(new OutputFolder());
  f->out = outDir;
  if (std::error_code ec = llvm::sys::fs::make_absolute(f->out)) {
    error = "cannot resolve '" + outDir.str() + "': " + ec.message();
    return nullptr;
  }
  llvm::sys::path::remove_dots(f->out, /*remove_dot_dot=*/true);
  while (f->out.size() > 1 && llvm::sys::path::is_separator(f->out.back()))
    f->out.pop_back();
  if (!isReplaceableOutput(f->out, force, error))
    return nullptr;
  removeStaleSiblings(f->out);
  f->tmp = f->out;
  f->tmp += ".tmp-" + std::to_string(llvm::sys::Process::getProcessId());
  llvm::sys::fs::remove_directories(f->tmp);
  if (std::error_code ec = llvm::sys::fs::create_directories(f->tmp)) {
    error = "cannot create '" + f->tmp.str().str() + "': " + ec.message();
    return nullptr;
  }
  if (!f->write(kOutputMarker,
                "written by lowbit compile; replaced by the next\n", error))
    return nullptr;
  return f;
}

OutputFolder::~OutputFolder() {
  if (!committed)
    llvm::sys::fs::remove_directories(tmp);
}

std::string OutputFolder::path(StringRef file) const {
  SmallString<256> p(tmp);
  llvm::sys::path::append(p, file);
  return std::string(p);
}

bool OutputFolder::write(StringRef file, StringRef data, std::string &error) {
  return writeFile(path(file), data, error);
}

bool OutputFolder::run(ArrayRef<std::string> argv, std::string &error) {
  std::string log = path("build.log");
  if (!runProgram(argv, log, error))
    return false;
  llvm::sys::fs::remove(log);
  return true;
}

bool OutputFolder::commit(std::string &error) {
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(tmp, ec), end; it != end && !ec;
       it.increment(ec))
    syncPath(it->path());
  syncPath(tmp);
  StringRef parent = llvm::sys::path::parent_path(out);
  if (!llvm::sys::fs::exists(out)) {
    if (std::error_code rc = llvm::sys::fs::rename(tmp, out)) {
      error = "cannot create '" + out.str().str() + "': " + rc.message();
      return false;
    }
  } else if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(),
                         RENAME_EXCHANGE) == 0) {
    // One atomic step: OUT is the new folder, the temporary name the old.
    llvm::sys::fs::remove_directories(tmp);
  } else {
    // File systems without RENAME_EXCHANGE: two renames, with a window in
    // which OUT is missing (OUT.old-PID holds the previous output then).
    SmallString<256> old(out);
    old += ".old-" + std::to_string(llvm::sys::Process::getProcessId());
    if (std::error_code rc = llvm::sys::fs::rename(out, old)) {
      error = "cannot replace '" + out.str().str() + "': " + rc.message();
      return false;
    }
    if (std::error_code rc = llvm::sys::fs::rename(tmp, out)) {
      error = "cannot create '" + out.str().str() + "': " + rc.message();
      llvm::sys::fs::rename(old, out);
      return false;
    }
    llvm::sys::fs::remove_directories(old);
  }
  committed = true;
  syncPath(parent.empty() ? "." : parent);
  return true;
}
