//===- IntegerKernels.cpp - the integer-only ops, as the IR defines them -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// lowbit.qconv2d / qlinear / qadd / qpool2d / qlut / qsoftmax, written as
// plainly as their descriptions in LowbitOps.td: the oracle the MCU kernels
// (runtime/kernels/mcu/) must match bit for bit. Accumulators are int64 and
// checked to fit int32, as the kernels keep them in 32-bit registers.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

namespace {
struct Codes {
  int64_t zeroPoint, lo, hi;
  bool isSigned;
};

Codes codesOf(Value v) {
  auto uq = cast<quant::UniformQuantizedType>(getElementTypeOrSelf(v));
  return {uq.getZeroPoint(), uq.getStorageTypeMin(), uq.getStorageTypeMax(),
          uq.isSigned()};
}

/// round(n / d), ties away from zero; d > 0.
int64_t divRound(int64_t n, int64_t d) {
  return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

/// round(acc * m / 2^s), ties away from zero, in 64 bits.
int64_t requant(int64_t acc, int64_t m, int64_t s) {
  int64_t prod = acc * m;
  if (s == 0)
    return prod;
  int64_t half = int64_t(1) << (s - 1);
  return prod >= 0 ? (prod + half) >> s : -((-prod + half) >> s);
}

/// TFLite's requantization for the same (m, s): SaturatingRoundingDoubling-
/// HighMul of acc * 2^left (saturated to int32, where TFLite's int32 math
/// would overflow) by m, half up at 2^31, then RoundingDivideByPOT (half
/// away from zero), TFLite's exponent 31 - s split into the two shifts.
int64_t requantDoublingHighMul(int64_t acc, int64_t m, int64_t s) {
  int64_t exponent = 31 - s;
  int64_t left = exponent > 0 ? exponent : 0, right = exponent > 0 ? 0 : -exponent;
  int64_t a = std::clamp<int64_t>(acc * (int64_t(1) << left), INT32_MIN,
                                  INT32_MAX);
  int64_t ab = a * m;
  int64_t nudge = ab >= 0 ? (int64_t(1) << 30) : 1 - (int64_t(1) << 30);
  int64_t high = (ab + nudge) / (int64_t(1) << 31); // truncates toward 0
  if (right == 0)
    return high;
  int64_t mask = (int64_t(1) << right) - 1;
  int64_t rem = high & mask, threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (rem > threshold ? 1 : 0);
}

int64_t requantFor(Operation *op, int64_t acc, int64_t m, int64_t s) {
  auto r = op->getAttrOfType<RoundingModeAttr>("rounding");
  return r && r.getValue() == RoundingMode::DoublingHighMul
             ? requantDoublingHighMul(acc, m, s)
             : requant(acc, m, s);
}

Tensor makeCodes(Value result, std::vector<int64_t> shape) {
  return Tensor::zeros(codesOf(result).isSigned ? DType::I8 : DType::U8,
                       std::move(shape));
}

void store(Tensor &t, int64_t i, int64_t v) {
  if (t.dtype() == DType::I8)
    t.data<int8_t>()[i] = int8_t(v);
  else
    t.data<uint8_t>()[i] = uint8_t(v);
}

bool fitsInt32(int64_t v) {
  return v >= std::numeric_limits<int32_t>::min() &&
         v <= std::numeric_limits<int32_t>::max();
}

LogicalResult runQConv2D(QConv2DOp op, KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &w = ctx.in(1), &bias = ctx.in(2),
               &mult = ctx.in(3), &shift = ctx.in(4);
  Codes in = codesOf(op.getInput()), out = codesOf(op.getOutput());
  int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3);
  int64_t o = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  int64_t groups = op.getGroups(), og = o / groups;
  ArrayRef<int64_t> st = op.getStrides(), pad = op.getPadding(),
                    dil = op.getDilations();
  auto outType = op.getOutput().getType();
  int64_t oh = outType.getDimSize(2), ow = outType.getDimSize(3);
  Tensor y = makeCodes(op.getOutput(), {n, o, oh, ow});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oc = 0; oc < o; ++oc) {
      int64_t g = oc / og;
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          int64_t acc = bias.getInt(oc);
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t p = 0; p < kh; ++p) {
              int64_t r = i * st[0] - pad[0] + p * dil[0];
              if (r < 0 || r >= h)
                continue;
              for (int64_t q = 0; q < kw; ++q) {
                int64_t s = j * st[1] - pad[1] + q * dil[1];
                if (s < 0 || s >= wd)
                  continue;
                int64_t xi = ((b * c + g * cg + ci) * h + r) * wd + s;
                int64_t wi = ((oc * cg + ci) * kh + p) * kw + q;
                acc += (x.getInt(xi) - in.zeroPoint) * w.getInt(wi);
              }
            }
          if (!fitsInt32(acc))
            return ctx.fail("an int32 accumulator overflows at output channel " +
                            std::to_string(oc));
          int64_t v = out.zeroPoint + requantFor(op, acc, mult.getInt(oc),
                                                 shift.getInt(oc));
          store(y, ((b * o + oc) * oh + i) * ow + j,
                std::clamp(v, int64_t(op.getClampMin()), int64_t(op.getClampMax())));
        }
    }
  ctx.outputs = {y};
  return success();
}

