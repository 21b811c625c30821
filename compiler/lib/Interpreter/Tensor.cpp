//===- Tensor.cpp - host tensors and their file formats -----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Interpreter/Tensor.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"

#include "lowbit/Importer/OnnxTensor.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/MemoryBuffer.h"

#include <limits>
#include "llvm/Support/raw_ostream.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstring>
#include <sstream>

using namespace mlir;
using namespace mlir::lowbit;

size_t mlir::lowbit::dtypeSize(DType t) {
  switch (t) {
  case DType::F64:
  case DType::I64:
  case DType::U64:
    return 8;
  case DType::F32:
  case DType::I32:
  case DType::U32:
    return 4;
  case DType::F16:
  case DType::BF16:
  case DType::I16:
  case DType::U16:
    return 2;
  case DType::I8:
  case DType::U8:
  case DType::Bool:
    return 1;
  }
  return 1;
}

const char *mlir::lowbit::dtypeName(DType t) {
  static const char *names[] = {"f32", "f64", "f16", "bf16", "i8",
                                "i16", "i32", "i64", "u8",   "u16",
                                "u32", "u64", "bool"};
  return names[static_cast<int>(t)];
}

bool mlir::lowbit::isFloat(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::F16 ||
         t == DType::BF16;
}
bool mlir::lowbit::isSignedInt(DType t) {
  return t == DType::I8 || t == DType::I16 || t == DType::I32 ||
         t == DType::I64;
}
bool mlir::lowbit::isUnsignedInt(DType t) {
  return t == DType::U8 || t == DType::U16 || t == DType::U32 ||
         t == DType::U64;
}

FailureOr<DType> mlir::lowbit::dtypeFromType(Type t) {
  if (auto q = dyn_cast<quant::QuantizedType>(t))
    t = q.getStorageType().isInteger(8) && !q.isSigned()
            ? IntegerType::get(t.getContext(), 8, IntegerType::Unsigned)
            : q.getStorageType();
  if (t.isF32())
    return DType::F32;
  if (t.isF64())
    return DType::F64;
  if (t.isF16())
    return DType::F16;
  if (t.isBF16())
    return DType::BF16;
  if (auto it = dyn_cast<IntegerType>(t)) {
    unsigned w = it.getWidth();
    if (w == 1)
      return DType::Bool;
    bool u = it.isUnsigned();
    switch (w) {
    case 8:
      return u ? DType::U8 : DType::I8;
    case 16:
      return u ? DType::U16 : DType::I16;
    case 32:
      return u ? DType::U32 : DType::I32;
    case 64:
      return u ? DType::U64 : DType::I64;
    default:
      break;
    }
  }
  return failure();
}

FailureOr<DType> mlir::lowbit::dtypeFromOnnx(int32_t dt) {
  using TP = onnx::TensorProto;
  switch (dt) {
  case TP::FLOAT:
    return DType::F32;
  case TP::DOUBLE:
    return DType::F64;
  case TP::FLOAT16:
    return DType::F16;
  case TP::BFLOAT16:
    return DType::BF16;
  case TP::INT8:
    return DType::I8;
  case TP::INT16:
    return DType::I16;
  case TP::INT32:
    return DType::I32;
  case TP::INT64:
    return DType::I64;
  case TP::UINT8:
    return DType::U8;
  case TP::UINT16:
    return DType::U16;
  case TP::UINT32:
    return DType::U32;
  case TP::UINT64:
    return DType::U64;
  case TP::BOOL:
    return DType::Bool;
  default:
    return failure();
  }
}

int32_t mlir::lowbit::dtypeToOnnx(DType t) {
  using TP = onnx::TensorProto;
  static const int32_t map[] = {TP::FLOAT, TP::DOUBLE, TP::FLOAT16,
                                TP::BFLOAT16, TP::INT8, TP::INT16,
                                TP::INT32, TP::INT64, TP::UINT8,
                                TP::UINT16, TP::UINT32, TP::UINT64,
                                TP::BOOL};
  return map[static_cast<int>(t)];
}

//===----------------------------------------------------------------------===//
// Half precision
//===----------------------------------------------------------------------===//

