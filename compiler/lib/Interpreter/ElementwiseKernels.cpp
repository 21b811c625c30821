//===- ElementwiseKernels.cpp - unary, binary and variadic ops ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

namespace {

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

/// Applies `f` to every element of a float input (f32 or f64).
template <typename F> LogicalResult mapFloat(KernelContext &ctx, F f) {
  const Tensor &x = ctx.in(0);
  if (x.dtype() != DType::F32 && x.dtype() != DType::F64)
    return ctx.notSupported(std::string("input type ") + dtypeName(x.dtype()));
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  int64_t n = x.numel();
  if (x.dtype() == DType::F32) {
    const float *a = x.data<float>();
    float *o = y.data<float>();
#pragma omp parallel for if (n > 65536)
    for (int64_t i = 0; i < n; ++i)
      o[i] = static_cast<float>(f(a[i]));
  } else {
    const double *a = x.data<double>();
    double *o = y.data<double>();
    for (int64_t i = 0; i < n; ++i)
      o[i] = f(a[i]);
  }
  ctx.outputs = {y};
  return success();
}

/// Applies `f` to every element of any numeric input, same type out.
template <typename F> LogicalResult mapNumeric(KernelContext &ctx, F f) {
  const Tensor &x = ctx.in(0);
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  int64_t n = x.numel();
  LOWBIT_DISPATCH_ALL(x.dtype(), T, {
    const T *a = x.data<T>();
    T *o = y.data<T>();
    for (int64_t i = 0; i < n; ++i)
      o[i] = static_cast<T>(f(a[i]));
  });
  ctx.outputs = {y};
  return success();
}

template <typename T> T erfT(T x) { return std::erf(x); }

#define UNARY_FLOAT(NAME, EXPR)                                                \
  LogicalResult NAME(KernelContext &ctx) {                                     \
    return mapFloat(ctx, [](auto x) -> decltype(x) { return EXPR; });          \
  }

UNARY_FLOAT(sqrtK, std::sqrt(x))
UNARY_FLOAT(expK, std::exp(x))
UNARY_FLOAT(logK, std::log(x))
UNARY_FLOAT(erfK, std::erf(x))
UNARY_FLOAT(tanhK, std::tanh(x))
UNARY_FLOAT(sinK, std::sin(x))
UNARY_FLOAT(cosK, std::cos(x))
UNARY_FLOAT(tanK, std::tan(x))
UNARY_FLOAT(asinK, std::asin(x))
UNARY_FLOAT(acosK, std::acos(x))
UNARY_FLOAT(atanK, std::atan(x))
UNARY_FLOAT(sinhK, std::sinh(x))
UNARY_FLOAT(coshK, std::cosh(x))
UNARY_FLOAT(asinhK, std::asinh(x))
UNARY_FLOAT(acoshK, std::acosh(x))
UNARY_FLOAT(atanhK, std::atanh(x))
UNARY_FLOAT(floorK, std::floor(x))
UNARY_FLOAT(ceilK, std::ceil(x))
UNARY_FLOAT(roundK, std::nearbyint(x))
UNARY_FLOAT(reciprocalK, 1 / x)
UNARY_FLOAT(softsignK, x / (1 + std::abs(x)))
UNARY_FLOAT(softplusK, x > 20 ? x : std::log1p(std::exp(x)))
UNARY_FLOAT(mishK, x * std::tanh(x > 20 ? x : std::log1p(std::exp(x))))
#undef UNARY_FLOAT

LogicalResult sigmoidK(KernelContext &ctx) {
  return mapFloat(ctx, [](auto x) -> decltype(x) {
    using T = decltype(x);
    return x >= 0 ? T(1) / (T(1) + std::exp(-x))
                  : std::exp(x) / (T(1) + std::exp(x));
  });
}

LogicalResult absK(KernelContext &ctx) {
  return mapNumeric(ctx, [](auto x) {
    using T = decltype(x);
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else
      return x < T(0) ? T(-x) : x;
  });
}

LogicalResult negK(KernelContext &ctx) {
  return mapNumeric(ctx, [](auto x) { return decltype(x)(-x); });
}

LogicalResult signK(KernelContext &ctx) {
  return mapNumeric(ctx, [](auto x) {
    using T = decltype(x);
    return T(x > T(0) ? 1 : (x < T(0) ? -1 : 0));
  });
}

LogicalResult reluK(KernelContext &ctx) {
  // max(x, 0) as NumPy (the ONNX reference) computes it: NaN stays NaN.
  return mapNumeric(ctx, [](auto x) {
    using T = decltype(x);
    return x < T(0) ? T(0) : x;
  });
}

LogicalResult leakyReluK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 0.01f);
  return mapFloat(ctx, [alpha](auto x) -> decltype(x) {
    return x >= 0 ? x : static_cast<decltype(x)>(alpha) * x;
  });
}

