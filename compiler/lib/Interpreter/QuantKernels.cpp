//===- QuantKernels.cpp - quantized ONNX operators ----------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Exact integer semantics: products and sums of integer codes are done in
// 64-bit integers (or doubles where every value is an exact integer), and
// requantization rounds half to even and saturates, as ONNX specifies.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

namespace mlir::lowbit::interp {
LogicalResult matmulAny(KernelContext &ctx, const Tensor &a, const Tensor &b,
                        Tensor &out, DType outType);
LogicalResult convFloat(KernelContext &ctx);
} // namespace mlir::lowbit::interp

namespace {

/// [lo, hi] of an integer dtype.
std::pair<double, double> intRange(DType t) {
  switch (t) {
  case DType::I8:
    return {-128, 127};
  case DType::U8:
    return {0, 255};
  case DType::I16:
    return {-32768, 32767};
  case DType::U16:
    return {0, 65535};
  case DType::I32:
    return {-2147483648.0, 2147483647.0};
  case DType::U32:
    return {0, 4294967295.0};
  default:
    return {-9.2233720368547758e18, 9.2233720368547758e18};
  }
}

/// For element `n` of a tensor of `shape`, the index into a scale tensor
/// that is per-tensor (numel 1), per-axis (1-D along `axis`) or blocked
/// (same rank, `block` elements per scale along `axis`).
struct ScaleIndexer {
  int64_t mode = 0; // 0 tensor, 1 axis, 2 blocked
  int64_t axis = 0, block = 0, inner = 1, dim = 1;
  std::vector<int64_t> shape, scaleStrides;

  LogicalResult init(KernelContext &ctx, const std::vector<int64_t> &xShape,
                     const Tensor &scale) {
    shape = xShape;
    if (scale.numel() == 1 && scale.rank() <= 1 &&
        ctx.getInt("block_size", 0) == 0)
      return success();
    axis = ctx.getInt("axis", 1);
    if (!normalizeAxis(axis, static_cast<int64_t>(xShape.size())))
      return ctx.fail("axis out of range");
    block = ctx.getInt("block_size", 0);
    dim = xShape[axis];
    for (size_t d = axis + 1; d < xShape.size(); ++d)
      inner *= xShape[d];
    if (block == 0) {
      if (scale.rank() != 1 || scale.numel() != dim)
        return ctx.fail("per-axis scale " + scale.describe() +
                        " must have one entry per index of axis " +
                        std::to_string(axis) + " (" + std::to_string(dim) +
                        ")");
      mode = 1;
      return success();
    }
    if (scale.rank() != static_cast<int64_t>(xShape.size()))
      return ctx.fail("blocked scale must have the input's rank");
    for (size_t d = 0; d < xShape.size(); ++d) {
      int64_t want = static_cast<int64_t>(d) == axis
                         ? (xShape[d] + block - 1) / block
                         : xShape[d];
      if (scale.dim(d) != want)
        return ctx.fail("blocked scale " + scale.describe() +
                        " does not match block_size " + std::to_string(block));
    }
    scaleStrides = contiguousStrides(scale.shape());
    mode = 2;
    return success();
  }

  int64_t operator()(int64_t n) const {
    if (mode == 0)
      return 0;
    if (mode == 1)
      return (n / inner) % dim;
    int64_t rem = n, off = 0;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      int64_t i = rem % shape[d];
      rem /= shape[d];
      off += (d == axis ? i / block : i) * scaleStrides[d];
    }
    return off;
  }
};