float mlir::lowbit::halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t mlir::lowbit::floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // Inf or NaN
    return sign | 0x7c00u | (absx > 0x7f800000u ? 0x200u : 0u);
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to Inf
    return sign | 0x7c00u;
  if (absx < 0x38800000u) { // subnormal or zero in half
    float af;
    std::memcpy(&af, &absx, 4);
    // Round to nearest even at 2^-24 granularity.
    float scaled = af * 16777216.0f; // 2^24
    uint32_t m = static_cast<uint32_t>(std::nearbyint(scaled));
    return sign | m;
  }
  uint32_t exp = ((absx >> 23) - 127 + 15) << 10;
  uint32_t mant = (absx >> 13) & 0x3ff;
  uint32_t rest = absx & 0x1fff;
  uint32_t h = exp | mant;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u)))
    ++h;
  return sign | h;
}

float mlir::lowbit::bf16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t mlir::lowbit::floatToBf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

//===----------------------------------------------------------------------===//
// Tensor
//===----------------------------------------------------------------------===//

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_)
    n *= d;
  return n;
}

Tensor Tensor::zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  size_t bytes = std::max<size_t>(t.byteSize(), 1);
  // 64-byte alignment for vectorized kernels.
  void *mem = ::operator new(bytes, std::align_val_t(64));
  std::memset(mem, 0, bytes);
  t.owner_ = std::shared_ptr<void>(
      mem, [](void *p) { ::operator delete(p, std::align_val_t(64)); });
  t.data_ = static_cast<char *>(mem);
  return t;
}

Tensor Tensor::borrow(DType dtype, std::vector<int64_t> shape,
                      const void *data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = const_cast<char *>(static_cast<const char *>(data));
  return t;
}

Tensor Tensor::adopt(DType dtype, std::vector<int64_t> shape,
                     std::shared_ptr<std::string> bytes) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = bytes->data();
  t.owner_ = std::move(bytes);
  return t;
}

