//===- TensorKernels.cpp - shape and data movement ops ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// These kernels move bytes, so they work for every dtype (f16 included)
// through the element size.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>
#include <numeric>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

namespace {

int64_t product(const std::vector<int64_t> &v) {
  int64_t p = 1;
  for (int64_t d : v)
    p *= d;
  return p;
}

/// Axes from the attribute (older opsets) or the given input (newer ones).
std::vector<int64_t> axesFrom(KernelContext &ctx, size_t inputIndex,
                              int64_t inputSinceOpset) {
  if (ctx.opset >= inputSinceOpset)
    return ctx.hasInput(inputIndex) ? toInts(ctx.in(inputIndex))
                                    : std::vector<int64_t>{};
  return ctx.getInts("axes");
}

LogicalResult reshapeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> shape =
      ctx.opset < 5 ? ctx.getInts("shape") : toInts(ctx.in(1));
  bool allowZero = ctx.getInt("allowzero", 0);
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0 && !allowZero) {
      if (i >= x.shape().size())
        return ctx.fail("shape entry 0 at " + std::to_string(i) +
                        " has no input dimension to copy");
      shape[i] = x.dim(i);
    }
    if (shape[i] == -1) {
      if (infer >= 0)
        return ctx.fail("more than one -1 in shape");
      infer = i;
    } else if (shape[i] < 0) {
      return ctx.fail("negative dimension in shape");
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.numel() % known)
      return ctx.fail("cannot reshape " + x.describe() + " to " +
                      shapeStr(shape));
    shape[infer] = x.numel() / known;
  }
  if (product(shape) != x.numel())
    return ctx.fail("cannot reshape " + x.describe() + " to " +
                    shapeStr(shape));
  ctx.outputs = {x.reshaped(shape)};
  return success();
}

LogicalResult flattenK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t axis = ctx.getInt("axis", 1);
  if (axis < 0)
    axis += x.rank();
  if (axis < 0 || axis > x.rank())
    return ctx.fail("axis out of range");
  int64_t outer = 1;
  for (int64_t i = 0; i < axis; ++i)
    outer *= x.dim(i);
  ctx.outputs = {x.reshaped({outer, outer ? x.numel() / outer : 0})};
  return success();
}

LogicalResult squeezeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> axes = axesFrom(ctx, 1, 13);
  std::vector<bool> drop(x.rank(), false);
  if (axes.empty()) {
    for (int64_t i = 0; i < x.rank(); ++i)
      drop[i] = x.dim(i) == 1;
  }
  for (int64_t a : axes) {
    if (!normalizeAxis(a, x.rank()))
      return ctx.fail("axis out of range");
    if (x.dim(a) != 1)
      return ctx.fail("cannot squeeze dimension " + std::to_string(a) +
                      " of size " + std::to_string(x.dim(a)));
    drop[a] = true;
  }
  std::vector<int64_t> shape;
  for (int64_t i = 0; i < x.rank(); ++i)
    if (!drop[i])
      shape.push_back(x.dim(i));
  ctx.outputs = {x.reshaped(shape)};
  return success();
}

LogicalResult unsqueezeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> axes = axesFrom(ctx, 1, 13);
  int64_t rank = x.rank() + static_cast<int64_t>(axes.size());
  std::vector<bool> inserted(rank, false);
  for (int64_t a : axes) {
    if (!normalizeAxis(a, rank) || inserted[a])
      return ctx.fail("bad or repeated axis");
    inserted[a] = true;
  }
  std::vector<int64_t> shape;
  int64_t j = 0;
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(inserted[i] ? 1 : x.dim(j++));
  ctx.outputs = {x.reshaped(shape)};
  return success();
}