LogicalResult runQLinear(QLinearOp op, KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &w = ctx.in(1), &bias = ctx.in(2),
               &mult = ctx.in(3), &shift = ctx.in(4);
  Codes in = codesOf(op.getInput()), out = codesOf(op.getOutput());
  int64_t m = x.dim(0), k = x.dim(1), n = w.dim(0);
  Tensor y = makeCodes(op.getOutput(), {m, n});
  for (int64_t r = 0; r < m; ++r)
    for (int64_t col = 0; col < n; ++col) {
      int64_t acc = bias.getInt(col);
      for (int64_t i = 0; i < k; ++i)
        acc += (x.getInt(r * k + i) - in.zeroPoint) * w.getInt(col * k + i);
      if (!fitsInt32(acc))
        return ctx.fail("an int32 accumulator overflows at output " +
                        std::to_string(col));
      int64_t v = out.zeroPoint +
                  requantFor(op, acc, mult.getInt(col), shift.getInt(col));
      store(y, r * n + col, std::clamp(v, int64_t(op.getClampMin()), int64_t(op.getClampMax())));
    }
  ctx.outputs = {y};
  return success();
}

LogicalResult runQAdd(QAddOp op, KernelContext &ctx) {
  const Tensor &a = ctx.in(0), &b = ctx.in(1);
  Codes ca = codesOf(op.getLhs()), cb = codesOf(op.getRhs()),
        out = codesOf(op.getOutput());
  Tensor y = makeCodes(op.getOutput(), a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) {
    int64_t sum = int64_t(op.getLhsMultiplier()) * (a.getInt(i) - ca.zeroPoint) +
                  int64_t(op.getRhsMultiplier()) * (b.getInt(i) - cb.zeroPoint);
    int64_t v = out.zeroPoint + requant(sum, 1, int64_t(op.getShift()));
    store(y, i, std::clamp(v, int64_t(op.getClampMin()), int64_t(op.getClampMax())));
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult runQPool2D(QPool2DOp op, KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  Codes in = codesOf(op.getInput()), out = codesOf(op.getOutput());
  bool isMax = op.getKind() == "max";
  int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  ArrayRef<int64_t> k = op.getKernel(), st = op.getStrides(),
                    pad = op.getPadding();
  auto outType = op.getOutput().getType();
  int64_t oh = outType.getDimSize(2), ow = outType.getDimSize(3);
  Tensor y = makeCodes(op.getOutput(), {n, c, oh, ow});
  for (int64_t plane = 0; plane < n * c; ++plane)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j) {
        int64_t best = std::numeric_limits<int64_t>::min(), sum = 0, cnt = 0;
        for (int64_t p = 0; p < k[0]; ++p)
          for (int64_t q = 0; q < k[1]; ++q) {
            int64_t r = i * st[0] - pad[0] + p, s = j * st[1] - pad[1] + q;
            bool inside = r >= 0 && r < h && s >= 0 && s < w;
            if (!inside) {
              // Padding counts as the zero point (a real 0) when included.
              bool inPadded = r < h + pad[2] && s < w + pad[3];
              if (!isMax && op.getCountIncludePad() && inPadded) {
                sum += in.zeroPoint;
                ++cnt;
              }
              continue;
            }
            int64_t v = x.getInt((plane * h + r) * w + s);
            best = std::max(best, v);
            sum += v;
            ++cnt;
          }
        int64_t v;
        if (isMax) {
          v = best;
        } else {
          if (cnt == 0)
            return ctx.fail("a pooling window holds no element");
          int64_t num = int64_t(op.getMultiplier()) * (sum - cnt * in.zeroPoint);
          v = out.zeroPoint + divRound(num, cnt << int64_t(op.getShift()));
        }
        store(y, (plane * oh + i) * ow + j,
              std::clamp(v, int64_t(op.getClampMin()), int64_t(op.getClampMax())));
      }
  ctx.outputs = {y};
  return success();
}

LogicalResult runQLut(QLutOp op, KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &table = ctx.in(1);
  Codes in = codesOf(op.getInput());
  Tensor y = makeCodes(op.getOutput(), x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t t = table.getInt(x.getInt(i) - in.lo);
    // The table holds the result's codes in its storage type's bytes.
    store(y, i, codesOf(op.getOutput()).isSigned ? t : uint8_t(int8_t(t)));
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult runQSoftmax(QSoftmaxOp op, KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &table = ctx.in(1);
  Codes out = codesOf(op.getOutput());
  int64_t row = x.shape().empty() ? 1 : x.shape().back();
  Tensor y = makeCodes(op.getOutput(), x.shape());
  for (int64_t base = 0; base < x.numel(); base += row) {
    int64_t mx = std::numeric_limits<int64_t>::min(), sum = 0;
    for (int64_t i = 0; i < row; ++i)
      mx = std::max(mx, x.getInt(base + i));
    for (int64_t i = 0; i < row; ++i)
      sum += table.getInt(mx - x.getInt(base + i));
    for (int64_t i = 0; i < row; ++i) {
      int64_t e = table.getInt(mx - x.getInt(base + i));
      int64_t v = out.zeroPoint +
                  divRound(e * int64_t(op.getMultiplier()), sum << int64_t(op.getShift()));
      store(y, base + i, std::clamp(v, int64_t(op.getClampMin()), int64_t(op.getClampMax())));
    }
  }
  ctx.outputs = {y};
  return success();
}
} // namespace

bool mlir::lowbit::interp::isIntegerOp(Operation *op) {
  return isa<QConv2DOp, QLinearOp, QAddOp, QPool2DOp, QLutOp, QSoftmaxOp>(op);
}

LogicalResult mlir::lowbit::interp::runIntegerOp(Operation *op,
                                                 KernelContext &ctx) {
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](QConv2DOp o) { return runQConv2D(o, ctx); })
      .Case([&](QLinearOp o) { return runQLinear(o, ctx); })
      .Case([&](QAddOp o) { return runQAdd(o, ctx); })
      .Case([&](QPool2DOp o) { return runQPool2D(o, ctx); })
      .Case([&](QLutOp o) { return runQLut(o, ctx); })
      .Case([&](QSoftmaxOp o) { return runQSoftmax(o, ctx); })
      .Default([&](Operation *) { return ctx.fail("not an integer op"); });
}
