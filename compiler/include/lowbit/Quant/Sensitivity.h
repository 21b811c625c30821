//===- Sensitivity.h - second-order per-layer sensitivity ---------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// How much each candidate weight format of each layer would hurt the model,
// measured on calibration data without gradients (HAWQ-like, data-driven):
//
//   loss(model') = sum over outputs ||f'(x) - f(x)||^2 / sum ||f(x)||^2
//
// is zero with a zero gradient at the float model, so its leading term is
// second order. For a layer y = W x, quantization adds e = dW x to y, and
//
//   d loss ~= g * E||dW x||^2 = g * tr(dW H dW^T),   H = E[x x^T]
//
// where g is the curvature of the loss along the layer's output (the
// Hessian trace HAWQ estimates by Hutchinson's method). Here g is measured
// without backpropagation: one interpreter run perturbs the layer's weight
// by Gaussian noise dR (so its output error has the same structure as a
// quantization error: the same dW at every pixel or token) and
// g = d loss / tr(dR H dR^T). H is accumulated over all calibration rows
// (for convolutions, over im2col patches), and dW is the exact error of
// lowbit's own quantizer (WeightQuantizer.h).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_SENSITIVITY_H
#define LOWBIT_QUANT_SENSITIVITY_H

#include "lowbit/Interpreter/Tensor.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// One choice for a layer's weight: a format with its group size, or f32.
struct WeightCandidate {
  std::optional<QuantFormat> format; ///< nullopt: keep f32
  int64_t groupSize = 0;             ///< 0: one scale per output channel
  /// > 0: with a rank-`rank` EoRA branch compensating the error (linear
  /// layers; a convolution's candidate drops it).
  int64_t rank = 0;
  /// "f32", "int8", "int4/g32", "int3/g128+r16".
  std::string label() const;
};

/// Parses "int4", "int4/g32", "f32" (also "float", "fp32").
std::optional<WeightCandidate> parseWeightCandidate(StringRef text);

struct LayerAnalysis {
  Operation *op = nullptr;
  std::string name;          ///< the ONNX node name
  int64_t rows = 0, cols = 0; ///< the weight as [out channels, rest]
  double gain = 0;           ///< loss curvature per unit of output error
  double weightEnergy = 0;   ///< tr(W H W^T): the layer output's energy
  /// Per candidate (SensitivityOptions::candidates order; a layer's own
  /// group size may differ, see `candidates`):
  std::vector<WeightCandidate> candidates;
  std::vector<double> outputError; ///< tr(dW H dW^T)
  std::vector<double> sensitivity; ///< gain * outputError: predicted d loss
  std::vector<double> bits;        ///< storage bits (codes + scales)
  /// H = E[x x^T] ([cols, cols], row-major), kept with
  /// SensitivityOptions::gptq for the final rounding.
  std::vector<float> hessian;
};

struct SensitivityOptions {
  std::vector<WeightCandidate> candidates;
  ScaleSearch search = ScaleSearch::Mse;
  /// Predict (and keep H for) GPTQ error-feedback rounding instead of
  /// round to nearest.
  bool gptq = false;
  /// Only the calibration pass: each layer's H (and the float outputs),
  /// no probes and no candidates. What GPTQ needs when nothing is cached.
  bool hessiansOnly = false;
  /// Scales stored as f16 (bits and errors account for it).
  bool f16Scales = false;
  /// Calibration batches used by the noise probes (the first ones).
  int64_t probeBatches = 1;
  /// Probe weight noise relative to the RMS of each weight row.
  double probeNoise = 0.05;
  /// Progress: stage name, units done, units total.
  std::function<void(StringRef, int64_t, int64_t)> progress;
};

struct SensitivityResult {
  std::vector<LayerAnalysis> layers;
  /// The float model's outputs on every calibration batch.
  std::vector<std::vector<Tensor>> reference;
};

/// Analyzes every lowbit.linear / lowbit.conv2d with a constant f32 weight.
/// Convolutions are quantized per channel, so their group size is 0.
FailureOr<SensitivityResult>
analyzeSensitivity(func::FuncOp func, ArrayRef<std::vector<Tensor>> batches,
                   const SensitivityOptions &options);

/// The loss actually caused by quantizing only `layer` to its candidate
/// `candidate`, on the first `numBatches` batches (what the prediction
/// `layer.sensitivity[candidate]` estimates). The function is unchanged
/// afterwards.
FailureOr<double> measureLayerLoss(func::FuncOp func,
                                   const LayerAnalysis &layer,
                                   size_t candidate,
                                   ArrayRef<std::vector<Tensor>> batches,
                                   ArrayRef<std::vector<Tensor>> reference,
                                   ScaleSearch search = ScaleSearch::Mse,
                                   bool gptq = false, bool f16Scales = false);

/// The relative output distortion of `outputs` against `reference` (the
/// loss above), summed over all outputs and batches.
double outputDistortion(ArrayRef<std::vector<Tensor>> outputs,
                        ArrayRef<std::vector<Tensor>> reference);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_SENSITIVITY_H