/// General permutation copy used by Transpose and friends.
Tensor transpose(const Tensor &x, const std::vector<int64_t> &perm) {
  std::vector<int64_t> shape(perm.size());
  std::vector<int64_t> inStrides = contiguousStrides(x.shape());
  std::vector<int64_t> strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    shape[i] = x.dim(perm[i]);
    strides[i] = inStrides[perm[i]];
  }
  Tensor y = Tensor::zeros(x.dtype(), shape);
  size_t w = dtypeSize(x.dtype());
  forEachIndex(shape, {strides}, [&](int64_t n, const int64_t *off) {
    std::memcpy(y.raw() + n * w, x.raw() + off[0] * w, w);
  });
  return y;
}

LogicalResult transposeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> perm = ctx.getInts("perm");
  if (perm.empty()) {
    for (int64_t i = x.rank() - 1; i >= 0; --i)
      perm.push_back(i);
  }
  if (static_cast<int64_t>(perm.size()) != x.rank())
    return ctx.fail("perm has the wrong length");
  ctx.outputs = {transpose(x, perm)};
  return success();
}

LogicalResult concatK(KernelContext &ctx) {
  std::vector<const Tensor *> ins;
  for (const Tensor *t : ctx.inputs)
    if (t)
      ins.push_back(t);
  const Tensor &first = *ins[0];
  int64_t axis = ctx.getInt("axis", 1);
  if (!normalizeAxis(axis, first.rank()))
    return ctx.fail("axis out of range");
  std::vector<int64_t> shape = first.shape();
  shape[axis] = 0;
  for (const Tensor *t : ins) {
    if (t->rank() != first.rank() || t->dtype() != first.dtype())
      return ctx.fail("inputs differ in rank or type");
    for (int64_t d = 0; d < first.rank(); ++d)
      if (d != axis && t->dim(d) != first.dim(d))
        return ctx.fail("inputs differ in dimension " + std::to_string(d));
    shape[axis] += t->dim(axis);
  }
  Tensor y = Tensor::zeros(first.dtype(), shape);
  int64_t outer = 1, inner = dtypeSize(first.dtype());
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  for (int64_t d = axis + 1; d < first.rank(); ++d)
    inner *= shape[d];
  int64_t offset = 0;
  for (const Tensor *t : ins) {
    int64_t chunk = t->dim(axis) * inner;
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y.raw() + o * shape[axis] * inner + offset,
                  t->raw() + o * chunk, chunk);
    offset += chunk;
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult splitK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t axis = ctx.getInt("axis", 0);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  std::vector<int64_t> sizes =
      ctx.opset >= 13 ? (ctx.hasInput(1) ? toInts(ctx.in(1))
                                         : std::vector<int64_t>{})
                      : ctx.getInts("split");
  int64_t n = ctx.numOutputs;
  int64_t dim = x.dim(axis);
  if (sizes.empty()) {
    if (ctx.has("num_outputs"))
      n = ctx.getInt("num_outputs", n);
    int64_t chunk = (dim + n - 1) / n;
    for (int64_t i = 0; i < n; ++i)
      sizes.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
  }
  if (std::accumulate(sizes.begin(), sizes.end(), int64_t(0)) != dim)
    return ctx.fail("split sizes do not add up to dimension " +
                    std::to_string(dim));
  int64_t outer = 1, inner = dtypeSize(x.dtype());
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  int64_t offset = 0;
  ctx.outputs.clear();
  for (int64_t s : sizes) {
    std::vector<int64_t> shape = x.shape();
    shape[axis] = s;
    Tensor y = Tensor::zeros(x.dtype(), shape);
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y.raw() + o * s * inner,
                  x.raw() + o * dim * inner + offset * inner, s * inner);
    offset += s;
    ctx.outputs.push_back(y);
  }
  return success();
}

