//===- Quantize.cpp - the quantization flags of run and compile ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Flag mapping only: the quantization itself is a pipeline of passes
// (buildQuantizePipeline, compiler/lib/Transforms/), part of the compile
// pipeline.
//
//===----------------------------------------------------------------------===//

#include "Quantize.h"

#include "lowbit/Pipeline/TargetBackend.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace lowbit_tool {
namespace {
/// "10MB", "1.5MiB", "2048" (bytes) -> bytes; negative on error.
double parseBytes(llvm::StringRef text) {
  text = text.trim();
  struct Unit {
    const char *suffix;
    double factor;
  } units[] = {{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
               {"GB", 1e9},      {"MB", 1e6},      {"KB", 1e3},
               {"kB", 1e3},      {"B", 1}};
  double factor = 1;
  for (const Unit &u : units)
    if (text.consume_back(u.suffix)) {
      factor = u.factor;
      break;
    }
  double v;
  if (text.trim().getAsDouble(v) || v <= 0)
    return -1;
  return v * factor;
}
} // namespace

/// "x86: int2, ..., fp4_e2m1": each registered target's native weight
/// formats, from the dialect's format enum and the backend's answer.
std::string nativeFormatsHelp() {
  std::string out;
  for (const TargetBackend *b : getRegisteredTargetBackends()) {
    std::string list;
    for (QuantFormat f : b->getWeightFormats())
      list += (list.empty() ? "" : ", ") + stringifyQuantFormat(f).str();
    out += "; " + b->getName().str() + " runs " + list + " natively";
  }
  return out;
}

void addQuantOptions(CLI::App *cmd, QuantArgs &args, bool compile) {
  std::string native = compile ? nativeFormatsHelp()
                               : " (every format, simulated by the "
                                 "interpreter)";
  cmd->add_option("--weights", args.pass.weights,
                  "Quantize every layer's weights to one format: int2..int8, "
                  "nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1" +
                      native)
      ->group("Quantization");
  cmd->add_option("--group-size", args.pass.groupSize,
                  "Weights per scale along K for linear layers (default 0: "
                  "one scale per output channel; convolutions always use one "
                  "per channel)")
      ->group("Quantization");
  cmd->add_option("--calib", args.pass.calib,
                  "Calibration data: an .npz whose keys are the model's input "
                  "names (first axis = sample), or a folder of NAME.npy")
      ->group("Quantization");
  cmd->add_option("--calib-samples", args.pass.calibSamples,
                  "Use at most this many calibration samples (default: all)")
      ->group("Quantization");
  cmd->add_option("--budget-bits", args.pass.budgetBits,
                  "Mixed precision: average storage bits per layer weight "
                  "(scales included), e.g. 4.5; needs --calib")
      ->group("Quantization");
  cmd->add_option("--budget-size", args.budgetSize,
                  "Mixed precision: total weight bytes, e.g. 20MB, 512KiB; "
                  "needs --calib")
      ->group("Quantization");
  if (compile)
    cmd->add_option("--budget-latency", args.pass.budgetLatency,
                    "Mixed precision: the summed time in ms of the layers' "
                    "kernels, each timed in every candidate format on this "
                    "machine (all cores); needs --calib")
        ->group("Quantization");
  cmd->add_option("--budget", args.budget,
                  "Shorthand: 4.5bits or a size such as 20MB")
      ->group("Quantization");
  cmd->add_option("--formats", args.pass.formats,
                  "Candidate formats for mixed precision, comma-separated, "
                  "each FORMAT or FORMAT/gGROUP, f32 to allow keeping a layer "
                  "in float (default: int4,int8,f32; --group-size applies to "
                  "those without /g)")
      ->group("Quantization");
  cmd->add_option("--keep", args.keep,
                  "Pin layers: NAME_OR_REGEX=FORMAT, e.g. '/0/Conv=int8' or "
                  "'.*attention.*=f32' (f32, fp16 and float keep the layer in "
                  "floating point); repeatable")
      ->group("Quantization");
  cmd->add_option("--report", args.report,
                  "Write a JSON report (per layer: format, bits, predicted "
                  "and measured error, bytes) and an HTML page beside it")
      ->group("Quantization");
  cmd->add_option("--rounding", args.pass.rounding,
                  "Weight rounding: nearest (default) or gptq (error "
                  "feedback through the calibration Hessian, GPTQ; needs "
                  "--calib)")
      ->group("Quantization");
  cmd->add_option("--lowrank", args.pass.lowrank,
                  "Keep a rank-R branch beside each quantized linear layer "
                  "that compensates its quantization error (x·Wᵀ + "
                  "(x·Rᵀ)·Lᵀ, fused into the x86 GEMM); 0 (default): none")
      ->group("Quantization");
  cmd->add_option("--lowrank-method", args.pass.lowrankMethod,
                  "How the branch is chosen: svd (truncated SVD of W - Q(W), "
                  "default), eora (the error as the calibration inputs see "
                  "it; needs --calib) or svdquant (the top singular part of "
                  "W first, the residual quantized)")
      ->group("Quantization");
  cmd->add_option("--lowrank-bits", args.pass.lowrankBits,
                  "Storage of the branch's factors: 8 (int8 per row), 32 "
                  "(f32) or 0 (auto, default: int8 where that adds at most "
                  "10 % to the layer's remaining error, else f32)")
      ->group("Quantization");
  cmd->add_option("--embeddings", args.pass.embeddings,
                  "Quantize embedding tables (the constant data of Gather "
                  "along axis 0) to FMT[/gSIZE] (int2..int8, nf4, fp8_e4m3, "
                  "fp8_e5m2, fp4_e2m1; one scale per row, or per SIZE "
                  "elements of a row). Default f32. Counted in "
                  "--budget-size; not part of the per-layer search")
      ->group("Quantization");
  cmd->add_option("--scale-type", args.pass.scaleType,
                  "Weight scales stored as f32 (default) or f16 (half the "
                  "scale bytes: int4 in groups of 32 is 4.5 bits per weight "
                  "instead of 5)")
      ->group("Quantization");
  cmd->add_option("--clip", args.pass.clip,
                  "Weight scales: mse (search the clipping that minimizes "
                  "rounding error, default) or max")
      ->group("Quantization");
  cmd->add_option("--activations", args.pass.activations,
                  "int8: static u8 activations (scale and zero point from "
                  "calibration) for every linear and convolution layer "
                  "whose weight is int8 per channel (W8A8; x86 runs them on "
                  "the VNNI/AVX2 int8 kernels); float (default): keep "
                  "activations in f32. Needs "
                  "--calib; implies --weights int8 when no format is given")
      ->group("Quantization");
  cmd->add_option("--smooth", args.pass.smooth,
                  "With --activations int8: migrate per-channel activation "
                  "ranges into the weights (SmoothQuant) with strength ALPHA "
                  "in (0, 1]: channel k is divided by max|x_k|^ALPHA / "
                  "max|W_k|^(1-ALPHA) and its weight column multiplied by it "
                  "(0.5 is typical; default 0: off)")
      ->group("Quantization");
  cmd->add_option("--observer", args.pass.observer,
                  "Activation ranges: mse (clipping with the least u8 error, "
                  "default), percentile (99.99 %), minmax")
      ->group("Quantization");
  cmd->add_option("--probe-batches", args.pass.probeBatches,
                  "Calibration batches for the sensitivity noise probes and "
                  "the measured errors (default 1)")
      ->group("Quantization");
}

bool isQuantizing(const QuantArgs &args) {
  const QuantizeOptions &p = args.pass;
  return !p.weights.empty() || !p.calib.empty() || p.budgetBits != 0 ||
         !args.budgetSize.empty() || p.budgetLatency != 0 ||
         !args.budget.empty() || !args.keep.empty() || !args.report.empty() ||
         !p.activations.empty() || !p.embeddings.empty() ||
         p.rounding != "nearest" || p.smooth != 0;
}

bool toPassOptions(const QuantArgs &args, const std::string &target,
                   QuantizeOptions &out) {
  auto usage = [](const std::string &msg) {
    llvm::errs() << "lowbit: error: " << msg << "\n";
    return false;
  };
  out = args.pass;
  out.target = target;
  // The flags that are spelled differently from the pass's options.
  if (!args.budgetSize.empty()) {
    out.budgetBytes = parseBytes(args.budgetSize);
    if (out.budgetBytes <= 0)
      return usage("--budget-size '" + args.budgetSize +
                   "' is not a size (e.g. 20MB, 512KiB, 100000)");
  }
  if (!args.budget.empty()) {
    llvm::StringRef b = llvm::StringRef(args.budget).trim();
    if (b.consume_back("bits") || b.consume_back("bit")) {
      double bits;
      if (b.trim().getAsDouble(bits) || bits <= 0)
        return usage("--budget '" + args.budget + "' is not a bit budget");
      out.budgetBits = bits;
    } else if ((out.budgetBytes = parseBytes(b)) <= 0) {
      return usage("--budget '" + args.budget +
                   "' must be bits per weight (4.5bits) or a size (20MB)");
    }
  }
  out.keep.assign(args.keep.begin(), args.keep.end());
  out.report = !args.report.empty();
  return true;
}

} // namespace lowbit_tool
