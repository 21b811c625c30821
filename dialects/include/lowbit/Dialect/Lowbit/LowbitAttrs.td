//===- LowbitAttrs.td - lowbit attributes -----------------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_TD
#define LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_TD

include "lowbit/Dialect/Lowbit/LowbitBase.td"

def Lowbit_SchemeAttr : Lowbit_Attr<"Scheme", "scheme"> {
  let summary = "How a tensor is quantized: format, granularity, mode, scale type.";
  let description = [{
    A quantization scheme is data, not a type: the passes that choose
    precision rewrite this attribute, and the packers and kernels read it.

    ```mlir
    #lowbit.scheme<int4, group(axis = 1, size = 128), symmetric, scale = f16>
    #lowbit.scheme<int8, per_channel(axis = 0), affine, scale = f32>
    #lowbit.scheme<nf4, group(axis = 1, size = 64), symmetric, scale = bf16>
    #lowbit.scheme<fp8_e4m3, per_tensor, symmetric, scale = f32>
    ```

    * `format`: int2..int8, uint2..uint8, nf4 (the 16-entry NormalFloat
      codebook), fp8_e4m3, fp8_e5m2, fp4_e2m1.
    * granularity: `per_tensor`, `per_channel(axis = A)` (one scale per
      index of dimension A), or `group(axis = A, size = G)` (one scale per G
      consecutive elements along A).
    * `symmetric` (zero point 0) or `affine` (integer zero point). Codebook
      and minifloat formats are always symmetric.
    * `scale`: the element type the scales are stored in (f16, bf16, f32).
  }];
  let parameters = (ins
    EnumParameter<Lowbit_QuantFormat>:$format,
    EnumParameter<Lowbit_Granularity>:$granularity,
    DefaultValuedParameter<"int64_t", "0">:$axis,
    DefaultValuedParameter<"int64_t", "0">:$groupSize,
    "bool":$symmetric,
    "::mlir::FloatType":$scaleType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bits per stored element (4 for nf4 and fp4_e2m1, 8 for fp8).
    unsigned getBitWidth() const;
    /// True for int2..int8 and uint2..uint8.
    bool isInteger() const;
    /// True for signed integer formats.
    bool isSignedInteger() const;
    /// Smallest and largest integer code; only for integer formats.
    int64_t getQMin() const;
    int64_t getQMax() const;
  }];
}

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_TD
