//===- QuantizeWeights.h - replace a layer weight by lowbit.qweight -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The IR side of weight quantization, shared by lowbit-quantize-weights
// (round to nearest) and drivers that compute codes another way (GPTQ
// rounding needs calibration data the pass does not have).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_QUANTIZEWEIGHTS_H
#define LOWBIT_TRANSFORMS_QUANTIZEWEIGHTS_H

#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/IR/Location.h"
#include "mlir/IR/Operation.h"

namespace mlir::lowbit {

/// Replaces operand 1 (the weight) of the lowbit.linear / lowbit.conv2d
/// `layer` by a lowbit.qweight holding `q` (symmetric, f32 scales; one
/// scale per row becomes per_channel(axis = 0), several a group along
/// axis 1) and drops the layer's lowbit.weight_scheme choice.
void replaceWeightWithQWeight(Operation *layer, QuantFormat format,
                              const QuantizedMatrix &q);

/// The weight-quantizing passes' `format` and `scale-type` options: a
/// signed weight format (or nullopt for "none" / "" when `allowNone`), and
/// f32 or f16. Emits "`pass`: ..." at `loc` and fails otherwise.
FailureOr<std::optional<QuantFormat>>
parseWeightFormatOptions(Location loc, StringRef pass, StringRef format,
                         StringRef scaleType, bool allowNone);

} // namespace mlir::lowbit

#endif // LOWBIT_TRANSFORMS_QUANTIZEWEIGHTS_H