LogicalResult eluK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 1.0f);
  return mapFloat(ctx, [alpha](auto x) -> decltype(x) {
    using T = decltype(x);
    return x >= 0 ? x : static_cast<T>(alpha) * (std::exp(x) - 1);
  });
}

LogicalResult celuK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 1.0f);
  return mapFloat(ctx, [alpha](auto x) -> decltype(x) {
    using T = decltype(x);
    T a = static_cast<T>(alpha);
    return std::max(T(0), x) + std::min(T(0), a * (std::exp(x / a) - 1));
  });
}

LogicalResult seluK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 1.67326319217681884765625f);
  double gamma = ctx.getFloat("gamma", 1.05070102214813232421875f);
  return mapFloat(ctx, [alpha, gamma](auto x) -> decltype(x) {
    using T = decltype(x);
    return static_cast<T>(gamma) *
           (x > 0 ? x : static_cast<T>(alpha) * (std::exp(x) - 1));
  });
}

LogicalResult thresholdedReluK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 1.0f);
  return mapFloat(ctx, [alpha](auto x) -> decltype(x) {
    return x > alpha ? x : 0;
  });
}

LogicalResult hardSigmoidK(KernelContext &ctx) {
  double alpha = ctx.getFloat("alpha", 0.2f);
  double beta = ctx.getFloat("beta", 0.5f);
  return mapFloat(ctx, [alpha, beta](auto x) -> decltype(x) {
    using T = decltype(x);
    return std::max(T(0),
                    std::min(T(1), static_cast<T>(alpha) * x +
                                       static_cast<T>(beta)));
  });
}

LogicalResult hardSwishK(KernelContext &ctx) {
  return mapFloat(ctx, [](auto x) -> decltype(x) {
    using T = decltype(x);
    return x * std::max(T(0), std::min(T(1), x / T(6) + T(0.5)));
  });
}

LogicalResult geluK(KernelContext &ctx) {
  bool tanhApprox = ctx.getString("approximate", "none") == "tanh";
  return mapFloat(ctx, [tanhApprox](auto x) -> decltype(x) {
    using T = decltype(x);
    if (tanhApprox)
      return T(0.5) * x *
             (T(1) + std::tanh(T(0.7978845608028654) *
                               (x + T(0.044715) * x * x * x)));
    return T(0.5) * x * (T(1) + std::erf(x / T(1.4142135623730951)));
  });
}

LogicalResult shrinkK(KernelContext &ctx) {
  double bias = ctx.getFloat("bias", 0.0f);
  double lambd = ctx.getFloat("lambd", 0.5f);
  return mapNumeric(ctx, [bias, lambd](auto x) {
    using T = decltype(x);
    double v = static_cast<double>(x);
    return T(v < -lambd ? v + bias : (v > lambd ? v - bias : 0.0));
  });
}

LogicalResult isNaNK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  Tensor y = Tensor::zeros(DType::Bool, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    y.data<uint8_t>()[i] = std::isnan(x.getDouble(i));
  ctx.outputs = {y};
  return success();
}

LogicalResult isInfK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  bool pos = ctx.getInt("detect_positive", 1);
  bool neg = ctx.getInt("detect_negative", 1);
  Tensor y = Tensor::zeros(DType::Bool, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    double v = x.getDouble(i);
    y.data<uint8_t>()[i] = std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult notK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  Tensor y = Tensor::zeros(DType::Bool, x.shape());
  for (int64_t i = 0; i < x.numel(); ++i)
    y.data<uint8_t>()[i] = !x.data<uint8_t>()[i];
  ctx.outputs = {y};
  return success();
}

LogicalResult identityK(KernelContext &ctx) {
  ctx.outputs = {ctx.in(0)};
  return success();
}

