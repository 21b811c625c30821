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

/// A branch factor as a value: int8 per row (a lowbit.qweight) or f32.
static Value makeFactor(OpBuilder &b, Location loc, ArrayRef<float> data,
                        int64_t rows, int64_t cols, int64_t bits,
                        StringRef name) {
  auto type = RankedTensorType::get({rows, cols}, b.getF32Type());
  if (bits == 32)
    return makeF32Constant(b, loc, type, data, name);
  return createQWeight(b, loc, type, QuantFormat::Int8,
                       quantizeMatrix(QuantFormat::Int8, data, rows, cols,
                                      /*groupSize=*/0, ScaleSearch::Max));
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
    bool layerRanks = false;
    getOperation().walk([&](Operation *op) {
      layerRanks |= op->hasAttr(kWeightLowRankAttr);
    });
    bool needH = rounding == "gptq" ||
                 (lowrank && method == LowRankMethod::Eora) || layerRanks;
    if (needH &&
        failed(getHessians(hessians, computed,
                           rounding == "gptq"
                               ? "lowbit-quantize-weights{rounding=gptq}"
                           : layerRanks && !lowrank
                               ? "lowbit-quantize-weights (a layer's "
                                 "lowbit.weight_lowrank)"
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
      // (Several switchable adapters chain; the innermost holds the base.)
      auto kept = weight.get().getDefiningOp<LowRankOp>();
      while (kept && kept.getWeight().getDefiningOp<LowRankOp>())
        kept = kept.getWeight().getDefiningOp<LowRankOp>();
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
      // The layer's own rank (lowbit-assign-precision chose an EoRA branch)
      // or the pass's.
      int64_t rank = lowrankRank;
      LowRankMethod m = *method;
      if (auto r = op->getAttrOfType<IntegerAttr>(kWeightLowRankAttr)) {
        rank = r.getInt();
        m = LowRankMethod::Eora;
        op->removeAttr(kWeightLowRankAttr);
      }
      bool branch = rank > 0 && isa<LinearOp>(op) && !kept;
      if (branch && m == LowRankMethod::Eora && h.empty()) {
        op->emitError() << "lowbit-quantize-weights{lowrank-method=eora}: "
                           "no calibration statistics for layer '"
                        << getNodeName(op) << "'";
        return WalkResult::interrupt();
      }
      // SVDQuant's order: the top singular part of W stays in the branch,
      // only the residual is quantized.
      LowRankFactors factors;
      SmallVector<float> base = *w;
      if (branch && m == LowRankMethod::SvdQuant) {
        factors = truncatedSvd(*w, n, k, rank);
        std::vector<float> residual = subtractLowRank(*w, factors);
        base.assign(residual.begin(), residual.end());
      }
      QuantizedMatrix q =
          !gptqH.empty() ? quantizeMatrixGptq(f, base, n, k, g, gptqH, search, f16)
                         : quantizeMatrix(f, base, n, k, g, search, f16);
      if (branch && m != LowRankMethod::SvdQuant) {
        // The branch approximates what quantization lost: W - Q(W).
        std::vector<float> deq = dequantizeMatrix(f, q);
        std::vector<float> err(n * k);
        for (int64_t i = 0; i < n * k; ++i)
          err[i] = (*w)[i] - deq[i];
        factors = m == LowRankMethod::Eora ? weightedSvd(err, n, k, rank, h)
                                           : truncatedSvd(err, n, k, rank);
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
                                             right, /*adapter=*/StringAttr()));
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
        cached && cached->get().valid &&
        llvm::all_of(cached->get().result.layers,
                     [](const LayerAnalysis &l) { return !l.hessian.empty(); })) {
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
