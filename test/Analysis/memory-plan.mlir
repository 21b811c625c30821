// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-print-memory-plan))' -o /dev/null | FileCheck %s

/// A chain of 128-byte results: `a` is dead after `b`, so `c` takes its
/// bytes; `r` is a view of `b` returned at the end, so `b` lives to the
/// return (step 7) and `d` cannot reuse it. Constants and the argument
/// take no arena. The most bytes are live at `d` (b, c and d).
// CHECK-LABEL: memory plan for @chain: 4 buffers, arena 384 bytes, peak 384 bytes live at step 6 (d)
// CHECK-NEXT:  a lowbit.linear tensor<4x8xf32>: 128 bytes, steps 2..3, offset 0
// CHECK-NEXT:  b lowbit.linear tensor<4x8xf32>: 128 bytes, steps 3..7, offset 128
// CHECK-NEXT:  c lowbit.linear tensor<4x8xf32>: 128 bytes, steps 5..6, offset 0
// CHECK-NEXT:  d lowbit.linear tensor<4x8xf32>: 128 bytes, steps 6..7, offset 256
func.func @chain(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<32xf32>) {
  %w = arith.constant dense<0.5> : tensor<8x8xf32>
  %s = arith.constant dense<32> : tensor<1xi64>
  %a = lowbit.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("a")
  %b = lowbit.linear %a, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("b")
  %r = lowbit.onnx_node "Reshape"(%b, %s) opset 14 : (tensor<4x8xf32>, tensor<1xi64>) -> tensor<32xf32> loc("r")
  %c = lowbit.linear %b, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("c")
  %d = lowbit.linear %c, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("d")
  return %d, %r : tensor<4x8xf32>, tensor<32xf32>
}

// -----

/// Sizes are padded to 64 bytes; u8 codes take one byte per element; a
/// value nobody reads lives only at its op.
// CHECK-LABEL: memory plan for @sizes: 3 buffers, arena 128 bytes, peak 128 bytes live at step 1 (dq)
// CHECK-NEXT:  q lowbit.quantize tensor<2x3x!quant.uniform<u8:f32, 1.000000e-01:128>>: 6 bytes, steps 0..3, offset 0
// CHECK-NEXT:  dq lowbit.dequantize tensor<2x3xf32>: 24 bytes, steps 1..1, offset 64
// CHECK-NEXT:  dq2 lowbit.dequantize tensor<2x3xf32>: 24 bytes, steps 2..3, offset 64
func.func @sizes(%x: tensor<2x3xf32>) -> (tensor<2x3x!quant.uniform<u8:f32, 0.1:128>>, tensor<2x3xf32>) {
  %q = lowbit.quantize %x : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<u8:f32, 0.1:128>> loc("q")
  %dq = lowbit.dequantize %q : tensor<2x3x!quant.uniform<u8:f32, 0.1:128>> -> tensor<2x3xf32> loc("dq")
  %dq2 = lowbit.dequantize %q : tensor<2x3x!quant.uniform<u8:f32, 0.1:128>> -> tensor<2x3xf32> loc("dq2")
  return %q, %dq2 : tensor<2x3x!quant.uniform<u8:f32, 0.1:128>>, tensor<2x3xf32>
}

// -----

/// Largest first beats first use here: by first use `a` takes offset 0,
/// `b` 64, and the 128-byte `c` (live with `b` only) fits nowhere below
/// 128 (arena 256); placing `c` first at 0 lets `a` reuse the bytes below
/// `b` (arena 192). The planner keeps the smaller of the two.
// CHECK-LABEL: memory plan for @largest_first: 3 buffers, arena 192 bytes
// CHECK-NEXT:  a lowbit.linear tensor<4x4xf32>: 64 bytes, steps 2..3, offset 0
// CHECK-NEXT:  b lowbit.linear tensor<4x4xf32>: 64 bytes, steps 3..5, offset 128
// CHECK-NEXT:  c lowbit.linear tensor<4x8xf32>: 128 bytes, steps 4..5, offset 0
func.func @largest_first(%x: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x8xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x4xf32>
  %w2 = arith.constant dense<0.5> : tensor<8x4xf32>
  %a = lowbit.linear %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("a")
  %b = lowbit.linear %a, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32> loc("b")
  %c = lowbit.linear %b, %w2 : (tensor<4x4xf32>, tensor<8x4xf32>) -> tensor<4x8xf32> loc("c")
  return %b, %c : tensor<4x4xf32>, tensor<4x8xf32>
}
