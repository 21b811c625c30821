//===- QuantizePipeline.h - the quantization stage as passes ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// `lowbit compile`'s quantization flags as one options struct, and the
// builder that turns them into the quantization passes of the compile
// pipeline (also registered as the `lowbit-quantize` pipeline for
// lowbit-opt).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_QUANTIZEPIPELINE_H
#define LOWBIT_TRANSFORMS_QUANTIZEPIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>
#include <vector>

namespace mlir::lowbit {

class TargetBackend;

/// One field per quantization flag of `lowbit compile` (same spelling).
struct QuantizeOptions {
  std::string target;  ///< registered backend ("": every format)
  std::string weights; ///< uniform format
  int64_t groupSize = 0;
  std::string calib;
  int64_t calibSamples = 0;
  std::string formats; ///< mixed-precision candidates
  double budgetBits = 0, budgetBytes = 0, budgetLatency = 0;
  std::vector<std::string> keep;
  std::string rounding = "nearest";
  std::string clip = "mse";
  std::string scaleType = "f32";
  std::string activations;
  std::string observer = "mse";
  double smooth = 0;
  std::string embeddings;
  int64_t probeBatches = 1;
  bool report = false;
  int64_t lowrank = 0;                ///< rank of the compensation branch
  std::string lowrankMethod = "svd";  ///< svd, eora or svdquant
  int64_t lowrankBits = 0;            ///< branch storage: 8, 32, 0 = auto
};

/// Checks the options together (a budget without calibration data, formats
/// the target does not run, ...) and adds the quantization passes to
/// `funcPm` (a pass manager on func.func): lowbit-quantize-embeddings,
/// lowbit-calibrate, lowbit-sensitivity, lowbit-assign-precision,
/// lowbit-quantize-activations, lowbit-quantize-weights,
/// lowbit-quant-report, each only where the options need it. Errors go to
/// `error` and name the `lowbit compile` flag.
LogicalResult
buildQuantizePipeline(OpPassManager &funcPm, const QuantizeOptions &options,
                      function_ref<LogicalResult(const Twine &)> error);

/// The `lowbit-quantize` pipeline of lowbit-opt: the same options.
void registerQuantizePipeline();

} // namespace mlir::lowbit

#endif // LOWBIT_TRANSFORMS_QUANTIZEPIPELINE_H