LogicalResult sliceK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset < 10) {
    starts = ctx.getInts("starts");
    ends = ctx.getInts("ends");
    axes = ctx.getInts("axes");
  } else {
    starts = toInts(ctx.in(1));
    ends = toInts(ctx.in(2));
    if (ctx.hasInput(3))
      axes = toInts(ctx.in(3));
    if (ctx.hasInput(4))
      steps = toInts(ctx.in(4));
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return ctx.fail("starts, ends, axes and steps differ in length");
  int64_t rank = x.rank();
  std::vector<int64_t> begin(rank, 0), step(rank, 1), shape = x.shape();
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i];
    if (!normalizeAxis(a, rank))
      return ctx.fail("axis out of range");
    int64_t dim = x.dim(a), s = steps[i];
    if (s == 0)
      return ctx.fail("step must not be 0");
    int64_t st = starts[i], en = ends[i];
    if (st < 0)
      st += dim;
    if (en < 0)
      en += dim;
    if (s > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      shape[a] = en > st ? (en - st + s - 1) / s : 0;
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      shape[a] = st > en ? (st - en - s - 1) / (-s) : 0;
    }
    begin[a] = st;
    step[a] = s;
  }
  std::vector<int64_t> inStrides = contiguousStrides(x.shape());
  std::vector<int64_t> strides(rank);
  int64_t base = 0;
  for (int64_t d = 0; d < rank; ++d) {
    strides[d] = inStrides[d] * step[d];
    base += begin[d] * inStrides[d];
  }
  Tensor y = Tensor::zeros(x.dtype(), shape);
  size_t w = dtypeSize(x.dtype());
  forEachIndex(shape, {strides}, [&](int64_t n, const int64_t *off) {
    std::memcpy(y.raw() + n * w, x.raw() + (base + off[0]) * w, w);
  });
  ctx.outputs = {y};
  return success();
}

LogicalResult gatherK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  const Tensor &idx = ctx.in(1);
  int64_t axis = ctx.getInt("axis", 0);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  std::vector<int64_t> shape(x.shape().begin(), x.shape().begin() + axis);
  shape.insert(shape.end(), idx.shape().begin(), idx.shape().end());
  shape.insert(shape.end(), x.shape().begin() + axis + 1, x.shape().end());
  int64_t outer = 1, inner = dtypeSize(x.dtype());
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  int64_t dim = x.dim(axis), n = idx.numel();
  Tensor y = Tensor::zeros(x.dtype(), shape);
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = idx.getInt(i);
    if (k < 0)
      k += dim;
    if (k < 0 || k >= dim)
      return ctx.fail("index " + std::to_string(idx.getInt(i)) +
                      " is out of range for dimension of size " +
                      std::to_string(dim));
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(y.raw() + (o * n + i) * inner,
                  x.raw() + (o * dim + k) * inner, inner);
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult gatherElementsK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  const Tensor &idx = ctx.in(1);
  int64_t axis = ctx.getInt("axis", 0);
  if (!normalizeAxis(axis, x.rank()) || idx.rank() != x.rank())
    return ctx.fail("bad axis or index rank");
  Tensor y = Tensor::zeros(x.dtype(), idx.shape());
  std::vector<int64_t> xs = contiguousStrides(x.shape());
  std::vector<int64_t> strides = xs;
  strides[axis] = 0;
  size_t w = dtypeSize(x.dtype());
  LogicalResult status = success();
  forEachIndex(idx.shape(), {strides}, [&](int64_t n, const int64_t *off) {
    int64_t k = idx.getInt(n);
    if (k < 0)
      k += x.dim(axis);
    if (k < 0 || k >= x.dim(axis)) {
      status = failure();
      return;
    }
    std::memcpy(y.raw() + n * w, x.raw() + (off[0] + k * xs[axis]) * w, w);
  });
  if (failed(status))
    return ctx.fail("index out of range");
  ctx.outputs = {y};
  return success();
}

LogicalResult expandK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> shape;
  if (!broadcastShapes(x.shape(), toInts(ctx.in(1)), shape))
    return ctx.fail("cannot expand " + x.describe());
  Tensor y = Tensor::zeros(x.dtype(), shape);
  size_t w = dtypeSize(x.dtype());
  forEachIndex(shape, {broadcastStrides(x.shape(), shape)},
               [&](int64_t n, const int64_t *off) {
                 std::memcpy(y.raw() + n * w, x.raw() + off[0] * w, w);
               });
  ctx.outputs = {y};
  return success();
}

