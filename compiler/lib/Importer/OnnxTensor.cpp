//===- OnnxTensor.cpp - decode ONNX TensorProto payloads ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Importer/OnnxTensor.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "onnx/onnx_pb.h"

#include <cstring>
#include <fstream>

using namespace mlir;
using namespace mlir::lowbit;
using TP = onnx::TensorProto;

int64_t mlir::lowbit::onnxElementBytes(int32_t dt) {
  switch (dt) {
  case TP::FLOAT:
  case TP::INT32:
  case TP::UINT32:
    return 4;
  case TP::DOUBLE:
  case TP::INT64:
  case TP::UINT64:
    return 8;
  case TP::FLOAT16:
  case TP::BFLOAT16:
  case TP::INT16:
  case TP::UINT16:
    return 2;
  case TP::INT8:
  case TP::UINT8:
  case TP::BOOL:
    return 1;
  default:
    return 0;
  }
}

std::string mlir::lowbit::onnxDataTypeName(int32_t dt) {
  if (!TP::DataType_IsValid(dt))
    return "data type " + std::to_string(dt);
  return TP::DataType_Name(static_cast<TP::DataType>(dt));
}

/// Reads the byte range an external-data tensor names.
static bool readExternal(const TP &tensor, StringRef baseDir, std::string &out,
                         std::string &error) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &kv : tensor.external_data()) {
    if (kv.key() == "location")
      location = kv.value();
    else if (kv.key() == "offset")
      offset = std::strtoll(kv.value().c_str(), nullptr, 10);
    else if (kv.key() == "length")
      length = std::strtoll(kv.value().c_str(), nullptr, 10);
  }
  if (location.empty() || llvm::sys::path::is_absolute(location) ||
      StringRef(location).contains("..")) {
    error = "has external data location '" + location +
            "', which is not a relative path inside the model's directory";
    return false;
  }
  SmallString<256> path(baseDir);
  llvm::sys::path::append(path, location);
  // A symbolic link (of the file or of a folder on the way) may point
  // outside the model's folder: compare the resolved paths, as ONNX's own
  // checker does.
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(baseDir.empty() ? "." : baseDir, realDir) ||
      llvm::sys::fs::real_path(path, realFile)) {
    error = "has external data in '" + std::string(path) +
            "', which cannot be opened";
    return false;
  }
  if (!StringRef(realFile).starts_with((realDir + "/").str())) {
    error = "has external data in '" + std::string(path) +
            "', a symbolic link to '" + std::string(realFile) +
            "' outside the model's directory";
    return false;
  }
  if (!checkRegularFile(realFile, error)) {
    error = "has external data in '" + std::string(path) + "': " + error;
    return false;
  }
  std::ifstream in(realFile.c_str(), std::ios::binary);
  if (!in) {
    error = "has external data in '" + std::string(path) +
            "', which cannot be opened";
    return false;
  }
  in.seekg(0, std::ios::end);
  int64_t size = in.tellg();
  if (length < 0)
    length = size - offset;
  if (offset < 0 || offset > size || length > size - offset) {
    error = "has external data range [" + std::to_string(offset) + ", " +
            std::to_string(offset + length) + ") outside '" +
            std::string(path) + "' (" + std::to_string(size) + " bytes)";
    return false;
  }
  out.resize(length);
  in.seekg(offset);
  in.read(out.data(), length);
  return static_cast<bool>(in);
}

FailureOr<DecodedOnnxTensor>
mlir::lowbit::decodeOnnxTensor(TP &tensor, StringRef baseDir,
                               std::string &error) {
  DecodedOnnxTensor result;
  int32_t dt = tensor.data_type();
  result.dataType = dt;
  int64_t width = onnxElementBytes(dt);
  if (width == 0) {
    error = "has unsupported element type " + onnxDataTypeName(dt);
    return failure();
  }
  int64_t numel = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0) {
      error = "has a negative dimension " + std::to_string(d);
      return failure();
    }
    if (d != 0 && numel > (INT64_MAX / 8) / d) {
      error = "is too large";
      return failure();
    }
    numel *= d;
    result.dims.push_back(d);
  }
  result.numElements = numel;
  int64_t expected = numel * width;
  auto bytes = std::make_unique<std::string>();
  auto need = [&](int64_t have) {
    if (have == numel)
      return true;
    error = "holds " + std::to_string(have) + " values but its shape needs " +
            std::to_string(numel);
    return false;
  };

  if (tensor.data_location() == TP::EXTERNAL) {
    if (!readExternal(tensor, baseDir, *bytes, error))
      return failure();
  } else if (tensor.has_raw_data()) {
    bytes->swap(*tensor.mutable_raw_data());
  } else {
    // The values present must match the shape before anything is
    // allocated: a proto may declare 10^12 elements and hold none.
    int64_t have = dt == TP::FLOAT    ? tensor.float_data_size()
                   : dt == TP::DOUBLE ? tensor.double_data_size()
                   : dt == TP::INT64  ? tensor.int64_data_size()
                   : dt == TP::UINT32 || dt == TP::UINT64
                       ? tensor.uint64_data_size()
                       : tensor.int32_data_size();
    if (!need(have))
      return failure();
    bytes->resize(expected);
    char *out = bytes->data();
    switch (dt) {
    case TP::FLOAT:
      std::memcpy(out, tensor.float_data().data(), expected);
      break;
    case TP::DOUBLE:
      std::memcpy(out, tensor.double_data().data(), expected);
      break;
    case TP::INT64:
      std::memcpy(out, tensor.int64_data().data(), expected);
      break;
    case TP::UINT32:
    case TP::UINT64:
      for (int64_t i = 0; i < numel; ++i) {
        uint64_t v = tensor.uint64_data(i);
        std::memcpy(out + i * width, &v, width);
      }
      break;
    default:
      // INT32, INT16, INT8, UINT16, UINT8, BOOL, FLOAT16 and BFLOAT16 keep
      // one value (or bit pattern) per int32_data entry.
      for (int64_t i = 0; i < numel; ++i) {
        int32_t v = tensor.int32_data(i);
        std::memcpy(out + i * width, &v, width);
      }
      break;
    }
  }
  if (static_cast<int64_t>(bytes->size()) != expected) {
    error = "holds " + std::to_string(bytes->size()) +
            " bytes but its shape needs " + std::to_string(expected);
    return failure();
  }
  result.bytes = std::move(bytes);
  return result;
}

bool mlir::lowbit::checkRegularFile(StringRef path, std::string &error) {
  if (!llvm::sys::fs::exists(path) || llvm::sys::fs::is_regular_file(path))
    return true;
  error = "not a regular file (a device, pipe or folder)";
  return false;
}
