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

    In the compile pipeline the candidates come from lowbit-sensitivity:
    with `formats` the pass builds `lowbit.candidates` from each layer's
    `lowbit.sensitivity`, keeping only the allowed formats (those of
    `formats` the `target` runs, or a layer's `keep` pin) and timing each
    with the target's cost model for `budget-latency`. Without a budget it
    only applies the `keep` pins and, with `weights`, one scheme to every
    other layer.

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
           "Scale type of the chosen schemes: f32 or f16">,
    Option<"formats", "formats", "std::string", /*default=*/"\"\"",
           "Build lowbit.candidates from lowbit.sensitivity (lowbit-sensitivity) "
           "with these formats, comma-separated (empty: use lowbit.candidates "
           "as given)">,
    Option<"modelBytes", "model-bytes", "double", /*default=*/"0",
           "Total bytes of every constant, layer weights included (0 = no "
           "limit; with `formats`)">,
    ListOption<"keep", "keep", "std::string",
               "Pins NAME_OR_REGEX=FORMAT (f32 keeps a layer in float)">,
    Option<"weights", "weights", "std::string", /*default=*/"\"\"",
           "Without a budget: this format for every layer not pinned">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Group size for `weights`, `formats` and pins that give none">,
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "Registered backend whose formats are allowed and whose cost "
           "model times the candidates (budget-latency)">,
    Option<"measure", "measure", "bool", /*default=*/"false",
           "Measure each layer's loss in its chosen format "
           "(lowbit.measured_error, for the report)">
  ];
  let dependentDialects = ["::mlir::lowbit::LowbitDialect"];
}

def CalibratePass : Pass<"lowbit-calibrate", "func::FuncOp"> {
  let summary = "Loads a calibration set for the quantization passes.";
  let description = [{
    Reads `calib` (.npz with one array per model input, or a folder of
    NAME.npy), matches arrays to the function's inputs by `lowbit.name`
    (or by position), casts them to the inputs' element types and cuts them
    into batches the function can run: a dynamic batch dimension takes
    batches of 32; a fixed one takes batches of its size, and samples are
    reused in order to fill the last batch when the set is not a multiple
    of it (so any number of samples calibrates any compiled batch). The
    batches are cached as an analysis for lowbit-sensitivity,
    lowbit-quantize-activations and GPTQ in lowbit-quantize-weights; the IR
    records where they came from, so a later lowbit-opt run reloads them:

    ```mlir
    func.func @main(...) attributes {lowbit.calibration = {batches = 2 : i64,
        max_samples = 0 : i64, samples = 8 : i64, source = "calib.npz"}}
    ```
  }];
  let options = [
    Option<"calib", "calib", "std::string", /*default=*/"\"\"",
           "Calibration data: .npz (keys = input names) or a folder of "
           "NAME.npy">,
    Option<"maxSamples", "max-samples", "int64_t", /*default=*/"0",
           "Use at most this many samples (0: all)">
  ];
}

