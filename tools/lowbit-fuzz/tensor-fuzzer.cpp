//===- tensor-fuzzer.cpp - libFuzzer target over .npy and TensorProto -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The first byte picks the parser (0 mod 3: .npy, 1: ONNX TensorProto, 2:
// .safetensors), the rest is the file. A parsed tensor is read back element by element, so a
// shape that promises more bytes than were allocated is caught by ASan.
// Errors are fine; crashes, hangs, leaks and sanitizer reports are bugs.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Adapters/Safetensors.h"
#include "lowbit/Interpreter/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <string>

using namespace mlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  StringRef bytes(reinterpret_cast<const char *>(data) + 1, size - 1);
  std::string error, name;
  if (data[0] % 3 == 2) {
    auto tensors = lowbit::parseSafetensors(bytes, error);
    if (failed(tensors))
      return 0;
    double sum = 0;
    for (auto &[key, t] : *tensors)
      for (float v : t.data)
        sum += v;
    volatile double sink = sum;
    (void)sink;
    return 0;
  }
  FailureOr<lowbit::Tensor> t =
      data[0] % 3 == 0
          ? lowbit::parseNpy(bytes, error)
          : lowbit::parseTensorProto(bytes, "/nonexistent", name, error);
  if (failed(t))
    return 0;
  double sum = 0;
  for (int64_t i = 0; i < t->numel(); ++i)
    sum += t->getDouble(i);
  volatile double sink = sum;
  (void)sink;
  return 0;
}
