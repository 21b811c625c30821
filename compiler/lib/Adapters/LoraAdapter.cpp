//===- LoraAdapter.cpp - PEFT LoRA adapters on disk ---------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Adapters/LoraAdapter.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <nlohmann/json.hpp>

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;
using json = nlohmann::json;

double LoraAdapter::scaling() const {
  if (rank <= 0)
    return 0;
  return rslora ? alpha / std::sqrt(double(rank)) : alpha / double(rank);
}

/// "base_model.model.<module>.lora_A[.<adapter>].weight" -> (module, 'A').
static std::optional<std::pair<std::string, char>> splitKey(StringRef key) {
  key.consume_front("base_model.model.");
  for (char which : {'A', 'B'}) {
    std::string marker = std::string(".lora_") + which;
    size_t at = key.find(marker + ".");
    if (at == StringRef::npos)
      continue;
    StringRef rest = key.substr(at + marker.size() + 1);
    // ".weight" or ".<adapter name>.weight"
    if (rest != "weight" && !(rest.ends_with(".weight") &&
                              rest.count('.') == 1))
      return std::nullopt;
    return std::make_pair(key.substr(0, at).str(), which);
  }
  return std::nullopt;
}

FailureOr<LoraAdapter> mlir::lowbit::loadLoraAdapter(StringRef spec,
                                                     std::string &error) {
  LoraAdapter adapter;
  auto [name, path] = spec.split('=');
  if (path.empty())
    std::swap(name, path);
  std::string file = path.str();
  if (llvm::sys::fs::is_directory(file)) {
    SmallString<256> p(file);
    llvm::sys::path::append(p, "adapter_model.safetensors");
    file = std::string(p);
  }
  adapter.path = file;
  adapter.name = name.empty()
                     ? llvm::sys::path::stem(llvm::sys::path::parent_path(file))
                           .str()
                     : name.str();
  if (adapter.name.empty())
    adapter.name = llvm::sys::path::stem(file).str();
  auto fail = [&](const std::string &why) {
    error = file + ": " + why;
    return failure();
  };
  std::string why;
  FailureOr<std::map<std::string, SafetensorsTensor>> tensors =
      readSafetensors(file, why);
  if (failed(tensors))
    return fail(why);

  std::map<std::string, LoraModule> modules;
  std::vector<std::string> unknown;
  for (auto &[key, t] : *tensors) {
    std::optional<std::pair<std::string, char>> k = splitKey(key);
    if (!k) {
      unknown.push_back(key);
      continue;
    }
    if (t.shape.size() != 2)
      return fail("'" + key + "' has rank " + std::to_string(t.shape.size()) +
                  "; LoRA matrices are 2-D (a convolution's adapter is not "
                  "supported yet)");
    LoraModule &m = modules[k->first];
    m.module = k->first;
    (k->second == 'A' ? m.a : m.b) = std::move(t);
  }
  if (!unknown.empty()) {
    std::string list;
    for (size_t i = 0; i < unknown.size() && i < 8; ++i)
      list += (i ? ", " : "") + unknown[i];
    return fail("keys that are not LoRA A/B matrices (only lora_A / lora_B "
                "are supported): " + list +
                (unknown.size() > 8 ? ", ..." : ""));
  }
  if (modules.empty())
    return fail("no lora_A / lora_B matrices");
  int64_t rank = -1;
  for (auto &[mod, m] : modules) {
    if (m.a.shape.empty() || m.b.shape.empty())
      return fail("module '" + mod + "' has only one of lora_A and lora_B");
    if (m.a.shape[0] != m.b.shape[1])
      return fail("module '" + mod + "': lora_A is [" +
                  std::to_string(m.a.shape[0]) + ", " +
                  std::to_string(m.a.shape[1]) + "] but lora_B is [" +
                  std::to_string(m.b.shape[0]) + ", " +
                  std::to_string(m.b.shape[1]) + "] (ranks differ)");
    if (rank >= 0 && rank != m.a.shape[0])
      return fail("modules have different ranks (" + std::to_string(rank) +
                  " and " + std::to_string(m.a.shape[0]) +
                  "); rank_pattern is not supported yet");
    rank = m.a.shape[0];
    adapter.modules.push_back(std::move(m));
  }
  adapter.rank = rank;
  adapter.alpha = double(rank);

  SmallString<256> config(llvm::sys::path::parent_path(file));
  llvm::sys::path::append(config, "adapter_config.json");
  if (llvm::sys::fs::exists(config)) {
    auto buffer = llvm::MemoryBuffer::getFile(config);
    if (!buffer) {
      error = std::string(config) + ": cannot read: " +
              buffer.getError().message();
      return failure();
    }
    json c = json::parse((*buffer)->getBuffer().str(), nullptr, false);
    auto bad = [&](const std::string &why) {
      error = std::string(config) + ": " + why;
      return failure();
    };
    if (c.is_discarded() || !c.is_object())
      return bad("not a JSON object");
    if (c.contains("peft_type") &&
        (!c["peft_type"].is_string() || c["peft_type"] != "LORA"))
      return bad("peft_type must be \"LORA\"");
    if (c.contains("r")) {
      if (!c["r"].is_number_integer() || c["r"].get<int64_t>() != rank)
        return bad("r does not match the matrices' rank " +
                   std::to_string(rank));
    }
    if (c.contains("lora_alpha")) {
      if (!c["lora_alpha"].is_number())
        return bad("lora_alpha is not a number");
      adapter.alpha = c["lora_alpha"].get<double>();
    }
    if (c.contains("use_rslora") && c["use_rslora"].is_boolean())
      adapter.rslora = c["use_rslora"].get<bool>();
    if (c.contains("use_dora") && c["use_dora"].is_boolean() &&
        c["use_dora"].get<bool>())
      return bad("use_dora: DoRA adapters are not supported yet");
  }
  return adapter;
}
