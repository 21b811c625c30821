//===- Calibration.h - calibration data sets ----------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Calibration data: one array per model input, the first axis indexing
// samples, from an .npz archive (keys are input names; np.savez and
// np.savez_compressed) or a folder of NAME.npy files. It is cut into
// batches that fit the entry function's signature so the reference
// interpreter can run the float model on it.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_CALIBRATION_H
#define LOWBIT_QUANT_CALIBRATION_H

#include "lowbit/Interpreter/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <utility>
#include <vector>

namespace mlir::lowbit {

struct CalibrationSet {
  std::string source;
  /// (name, [samples, ...]) in file order.
  std::vector<std::pair<std::string, Tensor>> arrays;
  int64_t numSamples = 0;
};

/// Reads `path` (.npz or a folder of .npy). Every array must have the same
/// first dimension. Errors name the file and the array.
FailureOr<CalibrationSet> loadCalibrationSet(StringRef path,
                                             std::string &error);

/// Batches for `func`, one tensor per argument (matched by the argument's
/// lowbit.name, or by position when the set has one array per argument and
/// names differ). A static first dimension B cuts batches of B samples (a
/// remainder is dropped; fewer than B samples make one batch that repeats
/// them in order); a dynamic one batches of up to 32. At most `maxSamples` samples are used (0 = all).
/// Arrays are cast to the argument's element type; other dimensions must
/// match the signature.
FailureOr<std::vector<std::vector<Tensor>>>
makeCalibrationBatches(func::FuncOp func, const CalibrationSet &set,
                       int64_t maxSamples, std::string &error);

/// How an activation range is chosen from what calibration saw.
enum class RangeObserver {
  MinMax,     ///< the extremes
  Percentile, ///< the `percentile` and 100 - `percentile` quantiles
  Mse,        ///< the clipping that minimizes the u8 quantization error
};

struct ActivationRange {
  double min = 0, max = 0;
  /// Per input channel (the last axis for lowbit.linear, axis 1 for
  /// lowbit.conv2d): the smallest and largest value seen.
  std::vector<float> channelMin, channelMax;
};

/// Runs the float model on `batches` and returns, for every lowbit.linear
/// and lowbit.conv2d in `layers`, the range of its input activations: per
/// tensor as the observer chooses, per channel as min/max. Up to 2^20
/// values per layer are kept (an even stride over all values seen) for the
/// percentile and MSE observers.
FailureOr<llvm::DenseMap<Operation *, ActivationRange>>
calibrateActivations(func::FuncOp func, ArrayRef<Operation *> layers,
                     ArrayRef<std::vector<Tensor>> batches,
                     RangeObserver observer, double percentile = 99.99);

/// Asymmetric u8 parameters for a range (widened to contain 0, so that 0
/// is exact: padding and ReLU zeros stay zeros).
void u8Params(ActivationRange range, double &scale, int64_t &zeroPoint);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_CALIBRATION_H
