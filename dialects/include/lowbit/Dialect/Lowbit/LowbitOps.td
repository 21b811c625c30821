//===- LowbitOps.td - lowbit operations -------------------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The single file handed to add_mlir_dialect. Ops are grouped: layers,
// quantization, weight transforms, then the ONNX carrier ops.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITOPS_TD
#define LOWBIT_DIALECT_LOWBIT_LOWBITOPS_TD

include "lowbit/Dialect/Lowbit/LowbitBase.td"
include "lowbit/Dialect/Lowbit/LowbitAttrs.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

def Lowbit_LinearOp : Lowbit_Op<"linear", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Fully connected layer: output = input · weightᵀ + bias.";
  let description = [{
    `output[..., n] = sum_k input[..., k] * weight[n, k] + bias[n]`.

    `weight` has shape `[N, K]` (PyTorch's layout, so that per-output-channel
    scales sit on axis 0). It is a float tensor, a `!quant.uniform` tensor,
    or the result of `lowbit.qweight`; the quantization passes rewrite it
    without touching the layer. The result has the input's element type.

    ```mlir
    %y = lowbit.linear %x, %w, %b
        : (tensor<32x384xf32>, tensor<1536x384xf32>, tensor<1536xf32>)
        -> tensor<32x1536xf32>
    ```
  }];
  let arguments = (ins Lowbit_FloatTensor:$input,
                       TensorRankOf<[AnyFloat, quant_QuantizedType], [2]>:$weight,
                       Optional<TensorRankOf<[AnyFloat], [1]>>:$bias);
  let results = (outs Lowbit_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lowbit_Conv2DOp : Lowbit_Op<"conv2d", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "2-D convolution in NCHW layout with OIHW weights.";
  let description = [{
    Cross-correlation as in ONNX `Conv`: `input` is `[N, C, H, W]`, `weight`
    is `[O, C / groups, KH, KW]`, `bias` is `[O]`. `padding` is
    `[top, left, bottom, right]`. Depthwise convolution is `groups = C`.

    ```mlir
    %y = lowbit.conv2d %x, %w, %b {strides = array<i64: 2, 2>,
                                  padding = array<i64: 1, 1, 1, 1>}
        : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>)
        -> tensor<1x16x16x16xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[AnyFloat], [4]>:$input,
                       TensorRankOf<[AnyFloat, quant_QuantizedType], [4]>:$weight,
                       Optional<TensorRankOf<[AnyFloat], [1]>>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs TensorRankOf<[AnyFloat], [4]>:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lowbit_MatmulOp : Lowbit_Op<"matmul", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Batched matrix product of two activations with broadcasting.";
  let description = [{
    `lhs` is `[..., M, K]`, `rhs` is `[..., K, N]`; leading dimensions
    broadcast as in NumPy. Used where both operands are computed (attention
    scores); a product with a constant right-hand side is a `lowbit.linear`.

    ```mlir
    %s = lowbit.matmul %q, %k
        : (tensor<8x12x128x32xf32>, tensor<8x12x32x128xf32>)
        -> tensor<8x12x128x128xf32>
    ```
  }];
  let arguments = (ins Lowbit_FloatMatrices:$lhs, Lowbit_FloatMatrices:$rhs);
  let results = (outs Lowbit_FloatMatrices:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Lowbit_QuantizeOp : Lowbit_Op<"quantize", [Pure, SameOperandsAndResultShape]> {
  let summary = "Quantizes a float tensor to a `!quant.uniform` tensor.";
  let description = [{
    `q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax)`, with
    the parameters taken from the result's element type.

    ```mlir
    %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 0.05:3>>
    ```
  }];
  let arguments = (ins Lowbit_FloatTensor:$input);
  let results = (outs Lowbit_QTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lowbit_DequantizeOp : Lowbit_Op<"dequantize", [Pure, SameOperandsAndResultShape]> {
  let summary = "Converts a `!quant.uniform` tensor back to float.";
  let description = [{
    `x = (q - zero_point) * scale`, in the expressed type of the input.

    ```mlir
    %x = lowbit.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.05:3>> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$input);
  let results = (outs Lowbit_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Lowbit_RequantizeOp : Lowbit_Op<"requantize", [Pure, SameOperandsAndResultShape]> {
  let summary = "Re-expresses a tensor with new quantization parameters.";
  let description = [{
    Converts `input` to the scale/zero point of the result type, saturating to
    the result storage type. Typical use: i32 accumulator -> i8 activation.

    ```mlir
    %out = lowbit.requantize %acc {rounding = #lowbit.rounding<half_to_even>}
        : tensor<1x16x!quant.uniform<i32:f32, 5.0e-4>>
        -> tensor<1x16x!quant.uniform<i8:f32, 2.0e-2:-3>>
    ```
  }];
  let arguments = (ins
    Lowbit_QTensor:$input,
    DefaultValuedAttr<Lowbit_RoundingModeAttr, "RoundingMode::HalfToEven">:$rounding);
  let results = (outs Lowbit_QTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Lowbit_QWeightOp : Lowbit_Op<"qweight", [Pure]> {
  let summary = "A packed quantized weight with its scales and zero points.";
  let description = [{
    Denotes the float tensor `(code - zero_point) * scale` (or
    `codebook[code] * scale` for nf4, or the minifloat value times scale)
    whose codes are bit-packed in `data`.

    `data` is a 1-D `i8` tensor of packed bytes: codes of `bits` each are
    laid out in row-major order of the result shape, least significant bits
    first, so it holds exactly `ceil(numel * bits / 8)` bytes. `scales` has
    the shape the scheme's granularity implies: `[1]` per tensor,
    `[dim(axis)]` per channel, and the result shape with `dim(axis)` replaced
    by `ceil(dim(axis) / size)` for groups. `zero_points` (same shape,
    integer) is present exactly when the scheme is affine.

    ```mlir
    %w = lowbit.qweight %data, %scales
        {scheme = #lowbit.scheme<int4, group(axis = 1, size = 64), symmetric, scale = f16>}
        : (tensor<4096xi8>, tensor<64x2xf16>) -> tensor<64x128xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[I8], [1]>:$data,
                       Lowbit_FloatTensor:$scales,
                       Optional<RankedTensorOf<[AnyInteger]>>:$zero_points,
                       Lowbit_SchemeAttr:$scheme);
  let results = (outs Lowbit_FloatTensor:$output);
  let assemblyFormat = [{
    $data `,` $scales (`,` $zero_points^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Weight transforms: adapters, low-rank branches, rotations, permutations
//===----------------------------------------------------------------------===//

def Lowbit_LoraOp : Lowbit_Op<"lora", [Pure,
    AllTypesMatch<["weight", "output"]>]> {
  let summary = "A LoRA adapter on a weight: weight + (alpha / r) · B · A.";
  let description = [{
    `weight` is `[N, K]`, `a` is `[r, K]`, `b` is `[N, r]`; the result is the
    adapted weight `weight + (alpha / r) * b @ a`. `lowbit-merge-lora` folds
    it into the weight before quantization or keeps it as a `lowbit.lowrank`
    branch. `adapter` names it (`--lora NAME=PATH`), so that a kept branch
    can be switched at run time.

    ```mlir
    %w2 = lowbit.lora %w, %a, %b {alpha = 16.0 : f64}
        : tensor<64x32xf32>, tensor<8x32xf32>, tensor<64x8xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[AnyFloat], [2]>:$weight,
                       TensorRankOf<[AnyFloat], [2]>:$a,
                       TensorRankOf<[AnyFloat], [2]>:$b,
                       F64Attr:$alpha,
                       OptionalAttr<StrAttr>:$adapter);
  let results = (outs TensorRankOf<[AnyFloat], [2]>:$output);
  let assemblyFormat = [{
    $weight `,` $a `,` $b attr-dict `:` type($weight) `,` type($a) `,` type($b)
  }];
  let hasVerifier = 1;
}

def Lowbit_LowRankOp : Lowbit_Op<"lowrank", [Pure,
    AllTypesMatch<["weight", "output"]>]> {
  let summary = "A weight plus a high-precision low-rank branch: weight + L · R.";
  let description = [{
    `weight` (`[N, K]`, typically a `lowbit.qweight`) keeps its quantized
    format while `left` (`[N, r]`) and `right` (`[r, K]`) stay in high
    precision, compensating the quantization error (SVD) or holding a kept
    adapter. Targets compute `x·Wᵀ + (x·Rᵀ)·Lᵀ` without forming the sum.
    A branch with an `adapter` name is switchable: it applies only while
    that adapter is selected (`lowbit_session_set_adapter`; the first of the
    function's `lowbit.adapters` by default); branches chain, one per
    adapter, over the same base.

    ```mlir
    %w2 = lowbit.lowrank %w, %l, %r
        : tensor<64x32xf32>, tensor<64x4xf32>, tensor<4x32xf32>
    ```
  }];
  let arguments = (ins TensorRankOf<[AnyFloat], [2]>:$weight,
                       TensorRankOf<[AnyFloat], [2]>:$left,
                       TensorRankOf<[AnyFloat], [2]>:$right,
                       OptionalAttr<StrAttr>:$adapter);
  let results = (outs TensorRankOf<[AnyFloat], [2]>:$output);
  let assemblyFormat = [{
    $weight `,` $left `,` $right attr-dict `:` type($weight) `,` type($left) `,` type($right)
  }];
  let hasVerifier = 1;
}

def Lowbit_RotateOp : Lowbit_Op<"rotate", [Pure,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Applies an orthogonal rotation along one axis.";
  let description = [{
    `output[..., j, ...] = sum_i input[..., i, ...] * Q[i, j]` along `axis`.
    With `kind = hadamard`, `Q` is the normalized Walsh-Hadamard matrix
    `H / sqrt(D)` (D a power of two) and no matrix operand is given; with
    `kind = matrix`, `Q` is the `[D, D]` operand. `lowbit-fuse-rotations`
    absorbs rotations into neighbouring weights; those left over run online.

    ```mlir
    %y = lowbit.rotate %x {axis = 1 : i64, kind = #lowbit.rotation<hadamard>}
        : tensor<8x64xf32>
    %z = lowbit.rotate %x, %q {axis = 1 : i64, kind = #lowbit.rotation<matrix>}
        : tensor<8x64xf32>, tensor<64x64xf32>
    ```
  }];
  let arguments = (ins Lowbit_FloatTensor:$input,
                       Optional<TensorRankOf<[AnyFloat], [2]>>:$matrix,
                       I64Attr:$axis,
                       Lowbit_RotationKindAttr:$kind);
  let results = (outs Lowbit_FloatTensor:$output);
  let assemblyFormat = [{
    $input (`,` $matrix^)? attr-dict `:` type($input) (`,` type($matrix)^)?
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def Lowbit_PermuteOp : Lowbit_Op<"permute", [Pure,
    AllTypesMatch<["input", "output"]>]> {
  let summary = "Permutes the indices of one axis.";
  let description = [{
    `output[..., i, ...] = input[..., permutation[i], ...]` along `axis`.
    `lowbit-reorder-channels` inserts these and folds them into the producer
    and consumer weights.

    ```mlir
    %y = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 2, 0, 1>}
        : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Integer-only layers (lowbit-lower-to-integer; the MCU target)
//===----------------------------------------------------------------------===//
//
// Every tensor is a per-tensor `!quant.uniform<i8>` and every op computes in
// integers only: an int32 accumulator is rescaled by a dyadic number
// `m / 2^s` (HAWQ-V3), `requant(acc) = round(acc * m / 2^s)` with ties away
// from zero and the product in 64 bits. The result is saturated to
// `[clamp_min, clamp_max]` (codes; a fused ReLU raises clamp_min to the
// zero point). The interpreter and the MCU kernels implement exactly these
// formulas, so they agree bit for bit.

class Lowbit_IntOp<string mnemonic, list<Trait> traits = []>
    : Lowbit_Op<mnemonic, !listconcat([Pure], traits)>;

def Lowbit_QConv2DOp : Lowbit_IntOp<"qconv2d"> {
  let summary = "Integer 2-D convolution (NCHW, OIHW int8 weights).";
  let description = [{
    `acc[o] = bias[o] + sum (x - zx) * w[o]` over the window (padding reads
    the zero point, i.e. adds 0), then
    `y = clamp(zy + requant(acc, multiplier[o], shift[o]))`. With
    `rounding = #lowbit.rounding<doubling_high_mul>` the requantization is
    TFLite's (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT):
    `t = floor(acc * 2^max(31 - s, 0) * m / 2^31 + 1/2)`, then
    `t / 2^max(s - 31, 0)` rounded half away from zero; two roundings, as
    TensorFlow Lite Micro and CMSIS-NN compute. `weight` is
    symmetric int8 (zero point 0); `bias`, `multiplier` and `shift` have one
    entry per output channel. Strides, padding and groups as `lowbit.conv2d`.

    ```mlir
    %y = lowbit.qconv2d %x, %w, %b, %m, %s {groups = 64 : i64,
            padding = array<i64: 1, 1, 1, 1>, clamp_min = -128 : i64, clamp_max = 127 : i64}
        : (tensor<1x64x25x5x!quant.uniform<i8:f32, 0.08:-128>>, tensor<64x1x3x3xi8>,
           tensor<64xi32>, tensor<64xi32>, tensor<64xi32>)
        -> tensor<1x64x25x5x!quant.uniform<i8:f32, 0.06:-128>>
    ```
  }];
  let arguments = (ins TensorRankOf<[quant_QuantizedType], [4]>:$input,
                       TensorRankOf<[I8], [4]>:$weight,
                       TensorRankOf<[I32], [1]>:$bias,
                       TensorRankOf<[I32], [1]>:$multiplier,
                       TensorRankOf<[I32], [1]>:$shift,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups,
                       I64Attr:$clamp_min, I64Attr:$clamp_max,
                       DefaultValuedAttr<Lowbit_RoundingModeAttr,
                                         "RoundingMode::HalfAwayFromZero">:$rounding);
  let results = (outs TensorRankOf<[quant_QuantizedType], [4]>:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $multiplier `,` $shift attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lowbit_QLinearOp : Lowbit_IntOp<"qlinear"> {
  let summary = "Integer fully connected layer: [M, K] x [N, K] int8.";
  let description = [{
    `acc[m, n] = bias[n] + sum_k (x[m, k] - zx) * w[n, k]`, then
    `y = clamp(zy + requant(acc, multiplier[n], shift[n]))`.

    ```mlir
    %y = lowbit.qlinear %x, %w, %b, %m, %s {clamp_min = -128 : i64, clamp_max = 127 : i64}
        : (tensor<1x64x!quant.uniform<i8:f32, 0.08:-128>>, tensor<12x64xi8>,
           tensor<12xi32>, tensor<12xi32>, tensor<12xi32>)
        -> tensor<1x12x!quant.uniform<i8:f32, 0.14:14>>
    ```
  }];
  let arguments = (ins TensorRankOf<[quant_QuantizedType], [2]>:$input,
                       TensorRankOf<[I8], [2]>:$weight,
                       TensorRankOf<[I32], [1]>:$bias,
                       TensorRankOf<[I32], [1]>:$multiplier,
                       TensorRankOf<[I32], [1]>:$shift,
                       I64Attr:$clamp_min, I64Attr:$clamp_max,
                       DefaultValuedAttr<Lowbit_RoundingModeAttr,
                                         "RoundingMode::HalfAwayFromZero">:$rounding);
  let results = (outs TensorRankOf<[quant_QuantizedType], [2]>:$output);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias `,` $multiplier `,` $shift attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lowbit_QAddOp : Lowbit_IntOp<"qadd", [SameOperandsAndResultShape]> {
  let summary = "Integer elementwise sum of two tensors of one shape.";
  let description = [{
    `y = clamp(zy + round((lhs_multiplier * (a - za) + rhs_multiplier *
    (b - zb)) / 2^shift))`, ties away from zero, in 64 bits: the two
    multipliers approximate `sa / sy` and `sb / sy` over one power of two.

    ```mlir
    %y = lowbit.qadd %a, %b {lhs_multiplier = 1073741824 : i64,
            rhs_multiplier = 912680550 : i64, shift = 30 : i64,
            clamp_min = -128 : i64, clamp_max = 127 : i64}
        : tensor<1x16x8x8x!quant.uniform<i8:f32, 0.1:3>>, tensor<1x16x8x8x!quant.uniform<i8:f32, 0.085:-7>>
        -> tensor<1x16x8x8x!quant.uniform<i8:f32, 0.1:0>>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$lhs, Lowbit_QTensor:$rhs,
                       I64Attr:$lhs_multiplier, I64Attr:$rhs_multiplier,
                       I64Attr:$shift, I64Attr:$clamp_min, I64Attr:$clamp_max);
  let results = (outs Lowbit_QTensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Lowbit_QPool2DOp : Lowbit_IntOp<"qpool2d"> {
  let summary = "Integer max or average pooling (NCHW).";
  let description = [{
    `max`: the largest code of each window (padding excluded); input and
    output share scale and zero point. `avg`: with `n` the window's element
    count (padding counted when `count_include_pad`),
    `y = clamp(zy + round(multiplier * (sum(x) - n * zx) / (n * 2^shift)))`,
    ties away from zero: an exact rational rounding, `multiplier / 2^shift`
    approximating `sx / sy`.

    ```mlir
    %y = lowbit.qpool2d %x {kind = "avg", kernel = array<i64: 25, 5>,
            strides = array<i64: 25, 5>, multiplier = 1073741824 : i64, shift = 30 : i64,
            clamp_min = -128 : i64, clamp_max = 127 : i64}
        : tensor<1x64x25x5x!quant.uniform<i8:f32, 0.08:-128>>
        -> tensor<1x64x1x1x!quant.uniform<i8:f32, 0.08:-128>>
    ```
  }];
  let arguments = (ins TensorRankOf<[quant_QuantizedType], [4]>:$input,
                       StrAttr:$kind,
                       DenseI64ArrayAttr:$kernel,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                       DefaultValuedAttr<I64Attr, "1">:$multiplier,
                       DefaultValuedAttr<I64Attr, "0">:$shift,
                       I64Attr:$clamp_min, I64Attr:$clamp_max);
  let results = (outs TensorRankOf<[quant_QuantizedType], [4]>:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Lowbit_QLutOp : Lowbit_IntOp<"qlut"> {
  let summary = "Elementwise table lookup of 8-bit codes.";
  let description = [{
    `y = table[x - storage_min]`: any unary function of one 8-bit quantized
    value (ReLU6, sigmoid, tanh, a change of scale) is a 256-entry table,
    computed at compile time from the float op's own semantics.

    ```mlir
    %y = lowbit.qlut %x, %table : (tensor<1x64x!quant.uniform<i8:f32, 0.1>>, tensor<256xi8>)
        -> tensor<1x64x!quant.uniform<i8:f32, 0.0078125:-128>>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$input, TensorRankOf<[I8], [1]>:$table);
  let results = (outs Lowbit_QTensor:$output);
  let assemblyFormat = [{
    $input `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Lowbit_QSoftmaxOp : Lowbit_IntOp<"qsoftmax"> {
  let summary = "Integer softmax over the last axis.";
  let description = [{
    With `mx` the row's largest code, `e_i = table[mx - x_i]` (the table
    holds `round(2^20 * exp(-beta * sx * d))` for d = 0..255) and
    `y_i = clamp(zy + round(e_i * multiplier / (sum(e) * 2^shift)))`, ties
    away from zero, `multiplier / 2^shift` approximating `1 / sy`.

    ```mlir
    %y = lowbit.qsoftmax %x, %table {multiplier = 1073741824 : i64, shift = 22 : i64,
            clamp_min = -128 : i64, clamp_max = 127 : i64}
        : (tensor<1x12x!quant.uniform<i8:f32, 0.14:14>>, tensor<256xi32>)
        -> tensor<1x12x!quant.uniform<i8:f32, 3.906250e-03:-128>>
    ```
  }];
  let arguments = (ins Lowbit_QTensor:$input, TensorRankOf<[I32], [1]>:$table,
                       I64Attr:$multiplier, I64Attr:$shift,
                       I64Attr:$clamp_min, I64Attr:$clamp_max);
  let results = (outs Lowbit_QTensor:$output);
  let assemblyFormat = [{
    $input `,` $table attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// ONNX carrier ops
//===----------------------------------------------------------------------===//

def Lowbit_OnnxNodeOp : Lowbit_Op<"onnx_node"> {
  let summary = "An ONNX operator kept with ONNX semantics.";
  let description = [{
    The importer maps every ONNX node to one `onnx_node` carrying the op
    type, domain (absent for the default `ai.onnx` domain), the opset that
    the model imports for that domain, and the node's attributes.
    `convert-onnx-to-lowbit` turns the layers it understands into lowbit ops;
    the rest keep ONNX semantics, which the reference interpreter and the
    targets implement. A missing optional input is a `lowbit.no_value`.

    ```mlir
    %y = lowbit.onnx_node "Softmax"(%x) opset 13 attrs {axis = -1 : i64}
        : (tensor<2x5xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins StrAttr:$op_type, OptionalAttr<StrAttr>:$domain,
                       I64Attr:$opset, Variadic<AnyType>:$inputs,
                       OptionalAttr<DictionaryAttr>:$attrs);
  let results = (outs Variadic<AnyType>:$outputs);
  let assemblyFormat = [{
    $op_type `(` $inputs `)` (`domain` $domain^)? `opset` $opset
    (`attrs` $attrs^)? attr-dict `:` functional-type($inputs, $outputs)
  }];
  let hasVerifier = 1;
}

def Lowbit_NoValueOp : Lowbit_Op<"no_value", [Pure]> {
  let summary = "Placeholder for an omitted optional ONNX input.";
  let description = [{
    ```mlir
    %none = lowbit.no_value
    %y = lowbit.onnx_node "Clip"(%x, %none, %max) opset 13
        : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
    ```
  }];
  let results = (outs NoneType:$output);
  let assemblyFormat = "attr-dict";
}

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITOPS_TD