LogicalResult tileK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::vector<int64_t> reps = toInts(ctx.in(1));
  if (static_cast<int64_t>(reps.size()) != x.rank())
    return ctx.fail("repeats must have one entry per dimension");
  std::vector<int64_t> shape(x.rank());
  for (int64_t d = 0; d < x.rank(); ++d)
    shape[d] = x.dim(d) * reps[d];
  Tensor y = Tensor::zeros(x.dtype(), shape);
  std::vector<int64_t> xs = contiguousStrides(x.shape());
  std::vector<int64_t> idx(x.rank(), 0);
  size_t w = dtypeSize(x.dtype());
  for (int64_t n = 0; n < y.numel(); ++n) {
    int64_t rem = n, off = 0;
    for (int64_t d = x.rank() - 1; d >= 0; --d) {
      int64_t i = rem % shape[d];
      rem /= shape[d];
      off += (i % x.dim(d)) * xs[d];
    }
    std::memcpy(y.raw() + n * w, x.raw() + off * w, w);
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult shapeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t rank = x.rank();
  int64_t start = ctx.getInt("start", 0), end = ctx.getInt("end", rank);
  if (start < 0)
    start += rank;
  if (end < 0)
    end += rank;
  start = std::clamp<int64_t>(start, 0, rank);
  end = std::clamp<int64_t>(end, 0, rank);
  int64_t n = std::max<int64_t>(0, end - start);
  Tensor y = Tensor::zeros(DType::I64, {n});
  for (int64_t i = 0; i < n; ++i)
    y.data<int64_t>()[i] = x.dim(start + i);
  ctx.outputs = {y};
  return success();
}

LogicalResult sizeK(KernelContext &ctx) {
  Tensor y = Tensor::zeros(DType::I64, {});
  y.data<int64_t>()[0] = ctx.in(0).numel();
  ctx.outputs = {y};
  return success();
}

LogicalResult constantK(KernelContext &ctx) {
  if (ctx.has("value")) {
    Tensor t = ctx.getTensor("value");
    if (!t.valid())
      return ctx.notSupported("constant value of this type");
    ctx.outputs = {t};
    return success();
  }
  if (ctx.has("value_float")) {
    Tensor t = Tensor::zeros(DType::F32, {});
    t.data<float>()[0] = ctx.getFloat("value_float", 0);
    ctx.outputs = {t};
  } else if (ctx.has("value_int")) {
    Tensor t = Tensor::zeros(DType::I64, {});
    t.data<int64_t>()[0] = ctx.getInt("value_int", 0);
    ctx.outputs = {t};
  } else if (ctx.has("value_floats")) {
    std::vector<float> v = ctx.getFloats("value_floats");
    Tensor t = Tensor::zeros(DType::F32, {static_cast<int64_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data<float>());
    ctx.outputs = {t};
  } else if (ctx.has("value_ints")) {
    std::vector<int64_t> v = ctx.getInts("value_ints");
    Tensor t = Tensor::zeros(DType::I64, {static_cast<int64_t>(v.size())});
    std::copy(v.begin(), v.end(), t.data<int64_t>());
    ctx.outputs = {t};
  } else {
    return ctx.notSupported("Constant without a numeric value");
  }
  return success();
}

LogicalResult constantOfShapeK(KernelContext &ctx) {
  std::vector<int64_t> shape = toInts(ctx.in(0));
  Tensor value = ctx.getTensor("value");
  if (!value.valid()) {
    value = Tensor::zeros(DType::F32, {1});
  }
  Tensor y = Tensor::zeros(value.dtype(), shape);
  size_t w = dtypeSize(value.dtype());
  for (int64_t i = 0; i < y.numel(); ++i)
    std::memcpy(y.raw() + i * w, value.raw(), w);
  ctx.outputs = {y};
  return success();
}

LogicalResult castK(KernelContext &ctx) {
  FailureOr<DType> to = dtypeFromOnnx(ctx.getInt("to", 1));
  if (failed(to))
    return ctx.notSupported("Cast to ONNX type " +
                            std::to_string(ctx.getInt("to", 0)));
  const Tensor &x = ctx.in(0);
  // Half types go through f32 (exact for every half value).
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16)
    ctx.outputs = {x.cast(DType::F32).cast(*to)};
  else
    ctx.outputs = {x.cast(*to)};
  return success();
}

