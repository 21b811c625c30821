//===- LowbitBase.td - lowbit dialect definition ----------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The dialect definition, the op/attribute base classes and the enums every
// other lowbit .td file includes.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITBASE_TD
#define LOWBIT_DIALECT_LOWBIT_LOWBITBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"

def Lowbit_Dialect : Dialect {
  let name = "lowbit";
  let cppNamespace = "::mlir::lowbit";
  let summary = "Graph-level operations on quantized and low-rank networks.";
  let description = [{
    The `lowbit` dialect holds a neural network between ONNX import and code
    generation. Tensors have value semantics; large constants are
    `dense_resource` blobs.

    Layers that the quantization passes reason about are first-class ops:
    `linear`, `conv2d` and `matmul` take their weights as operands, which may
    be float tensors, `!quant.uniform` tensors, or the result of a
    `lowbit.qweight` (a packed weight with its scales). Quantization of
    activations uses the upstream `!quant.uniform` element types; formats
    those types cannot express (NF4, minifloats, sub-byte packing) are
    described by the `#lowbit.scheme` attribute.

    Every other ONNX operator stays a `lowbit.onnx_node` carrying its ONNX
    op type, opset and attributes, with ONNX semantics. That keeps one
    precise specification (the ONNX operator spec, checked by the ONNX
    backend tests) for everything the compiler does not transform, instead of
    re-deriving it in a second op set; targets lower `onnx_node`s directly.
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let extraClassDeclaration = [{
    /// Adds the attributes; defined next to their storage classes.
    void registerAttributes();
  }];
}

class Lowbit_Op<string mnemonic, list<Trait> traits = []>
    : Op<Lowbit_Dialect, mnemonic, traits>;

class Lowbit_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Lowbit_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Lowbit_FloatTensor : RankedTensorOf<[AnyFloat]>;
/// Float tensor of rank 2 or more (batched matrices).
def Lowbit_FloatMatrices : Type<
    And<[Lowbit_FloatTensor.predicate,
         CPred<"::llvm::cast<::mlir::RankedTensorType>($_self).getRank() >= 2">]>,
    "ranked tensor of floating-point values with rank at least 2",
    "::mlir::RankedTensorType">;
/// Tensor of any quantized element type.
def Lowbit_QTensor : RankedTensorOf<[quant_QuantizedType]>;
/// A weight operand: float, or quantized with `!quant.uniform`.
def Lowbit_WeightTensor : RankedTensorOf<[AnyFloat, quant_QuantizedType]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

/// Element formats a weight or activation can be stored in.
def Lowbit_QuantFormat : I32EnumAttr<"QuantFormat", "quantized element format", [
    I32EnumAttrCase<"Int2", 0, "int2">,
    I32EnumAttrCase<"Int3", 1, "int3">,
    I32EnumAttrCase<"Int4", 2, "int4">,
    I32EnumAttrCase<"Int5", 3, "int5">,
    I32EnumAttrCase<"Int6", 4, "int6">,
    I32EnumAttrCase<"Int7", 5, "int7">,
    I32EnumAttrCase<"Int8", 6, "int8">,
    I32EnumAttrCase<"UInt2", 7, "uint2">,
    I32EnumAttrCase<"UInt3", 8, "uint3">,
    I32EnumAttrCase<"UInt4", 9, "uint4">,
    I32EnumAttrCase<"UInt5", 10, "uint5">,
    I32EnumAttrCase<"UInt6", 11, "uint6">,
    I32EnumAttrCase<"UInt7", 12, "uint7">,
    I32EnumAttrCase<"UInt8", 13, "uint8">,
    I32EnumAttrCase<"NF4", 14, "nf4">,
    I32EnumAttrCase<"FP8E4M3", 15, "fp8_e4m3">,
    I32EnumAttrCase<"FP8E5M2", 16, "fp8_e5m2">,
    I32EnumAttrCase<"FP4E2M1", 17, "fp4_e2m1">]> {
  let cppNamespace = "::mlir::lowbit";
}

/// How many scales a quantized tensor carries.
def Lowbit_Granularity : I32EnumAttr<"Granularity", "scale granularity", [
    I32EnumAttrCase<"PerTensor", 0, "per_tensor">,
    I32EnumAttrCase<"PerChannel", 1, "per_channel">,
    I32EnumAttrCase<"Group", 2, "group">]> {
  let cppNamespace = "::mlir::lowbit";
}

// doubling_high_mul: TFLite's (and CMSIS-NN's) integer requantization,
// acc * 2^left * m / 2^31 rounded half up, then a right shift rounded half
// away from zero: two roundings, for results equal to TensorFlow Lite
// Micro's (lowbit.qconv2d, lowbit.qlinear).
def Lowbit_RoundingMode : I32EnumAttr<"RoundingMode", "requantization rounding", [
    I32EnumAttrCase<"HalfAwayFromZero", 0, "half_away_from_zero">,
    I32EnumAttrCase<"HalfToEven", 1, "half_to_even">,
    I32EnumAttrCase<"DoublingHighMul", 2, "doubling_high_mul">]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}
def Lowbit_RoundingModeAttr
    : EnumAttr<Lowbit_Dialect, Lowbit_RoundingMode, "rounding"> {
  let assemblyFormat = "`<` $value `>`";
}

def Lowbit_RotationKind : I32EnumAttr<"RotationKind", "rotation kind", [
    I32EnumAttrCase<"Hadamard", 0, "hadamard">,
    I32EnumAttrCase<"Matrix", 1, "matrix">]> {
  let cppNamespace = "::mlir::lowbit";
  let genSpecializedAttr = 0;
}
def Lowbit_RotationKindAttr
    : EnumAttr<Lowbit_Dialect, Lowbit_RotationKind, "rotation"> {
  let assemblyFormat = "`<` $value `>`";
}

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITBASE_TD
