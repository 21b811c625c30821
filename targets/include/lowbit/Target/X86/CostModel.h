//===- CostModel.h - measured kernel latency of x86 layers --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The latency side of the precision search: what a layer costs on this
// machine in each weight format, timed by running the very runtime kernels
// the compiled code will call, on the layer's real shapes.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_X86_COSTMODEL_H
#define LOWBIT_TARGET_X86_COSTMODEL_H

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"

#include "mlir/IR/Operation.h"

#include <optional>

namespace mlir::lowbit {

/// Weight formats the x86 target runs natively (int2..int8, nf4, fp4_e2m1,
/// fp8_e4m3, fp8_e5m2, f32).
bool isX86WeightFormat(std::optional<QuantFormat> format);

/// Median milliseconds of the x86 kernel for `layer` (lowbit.linear or
/// lowbit.conv2d with static shapes) with its weight in `format` (nullopt:
/// f32) grouped by `groupSize` (0: per channel), on `threads` threads
/// (0: one per core). Runs until about 30 ms were spent (at least 3 timed
/// runs after one warm-up). Failure for formats x86 does not run.
FailureOr<double> measureX86LayerMs(Operation *layer,
                                    std::optional<QuantFormat> format,
                                    int64_t groupSize, int threads);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_X86_COSTMODEL_H
