//===- importer-fuzzer.cpp - libFuzzer target over the ONNX importer -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Feeds arbitrary bytes to the importer as a binary ONNX model and, when
// they import, verifies the module and runs the frontend pipeline. Any
// crash, hang or sanitizer report is a bug: bad input must only produce
// diagnostics. Built with clang's -fsanitize=fuzzer,address
// (-DLOWBIT_BUILD_FUZZERS=ON); scripts/fuzz.sh runs it for a bounded time.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Importer/OnnxImporter.h"
#include "lowbit/InitAll.h"
#include "lowbit/Pipeline/Pipeline.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <cstddef>
#include <cstdint>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry();
    lowbit::registerAllDialects(*r);
    return r;
  }();
  MLIRContext ctx(*registry, MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&ctx, [](Diagnostic &) { return success(); });
  StringRef bytes(reinterpret_cast<const char *>(data), size);
  OwningOpRef<ModuleOp> module = lowbit::importOnnxBuffer(
      bytes, "fuzz.onnx", "/nonexistent", /*isText=*/false, &ctx);
  if (!module)
    return 0;
  if (failed(verify(*module)))
    __builtin_trap(); // The importer must only produce valid IR.
  PassManager pm(&ctx);
  lowbit::buildFrontendPipeline(pm, lowbit::FrontendOptions());
  (void)pm.run(*module);
  return 0;
}
