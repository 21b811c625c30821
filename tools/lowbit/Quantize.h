//===- Quantize.h - the quantization flags of run and compile -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Maps `--weights`, `--calib`, `--budget-*`, `--keep`, `--report`, ... to
// the quantization pipeline's options, and writes the report.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TOOLS_LOWBIT_QUANTIZE_H
#define LOWBIT_TOOLS_LOWBIT_QUANTIZE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "lowbit/Transforms/QuantizePipeline.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace lowbit_tool {

/// The quantization flags: most bind straight to the quantization pipeline's
/// options; these few are spelled differently on the command line.
struct QuantArgs {
  mlir::lowbit::QuantizeOptions pass;
  std::string budgetSize;          ///< --budget-size 20MB -> budgetBytes
  std::string budget;              ///< --budget 4.5bits | 20MB
  std::vector<std::string> keep;   ///< --keep (repeatable)
  std::string report;              ///< --report FILE.json -> report=true
};

/// Adds the flags to `cmd` (`compile`: also those only a target can honour).
void addQuantOptions(CLI::App *cmd, QuantArgs &args, bool compile);

/// Whether any quantization flag is set (the pipeline then has
/// the quantization passes).
bool isQuantizing(const QuantArgs &args);

/// Maps the flags to the quantization pipeline's options for `target` ("":
/// the interpreter). Returns false after printing a usage error.
bool toPassOptions(const QuantArgs &args, const std::string &target,
                   mlir::lowbit::QuantizeOptions &out);

/// What happened, for --report (the pass's lowbit.quant_report attribute).
struct QuantOutcome {
  nlohmann::json report;
};

/// Writes outcome.report to args.report (.json) and an HTML page beside it
/// (same stem, .html). Returns false after printing an error.
bool writeQuantReport(const QuantArgs &args, const QuantOutcome &outcome);

} // namespace lowbit_tool

#endif // LOWBIT_TOOLS_LOWBIT_QUANTIZE_H