LogicalResult quantizeLinearK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  const Tensor &scale = ctx.in(1);
  DType outType = DType::U8;
  if (ctx.hasInput(2))
    outType = ctx.in(2).dtype();
  else if (ctx.has("output_dtype")) {
    FailureOr<DType> t = dtypeFromOnnx(ctx.getInt("output_dtype", 2));
    if (failed(t))
      return ctx.notSupported("output_dtype");
    outType = *t;
  }
  if (isFloat(outType) || outType == DType::Bool)
    return ctx.notSupported(std::string("QuantizeLinear to ") +
                            dtypeName(outType));
  ScaleIndexer idx;
  if (failed(idx.init(ctx, x.shape(), scale)))
    return failure();
  if (ctx.hasInput(2) && ctx.in(2).numel() != scale.numel())
    return ctx.fail("zero point and scale differ in size");
  auto [lo, hi] = intRange(outType);
  Tensor y = Tensor::zeros(outType, x.shape());
  for (int64_t n = 0; n < x.numel(); ++n) {
    int64_t s = idx(n);
    double zp = ctx.hasInput(2) ? ctx.in(2).getDouble(s) : 0.0;
    double q = std::nearbyint(x.getDouble(n) / scale.getDouble(s)) + zp;
    if (std::isnan(q))
      q = 0;
    q = std::clamp(q, lo, hi);
    LOWBIT_DISPATCH_ALL(outType, T, { y.data<T>()[n] = static_cast<T>(q); });
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult dequantizeLinearK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  const Tensor &scale = ctx.in(1);
  ScaleIndexer idx;
  if (failed(idx.init(ctx, x.shape(), scale)))
    return failure();
  DType outType = scale.dtype();
  if (!isFloat(outType))
    return ctx.fail("scale must be a float tensor");
  Tensor y = Tensor::zeros(outType, x.shape());
  for (int64_t n = 0; n < x.numel(); ++n) {
    int64_t s = idx(n);
    double zp = ctx.hasInput(2) ? ctx.in(2).getDouble(s) : 0.0;
    double v = (x.getDouble(n) - zp) * scale.getDouble(s);
    if (outType == DType::F64)
      y.data<double>()[n] = v;
    else
      y.data<float>()[n] =
          static_cast<float>((static_cast<float>(x.getDouble(n) - zp)) *
                             static_cast<float>(scale.getDouble(s)));
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult dynamicQuantizeLinearK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  double mn = 0, mx = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    mn = std::min(mn, x.getDouble(i));
    mx = std::max(mx, x.getDouble(i));
  }
  float scale = static_cast<float>((mx - mn) / 255.0);
  float zpf = scale == 0 ? 0.0f
                         : std::clamp(std::nearbyint(0.0f -
                                                     static_cast<float>(mn) /
                                                         scale),
                                      0.0f, 255.0f);
  Tensor y = Tensor::zeros(DType::U8, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    float q = scale == 0 ? zpf
                         : std::nearbyint(static_cast<float>(x.getDouble(i)) /
                                          scale) +
                               zpf;
    y.data<uint8_t>()[i] = static_cast<uint8_t>(std::clamp(q, 0.0f, 255.0f));
  }
  Tensor s = Tensor::zeros(DType::F32, {});
  s.data<float>()[0] = scale;
  Tensor z = Tensor::zeros(DType::U8, {});
  z.data<uint8_t>()[0] = static_cast<uint8_t>(zpf);
  ctx.outputs = {y, s, z};
  return success();
}

/// x - zero_point as an i64 tensor; the zero point is a scalar or varies
/// along `axis` of x (per row of A, per column of B, per output channel).
LogicalResult subtractZeroPoint(KernelContext &ctx, const Tensor &x,
                                const Tensor *zp, int64_t axis, Tensor &out) {
  out = Tensor::zeros(DType::I64, x.shape());
  int64_t inner = 1;
  if (zp && zp->numel() > 1) {
    if (!normalizeAxis(axis, x.rank()) || zp->numel() != x.dim(axis))
      return ctx.fail("zero point " + zp->describe() + " does not match " +
                      x.describe());
    for (int64_t d = axis + 1; d < x.rank(); ++d)
      inner *= x.dim(d);
  }
  for (int64_t n = 0; n < x.numel(); ++n) {
    int64_t z = 0;
    if (zp)
      z = zp->numel() > 1 ? zp->getInt((n / inner) % zp->numel())
                          : zp->getInt(0);
    out.data<int64_t>()[n] = x.getInt(n) - z;
  }
  return success();
}

LogicalResult matMulIntegerK(KernelContext &ctx) {
  const Tensor &a = ctx.in(0), &b = ctx.in(1);
  Tensor a2, b2, y;
  if (failed(subtractZeroPoint(ctx, a, ctx.hasInput(2) ? &ctx.in(2) : nullptr,
                               a.rank() - 2, a2)) ||
      failed(subtractZeroPoint(ctx, b, ctx.hasInput(3) ? &ctx.in(3) : nullptr,
                               b.rank() - 1, b2)))
    return failure();
  if (failed(matmulAny(ctx, a2, b2, y, DType::I32)))
    return failure();
  ctx.outputs = {y};
  return success();
}

