//===- MemoryPlan.cpp - static activation arena planning ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Analysis/MemoryPlan.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <numeric>
#include <tuple>

using namespace mlir;
using namespace mlir::lowbit;

static int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

ArenaPlan mlir::lowbit::planArena(ArrayRef<LiveRange> ranges,
                                  int64_t alignment) {
  ArenaPlan plan;
  // First fit of each range, in the given order, at the lowest offset
  // where it overlaps no placed range that is live at the same time.
  auto place = [&](ArrayRef<int> order, std::vector<int64_t> &offsets) {
    offsets.assign(ranges.size(), 0);
    int64_t size = 0;
    std::vector<int> placed;
    for (int id : order) {
      const LiveRange &r = ranges[id];
      int64_t bytes = alignUp(r.bytes, alignment);
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (int p : placed) {
        const LiveRange &o = ranges[p];
        if (o.end >= r.start && o.start <= r.end)
          busy.push_back(
              {offsets[p], offsets[p] + alignUp(o.bytes, alignment)});
      }
      std::sort(busy.begin(), busy.end());
      int64_t at = 0;
      for (auto [s, e] : busy) {
        if (at + bytes <= s)
          break;
        at = std::max(at, alignUp(e, alignment));
      }
      offsets[id] = at;
      size = std::max(size, at + bytes);
      placed.push_back(id);
    }
    return size;
  };
  // Two orders, the smaller arena wins: by first use (what a stack
  // allocator would do), and largest first (TFLite Micro's greedy planner),
  // which packs small buffers into the gaps big ones leave. Ties are broken
  // by index so the plan is deterministic (std::sort: libstdc++'s
  // stable_sort trips clang's deprecation warning).
  std::vector<int> byStart(ranges.size()), bySize(ranges.size());
  std::iota(byStart.begin(), byStart.end(), 0);
  std::iota(bySize.begin(), bySize.end(), 0);
  std::sort(byStart.begin(), byStart.end(), [&](int a, int b) {
    return std::make_pair(ranges[a].start, a) <
           std::make_pair(ranges[b].start, b);
  });
  std::sort(bySize.begin(), bySize.end(), [&](int a, int b) {
    return std::make_tuple(-ranges[a].bytes, ranges[a].start, a) <
           std::make_tuple(-ranges[b].bytes, ranges[b].start, b);
  });
  std::vector<int64_t> sizeOffsets;
  plan.size = place(byStart, plan.offsets);
  int64_t sizeFirst = place(bySize, sizeOffsets);
  if (sizeFirst < plan.size) {
    plan.size = sizeFirst;
    plan.offsets = std::move(sizeOffsets);
  }
  // Live bytes per step (a sweep over range ends).
  int last = 0;
  for (const LiveRange &r : ranges)
    last = std::max(last, r.end);
  std::vector<int64_t> delta(last + 2, 0);
  for (const LiveRange &r : ranges) {
    delta[r.start] += alignUp(r.bytes, alignment);
    delta[r.end + 1] -= alignUp(r.bytes, alignment);
  }
  int64_t live = 0;
  for (int s = 0; s <= last && !ranges.empty(); ++s) {
    live += delta[s];
    if (live > plan.peakLiveBytes) {
      plan.peakLiveBytes = live;
      plan.peakStep = s;
    }
  }
  return plan;
}

bool mlir::lowbit::isViewOpType(StringRef onnxOpType) {
  return llvm::StringSwitch<bool>(onnxOpType)
      .Cases({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity",
              "Dropout"},
             true)
      .Default(false);
}

static bool isView(Operation *op) {
  auto node = dyn_cast<OnnxNodeOp>(op);
  return node && node->getNumOperands() >= 1 && node->getNumResults() >= 1 &&
         isViewOpType(node.getOpType());
}

static int64_t byteSize(Value v) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return -1;
  Type e = t.getElementType();
  if (auto q = dyn_cast<quant::QuantizedType>(e))
    e = q.getStorageType();
  int64_t bits = e.isIntOrFloat() ? std::max(8u, e.getIntOrFloatBitWidth()) : -1;
  return bits < 0 ? -1 : t.getNumElements() * (bits / 8);
}

MemoryPlanAnalysis::MemoryPlanAnalysis(Operation *op) {
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func || func.getBody().empty())
    return;
  llvm::DenseMap<Operation *, int> stepOf;
  for (Operation &o : func.getBody().front()) {
    stepOf[&o] = steps.size();
    steps.push_back(&o);
  }
  for (Operation *o : steps) {
    if (o->hasTrait<OpTrait::ConstantLike>())
      continue;
    if (isView(o)) {
      auto it = bufferOf.find(o->getOperand(0));
      if (it != bufferOf.end())
        bufferOf[o->getResult(0)] = it->second;
      continue;
    }
    for (Value r : o->getResults()) {
      int64_t bytes = byteSize(r);
      if (bytes < 0)
        continue;
      bufferOf[r] = buffers.size();
      buffers.push_back({r, o, {std::max<int64_t>(bytes, 1), stepOf[o],
                                stepOf[o]}});
    }
  }
  for (Operation *o : steps)
    for (Value v : o->getOperands()) {
      auto it = bufferOf.find(v);
      if (it == bufferOf.end())
        continue;
      LiveRange &r = buffers[it->second].range;
      r.end = std::max(r.end, stepOf[o]);
    }
  std::vector<LiveRange> ranges;
  for (const Buffer &b : buffers)
    ranges.push_back(b.range);
  plan = planArena(ranges);
}
