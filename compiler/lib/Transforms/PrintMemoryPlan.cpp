//===- PrintMemoryPlan.cpp - the lowbit-print-memory-plan pass ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Analysis/MemoryPlan.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_PRINTMEMORYPLANPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
std::string stepName(Operation *op) {
  std::string name = getNodeName(op);
  return name.empty() ? op->getName().getStringRef().str() : name;
}

struct PrintMemoryPlanPass
    : lowbit::impl::PrintMemoryPlanPassBase<PrintMemoryPlanPass> {
  void runOnOperation() override {
    const MemoryPlanAnalysis &m = getAnalysis<MemoryPlanAnalysis>();
    llvm::raw_ostream &os = llvm::outs();
    os << "memory plan for @" << getOperation().getSymName() << ": "
       << m.buffers.size() << " buffers, arena " << m.plan.size << " bytes";
    if (m.plan.peakStep >= 0)
      os << ", peak " << m.plan.peakLiveBytes << " bytes live at step "
         << m.plan.peakStep << " ("
         << (size_t(m.plan.peakStep) < m.steps.size()
                 ? stepName(m.steps[m.plan.peakStep])
                 : std::string("return"))
         << ")";
    os << "\n";
    for (auto [i, b] : llvm::enumerate(m.buffers))
      os << "  " << stepName(b.def) << " " << b.def->getName() << " "
         << b.value.getType() << ": " << b.range.bytes << " bytes, steps "
         << b.range.start << ".." << b.range.end << ", offset "
         << m.plan.offsets[i] << "\n";
    markAllAnalysesPreserved();
  }
};
} // namespace
