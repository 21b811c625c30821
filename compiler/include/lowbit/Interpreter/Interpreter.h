//===- Interpreter.h - reference interpreter for lowbit IR --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Executes a function of lowbit IR (onnx_node ops with ONNX semantics, the
// lowbit layer ops, arith constants) on host tensors. It is the golden
// model every target is compared against and the engine calibration runs
// on, so it favours exactness; heavy ops use Eigen on all cores.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_INTERPRETER_INTERPRETER_H
#define LOWBIT_INTERPRETER_INTERPRETER_H

#include "lowbit/Interpreter/Tensor.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <functional>

namespace mlir::lowbit {

struct InterpreterOptions {
  /// Called after every op with its results (calibration, debugging).
  std::function<void(Operation *, ArrayRef<Tensor>)> observer;
  /// Called after every op, before anything reads its results, and may
  /// replace them (the sensitivity analysis perturbs one layer's output).
  std::function<void(Operation *, std::vector<Tensor> &)> transform;
  /// Partial re-execution: ops before `resumeAt` (constants excepted) are
  /// not run; their results come from `cache` (e.g. every result of an
  /// earlier run on the same inputs, recorded by `observer`). The
  /// sensitivity probes change one layer and re-run only from it.
  Operation *resumeAt = nullptr;
  const llvm::DenseMap<Value, Tensor> *cache = nullptr;
  /// The selected LoRA adapter: lowbit.lora / lowbit.lowrank ops named for
  /// another adapter pass their weight through. Unset: the first of the
  /// function's `lowbit.adapters`; "": none (the base model).
  std::optional<std::string> adapter;
};

/// Runs `func` on `inputs` (one per argument, in order) and returns one
/// tensor per result. Input dtypes and static dimensions are checked against
/// the signature. Errors are emitted at the failing op's location ("node
/// 'conv1' (Conv, opset 13): ...", "unsupported: Foo (opset 13) at node
/// 'x'") and the result is failure.
FailureOr<std::vector<Tensor>>
interpret(func::FuncOp func, ArrayRef<Tensor> inputs,
          const InterpreterOptions &options = {});

/// Runs a single op on `operands` (one per operand; NoneType operands are
/// ignored) and returns its results: constant folding at compile time uses
/// the same kernels as the golden model.
FailureOr<std::vector<Tensor>> evaluateOp(Operation *op,
                                          ArrayRef<Tensor> operands);

/// Converts a constant attribute (dense or dense resource) to a tensor.
FailureOr<Tensor> tensorFromConstant(Attribute attr);

/// True when the interpreter has a kernel for `opType` in `domain` ("" for
/// ai.onnx).
bool isSupportedOnnxOp(StringRef domain, StringRef opType);

} // namespace mlir::lowbit

#endif // LOWBIT_INTERPRETER_INTERPRETER_H
