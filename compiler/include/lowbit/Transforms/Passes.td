//===- Passes.td - compiler-level lowbit passes -----------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Passes that need more than the dialect (the reference interpreter, the
// quantization algorithms). Kept alphabetical.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def AssignPrecisionPass : Pass<"lowbit-assign-precision", "func::FuncOp"> {
  let summary = "Chooses one weight format per layer by integer programming.";
  let description = [{
    Every layer op with a `lowbit.candidates` list (written by the
    sensitivity analysis, `lowbit compile --calib ... --budget-bits ...`, or
    by hand) gets exactly one of its candidates, chosen to minimize the sum
    of their `sensitivity` (predicted loss increase) subject to the budgets:
    `budget-bits` (average storage bits per weight over these layers, scales
    included), `budget-bytes` (their total storage) and `budget-latency`
    (sum of the candidates' `latency`, ms). The program is solved exactly
    by COIN-OR CBC. A quantized choice becomes `lowbit.weight_scheme`, a
    float one `lowbit.weight_float`; lowbit-quantize-weights then packs them.
    A budget below what the smallest candidates need is an error that states
    the smallest feasible value.

    ```mlir
    %y = lowbit.linear %x, %w {lowbit.candidates = [
        {format = "int4", bits = 2.1e3, sensitivity = 0.02},
        {format = "int8", bits = 4.2e3, sensitivity = 1.0e-4} ]} : ...
    // lowbit-assign-precision{budget-bits=6}:
    %y = lowbit.linear %x, %w {lowbit.weight_scheme = #lowbit.scheme<int4,
        per_channel(axis = 0), symmetric, scale = f32>} : ...
    ```
  }];
  let options = [
    Option<"budgetBits", "budget-bits", "double", /*default=*/"0",
           "Average bits per weight (0 = no limit)">,
    Option<"budgetBytes", "budget-bytes", "double", /*default=*/"0",
           "Total bytes of the layers' weights and scales (0 = no limit)">,
    Option<"budgetLatency", "budget-latency", "double", /*default=*/"0",
           "Sum of the candidates' latency in ms (0 = no limit)">,
    Option<"scaleType", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Scale type of the chosen schemes: f32 or f16">
  ];
  let dependentDialects = ["::mlir::lowbit::LowbitDialect"];
}

