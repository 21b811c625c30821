//===- LoraAdapter.h - PEFT LoRA adapters on disk -----------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// A LoRA adapter in PEFT's layout: adapter_model.safetensors with
// `base_model.model.<module>.lora_A[.<name>].weight` [r, K] and `...lora_B...`
// [N, r] per adapted module, and adapter_config.json beside it (r,
// lora_alpha, target_modules, use_rslora). Loading checks that every key is
// understood and every module has both matrices of matching rank.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_ADAPTERS_LORAADAPTER_H
#define LOWBIT_ADAPTERS_LORAADAPTER_H

#include "lowbit/Adapters/Safetensors.h"

#include <optional>

namespace mlir::lowbit {

struct LoraModule {
  std::string module;   ///< e.g. "encoder.layer.0.attention.self.query"
  SafetensorsTensor a;  ///< [r, K]
  SafetensorsTensor b;  ///< [N, r]
};

struct LoraAdapter {
  std::string name;     ///< from NAME=PATH, else the file's stem
  std::string path;     ///< the .safetensors file
  int64_t rank = 0;     ///< r of adapter_config.json (or of the matrices)
  double alpha = 0;     ///< lora_alpha
  bool rslora = false;  ///< scaling alpha / sqrt(r) instead of alpha / r
  std::vector<LoraModule> modules;
  /// PEFT's scaling of B·A.
  double scaling() const;
};

/// `spec` is PATH or NAME=PATH; PATH a .safetensors file or a folder with
/// adapter_model.safetensors. adapter_config.json is read from beside the
/// file; without it r comes from the matrices and alpha = r (scaling 1).
FailureOr<LoraAdapter> loadLoraAdapter(StringRef spec, std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_ADAPTERS_LORAADAPTER_H
