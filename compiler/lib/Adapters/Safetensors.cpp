//===- Safetensors.cpp - a checked reader of .safetensors files ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Adapters/Safetensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <nlohmann/json.hpp>

#include <cstring>

using namespace mlir;
using namespace mlir::lowbit;
using json = nlohmann::json;

namespace {
float halfBits(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f,
           man = h & 0x3ff, bits;
  if (exp == 0 && man == 0) {
    bits = sign;
  } else if (exp == 0) { // subnormal: normalize
    int e = -1;
    do {
      ++e;
      man <<= 1;
    } while (!(man & 0x400));
    bits = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16Bits(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/// Element width of a safetensors dtype this reader widens to f32; 0 if
/// unsupported.
int dtypeBytes(const std::string &d) {
  if (d == "F32")
    return 4;
  if (d == "F16" || d == "BF16")
    return 2;
  if (d == "F64")
    return 8;
  return 0;
}
} // namespace

FailureOr<std::map<std::string, SafetensorsTensor>>
mlir::lowbit::parseSafetensors(StringRef bytes, std::string &error) {
  if (bytes.size() < 8) {
    error = "too short for a safetensors file (" +
            std::to_string(bytes.size()) + " bytes)";
    return failure();
  }
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = headerLen << 8 | uint8_t(bytes[i]);
  if (headerLen > kMaxSafetensorsHeader || headerLen > bytes.size() - 8) {
    error = "header length " + std::to_string(headerLen) +
            " exceeds the file (" + std::to_string(bytes.size()) +
            " bytes) or the 100 MB limit";
    return failure();
  }
  json header = json::parse(bytes.substr(8, headerLen).str(), nullptr,
                            /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    error = "the header is not a JSON object";
    return failure();
  }
  StringRef data = bytes.drop_front(8 + headerLen);
  std::map<std::string, SafetensorsTensor> out;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &name = it.key();
    if (name == "__metadata__")
      continue;
    const json &e = it.value();
    auto bad = [&](const std::string &why) {
      error = "tensor '" + name + "': " + why;
      return failure();
    };
    if (!e.is_object() || !e.contains("dtype") || !e["dtype"].is_string() ||
        !e.contains("shape") || !e["shape"].is_array() ||
        !e.contains("data_offsets") || !e["data_offsets"].is_array() ||
        e["data_offsets"].size() != 2)
      return bad("needs dtype, shape and data_offsets [begin, end]");
    std::string dtype = e["dtype"].get<std::string>();
    int width = dtypeBytes(dtype);
    if (!width)
      return bad("dtype " + dtype + " is not a float type (F32, F16, BF16, "
                                    "F64)");
    SafetensorsTensor t;
    uint64_t numel = 1;
    for (const json &d : e["shape"]) {
      if (!d.is_number_unsigned())
        return bad("a dimension is not a non-negative integer");
      uint64_t v = d.get<uint64_t>();
      // Bounded by the data size below; checked here against overflow.
      if (v != 0 && numel > data.size() / v)
        return bad("shape needs more elements than the file holds");
      numel *= v;
      t.shape.push_back(int64_t(v));
    }
    const json &off = e["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad("data_offsets are not non-negative integers");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data.size())
      return bad("data_offsets [" + std::to_string(begin) + ", " +
                 std::to_string(end) + "] fall outside the " +
                 std::to_string(data.size()) + " data bytes");
    if (end - begin != numel * uint64_t(width))
      return bad("holds " + std::to_string(end - begin) +
                 " bytes but its shape and dtype need " +
                 std::to_string(numel * width));
    t.data.resize(numel);
    const char *p = data.data() + begin;
    for (uint64_t i = 0; i < numel; ++i) {
      if (width == 4) {
        std::memcpy(&t.data[i], p + 4 * i, 4);
      } else if (width == 8) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        t.data[i] = float(v);
      } else {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        t.data[i] = dtype == "F16" ? halfBits(h) : bf16Bits(h);
      }
    }
    out.emplace(name, std::move(t));
  }
  return out;
}

FailureOr<std::map<std::string, SafetensorsTensor>>
mlir::lowbit::readSafetensors(StringRef path, std::string &error) {
  if (llvm::sys::fs::exists(path) && !llvm::sys::fs::is_regular_file(path)) {
    error = "not a regular file (a device, pipe or folder)";
    return failure();
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot read: " + buffer.getError().message();
    return failure();
  }
  return parseSafetensors((*buffer)->getBuffer(), error);
}