/// Inference-mode Dropout: identity, mask of ones.
LogicalResult dropoutK(KernelContext &ctx) {
  if (ctx.hasInput(2) && ctx.in(2).getInt(0) != 0)
    return ctx.notSupported("training_mode = true");
  ctx.outputs = {ctx.in(0)};
  if (ctx.numOutputs > 1) {
    Tensor mask = Tensor::zeros(DType::Bool, ctx.in(0).shape());
    std::memset(mask.raw(), 1, mask.byteSize());
    ctx.outputs.push_back(mask);
  }
  return success();
}

/// Clip: bounds are attributes before opset 11, optional inputs after.
LogicalResult clipK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  if (ctx.opset < 11) {
    lo = ctx.getFloat("min", -std::numeric_limits<float>::infinity());
    hi = ctx.getFloat("max", std::numeric_limits<float>::infinity());
  } else {
    if (ctx.hasInput(1) && ctx.in(1).numel())
      lo = ctx.in(1).getDouble(0);
    if (ctx.hasInput(2) && ctx.in(2).numel())
      hi = ctx.in(2).getDouble(0);
  }
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  LOWBIT_DISPATCH_ALL(x.dtype(), T, {
    const T *a = x.data<T>();
    T *o = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      double v = static_cast<double>(a[i]);
      if (v < lo)
        o[i] = static_cast<T>(lo);
      else if (v > hi)
        o[i] = static_cast<T>(hi);
      else
        o[i] = a[i];
    }
  });
  ctx.outputs = {y};
  return success();
}

//===----------------------------------------------------------------------===//
// Binary with broadcasting
//===----------------------------------------------------------------------===//

/// o[i] = f(a[i], b[i]) on both cores (no pragmas inside dispatch macros).
template <typename O, typename A, typename F>
void mapSameShape(O *o, const A *pa, const A *pb, int64_t n, F f) {
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; ++i)
    o[i] = static_cast<O>(f(pa[i], pb[i]));
}

/// out = f(a, b) over broadcast shapes; inputs must share a dtype. The
/// result has dtype `outType` (defaults to the inputs' type) and f returns
/// a value convertible to it.
template <typename F>
LogicalResult binary(KernelContext &ctx, F f,
                     std::optional<DType> outType = std::nullopt) {
  const Tensor &a = ctx.in(0);
  const Tensor &b = ctx.in(1);
  if (a.dtype() != b.dtype())
    return ctx.fail(std::string("operand types differ: ") + a.describe() +
                    " and " + b.describe());
  std::vector<int64_t> shape;
  if (!broadcastShapes(a.shape(), b.shape(), shape))
    return ctx.fail("shapes " + shapeStr(a.shape()) + " and " +
                    shapeStr(b.shape()) + " do not broadcast");
  DType ot = outType.value_or(a.dtype());
  Tensor y = Tensor::zeros(ot, shape);
  LOWBIT_DISPATCH_ALL(a.dtype(), T, {
    const T *pa = a.data<T>();
    const T *pb = b.data<T>();
    auto run = [&](auto *o) {
      using O = std::remove_pointer_t<decltype(o)>;
      if (a.shape() == b.shape()) {
        mapSameShape(o, pa, pb, y.numel(), f);
        return;
      }
      forEachIndex(shape,
                   {broadcastStrides(a.shape(), shape),
                    broadcastStrides(b.shape(), shape)},
                   [&](int64_t n, const int64_t *off) {
                     o[n] = static_cast<O>(f(pa[off[0]], pb[off[1]]));
                   });
    };
    if (ot == DType::Bool)
      run(y.data<uint8_t>());
    else
      run(y.data<T>());
  });
  ctx.outputs = {y};
  return success();
}

LogicalResult addK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return x + y; });
}
LogicalResult subK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return x - y; });
}
LogicalResult mulK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return x * y; });
}
LogicalResult divK(KernelContext &ctx) {
  const Tensor &b = ctx.in(1);
  if (!isFloat(b.dtype()))
    for (int64_t i = 0; i < b.numel(); ++i)
      if (b.getInt(i) == 0)
        return ctx.fail("integer division by zero");
  return binary(ctx, [](auto x, auto y) { return x / y; });
}

