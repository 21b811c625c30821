//===- Compiled.cpp - load a compiled model folder for run/bench --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Compiled.h"

#include "lowbit/Importer/OnnxTensor.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>
#include <dlfcn.h>

using namespace lowbit_tool;

CompiledModel::~CompiledModel() {
  if (library)
    dlclose(library);
}

/// The folder's one package; "" with `*others` set to the names when it
/// holds several.
static std::string findPackage(const std::string &dir,
                               std::string *others = nullptr) {
  std::error_code ec;
  std::vector<std::string> found;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::path::extension(it->path()) == ".lbpkg")
      found.push_back(llvm::sys::path::filename(it->path()).str());
  if (found.size() == 1) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, found[0]);
    return std::string(path);
  }
  if (others && found.size() > 1) {
    llvm::sort(found);
    for (const std::string &f : found)
      *others += (others->empty() ? "" : ", ") + f;
  }
  return "";
}

bool lowbit_tool::isCompiledDir(const std::string &path) {
  return llvm::sys::fs::is_directory(path) && !findPackage(path).empty();
}

std::unique_ptr<CompiledModel>
lowbit_tool::loadCompiled(const std::string &dir, std::string &error) {
  std::string others;
  std::string pkg = findPackage(dir, &others);
  if (pkg.empty()) {
    error = others.empty()
                ? dir + ": not a compiled model (expected one <name>.lbpkg; "
                        "run `lowbit compile` first)"
                : dir + ": holds several packages (" + others +
                      "); a compiled model folder holds exactly one";
    return nullptr;
  }
  auto model = std::make_unique<CompiledModel>();
  model->dir = dir;
  model->name = llvm::sys::path::stem(pkg).str();
  if (std::string why; !mlir::lowbit::checkRegularFile(pkg, why)) {
    error = pkg + ": " + why;
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getFile(pkg, false, false);
  if (!buffer) {
    error = pkg + ": cannot read: " + buffer.getError().message();
    return nullptr;
  }
  size_t size = (*buffer)->getBufferSize();
  void *mem = aligned_alloc(64, (size + 63) / 64 * 64);
  if (!mem) {
    error = "out of memory";
    return nullptr;
  }
  std::memcpy(mem, (*buffer)->getBufferStart(), size);
  model->package.reset(static_cast<uint8_t *>(mem));
  model->packageSize = size;
  llvm::SmallString<256> so(dir);
  llvm::sys::path::append(so, model->name + ".so");
  llvm::sys::fs::make_absolute(so);
  model->library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!model->library) {
    error = so.str().str() + ": cannot load: " + dlerror();
    return nullptr;
  }
  std::string symbol = "lowbit_model_" + model->name;
  model->code = static_cast<const lowbit_model_code_t *>(
      dlsym(model->library, symbol.c_str()));
  if (!model->code) {
    error = so.str().str() + ": no symbol " + symbol;
    return nullptr;
  }
  return model;
}