def ApplyLoraPass : Pass<"lowbit-apply-lora", "func::FuncOp"> {
  let summary = "Attaches PEFT LoRA adapters from .safetensors files to layers.";
  let description = [{
    Reads each adapter (`adapters`: PATH or NAME=PATH, a PEFT
    adapter_model.safetensors or its folder, with adapter_config.json
    beside it) and wraps the weight of every `lowbit.linear` it adapts in
    `lowbit.lora %w, %a, %b {alpha = scaling * r}`; lowbit-merge-lora then
    merges it or keeps it as a branch. A module `M` of the adapter
    (`base_model.model.M.lora_A.weight`) adapts the layer whose weight is
    named `M.weight` or `M`, or whose node is named like torch's export of
    `M` (`/M/with/slashes/MatMul`, a trailing `base_layer` dropped);
    `map` (MODULE=NAME) renames where a model's names differ. Keys that
    adapt no layer, and shape mismatches, are errors that list them.

    ```mlir
    %y = lowbit.linear %x, %w, %bias      // %w: dense_resource<"11.weight">
    // lowbit-apply-lora{adapters=digits=adapter_model.safetensors}:
    %wa = lowbit.lora %w, %a, %b {alpha = 8.0 : f64}
    %y = lowbit.linear %x, %wa, %bias
    ```
  }];
  let options = [
    ListOption<"adapters", "adapters", "std::string",
               "Adapters: PATH or NAME=PATH (.safetensors or its folder)">,
    ListOption<"map", "map", "std::string",
               "MODULE=NAME: the adapter's module MODULE adapts the layer "
               "whose weight or node is NAME">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect"];
}

def RecognizeLoraPass : Pass<"lowbit-recognize-lora", "func::FuncOp"> {
  let summary = "Finds unmerged LoRA adapters in an imported model.";
  let description = [{
    PEFT models exported with their adapters unmerged compute
    `base(x) + lora_B(lora_A(x)) * scaling` beside each adapted layer. After
    the layer conversion that is

    ```mlir
    %y0 = lowbit.linear %x, %w, %bias
    %t = lowbit.linear %x, %a          // A [r, K], no bias
    %u = lowbit.linear %t, %b          // B [N, r], no bias
    %v = lowbit.onnx_node "Mul"(%u, %scaling)   // optional, scalar constant
    %y = lowbit.onnx_node "Add"(%y0, %v)        // either operand order
    ```

    which becomes one layer over the adapted weight,
    `lowbit.linear %x, (lowbit.lora %w, %a, %b {alpha = scaling * r}), %bias`,
    so that lowbit-merge-lora can merge it (or keep it as a branch) before
    quantization. Only constant A, B and scaling with r < min(N, K) match;
    the branch's intermediate values must have no other users.
  }];
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

def LowerToIntegerPass : Pass<"lowbit-lower-to-integer", "func::FuncOp"> {
  let summary = "Rewrites quantize/dequantize-wrapped float layers into "
                "integer-only ops.";
  let description = [{
    For integer-only targets (microcontrollers without an FPU, HAWQ-V3's
    dyadic arithmetic). Every float op whose inputs are dequantized 8-bit
    per-tensor codes and whose only use is a quantize becomes one op on the
    codes: `lowbit.conv2d` / `lowbit.linear` with a symmetric int8
    per-channel (or per-tensor) weight and a ReLU / Clip before the
    quantize -> `lowbit.qconv2d` / `lowbit.qlinear` (int32 bias recovered
    from the float bias, requantization `sx * sw / sy` as `m / 2^s`, the
    activation as the clamp); `Add` -> `lowbit.qadd`; `AveragePool`,
    `GlobalAveragePool`, `MaxPool` -> `lowbit.qpool2d`; `Softmax` (last
    axis, optionally after a `Mul` by a constant) -> `lowbit.qsoftmax`; a
    chain of unary elementwise ops, or a plain change of scale ->
    `lowbit.qlut` (256 entries evaluated with the interpreter's kernels, so
    the float op's semantics are kept exactly); a chain of Reshape /
    Flatten / Squeeze / Unsqueeze / Transpose / Identity between codes of
    one type runs on the codes.

    Codes are first made signed: u8 with zero point z becomes i8 with
    z - 128 (the same real values), so integer kernels read s8 only. What
    cannot be lowered stays in float and is reported as a remark naming the
    node; the graph's inputs keep their quantize and its outputs their
    dequantize.

    ```mlir
    %x = lowbit.dequantize %q : tensor<1x64x!quant.uniform<u8:f32, 0.08>> -> tensor<1x64xf32>
    %y = lowbit.linear %x, %w, %b : (tensor<1x64xf32>, tensor<12x64xf32>, tensor<12xf32>) -> tensor<1x12xf32>
    %r = lowbit.quantize %y : tensor<1x12xf32> -> tensor<1x12x!quant.uniform<u8:f32, 0.14:142>>
    // becomes
    %r = lowbit.qlinear %q, %w8, %b32, %m, %s {clamp_min = -128 : i64, clamp_max = 127 : i64}
        : (tensor<1x64x!quant.uniform<i8:f32, 0.08:-128>>, tensor<12x64xi8>, tensor<12xi32>,
           tensor<12xi32>, tensor<12xi32>) -> tensor<1x12x!quant.uniform<i8:f32, 0.14:14>>
    ```
  }];
  let options = [
    Option<"rounding", "rounding", "std::string", "\"away\"",
           "Requantization of convolutions and linear layers: away (one "
           "rounding of acc * m / 2^s, half away from zero: the closest to "
           "the float graph) or tflite (TFLite's doubling high multiply and "
           "rounding shift, for results equal to TensorFlow Lite Micro's)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::quant::QuantDialect"];
}

def PrintMemoryPlanPass : Pass<"lowbit-print-memory-plan", "func::FuncOp"> {
  let summary = "Prints the static activation arena plan of a function.";
  let description = [{
    Shows what `MemoryPlanAnalysis` (lowbit/Analysis/MemoryPlan.h) decides:
    one line per buffer (the value's node, type, bytes, live steps and
    arena offset) and the arena's size with the step where the most bytes
    are live. Views (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
    Dropout) share their source's buffer. The IR is unchanged.

    ```
    memory plan for @two: 2 buffers, arena 256 bytes, peak 256 bytes live at step 3 (fc1)
      fc0 lowbit.linear tensor<4x8xf32>: 128 bytes, steps 2..3, offset 0
      fc1 lowbit.linear tensor<4x8xf32>: 128 bytes, steps 3..4, offset 128
    ```
  }];
}

def QuantReportPass : Pass<"lowbit-quant-report", "func::FuncOp"> {
  let summary = "Summarizes the quantization passes' decisions as JSON.";
  let description = [{
    The last quantization pass. It reads what the others left in the IR
    (each layer's packed weight, `lowbit.sensitivity`, `lowbit.candidates`
    latencies, `lowbit.measured_error`, its activation quantization, and the
    function's `lowbit.quant_log`), writes the per-layer table, totals and
    the whole model's measured error (against the float model's outputs
    kept by lowbit-sensitivity) as the function's `lowbit.quant_report`
    string when `emit` is set, and removes those working attributes so that
    backends see only the quantized IR.
  }];
  let options = [
    Option<"emit", "emit", "bool", /*default=*/"true",
           "Write lowbit.quant_report (else only clean up)">
  ];
}

def QuantizeActivationsPass
    : Pass<"lowbit-quantize-activations", "func::FuncOp"> {
  let summary = "W8A8: static u8 activations into the int8 per-channel layers.";
  let description = [{
    Runs after lowbit-assign-precision, before lowbit-quantize-weights.
    Every layer that will have int8 per-channel weights (its
    `lowbit.weight_scheme`, or `weights` for the layers without one) gets
    its input quantized to u8 with a range observed on the calibration set
    (lowbit-calibrate) by `observer`, as `lowbit.quantize` (shared by the
    layers that read one value, such as Q, K and V) and one
    `lowbit.dequantize` per layer, which the x86 target fuses into the
    layer's integer kernel. With `smooth` (SmoothQuant) the per-channel
    activation ranges of those layers are first migrated into their weights.

    ```mlir
    %y = lowbit.linear %x, %w {lowbit.weight_scheme = #lowbit.scheme<int8, ...>}
    // becomes
    %q = lowbit.quantize %x : tensor<4x3xf32> -> tensor<4x3x!quant.uniform<u8:f32, 0.0117:85>>
    %d = lowbit.dequantize %q : ... -> tensor<4x3xf32>
    %y = lowbit.linear %d, %w {lowbit.weight_scheme = ...}
    ```
  }];
  let options = [
    Option<"weights", "weights", "std::string", /*default=*/"\"\"",
           "Format of the layers without a lowbit.weight_scheme (as given "
           "to lowbit-quantize-weights; empty: f32)">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Group size of `weights` (grouped linear layers stay float-in)">,
    Option<"observer", "observer", "std::string", /*default=*/"\"mse\"",
           "Activation ranges: mse, percentile or minmax">,
    Option<"smooth", "smooth", "double", /*default=*/"0",
           "SmoothQuant migration strength in (0, 1] (0: off)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect",
                           "::mlir::quant::QuantDialect"];
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

    With `lowrank-rank = R > 0`, each quantized `lowbit.linear` also keeps a
    rank-R branch that compensates its quantization error: the weight
    becomes `lowbit.lowrank(Q, L, R)` with `L·R` chosen by `lowrank-method`:
    `svd` (truncated SVD of W - Q(W)), `eora` (the same error weighted by
    the calibration inputs' XᵀX, so the branch fixes what the data sees;
    needs lowbit-calibrate) or `svdquant` (the top-R singular part of W is
    taken out first and only the residual is quantized). The factors are
    stored as int8 per row (`lowrank-bits = 8`), f32 (`32`) or, with `0`
    (auto, the default), int8 unless rounding them would add more than 10 %
    to the layer's remaining error ||W - Q - L·R||² (weighted by the
    calibration XᵀX when the pass has it), which is the case when the branch
    carries much more than the error (SVDQuant's order, large adapters).

    ```mlir
    // lowbit-quantize-weights{format=int3 lowrank-rank=16 lowrank-method=svd}:
    %w2 = lowbit.lowrank %q, %l, %r
        : tensor<64x256xf32>, tensor<64x16xf32>, tensor<16x256xf32>
    %y = lowbit.linear %x, %w2 : ...
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
           "says its own)">,
    Option<"rounding", "rounding", "std::string", /*default=*/"\"nearest\"",
           "nearest, or gptq: error-feedback rounding with the layer "
           "inputs' Hessian from the calibration set (lowbit-calibrate)">,
    Option<"lowrankRank", "lowrank-rank", "int64_t", /*default=*/"0",
           "Rank of the branch that compensates each linear layer's "
           "quantization error (0: none)">,
    Option<"lowrankMethod", "lowrank-method", "std::string",
           /*default=*/"\"svd\"",
           "svd, eora (weighted by the calibration inputs) or svdquant "
           "(top singular part first, residual quantized)">,
    Option<"lowrankBits", "lowrank-bits", "int64_t", /*default=*/"0",
           "Storage of the branch's factors: 8 (int8 per row), 32 (f32) or "
           "0 (auto: int8 where it adds at most 10 % to the layer's error)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect"];
}

def SensitivityPass : Pass<"lowbit-sensitivity", "func::FuncOp"> {
  let summary = "Predicts each layer's loss for each candidate weight format.";
  let description = [{
    HAWQ-style second-order analysis on the calibration set (lowbit-calibrate):
    for every lowbit.linear / conv2d with a constant weight and every format
    in `formats`, the output error tr(dW H dW^T) of rounding the weight
    (H = E[x x^T] of the layer's input), times the layer's loss curvature
    estimated from noise probes, predicts the loss increase. Each layer
    gets the table as `lowbit.sensitivity`, which lowbit-assign-precision
    turns into the integer program and lowbit-quant-report prints; the float
    model's outputs and the Hessians stay cached for GPTQ and the report.

    ```mlir
    %y = lowbit.linear %x, %w {lowbit.sensitivity = {gain = 0.8,
        weight_energy = 12.0, candidates = [{format = "int4", bits = 2.1e3,
        sensitivity = 0.02, output_error = 0.025}, ...]}} : ...
    ```
  }];
  let options = [
    Option<"formats", "formats", "std::string", /*default=*/"\"int4,int8,f32\"",
           "Candidates, comma-separated FORMAT[/gSIZE] or f32">,
    Option<"groupSize", "group-size", "int64_t", /*default=*/"0",
           "Group size of the candidates that give none">,
    Option<"clip", "clip", "std::string", /*default=*/"\"mse\"",
           "Weight scales: mse or max">,
    Option<"rounding", "rounding", "std::string", /*default=*/"\"nearest\"",
           "Predict for nearest or gptq rounding">,
    Option<"scaleType", "scale-type", "std::string", /*default=*/"\"f32\"",
           "Scale storage the bits count: f32 or f16">,
    Option<"probeBatches", "probe-batches", "int64_t", /*default=*/"1",
           "Calibration batches for the noise probes">
  ];
}

#endif // LOWBIT_TRANSFORMS_PASSES_TD
