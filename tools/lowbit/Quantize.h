//===- Quantize.h - the quantization flags of run and compile -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Turns `--weights`, `--calib`, `--budget-*`, `--keep` and `--report` into
// library calls: uniform quantization, or calibration + sensitivity + the
// integer program, then the quantize pass; and writes the report.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TOOLS_LOWBIT_QUANTIZE_H
#define LOWBIT_TOOLS_LOWBIT_QUANTIZE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lowbit_tool {

struct QuantArgs {
  std::string weights;
  int64_t groupSize = 0;
  std::string calib;
  int64_t calibSamples = 0;
  std::string formats;
  double budgetBits = 0;
  std::string budgetSize;
  double budgetLatency = 0;
  std::string budget;
  std::vector<std::string> keep;
  std::string report;
  int64_t probeBatches = 1;
  std::string clip = "mse";
  std::string activations;
  std::string observer = "mse";
  std::string rounding = "nearest";
  std::string scaleType = "f32";
  std::string embeddings;
  double smooth = 0;
};

/// Adds the flags to `cmd`; `nativeFormats` lists what the target runs
/// ("" for the interpreter: everything).
void addQuantOptions(CLI::App *cmd, QuantArgs &args, bool compile);

/// What happened, for --report (filled by applyQuantization).
struct QuantOutcome {
  nlohmann::json report;
  bool quantized = false;
};

/// Quantizes `func`'s layers as the flags say. `nativeFormats` limits the
/// formats (empty: any). Returns a lowbit exit code (0 = success).
int applyQuantization(mlir::func::FuncOp func, const QuantArgs &args,
                      const std::string &modelPath,
                      const std::vector<std::string> &nativeFormats,
                      QuantOutcome &outcome);

/// Writes outcome.report to args.report (.json) and an HTML page beside it
/// (same stem, .html). Returns false after printing an error.
bool writeQuantReport(const QuantArgs &args, const QuantOutcome &outcome);

} // namespace lowbit_tool

#endif // LOWBIT_TOOLS_LOWBIT_QUANTIZE_H
