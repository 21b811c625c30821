//===- package-fuzzer.cpp - libFuzzer target over the package verifier -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes as the weight package of a real compiled model
// (LOWBIT_FUZZ_MODEL=DIR: a folder written by `lowbit compile`, whose
// <name>.so provides the generated code's descriptor) to
// lowbit_package_verify, and to lowbit_session_create when it passes. The
// runtime linked here is the instrumented one; a package the verifier
// accepts must also open a session. scripts/fuzz.sh seeds it with the
// model's own package.
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string>

static const lowbit_model_code_t *code;

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  const char *dir = std::getenv("LOWBIT_FUZZ_MODEL");
  const char *name = std::getenv("LOWBIT_FUZZ_MODEL_NAME");
  if (!dir || !name) {
    std::fprintf(stderr, "set LOWBIT_FUZZ_MODEL=DIR and "
                         "LOWBIT_FUZZ_MODEL_NAME=NAME (a compiled model)\n");
    std::exit(2);
  }
  std::string so = std::string(dir) + "/" + name + ".so";
  void *lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "cannot load %s: %s\n", so.c_str(), dlerror());
    std::exit(2);
  }
  code = static_cast<const lowbit_model_code_t *>(
      dlsym(lib, ("lowbit_model_" + std::string(name)).c_str()));
  if (!code) {
    std::fprintf(stderr, "%s has no model descriptor\n", so.c_str());
    std::exit(2);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The verifier requires 64-byte aligned weights: give it an aligned copy.
  void *buf = std::aligned_alloc(64, (size + 63) / 64 * 64 + 64);
  std::memcpy(buf, data, size);
  char message[256];
  if (lowbit_package_verify(code, buf, size, message, sizeof message) ==
      LOWBIT_OK) {
    lowbit_options_t options;
    std::memset(&options, 0, sizeof options);
    options.num_threads = 1;
    lowbit_session_t *session = nullptr;
    if (lowbit_session_create(code, buf, size, &options, &session) !=
        LOWBIT_OK)
      __builtin_trap(); // verified but refused: the two disagree
    lowbit_session_destroy(session);
  }
  std::free(buf);
  return 0;
}