Tensor Tensor::reshaped(std::vector<int64_t> shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

double Tensor::getDouble(int64_t i) const {
  switch (dtype_) {
  case DType::F32:
    return data<float>()[i];
  case DType::F64:
    return data<double>()[i];
  case DType::F16:
    return halfToFloat(data<uint16_t>()[i]);
  case DType::BF16:
    return bf16ToFloat(data<uint16_t>()[i]);
  case DType::I8:
    return data<int8_t>()[i];
  case DType::I16:
    return data<int16_t>()[i];
  case DType::I32:
    return data<int32_t>()[i];
  case DType::I64:
    return static_cast<double>(data<int64_t>()[i]);
  case DType::U8:
  case DType::Bool:
    return data<uint8_t>()[i];
  case DType::U16:
    return data<uint16_t>()[i];
  case DType::U32:
    return data<uint32_t>()[i];
  case DType::U64:
    return static_cast<double>(data<uint64_t>()[i]);
  }
  return 0;
}

int64_t Tensor::getInt(int64_t i) const {
  switch (dtype_) {
  case DType::I64:
    return data<int64_t>()[i];
  case DType::U64:
    return static_cast<int64_t>(data<uint64_t>()[i]);
  case DType::I32:
    return data<int32_t>()[i];
  default:
    return static_cast<int64_t>(getDouble(i));
  }
}

namespace {
/// Stores `v` (already converted) into element `i` of `t`.
template <typename Src> void storeAs(Tensor &t, int64_t i, Src v) {
  switch (t.dtype()) {
  case DType::F32:
    t.data<float>()[i] = static_cast<float>(v);
    break;
  case DType::F64:
    t.data<double>()[i] = static_cast<double>(v);
    break;
  case DType::F16:
    t.data<uint16_t>()[i] = floatToHalf(static_cast<float>(v));
    break;
  case DType::BF16:
    t.data<uint16_t>()[i] = floatToBf16(static_cast<float>(v));
    break;
  case DType::I8:
    t.data<int8_t>()[i] = static_cast<int8_t>(v);
    break;
  case DType::I16:
    t.data<int16_t>()[i] = static_cast<int16_t>(v);
    break;
  case DType::I32:
    t.data<int32_t>()[i] = static_cast<int32_t>(v);
    break;
  case DType::I64:
    t.data<int64_t>()[i] = static_cast<int64_t>(v);
    break;
  case DType::U8:
    t.data<uint8_t>()[i] = static_cast<uint8_t>(v);
    break;
  case DType::U16:
    t.data<uint16_t>()[i] = static_cast<uint16_t>(v);
    break;
  case DType::U32:
    t.data<uint32_t>()[i] = static_cast<uint32_t>(v);
    break;
  case DType::U64:
    t.data<uint64_t>()[i] = static_cast<uint64_t>(v);
    break;
  case DType::Bool:
    t.data<uint8_t>()[i] = v != Src(0) ? 1 : 0;
    break;
  }
}

/// Float -> integer conversion as ONNX Cast does it: truncate toward zero;
/// NaN and out-of-range values give the wrapped result of a 64-bit convert.
int64_t floatToInt(double v) {
  if (std::isnan(v))
    return 0;
  if (v >= 9.2233720368547758e18)
    return INT64_MAX;
  if (v <= -9.2233720368547758e18)
    return INT64_MIN;
  return static_cast<int64_t>(v);
}
} // namespace

Tensor Tensor::cast(DType to) const {
  if (to == dtype_)
    return *this;
  Tensor out = zeros(to, shape_);
  int64_t n = numel();
  bool fromFloat = isFloat(dtype_);
  bool toFloat = isFloat(to);
  for (int64_t i = 0; i < n; ++i) {
    if (fromFloat && !toFloat) {
      double v = getDouble(i);
      if (to == DType::Bool)
        storeAs(out, i, v != 0.0 ? 1 : 0);
      else if (to == DType::U64)
        storeAs(out, i, v < 0 ? static_cast<uint64_t>(floatToInt(v))
                              : static_cast<uint64_t>(v));
      else
        storeAs(out, i, floatToInt(v));
    } else if (dtype_ == DType::U64) {
      storeAs(out, i, data<uint64_t>()[i]);
    } else if (!fromFloat) {
      storeAs(out, i, getInt(i));
    } else {
      storeAs(out, i, getDouble(i));
    }
  }
  return out;
}

std::string Tensor::describe() const {
  std::string s = dtypeName(dtype_);
  s += "[";
  for (size_t i = 0; i < shape_.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape_[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

static const char *npyDescr(DType t) {
  static const char *names[] = {"<f4", "<f8", "<f2", "<u2", "|i1",
                                "<i2", "<i4", "<i8", "|u1", "<u2",
                                "<u4", "<u8", "|b1"};
  return names[static_cast<int>(t)];
}

FailureOr<Tensor> mlir::lowbit::readNpy(StringRef path, std::string &error) {
  if (!checkRegularFile(path, error))
    return failure();
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer) {
    error = "cannot read: " + buffer.getError().message();
    return failure();
  }
  return parseNpy((*buffer)->getBuffer(), error);
}

FailureOr<Tensor> mlir::lowbit::parseNpy(StringRef data, std::string &error) {
  if (data.size() < 10 || !data.starts_with("\x93NUMPY")) {
    error = "not a .npy file (missing the \\x93NUMPY magic)";
    return failure();
  }
  uint8_t major = data[6];
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = uint8_t(data[8]) | (uint8_t(data[9]) << 8);
    offset = 10;
  } else if (data.size() >= 12) {
    headerLen = uint8_t(data[8]) | (uint8_t(data[9]) << 8) |
                (uint8_t(data[10]) << 16) | (size_t(uint8_t(data[11])) << 24);
    offset = 12;
  } else {
    error = "truncated .npy header";
    return failure();
  }
  if (offset + headerLen > data.size()) {
    error = "truncated .npy header";
    return failure();
  }
  StringRef header = data.substr(offset, headerLen);
  auto field = [&](StringRef key) -> StringRef {
    size_t pos = header.find(key);
    if (pos == StringRef::npos)
      return {};
    StringRef rest = header.substr(pos + key.size()).ltrim(" :");
    return rest;
  };
  StringRef descr = field("'descr'");
  if (!descr.consume_front("'")) {
    error = "malformed .npy header: no descr";
    return failure();
  }
  descr = descr.take_until([](char c) { return c == '\''; });
  if (field("'fortran_order'").starts_with("True")) {
    error = "Fortran-ordered .npy arrays are not supported";
    return failure();
  }
  StringRef shapeText = field("'shape'");
  if (!shapeText.consume_front("(")) {
    error = "malformed .npy header: no shape";
    return failure();
  }
  shapeText = shapeText.take_until([](char c) { return c == ')'; });
  std::vector<int64_t> shape;
  SmallVector<StringRef> parts;
  shapeText.split(parts, ',');
  for (StringRef p : parts) {
    p = p.trim();
    if (p.empty())
      continue;
    int64_t d;
    if (p.getAsInteger(10, d) || d < 0) {
      error = "malformed .npy shape '" + shapeText.str() + "'";
      return failure();
    }
    shape.push_back(d);
  }
  std::optional<DType> dtype;
  for (int i = 0; i <= static_cast<int>(DType::Bool); ++i) {
    DType t = static_cast<DType>(i);
    if (t == DType::BF16)
      continue;
    if (descr == npyDescr(t) ||
        (descr.size() == 3 && descr[0] == '=' &&
         descr.substr(1) == StringRef(npyDescr(t)).substr(1)))
      dtype = t;
  }
  if (descr == "<b1")
    dtype = DType::Bool;
  if (!dtype) {
    error = "unsupported .npy dtype '" + descr.str() + "'";
    return failure();
  }
  // The element count and byte size, checked for overflow and against the
  // data actually present, before anything is allocated.
  size_t start = offset + headerLen;
  uint64_t have = data.size() - start, bytes = dtypeSize(*dtype);
  for (int64_t d : shape)
    if (d != 0 && __builtin_mul_overflow(bytes, uint64_t(d), &bytes)) {
      error = "the .npy shape '" + shapeText.str() +
              "' has more elements than fit in memory";
      return failure();
    }
  if (have < bytes) {
    error = "truncated .npy data: " + std::to_string(have) + " bytes for " +
            dtypeName(*dtype) + " [" + shapeText.trim().str() + "] (" +
            std::to_string(bytes) + " bytes)";
    return failure();
  }
  Tensor t = Tensor::zeros(*dtype, shape);
  std::memcpy(t.raw(), data.data() + start, t.byteSize());
  return t;
}

LogicalResult mlir::lowbit::writeNpy(StringRef path, const Tensor &t,
                                     std::string &error) {
  Tensor out = t.dtype() == DType::BF16 ? t.cast(DType::F32) : t;
  std::string header = "{'descr': '";
  header += npyDescr(out.dtype());
  header += "', 'fortran_order': False, 'shape': (";
  for (int64_t d : out.shape())
    header += std::to_string(d) + ", ";
  if (out.rank() > 1)
    header.erase(header.size() - 2);
  else if (out.rank() == 1)
    header.erase(header.size() - 1);
  header += "), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  SmallString<256> tmp(path);
  tmp += ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write '" + tmp.str().str() + "': " + ec.message();
      return failure();
    }
    os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
       << char(header.size() >> 8) << header;
    os.write(out.raw(), out.byteSize());
    os.close();
    if (os.has_error()) {
      error = "cannot write '" + tmp.str().str() + "'";
      llvm::sys::fs::remove(tmp);
      return failure();
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    error = "cannot rename to '" + path.str() + "': " + ec.message();
    llvm::sys::fs::remove(tmp);
    return failure();
  }
  return success();
}

FailureOr<Tensor> mlir::lowbit::readTensorProto(StringRef path,
                                                std::string &name,
                                                std::string &error) {
  if (!checkRegularFile(path, error))
    return failure();
  auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
  if (!buffer) {
    error = "cannot read: " + buffer.getError().message();
    return failure();
  }
  llvm::SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  return parseTensorProto((*buffer)->getBuffer(), dir, name, error);
}

FailureOr<Tensor> mlir::lowbit::parseTensorProto(StringRef bytes,
                                                 StringRef dir,
                                                 std::string &name,
                                                 std::string &error) {
  onnx::TensorProto proto;
  if (bytes.size() > size_t(std::numeric_limits<int>::max()) ||
      !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = "not a valid ONNX TensorProto";
    return failure();
  }
  name = proto.name();
  FailureOr<DType> dtype = dtypeFromOnnx(proto.data_type());
  if (failed(dtype)) {
    error = "unsupported element type " + onnxDataTypeName(proto.data_type());
    return failure();
  }
  std::string message;
  FailureOr<DecodedOnnxTensor> decoded = decodeOnnxTensor(proto, dir, message);
  if (failed(decoded)) {
    error = "tensor " + message;
    return failure();
  }
  std::vector<int64_t> shape(decoded->dims.begin(), decoded->dims.end());
  return Tensor::adopt(*dtype, shape,
                       std::shared_ptr<std::string>(std::move(decoded->bytes)));
}
