//===- Smoothing.h - migrate activation ranges into weights -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Per-channel activation scales cannot be factored out of an integer dot
// product (they multiply inside the sum over K), so per-channel activation
// ranges are used the SmoothQuant way (Xiao et al., 2023): a channel k with
// large activations is divided by s_k and its weight column multiplied by
// s_k, which leaves the layer's float output unchanged and evens out the
// ranges one per-tensor u8 scale has to cover.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_SMOOTHING_H
#define LOWBIT_QUANT_SMOOTHING_H

#include "lowbit/Quant/Calibration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::lowbit {

/// Smooths the inputs of `layers` (lowbit.linear, and lowbit.conv2d with
/// one group, whose weights are f32 constants) with
///   s_k = max|x_k|^alpha / max|W[:, k]|^(1 - alpha)
/// from the per-channel ranges in `ranges` (calibrateActivations). Layers
/// that read the same value share one s: the value gets one
/// `onnx_node "Mul"` by 1/s (broadcast over its channel axis) that those
/// layers read instead, and each weight's columns are multiplied by s.
/// Returns the layers smoothed.
SmallVector<Operation *>
smoothActivations(func::FuncOp func, ArrayRef<Operation *> layers,
                  const llvm::DenseMap<Operation *, ActivationRange> &ranges,
                  double alpha);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_SMOOTHING_H