/// Runs the float Conv kernel on f64 tensors with the node's attributes.
LogicalResult convF64(KernelContext &ctx, const Tensor &x, const Tensor &w,
                      const Tensor *bias, Tensor &out) {
  std::vector<const Tensor *> saved = ctx.inputs;
  ctx.inputs = {&x, &w};
  if (bias)
    ctx.inputs.push_back(bias);
  LogicalResult r = convFloat(ctx);
  ctx.inputs = saved;
  if (succeeded(r))
    out = ctx.outputs[0];
  return r;
}

LogicalResult convIntegerK(KernelContext &ctx) {
  Tensor x, w, y;
  if (failed(subtractZeroPoint(ctx, ctx.in(0),
                               ctx.hasInput(2) ? &ctx.in(2) : nullptr, 1, x)) ||
      failed(subtractZeroPoint(ctx, ctx.in(1),
                               ctx.hasInput(3) ? &ctx.in(3) : nullptr, 0, w)))
    return failure();
  if (failed(convF64(ctx, x.cast(DType::F64), w.cast(DType::F64), nullptr, y)))
    return failure();
  Tensor out = Tensor::zeros(DType::F64, y.shape());
  for (int64_t i = 0; i < y.numel(); ++i)
    out.data<double>()[i] = std::nearbyint(y.data<double>()[i]);
  ctx.outputs = {out.cast(DType::I32)};
  return success();
}

/// (x - zp) * scale in f64, scale/zp per tensor or along `axis`.
LogicalResult dequantizeF64(KernelContext &ctx, const Tensor &x,
                            const Tensor &scale, const Tensor *zp,
                            int64_t axis, Tensor &out) {
  Tensor centered;
  if (failed(subtractZeroPoint(ctx, x, zp, axis, centered)))
    return failure();
  out = Tensor::zeros(DType::F64, x.shape());
  int64_t inner = 1;
  if (scale.numel() > 1) {
    if (!normalizeAxis(axis, x.rank()) || scale.numel() != x.dim(axis))
      return ctx.fail("scale " + scale.describe() + " does not match " +
                      x.describe());
    for (int64_t d = axis + 1; d < x.rank(); ++d)
      inner *= x.dim(d);
  }
  for (int64_t n = 0; n < x.numel(); ++n) {
    double s = scale.numel() > 1 ? scale.getDouble((n / inner) % scale.numel())
                                 : scale.getDouble(0);
    out.data<double>()[n] = static_cast<double>(centered.data<int64_t>()[n]) * s;
  }
  return success();
}

/// round_half_even(real / scale) + zp, saturated to the zero point's type.
Tensor requantize(const Tensor &real, const Tensor &scale, const Tensor *zp,
                  DType outType) {
  auto [lo, hi] = intRange(outType);
  Tensor y = Tensor::zeros(outType, real.shape());
  double s = scale.getDouble(0);
  double z = zp ? zp->getDouble(0) : 0.0;
  for (int64_t n = 0; n < real.numel(); ++n) {
    double q = std::clamp(std::nearbyint(real.data<double>()[n] / s) + z, lo, hi);
    LOWBIT_DISPATCH_ALL(outType, T, { y.data<T>()[n] = static_cast<T>(q); });
  }
  return y;
}

LogicalResult qlinearMatMulK(KernelContext &ctx) {
  const Tensor &a = ctx.in(0), &b = ctx.in(3);
  Tensor ad, bd, y;
  if (failed(dequantizeF64(ctx, a, ctx.in(1), &ctx.in(2), a.rank() - 2, ad)) ||
      failed(dequantizeF64(ctx, b, ctx.in(4), &ctx.in(5), b.rank() - 1, bd)) ||
      failed(matmulAny(ctx, ad, bd, y, DType::F64)))
    return failure();
  ctx.outputs = {requantize(y, ctx.in(6), &ctx.in(7), ctx.in(7).dtype())};
  return success();
}

LogicalResult qlinearConvK(KernelContext &ctx) {
  Tensor xd, wd, y;
  if (failed(dequantizeF64(ctx, ctx.in(0), ctx.in(1), &ctx.in(2), 1, xd)) ||
      failed(dequantizeF64(ctx, ctx.in(3), ctx.in(4), &ctx.in(5), 0, wd)))
    return failure();
  Tensor bias;
  if (ctx.hasInput(8)) {
    const Tensor &b = ctx.in(8);
    bias = Tensor::zeros(DType::F64, b.shape());
    double xs = ctx.in(1).getDouble(0);
    for (int64_t i = 0; i < b.numel(); ++i) {
      double ws = ctx.in(4).numel() > 1 ? ctx.in(4).getDouble(i)
                                        : ctx.in(4).getDouble(0);
      bias.data<double>()[i] = static_cast<double>(b.getInt(i)) * xs * ws;
    }
  }
  if (failed(convF64(ctx, xd, wd, ctx.hasInput(8) ? &bias : nullptr, y)))
    return failure();
  ctx.outputs = {requantize(y, ctx.in(6), &ctx.in(7), ctx.in(7).dtype())};
  return success();
}