LogicalResult castLikeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  DType to = ctx.in(1).dtype();
  if (x.dtype() == DType::F16 || x.dtype() == DType::BF16)
    ctx.outputs = {x.cast(DType::F32).cast(to)};
  else
    ctx.outputs = {x.cast(to)};
  return success();
}

LogicalResult rangeK(KernelContext &ctx) {
  const Tensor &start = ctx.in(0);
  double s = start.getDouble(0), l = ctx.in(1).getDouble(0),
         d = ctx.in(2).getDouble(0);
  if (d == 0)
    return ctx.fail("delta must not be 0");
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(std::ceil((l - s) / d)));
  Tensor y = Tensor::zeros(start.dtype(), {n});
  LOWBIT_DISPATCH_ALL(start.dtype(), T, {
    T st = start.data<T>()[0];
    T dt = ctx.in(2).data<T>()[0];
    for (int64_t i = 0; i < n; ++i)
      y.data<T>()[i] = static_cast<T>(st + static_cast<T>(i) * dt);
  });
  ctx.outputs = {y};
  return success();
}

LogicalResult padK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  std::string mode = ctx.getString("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  std::vector<int64_t> axes;
  if (ctx.opset < 11) {
    pads = ctx.getInts(ctx.opset < 2 ? "paddings" : "pads");
    value = ctx.getFloat("value", 0);
  } else {
    pads = toInts(ctx.in(1));
    if (ctx.hasInput(2) && ctx.in(2).numel())
      value = ctx.in(2).getDouble(0);
    if (ctx.hasInput(3))
      axes = toInts(ctx.in(3));
  }
  int64_t rank = x.rank();
  if (axes.empty())
    for (int64_t i = 0; i < rank; ++i)
      axes.push_back(i);
  if (pads.size() != 2 * axes.size())
    return ctx.fail("pads must have 2 entries per axis");
  std::vector<int64_t> before(rank, 0), after(rank, 0);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    if (!normalizeAxis(a, rank))
      return ctx.fail("axis out of range");
    before[a] = pads[i];
    after[a] = pads[i + axes.size()];
  }
  std::vector<int64_t> shape(rank);
  for (int64_t d = 0; d < rank; ++d) {
    shape[d] = x.dim(d) + before[d] + after[d];
    if (shape[d] < 0)
      return ctx.fail("negative output dimension");
  }
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return ctx.notSupported("Pad mode '" + mode + "'");
  Tensor fill = Tensor::zeros(DType::F64, {1});
  fill.data<double>()[0] = value;
  fill = fill.cast(x.dtype());
  Tensor y = Tensor::zeros(x.dtype(), shape);
  std::vector<int64_t> xs = contiguousStrides(x.shape());
  size_t w = dtypeSize(x.dtype());
  for (int64_t n = 0; n < y.numel(); ++n) {
    int64_t rem = n, off = 0;
    bool outside = false;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t i = rem % shape[d] - before[d];
      rem /= shape[d];
      int64_t dim = x.dim(d);
      if (i < 0 || i >= dim) {
        if (mode == "constant" || dim == 0) {
          outside = true;
          break;
        }
        if (mode == "edge") {
          i = std::clamp<int64_t>(i, 0, dim - 1);
        } else if (mode == "wrap") {
          i = ((i % dim) + dim) % dim;
        } else { // reflect
          if (dim == 1) {
            i = 0;
          } else {
            int64_t period = 2 * (dim - 1);
            i = ((i % period) + period) % period;
            if (i >= dim)
              i = period - i;
          }
        }
      }
      off += i * xs[d];
    }
    std::memcpy(y.raw() + n * w, outside ? fill.raw() : x.raw() + off * w, w);
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult depthToSpaceK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t b = ctx.getInt("blocksize", 0);
  if (x.rank() != 4 || b <= 0 || x.dim(1) % (b * b))
    return ctx.fail("needs a 4-D input with channels divisible by blocksize^2");
  int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  bool crd = ctx.getString("mode", "DCR") == "CRD";
  Tensor t = crd ? x.reshaped({n, c / (b * b), b, b, h, w})
                 : x.reshaped({n, b, b, c / (b * b), h, w});
  Tensor y = crd ? transpose(t, {0, 1, 4, 2, 5, 3})
                 : transpose(t, {0, 3, 4, 1, 5, 2});
  ctx.outputs = {y.reshaped({n, c / (b * b), h * b, w * b})};
  return success();
}

