//===- QuantizeWeights.cpp - weight-only quantization of layers ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"
#include "lowbit/Transforms/QuantizeWeights.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"
#include "lowbit/Quant/LowRank.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"


namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// The attribute by which lowbit-assign-precision (or a user) chooses a
/// layer's scheme; a layer with `lowbit.weight_float` stays in f32.
static constexpr StringLiteral kSchemeAttr = "lowbit.weight_scheme";
static constexpr StringLiteral kFloatAttr = "lowbit.weight_float";

void mlir::lowbit::replaceWeightWithQWeight(Operation *layer,
                                            QuantFormat format,
                                            const QuantizedMatrix &q) {
  OpBuilder b(layer);
  OpOperand &weight = layer->getOpOperand(1);
  weight.assign(createQWeight(b, layer->getLoc(),
                              cast<RankedTensorType>(weight.get().getType()),
                              format, q));
  layer->removeAttr(kSchemeAttr);
}

FailureOr<std::optional<QuantFormat>> mlir::lowbit::parseWeightFormatOptions(
    Location loc, StringRef pass, StringRef format, StringRef scaleType,
    bool allowNone) {
  std::optional<QuantFormat> fmt;
  if (!allowNone || (!format.empty() && format != "none")) {
    fmt = symbolizeQuantFormat(format);
    if (!fmt || !isWeightFormat(*fmt))
      return emitError(loc) << pass << ": format '" << format
                            << "' is not a signed weight format (int2..int8, "
                               "nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1)";
  }
  if (scaleType != "f32" && scaleType != "f16")
    return emitError(loc) << pass << ": scale-type must be f32 or f16, got '"
                          << scaleType << "'";
  return fmt;
}

/// The branch's factors rounded to int8 per row (max scaling).
static QuantizedMatrix int8Factor(ArrayRef<float> data, int64_t rows,
                                  int64_t cols) {
  return quantizeMatrix(QuantFormat::Int8, data, rows, cols, /*groupSize=*/0,
                        ScaleSearch::Max);
}

/// Storage width of the branch for lowrank-bits = 0 (auto): int8 factors
/// unless rounding them adds more than a tenth to the layer's remaining
/// error ||W - Q - L·R||² (weighted by H when there is one). A branch that
/// carries much more than the error (SVDQuant's top singular part, a kept
/// outlier) loses too much in int8 and stays f32.
static int64_t chooseFactorBits(ArrayRef<float> w, ArrayRef<float> deq,
                                const LowRankFactors &f,
                                ArrayRef<float> hessian) {
  LowRankFactors rounded = f;
  rounded.left = dequantizeMatrix(QuantFormat::Int8,
                                  int8Factor(f.left, f.rows, f.rank));
  rounded.right = dequantizeMatrix(QuantFormat::Int8,
                                   int8Factor(f.right, f.rank, f.cols));
  std::vector<float> exact = subtractLowRank(w, f);
  std::vector<float> approx = subtractLowRank(w, rounded);
  double e32 = weightedError(exact, deq, f.rows, f.cols, hessian);
  double e8 = weightedError(approx, deq, f.rows, f.cols, hessian);
  return e8 <= 1.1 * e32 + 1e-30 ? 8 : 32;
}

/// A branch factor as a value: int8 per row (a lowbit.qweight) or f32.
static Value makeFactor(OpBuilder &b, Location loc, ArrayRef<float> data,
                        int64_t rows, int64_t cols, int64_t bits,
                        StringRef name) {
  auto type = RankedTensorType::get({rows, cols}, b.getF32Type());
  if (bits == 32)
    return makeF32Constant(b, loc, type, data, name);
  return createQWeight(b, loc, type, QuantFormat::Int8,
                       int8Factor(data, rows, cols));
}