LogicalResult modK(KernelContext &ctx) {
  bool fmod = ctx.getInt("fmod", 0);
  const Tensor &b = ctx.in(1);
  if (!isFloat(b.dtype()))
    for (int64_t i = 0; i < b.numel(); ++i)
      if (b.getInt(i) == 0)
        return ctx.fail("integer modulo by zero");
  return binary(ctx, [fmod](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>) {
      T r = std::fmod(x, y);
      if (!fmod && r != 0 && ((r < 0) != (y < 0)))
        r += y;
      return r;
    } else {
      T r = static_cast<T>(x % y);
      if constexpr (std::is_signed_v<T>)
        if (!fmod && r != 0 && ((r < 0) != (y < 0)))
          r = static_cast<T>(r + y);
      return r;
    }
  });
}

/// Pow: the exponent may have another type; the result has the base's.
LogicalResult powK(KernelContext &ctx) {
  Tensor exponent = ctx.in(1).cast(ctx.in(0).dtype());
  const Tensor *saved = ctx.inputs[1];
  ctx.inputs[1] = &exponent;
  LogicalResult r = binary(ctx, [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      return std::pow(x, y);
    else
      return static_cast<T>(std::pow(static_cast<double>(x),
                                     static_cast<double>(y)));
  });
  ctx.inputs[1] = saved;
  return r;
}

LogicalResult preluK(KernelContext &ctx) {
  // Before opset 7 a 1-D slope applies along the channel axis (1).
  const Tensor &x = ctx.in(0), &slope = ctx.in(1);
  Tensor channelSlope;
  const Tensor *saved = ctx.inputs[1];
  if (ctx.opset < 7 && slope.rank() == 1 && x.rank() > 2 &&
      slope.dim(0) == x.dim(1) && slope.dim(0) != x.dim(x.rank() - 1)) {
    std::vector<int64_t> shape(x.rank() - 1, 1);
    shape[0] = slope.dim(0);
    channelSlope = slope.reshaped(shape);
    ctx.inputs[1] = &channelSlope;
  }
  LogicalResult r = binary(ctx, [](auto x, auto slope) {
    using T = decltype(x);
    return x < T(0) ? T(x * slope) : x;
  });
  ctx.inputs[1] = saved;
  return r;
}

LogicalResult bitShiftK(KernelContext &ctx) {
  bool left = ctx.getString("direction", "") == "LEFT";
  return binary(ctx, [left](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(left ? x << y : x >> y);
    else
      return x;
  });
}

#define COMPARE(NAME, OP)                                                      \
  LogicalResult NAME(KernelContext &ctx) {                                     \
    return binary(                                                             \
        ctx, [](auto x, auto y) -> uint8_t { return x OP y; }, DType::Bool);   \
  }
COMPARE(equalK, ==)
COMPARE(lessK, <)
COMPARE(greaterK, >)
COMPARE(lessOrEqualK, <=)
COMPARE(greaterOrEqualK, >=)
#undef COMPARE

LogicalResult andK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return (x != 0) && (y != 0); });
}
LogicalResult orK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return (x != 0) || (y != 0); });
}
LogicalResult xorK(KernelContext &ctx) {
  return binary(ctx, [](auto x, auto y) { return (x != 0) != (y != 0); });
}

/// Variadic Min / Max / Sum / Mean: fold pairwise with broadcasting.
template <typename F> LogicalResult variadic(KernelContext &ctx, F f) {
  std::vector<const Tensor *> inputs = ctx.inputs;
  Tensor acc = *inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    ctx.inputs = {&acc, inputs[i]};
    if (failed(binary(ctx, f))) {
      ctx.inputs = inputs;
      return failure();
    }
    acc = ctx.outputs[0];
  }
  ctx.inputs = inputs;
  ctx.outputs = {acc};
  return success();
}