LogicalResult spaceToDepthK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t b = ctx.getInt("blocksize", 0);
  if (x.rank() != 4 || b <= 0 || x.dim(2) % b || x.dim(3) % b)
    return ctx.fail("needs a 4-D input with spatial sizes divisible by "
                    "blocksize");
  int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  Tensor t = x.reshaped({n, c, h / b, b, w / b, b});
  Tensor y = transpose(t, {0, 3, 5, 1, 2, 4});
  ctx.outputs = {y.reshaped({n, c * b * b, h / b, w / b})};
  return success();
}

LogicalResult eyeLikeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  DType dt = x.dtype();
  if (ctx.has("dtype")) {
    FailureOr<DType> d = dtypeFromOnnx(ctx.getInt("dtype", 1));
    if (failed(d))
      return ctx.notSupported("dtype");
    dt = *d;
  }
  if (x.rank() != 2)
    return ctx.fail("input must be 2-D");
  int64_t k = ctx.getInt("k", 0);
  Tensor ones = Tensor::zeros(DType::F64, {1});
  ones.data<double>()[0] = 1;
  ones = ones.cast(dt);
  Tensor y = Tensor::zeros(dt, x.shape());
  size_t w = dtypeSize(dt);
  for (int64_t i = 0; i < x.dim(0); ++i) {
    int64_t j = i + k;
    if (j >= 0 && j < x.dim(1))
      std::memcpy(y.raw() + (i * x.dim(1) + j) * w, ones.raw(), w);
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult triluK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  bool upper = ctx.getInt("upper", 1);
  int64_t k = ctx.hasInput(1) ? ctx.in(1).getInt(0) : 0;
  if (x.rank() < 2)
    return ctx.fail("input must have rank at least 2");
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  int64_t rows = x.dim(x.rank() - 2), cols = x.dim(x.rank() - 1);
  size_t w = dtypeSize(x.dtype());
  for (int64_t n = 0; n < x.numel(); ++n) {
    int64_t j = n % cols, i = (n / cols) % rows;
    bool keep = upper ? j - i >= k : j - i <= k;
    if (keep)
      std::memcpy(y.raw() + n * w, x.raw() + n * w, w);
  }
  ctx.outputs = {y};
  return success();
}

} // namespace

void interp::registerTensorKernels(KernelTable &t) {
  t["Reshape"] = reshapeK;
  t["Flatten"] = flattenK;
  t["Squeeze"] = squeezeK;
  t["Unsqueeze"] = unsqueezeK;
  t["Transpose"] = transposeK;
  t["Concat"] = concatK;
  t["Split"] = splitK;
  t["Slice"] = sliceK;
  t["Gather"] = gatherK;
  t["GatherElements"] = gatherElementsK;
  t["Expand"] = expandK;
  t["Tile"] = tileK;
  t["Shape"] = shapeK;
  t["Size"] = sizeK;
  t["Constant"] = constantK;
  t["ConstantOfShape"] = constantOfShapeK;
  t["Cast"] = castK;
  t["CastLike"] = castLikeK;
  t["Range"] = rangeK;
  t["Pad"] = padK;
  t["DepthToSpace"] = depthToSpaceK;
  t["SpaceToDepth"] = spaceToDepthK;
  t["EyeLike"] = eyeLikeK;
  t["Trilu"] = triluK;
}