def FoldConstantsPass : Pass<"lowbit-fold-constants", "func::FuncOp"> {
  let summary = "Evaluates ops on constants at compile time.";
  let description = [{
    Every `lowbit.onnx_node` whose operands are all constants is run once by
    the reference interpreter's kernel (the same code that defines the
    golden outputs) and replaced by an `arith.constant`; `Shape` and `Size`
    of statically shaped values fold too. This turns shape arithmetic into
    constants and dequantizes stored int8 weights (`DequantizeLinear` of an
    initializer) so that layers see constant weights. Random ops never fold.

    ```mlir
    %s = lowbit.onnx_node "Shape"(%x) opset 13 : (tensor<2x3xf32>) -> tensor<2xi64>
    // becomes
    %s = arith.constant dense<[2, 3]> : tensor<2xi64>
    ```
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", /*default=*/"67108864",
           "Do not fold results with more elements than this">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def QuantizeModelPass : Pass<"lowbit-quantize", "func::FuncOp"> {
  let summary = "Quantizes a model's layers as `lowbit compile`'s flags say.";
  let description = [{
    The quantization stage of the compile pipeline, one pass for now (it is
    to be split into calibrate / sensitivity / assign-precision / quantize
    passes that talk through IR attributes). With `weights` it quantizes
    every lowbit.linear / conv2d weight to one format (uniform); with a
    budget (`budget-bits`, `budget-bytes`, `budget-latency`) and `calib` it
    runs calibration, the second-order sensitivity analysis and
    lowbit-assign-precision (CBC) to choose one format per layer among
    `formats`; `keep` pins layers; `rounding=gptq` rounds with the
    calibration Hessian; `activations=int8` inserts lowbit.quantize /
    dequantize before the layers with int8 per-channel weights (W8A8,
    ranges from `observer`, optionally SmoothQuant with `smooth`);
    `embeddings` packs Gather tables. `target` names the registered backend
    whose native formats and cost model the search uses (empty: every
    format, as the interpreter simulates them). With `report` the pass
    records a JSON summary (per layer format, bits, predicted and measured
    error) as the function's `lowbit.quant_report` string attribute.
    ```mlir
    // lowbit-quantize{target=x86 weights=int4 group-size=32}
    %y = lowbit.linear %x, %w : ...   // %w: f32 constant
    // becomes
    %q = lowbit.qweight %codes, %scales {scheme = #lowbit.scheme<int4,
        group(axis = 1, size = 32), symmetric, scale = f32>} : ...
    %y = lowbit.linear %x, %q : ...
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "Registered backend whose formats and cost model to use "
           "(empty: any format)">,
    Option<"weights", "weights", "std::string", /*default=*/"\"\"",
           "One format for every layer (int2..int8, nf4, fp8_e4m3, "
           "fp8_e5m2, fp4_e2m1)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Weights per scale along K for linear layers (0: per channel)">,
    Option<"calib", "calib", "std::string", /*default=*/"\"\"",
           "Calibration data: .npz (keys = input names) or a folder of "
           "NAME.npy">,
    Option<"calibSamples", "calib-samples", "int64_t", /*default=*/"0",
           "Use at most this many calibration samples (0: all)">,
    Option<"formats", "formats", "std::string", /*default=*/"\"\"",
           "Mixed-precision candidates, comma-separated FORMAT[/gSIZE] or "
           "f32 (default int4,int8,f32)">,
    Option<"budgetBits", "budget-bits", "double", /*default=*/"0",
           "Average bits per layer weight (0: no limit)">,
    Option<"budgetBytes", "budget-bytes", "double", /*default=*/"0",
           "Total model bytes (0: no limit)">,
    Option<"budgetLatency", "budget-latency", "double", /*default=*/"0",
           "Summed layer latency in ms from the target's cost model">,
    ListOption<"keep", "keep", "std::string",
               "Pins NAME_OR_REGEX=FORMAT (f32 keeps a layer in float)">,
    Option<"rounding", "rounding", "std::string", /*default=*/"\"nearest\"",
           "Weight rounding: nearest or gptq">,
    Option<"clip", "clip", "std::string", /*default=*/"\"mse\"",
           "Weight scales: mse or max">,
    Option<"scaleType", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Weight scale storage: f32 or f16">,
    Option<"activations", "activations", "std::string", /*default=*/"\"\"",
           "int8: static u8 activations into int8 layers (W8A8)">,
    Option<"observer", "observer", "std::string", /*default=*/"\"mse\"",
           "Activation ranges: mse, percentile or minmax">,
    Option<"smooth", "smooth", "double", /*default=*/"0",
           "SmoothQuant migration strength in (0, 1] (0: off)">,
    Option<"embeddings", "embeddings", "std::string", /*default=*/"\"\"",
           "Embedding tables' format FMT[/gSIZE] (empty: f32)">,
    Option<"probeBatches", "probe-batches", "int64_t", /*default=*/"1",
           "Calibration batches for the sensitivity probes">,
    Option<"report", "report", "bool", /*default=*/"false",
           "Record the lowbit.quant_report attribute">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect",
                           "::mlir::quant::QuantDialect"];
}

def QuantizeWeightsPass : Pass<"lowbit-quantize-weights", "func::FuncOp"> {
  let summary = "Packs the constant weights of lowbit.linear into lowbit.qweight.";
  let description = [{
    Weight-only quantization: every `lowbit.linear` whose weight is an f32
    constant with at least `min-elements` elements gets its weight replaced
    by a `lowbit.qweight` of the chosen format, per output channel
    (`group-size = 0`) or in groups of `group-size` along K. Scales are
    symmetric (codes around zero); with `clip = mse` each scale is the one
    among 20 candidates in [0.5, 1] x max|w| that minimizes the group's
    squared rounding error, with `clip = max` it is max|w| itself. Codes are
    rounded to nearest even and saturated (lowbit/Quant/Formats.h).

    ```mlir
    %y = lowbit.linear %x, %w : (tensor<8x256xf32>, tensor<64x256xf32>) -> tensor<8x64xf32>
    // lowbit-quantize-weights{format=int4 group-size=128}:
    %q = lowbit.qweight %codes, %scales {scheme = #lowbit.scheme<int4,
        group(axis = 1, size = 128), symmetric, scale = f32>}
        : (tensor<8192xi8>, tensor<64x2xf32>) -> tensor<64x256xf32>
    %y = lowbit.linear %x, %q : ...
    ```
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"int8\"",
           "Element format: int2..int8, nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Elements per scale along K; 0 = one scale per output channel">,
    Option<"clip", "clip", "std::string", /*default=*/"\"mse\"",
           "Scale choice: mse (search) or max (max |w|)">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"0",
           "Leave weights with fewer elements in f32">,
    Option<"scaleType", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Scale storage: f32 or f16 (a layer's lowbit.weight_scheme "
           "says its own)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect"];
}

def QuantizeEmbeddingsPass
    : Pass<"lowbit-quantize-embeddings", "func::FuncOp"> {
  let summary = "Packs the constant tables of row gathers into lowbit.qweight.";
  let description = [{
    Embedding tables are often most of a transformer's bytes (all-MiniLM-
    L6-v2: 47 MB of its 90 MB) yet no layer pass sees them: they are the
    data operand of an ONNX `Gather` along axis 0. Every such 2-D f32
    constant gets a `lowbit.qweight` of the chosen format, one scale per row
    (`group-size = 0`) or per `group-size` elements of a row, with the same
    symmetric rounding as lowbit-quantize-weights. A looked-up row is then
    exactly its quantized value; targets decode only the rows they gather.

    ```mlir
    %e = lowbit.onnx_node "Gather"(%table, %ids) opset 17 attrs {axis = 0 : si64}
        : (tensor<1000x64xf32>, tensor<2x8xi64>) -> tensor<2x8x64xf32>
    // lowbit-quantize-embeddings{format=int8}:
    %q = lowbit.qweight %codes, %scales {scheme = #lowbit.scheme<int8,
        per_channel(axis = 0), symmetric, scale = f32>}
        : (tensor<64000xi8>, tensor<1000xf32>) -> tensor<1000x64xf32>
    %e = lowbit.onnx_node "Gather"(%q, %ids) ...
    ```
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"int8\"",
           "Element format: int2..int8, nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Elements per scale along a row; 0 = one scale per row">,
    Option<"scaleType", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Scale storage: f32 or f16">,
    Option<"minElements", "min-elements", "int64_t", /*default=*/"0",
           "Leave tables with fewer elements in f32">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect"];
}

#endif // LOWBIT_TRANSFORMS_PASSES_TD