namespace {
struct QuantizeWeightsPass
    : lowbit::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<std::optional<QuantFormat>> parsed =
        parseWeightFormatOptions(getOperation().getLoc(),
                                 "lowbit-quantize-weights", format, scaleType,
                                 /*allowNone=*/true);
    if (failed(parsed))
      return signalPassFailure();
    std::optional<QuantFormat> fmt = *parsed;
    if (clip != "mse" && clip != "max") {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: clip must be mse or max, got '" << clip
          << "'";
      return signalPassFailure();
    }
    if (rounding != "nearest" && rounding != "gptq") {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: rounding must be nearest or gptq, got '"
          << rounding << "'";
      return signalPassFailure();
    }
    std::optional<LowRankMethod> method = parseLowRankMethod(lowrankMethod);
    if (!method || lowrankRank < 0 || lowrankRank > 256 ||
        (lowrankBits != 0 && lowrankBits != 8 && lowrankBits != 32)) {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: lowrank-rank must be in [0, 256], "
             "lowrank-method svd, eora or svdquant, lowrank-bits 0 (auto), 8 or 32; "
             "got rank "
          << int64_t(lowrankRank) << ", method '" << lowrankMethod
          << "', bits " << int64_t(lowrankBits);
      return signalPassFailure();
    }
    bool lowrank = lowrankRank > 0;
    // Layer -> H of its input, for GPTQ and EoRA (absent: round to nearest).
    llvm::DenseMap<Operation *, ArrayRef<float>> hessians;
    SensitivityResult computed;
    bool needH = rounding == "gptq" || (lowrank && method == LowRankMethod::Eora);
    if (needH &&
        failed(getHessians(hessians, computed,
                           rounding == "gptq"
                               ? "lowbit-quantize-weights{rounding=gptq}"
                               : "lowbit-quantize-weights{lowrank-method="
                                 "eora}")))
      return signalPassFailure();
    Builder b(&getContext());
    logQuantFact(getOperation(), "rounding", b.getStringAttr(rounding));
    logQuantFact(getOperation(), "scale_type", b.getStringAttr(scaleType));
    if (lowrank) {
      logQuantFact(getOperation(), "lowrank_rank",
                   b.getI64IntegerAttr(lowrankRank));
      logQuantFact(getOperation(), "lowrank_method",
                   b.getStringAttr(lowrankMethod));
      logQuantFact(getOperation(), "lowrank_bits",
                   b.getI64IntegerAttr(lowrankBits));
    }
    WalkResult walk = getOperation().walk([&](Operation *op) {
      if (!isa<LinearOp, Conv2DOp>(op))
        return WalkResult::advance();
      OpOperand &weight = op->getOpOperand(1);
      auto wType = dyn_cast<RankedTensorType>(weight.get().getType());
      if (op->hasAttr(kFloatAttr) || !wType || !wType.hasStaticShape())
        return WalkResult::advance();
      QuantFormat f;
      int64_t g = groupSize;
      bool f16 = scaleType == "f16";
      if (auto scheme = op->getAttrOfType<SchemeAttr>(kSchemeAttr)) {
        if (!isWeightFormat(scheme.getFormat()) || !scheme.getSymmetric() ||
            scheme.getGranularity() == Granularity::PerTensor) {
          op->emitError() << "lowbit-quantize-weights: " << kSchemeAttr
                          << " must be a symmetric per-channel or group "
                             "scheme of a signed format, got "
                          << scheme;
          return WalkResult::interrupt();
        }
        f = scheme.getFormat();
        f16 = scheme.getScaleType().isF16();
        g = scheme.getGranularity() == Granularity::Group
                ? scheme.getGroupSize()
                : 0;
      } else if (fmt && wType.getNumElements() >= minElements) {
        f = *fmt;
      } else {
        return WalkResult::advance();
      }
      // A kept adapter (lowbit.lowrank over the f32 weight): its base is
      // quantized, the branch stays as it is.
      auto kept = weight.get().getDefiningOp<LowRankOp>();
      Value source = kept ? kept.getWeight() : weight.get();
      std::optional<SmallVector<float>> w = readF32Constant(source);
      if (!w)
        return WalkResult::advance();
      // Rows are output channels; a convolution's [O, C, kh, kw] weight is
      // quantized as the [O, C * kh * kw] matrix, one scale per channel.
      int64_t n = wType.getDimSize(0), k = wType.getNumElements() / n;
      if (isa<Conv2DOp>(op))
        g = 0;
      ScaleSearch search = clip == "mse" ? ScaleSearch::Mse : ScaleSearch::Max;
      ArrayRef<float> h = hessians.lookup(op);
      ArrayRef<float> gptqH = rounding == "gptq" ? h : ArrayRef<float>();
      bool branch = lowrank && isa<LinearOp>(op) && !kept;
      if (branch && method == LowRankMethod::Eora && h.empty()) {
        op->emitError() << "lowbit-quantize-weights{lowrank-method=eora}: "
                           "no calibration statistics for layer '"
                        << getNodeName(op) << "'";
        return WalkResult::interrupt();
      }
      // SVDQuant's order: the top singular part of W stays in the branch,
      // only the residual is quantized.
      LowRankFactors factors;
      SmallVector<float> base = *w;
      if (branch && method == LowRankMethod::SvdQuant) {
        factors = truncatedSvd(*w, n, k, lowrankRank);
        std::vector<float> residual = subtractLowRank(*w, factors);
        base.assign(residual.begin(), residual.end());
      }
      QuantizedMatrix q =
          !gptqH.empty() ? quantizeMatrixGptq(f, base, n, k, g, gptqH, search, f16)
                         : quantizeMatrix(f, base, n, k, g, search, f16);
      if (branch && method != LowRankMethod::SvdQuant) {
        // The branch approximates what quantization lost: W - Q(W).
        std::vector<float> deq = dequantizeMatrix(f, q);
        std::vector<float> err(n * k);
        for (int64_t i = 0; i < n * k; ++i)
          err[i] = (*w)[i] - deq[i];
        factors = method == LowRankMethod::Eora
                      ? weightedSvd(err, n, k, lowrankRank, h)
                      : truncatedSvd(err, n, k, lowrankRank);
      }
      if (kept) {
        OpBuilder b(kept);
        kept->setOperand(0, createQWeight(b, kept.getLoc(),
                                          cast<RankedTensorType>(wType), f,
                                          q));
        op->removeAttr(kSchemeAttr);
        return WalkResult::advance();
      }
      replaceWeightWithQWeight(op, f, q);
      if (branch && factors.rank > 0) {
        OpBuilder b(op);
        Location loc = op->getLoc();
        Value qw = op->getOperand(1);
        int64_t bits = lowrankBits;
        if (bits == 0)
          bits = chooseFactorBits(*w, dequantizeMatrix(f, q), factors, h);
        Value left = makeFactor(b, loc, factors.left, n, factors.rank, bits,
                                "lowrank_left");
        Value right = makeFactor(b, loc, factors.right, factors.rank, k, bits,
                                 "lowrank_right");
        op->setOperand(1, LowRankOp::create(b, loc, qw.getType(), qw, left,
                                             right));
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    markAnalysesPreserved<CalibrationData, SensitivityData>();
  }

  /// The layer inputs' Hessians: those lowbit-sensitivity kept, or one
  /// calibration run (into `computed`, which owns them).
  LogicalResult getHessians(llvm::DenseMap<Operation *, ArrayRef<float>> &out,
                            SensitivityResult &computed, StringRef who) {
    const SensitivityResult *source = nullptr;
    if (auto cached = getCachedAnalysis<SensitivityData>();
        cached && cached->get().valid && cached->get().gptq) {
      source = &cached->get().result;
    } else {
      func::FuncOp func = getOperation();
      CalibrationData &calibration = getAnalysis<CalibrationData>();
      if (failed(ensureCalibration(func, calibration, who)))
        return failure();
      SensitivityOptions opts;
      opts.hessiansOnly = true;
      FailureOr<SensitivityResult> r =
          analyzeSensitivity(func, calibration.batches, opts);
      if (failed(r))
        return failure();
      computed = std::move(*r);
      source = &computed;
    }
    for (const LayerAnalysis &l : source->layers)
      out[l.op] = l.hessian;
    return success();
  }
};
} // namespace
