//===- TargetBackend.cpp - the target-backend registry ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipeline/TargetBackend.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/ErrorHandling.h"

using namespace mlir;
using namespace mlir::lowbit;

TargetBackend::~TargetBackend() = default;

std::vector<QuantFormat> TargetBackend::getWeightFormats() const {
  std::vector<QuantFormat> out;
  for (uint32_t v = 0; v <= getMaxEnumValForQuantFormat(); ++v)
    if (std::optional<QuantFormat> f = symbolizeQuantFormat(v))
      if (supportsWeightFormat(*f))
        out.push_back(*f);
  return out;
}

FailureOr<double> TargetBackend::layerLatencyMs(Operation *,
                                                std::optional<QuantFormat>,
                                                int64_t) const {
  return failure();
}

namespace {
/// Registration happens once at start-up (registerAllTargets), before any
/// lookup; no locking needed after that.
llvm::StringMap<std::unique_ptr<TargetBackend>> &registry() {
  static llvm::StringMap<std::unique_ptr<TargetBackend>> backends;
  return backends;
}
} // namespace

void mlir::lowbit::registerTargetBackend(
    std::unique_ptr<TargetBackend> backend) {
  std::string name = backend->getName().str();
  if (!registry().try_emplace(name, std::move(backend)).second)
    llvm::report_fatal_error("lowbit: target '" + llvm::Twine(name) +
                             "' registered twice");
}

const TargetBackend *mlir::lowbit::lookupTargetBackend(StringRef name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.get();
}

std::vector<const TargetBackend *> mlir::lowbit::getRegisteredTargetBackends() {
  std::vector<const TargetBackend *> out;
  for (auto &entry : registry())
    out.push_back(entry.second.get());
  llvm::sort(out, [](const TargetBackend *a, const TargetBackend *b) {
    return a->getName() < b->getName();
  });
  return out;
}

std::string mlir::lowbit::listTargetBackends() {
  std::string out;
  for (const TargetBackend *b : getRegisteredTargetBackends())
    out += (out.empty() ? "" : ", ") + b->getName().str();
  return out.empty() ? "none" : out;
}