/// com.microsoft MatMulNBits: Y = A · dequant(B)ᵀ (+ bias), B packed as
/// [N, K/block, block*bits/8] bytes, low bits first.
LogicalResult matMulNBitsK(KernelContext &ctx) {
  const Tensor &a = ctx.in(0), &b = ctx.in(1), &scales = ctx.in(2);
  int64_t k = ctx.getInt("K", 0), n = ctx.getInt("N", 0);
  int64_t bits = ctx.getInt("bits", 4), block = ctx.getInt("block_size", 0);
  if (k <= 0 || n <= 0 || block <= 0 || bits < 2 || bits > 8)
    return ctx.fail("needs positive K, N, block_size and bits in [2, 8]");
  if (ctx.hasInput(4) && ctx.in(4).numel())
    return ctx.notSupported("g_idx");
  int64_t blocks = (k + block - 1) / block;
  int64_t blob = block * bits / 8;
  if (b.numel() != n * blocks * blob)
    return ctx.fail("B has " + std::to_string(b.numel()) + " bytes, expected " +
                    std::to_string(n * blocks * blob));
  if (scales.numel() != n * blocks)
    return ctx.fail("scales has " + std::to_string(scales.numel()) +
                    " entries, expected " + std::to_string(n * blocks));
  const Tensor *zp = ctx.hasInput(3) ? &ctx.in(3) : nullptr;
  int64_t mask = (1 << bits) - 1;
  int64_t zpRow = (blocks * bits + 7) / 8;
  Tensor w = Tensor::zeros(DType::F32, {n, k});
  const uint8_t *pb = b.data<uint8_t>();
  for (int64_t r = 0; r < n; ++r)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      double s = scales.getDouble(r * blocks + blk);
      double z = static_cast<double>(1 << (bits - 1));
      if (zp) {
        if (isFloat(zp->dtype())) {
          z = zp->getDouble(r * blocks + blk);
        } else {
          int64_t bit = blk * bits;
          int64_t byte = r * zpRow + bit / 8;
          z = (zp->data<uint8_t>()[byte] >> (bit % 8)) & mask;
        }
      }
      const uint8_t *src = pb + (r * blocks + blk) * blob;
      for (int64_t j = 0; j < block && blk * block + j < k; ++j) {
        int64_t bit = j * bits;
        int64_t v = src[bit / 8] >> (bit % 8);
        if (bit % 8 + bits > 8)
          v |= src[bit / 8 + 1] << (8 - bit % 8);
        v &= mask;
        w.data<float>()[r * k + blk * block + j] =
            static_cast<float>((static_cast<double>(v) - z) * s);
      }
    }
  if (a.dim(a.rank() - 1) != k)
    return ctx.fail("A's last dimension is " +
                    std::to_string(a.dim(a.rank() - 1)) + " but K = " +
                    std::to_string(k));
  Tensor wt = Tensor::zeros(DType::F32, {k, n});
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c)
      wt.data<float>()[c * n + r] = w.data<float>()[r * k + c];
  Tensor y;
  Tensor af = a.cast(DType::F32);
  if (failed(matmulAny(ctx, af, wt, y, DType::F32)))
    return failure();
  if (ctx.hasInput(5)) {
    const Tensor &bias = ctx.in(5);
    for (int64_t i = 0; i < y.numel(); ++i)
      y.data<float>()[i] += static_cast<float>(bias.getDouble(i % n));
  }
  ctx.outputs = {y};
  return success();
}

} // namespace

void interp::registerQuantKernels(KernelTable &t) {
  t["QuantizeLinear"] = quantizeLinearK;
  t["DequantizeLinear"] = dequantizeLinearK;
  t["DynamicQuantizeLinear"] = dynamicQuantizeLinearK;
  t["MatMulInteger"] = matMulIntegerK;
  t["ConvInteger"] = convIntegerK;
  t["QLinearMatMul"] = qlinearMatMulK;
  t["QLinearConv"] = qlinearConvK;
  t["com.microsoft.MatMulNBits"] = matMulNBitsK;
}
