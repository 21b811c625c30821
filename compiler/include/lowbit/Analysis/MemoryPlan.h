//===- MemoryPlan.h - static activation arena planning ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Every backend runs a model out of one preallocated arena (an MCU has no
// heap; x86 and CUDA allocate once per session). The plan places each
// intermediate tensor at an offset so that tensors whose live ranges
// overlap never share bytes, and reports the size and the step where the
// most bytes are live (the layer to split or reorder to shrink the arena).
//
// Two levels: `planArena` places abstract live ranges (a backend with its
// own notion of values, such as x86's fused loops, calls it directly);
// `MemoryPlanAnalysis` derives the ranges from a function's ops (results
// live from their op to their last use, views share their source's bytes)
// and is what `lowbit-print-memory-plan` shows.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ANALYSIS_MEMORYPLAN_H
#define LOWBIT_ANALYSIS_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <cstdint>
#include <vector>

namespace mlir::lowbit {

/// ONNX ops whose first result is their first operand's bytes (Reshape,
/// Flatten, Squeeze, Unsqueeze, Identity, Dropout at inference): a view
/// takes no arena of its own.
bool isViewOpType(StringRef onnxOpType);

/// A buffer needed from step `start` to step `end` (inclusive).
struct LiveRange {
  int64_t bytes = 0;
  int start = 0, end = 0;
};

struct ArenaPlan {
  std::vector<int64_t> offsets; ///< per range, aligned
  int64_t size = 0;             ///< bytes of the arena
  int peakStep = -1;            ///< step with the most live bytes
  int64_t peakLiveBytes = 0;    ///< the live bytes there (<= size)
};

/// First fit in order of start step: each range goes to the lowest aligned
/// offset that does not overlap a placed range live at the same time.
/// Ranges are padded to `alignment`.
ArenaPlan planArena(ArrayRef<LiveRange> ranges, int64_t alignment = 64);

/// The plan of a function whose body is one block: one buffer per
/// statically shaped tensor result of a non-constant op, live from its op
/// to its last use (the return is the last step); the results of view ops
/// (isViewOpType) share their source's buffer and extend its range. Function arguments and constants take no
/// arena.
struct MemoryPlanAnalysis {
  explicit MemoryPlanAnalysis(Operation *op);

  struct Buffer {
    Value value;        ///< the first value stored here
    Operation *def;     ///< its op
    LiveRange range;
  };
  std::vector<Operation *> steps; ///< the body's ops, in order
  std::vector<Buffer> buffers;
  ArenaPlan plan;
  /// Value -> index in `buffers` (views map to their source's).
  llvm::DenseMap<Value, int> bufferOf;
};

} // namespace mlir::lowbit

#endif // LOWBIT_ANALYSIS_MEMORYPLAN_H