LogicalResult maxK(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x) || std::isnan(y))
        return std::numeric_limits<T>::quiet_NaN();
    return x > y ? x : y;
  });
}
LogicalResult minK(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) {
    using T = decltype(x);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(x) || std::isnan(y))
        return std::numeric_limits<T>::quiet_NaN();
    return x < y ? x : y;
  });
}
LogicalResult sumK(KernelContext &ctx) {
  return variadic(ctx, [](auto x, auto y) { return x + y; });
}
LogicalResult meanK(KernelContext &ctx) {
  if (failed(sumK(ctx)))
    return failure();
  Tensor &y = ctx.outputs[0];
  Tensor out = Tensor::zeros(y.dtype(), y.shape());
  double n = static_cast<double>(ctx.numInputs());
  LOWBIT_DISPATCH_ALL(y.dtype(), T, {
    for (int64_t i = 0; i < y.numel(); ++i)
      out.data<T>()[i] = static_cast<T>(y.data<T>()[i] / n);
  });
  ctx.outputs = {out};
  return success();
}

/// Where(cond, x, y) with three-way broadcasting.
LogicalResult whereK(KernelContext &ctx) {
  const Tensor &c = ctx.in(0), &x = ctx.in(1), &y = ctx.in(2);
  if (x.dtype() != y.dtype())
    return ctx.fail("X and Y types differ");
  std::vector<int64_t> s1, shape;
  if (!broadcastShapes(c.shape(), x.shape(), s1) ||
      !broadcastShapes(s1, y.shape(), shape))
    return ctx.fail("shapes do not broadcast");
  Tensor out = Tensor::zeros(x.dtype(), shape);
  size_t w = dtypeSize(x.dtype());
  forEachIndex(shape,
               {broadcastStrides(c.shape(), shape),
                broadcastStrides(x.shape(), shape),
                broadcastStrides(y.shape(), shape)},
               [&](int64_t n, const int64_t *off) {
                 const char *src = c.data<uint8_t>()[off[0]]
                                       ? x.raw() + off[1] * w
                                       : y.raw() + off[2] * w;
                 std::memcpy(out.raw() + n * w, src, w);
               });
  ctx.outputs = {out};
  return success();
}

} // namespace

void interp::registerElementwiseKernels(KernelTable &t) {
  t["Sqrt"] = sqrtK;
  t["Exp"] = expK;
  t["Log"] = logK;
  t["Erf"] = erfK;
  t["Tanh"] = tanhK;
  t["Sin"] = sinK;
  t["Cos"] = cosK;
  t["Tan"] = tanK;
  t["Asin"] = asinK;
  t["Acos"] = acosK;
  t["Atan"] = atanK;
  t["Sinh"] = sinhK;
  t["Cosh"] = coshK;
  t["Asinh"] = asinhK;
  t["Acosh"] = acoshK;
  t["Atanh"] = atanhK;
  t["Floor"] = floorK;
  t["Ceil"] = ceilK;
  t["Round"] = roundK;
  t["Reciprocal"] = reciprocalK;
  t["Softsign"] = softsignK;
  t["Softplus"] = softplusK;
  t["Mish"] = mishK;
  t["Sigmoid"] = sigmoidK;
  t["Abs"] = absK;
  t["Neg"] = negK;
  t["Sign"] = signK;
  t["Relu"] = reluK;
  t["LeakyRelu"] = leakyReluK;
  t["Elu"] = eluK;
  t["Celu"] = celuK;
  t["Selu"] = seluK;
  t["ThresholdedRelu"] = thresholdedReluK;
  t["HardSigmoid"] = hardSigmoidK;
  t["HardSwish"] = hardSwishK;
  t["Gelu"] = geluK;
  t["Shrink"] = shrinkK;
  t["IsNaN"] = isNaNK;
  t["IsInf"] = isInfK;
  t["Not"] = notK;
  t["Identity"] = identityK;
  t["Dropout"] = dropoutK;
  t["Clip"] = clipK;
  t["Add"] = addK;
  t["Sub"] = subK;
  t["Mul"] = mulK;
  t["Div"] = divK;
  t["Mod"] = modK;
  t["Pow"] = powK;
  t["PRelu"] = preluK;
  t["BitShift"] = bitShiftK;
  t["Equal"] = equalK;
  t["Less"] = lessK;
  t["Greater"] = greaterK;
  t["LessOrEqual"] = lessOrEqualK;
  t["GreaterOrEqual"] = greaterOrEqualK;
  t["And"] = andK;
  t["Or"] = orK;
  t["Xor"] = xorK;
  t["Max"] = maxK;
  t["Min"] = minK;
  t["Sum"] = sumK;
  t["Mean"] = meanK;
  t["Where"] = whereK;
}
