//===- Sensitivity.cpp - second-order per-layer sensitivity -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Sensitivity.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Quant/LowRank.h"

#include "llvm/ADT/StringExtras.h"

#include <Eigen/Dense>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::lowbit;

std::string WeightCandidate::label() const {
  if (!format)
    return "f32";
  std::string s = stringifyQuantFormat(*format).str();
  if (groupSize > 0)
    s += "/g" + std::to_string(groupSize);
  if (rank > 0)
    s += "+r" + std::to_string(rank);
  return s;
}

std::optional<WeightCandidate>
mlir::lowbit::parseWeightCandidate(StringRef text) {
  WeightCandidate c;
  text = text.trim();
  if (text == "f32" || text == "float" || text == "fp32")
    return c;
  auto [base, rank] = text.split("+r");
  if (base.size() != text.size() &&
      (rank.getAsInteger(10, c.rank) || c.rank <= 0 || c.rank > 256))
    return std::nullopt;
  text = base;
  auto [fmt, group] = text.split("/g");
  c.format = symbolizeQuantFormat(fmt);
  if (!c.format || !isWeightFormat(*c.format))
    return std::nullopt;
  if (!group.empty() && (group.getAsInteger(10, c.groupSize) || c.groupSize <= 0))
    return std::nullopt;
  return c;
}

namespace {
using RowMatrix =
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct LayerState {
  LayerAnalysis result;
  std::vector<float> weight;
  Eigen::MatrixXd h; ///< sum of x x^T over `rowsSeen` rows
  int64_t rowsSeen = 0;
  Eigen::MatrixXf hMean; ///< h / rowsSeen, once calibration is done
};
} // namespace

/// Adds x x^T of every input row the layer sees in `x` to its state.
static void accumulateInput(LayerState &s, Operation *op, const Tensor &x) {
  if (x.dtype() != DType::F32)
    return;
  int64_t k = s.result.cols;
  if (auto conv = dyn_cast<Conv2DOp>(op)) {
    // im2col rows: one patch per output pixel, per group of channels.
    auto wt = cast<RankedTensorType>(conv.getWeight().getType());
    auto yt = cast<RankedTensorType>(conv.getOutput().getType());
    int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
    int64_t groups = conv.getGroups(), cg = c / groups;
    int64_t kh = wt.getDimSize(2), kw = wt.getDimSize(3);
    int64_t oh = yt.getDimSize(2), ow = yt.getDimSize(3);
    ArrayRef<int64_t> st = conv.getStrides(), pad = conv.getPadding(),
                      dl = conv.getDilations();
    RowMatrix patches(n * groups * oh * ow, k);
    const float *src = x.data<float>();
    int64_t row = 0;
    for (int64_t img = 0; img < n; ++img)
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox, ++row) {
            float *dst = patches.data() + row * k;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t ky = 0; ky < kh; ++ky)
                for (int64_t kx = 0; kx < kw; ++kx) {
                  int64_t iy = oy * st[0] - pad[0] + ky * dl[0];
                  int64_t ix = ox * st[1] - pad[1] + kx * dl[1];
                  *dst++ = (iy < 0 || iy >= h || ix < 0 || ix >= w)
                               ? 0.0f
                               : src[((img * c + g * cg + ci) * h + iy) * w +
                                     ix];
                }
          }
    Eigen::MatrixXf hx = patches.transpose() * patches;
    s.h += hx.cast<double>();
    // Each output channel sees one group's patches: H is their average.
    s.rowsSeen += n * groups * oh * ow;
    return;
  }
  int64_t rows = x.numel() / k;
  Eigen::Map<const RowMatrix> xs(x.data<float>(), rows, k);
  Eigen::MatrixXf hx = xs.transpose() * xs;
  s.h += hx.cast<double>();
  s.rowsSeen += rows;
}

double mlir::lowbit::outputDistortion(
    ArrayRef<std::vector<Tensor>> outputs,
    ArrayRef<std::vector<Tensor>> reference) {
  double num = 0, den = 0;
  for (size_t b = 0; b < outputs.size(); ++b)
    for (size_t i = 0; i < outputs[b].size(); ++i) {
      const Tensor &o = outputs[b][i], &r = reference[b][i];
      if (!isFloat(o.dtype()) || o.numel() != r.numel())
        continue;
      for (int64_t e = 0; e < o.numel(); ++e) {
        double d = o.getDouble(e) - r.getDouble(e), v = r.getDouble(e);
        num += d * d;
        den += v * v;
      }
    }
  return den > 0 ? num / den : num;
}

/// Runs `func` on `batches` with `op`'s weight replaced by `weight` (same
/// shape), then puts the original back.
/// With `caches` (every result of the unchanged model, one map per batch)
/// only the ops from `op` onward run.
static FailureOr<std::vector<std::vector<Tensor>>>
runWithWeight(func::FuncOp func, Operation *op, ArrayRef<float> weight,
              ArrayRef<std::vector<Tensor>> batches, StringRef name,
              ArrayRef<llvm::DenseMap<Value, Tensor>> caches = {}) {
  Value original = op->getOperand(1);
  OpBuilder b(op);
  Value replaced = makeF32Constant(
      b, op->getLoc(), cast<RankedTensorType>(original.getType()), weight, name);
  op->setOperand(1, replaced);
  std::vector<std::vector<Tensor>> outputs;
  LogicalResult ok = success();
  for (auto [b, inputs] : llvm::enumerate(batches)) {
    InterpreterOptions opts;
    if (b < caches.size()) {
      opts.resumeAt = op;
      opts.cache = &caches[b];
    }
    FailureOr<std::vector<Tensor>> out = interpret(func, inputs, opts);
    if (failed(out)) {
      ok = failure();
      break;
    }
    outputs.push_back(std::move(*out));
  }
  op->setOperand(1, original);
  replaced.getDefiningOp()->erase();
  if (failed(ok))
    return failure();
  return outputs;
}

FailureOr<SensitivityResult>
mlir::lowbit::analyzeSensitivity(func::FuncOp func,
                                 ArrayRef<std::vector<Tensor>> batches,
                                 const SensitivityOptions &options) {
  auto progress = [&](StringRef stage, int64_t done, int64_t total) {
    if (options.progress)
      options.progress(stage, done, total);
  };
  // Layers with constant f32 weights, in program order.
  std::vector<LayerState> layers;
  llvm::DenseMap<Operation *, size_t> index;
  func.walk([&](Operation *op) {
    if (!isa<LinearOp, Conv2DOp>(op))
      return;
    auto wt = dyn_cast<RankedTensorType>(op->getOperand(1).getType());
    std::optional<SmallVector<float>> w = readF32Constant(op->getOperand(1));
    if (!wt || !wt.hasStaticShape() || !w || wt.getDimSize(0) == 0)
      return;
    LayerState s;
    s.result.op = op;
    s.result.name = getNodeName(op);
    s.result.rows = wt.getDimSize(0);
    s.result.cols = wt.getNumElements() / wt.getDimSize(0);
    s.weight.assign(w->begin(), w->end());
    s.h = Eigen::MatrixXd::Zero(s.result.cols, s.result.cols);
    index[op] = layers.size();
    layers.push_back(std::move(s));
  });
  if (layers.empty()) {
    func.emitError("sensitivity analysis: the model has no linear or "
                   "convolution layer with constant float weights");
    return failure();
  }
  if (batches.empty()) {
    func.emitError("sensitivity analysis: no calibration batches");
    return failure();
  }

  // 1. The float model on every batch: reference outputs, and H per layer.
  llvm::DenseMap<Value, SmallVector<size_t>> readers;
  for (auto &s : layers)
    readers[s.result.op->getOperand(0)].push_back(index[s.result.op]);
  int64_t probeBatches =
      std::max<int64_t>(1, std::min<int64_t>(options.probeBatches,
                                             batches.size()));
  std::vector<std::vector<Tensor>> reference;
  // Every result on the probe batches, so that a probe re-runs the model
  // only from its layer on (the tensors share their buffers).
  std::vector<llvm::DenseMap<Value, Tensor>> caches(
      options.hessiansOnly ? 0 : probeBatches);
  for (auto [b, inputs] : llvm::enumerate(batches)) {
    progress("calibrating", b, batches.size());
    for (BlockArgument arg : func.getArguments())
      if (auto it = readers.find(arg); it != readers.end())
        for (size_t l : it->second)
          accumulateInput(layers[l], layers[l].result.op,
                          inputs[arg.getArgNumber()]);
    InterpreterOptions opts;
    opts.observer = [&, b = b](Operation *op, ArrayRef<Tensor> results) {
      for (auto [i, r] : llvm::enumerate(op->getResults())) {
        if (b < caches.size())
          caches[b][r] = results[i];
        if (auto it = readers.find(r); it != readers.end())
          for (size_t l : it->second)
            accumulateInput(layers[l], layers[l].result.op, results[i]);
      }
    };
    FailureOr<std::vector<Tensor>> out = interpret(func, inputs, opts);
    if (failed(out))
      return failure();
    reference.push_back(std::move(*out));
  }
  progress("calibrating", batches.size(), batches.size());

  for (LayerState &s : layers) {
    s.hMean = (s.h / double(std::max<int64_t>(1, s.rowsSeen))).cast<float>();
    s.h.resize(0, 0);
  }
  SensitivityResult out;
  if (options.hessiansOnly) {
    for (LayerState &s : layers) {
      s.result.hessian.assign(s.hMean.data(), s.hMean.data() + s.hMean.size());
      out.layers.push_back(std::move(s.result));
    }
    out.reference = std::move(reference);
    return out;
  }

  // 2. Noise probes: the loss curvature along each layer's output, for
  // errors shaped like quantization errors. The probe perturbs the weight
  // (not the output), so its output error has the same structure as a
  // quantization error: the same dW at every pixel or token, correlated the
  // same way through H. Its exact energy tr(dW H dW^T) is known from H.
  ArrayRef<std::vector<Tensor>> probeInputs = batches.take_front(probeBatches);
  ArrayRef<std::vector<Tensor>> probeRef =
      ArrayRef(reference).take_front(probeBatches);
  for (auto [l, s] : llvm::enumerate(layers)) {
    progress("probing layers", l, layers.size());
    LayerAnalysis &r = s.result;
    std::mt19937 rng(1234 + l);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    RowMatrix dw(r.rows, r.cols);
    for (int64_t row = 0; row < r.rows; ++row) {
      double sq = 0;
      for (int64_t k = 0; k < r.cols; ++k)
        sq += double(s.weight[row * r.cols + k]) * s.weight[row * r.cols + k];
      float tau = float(options.probeNoise * std::sqrt(sq / r.cols));
      for (int64_t k = 0; k < r.cols; ++k)
        dw(row, k) = tau * normal(rng);
    }
    std::vector<float> perturbed(s.weight);
    for (int64_t e = 0; e < r.rows * r.cols; ++e)
      perturbed[e] += dw.data()[e];
    const Eigen::MatrixXf &h = s.hMean;
    double energy = double((dw * h).cwiseProduct(dw).sum());

    FailureOr<std::vector<std::vector<Tensor>>> noisy = runWithWeight(
        func, r.op, perturbed, probeInputs, "probe_weight", caches);
    if (failed(noisy))
      return failure();
    double loss = outputDistortion(*noisy, probeRef);
    r.gain = energy > 0 ? loss / energy : 0;
  }
  progress("probing layers", layers.size(), layers.size());
  caches.clear();

  // 3. The exact error of each candidate: tr(dW H dW^T) with H per row.
  for (auto [l, s] : llvm::enumerate(layers)) {
    progress("measuring formats", l, layers.size());
    LayerAnalysis &r = s.result;
    const Eigen::MatrixXf &h = s.hMean;
    Eigen::Map<const RowMatrix> w(s.weight.data(), r.rows, r.cols);
    // Kept for GPTQ's rounding and for the EoRA branches of rank
    // candidates, which lowbit-quantize-weights computes again.
    if (options.gptq ||
        llvm::any_of(options.candidates,
                     [](const WeightCandidate &c) { return c.rank > 0; }))
      r.hessian.assign(h.data(), h.data() + h.size()); // symmetric
    RowMatrix wh = w * h;
    r.weightEnergy = double(wh.cwiseProduct(w).sum());
    for (const WeightCandidate &cand : options.candidates) {
      WeightCandidate c = cand;
      if (isa<Conv2DOp>(r.op)) {
        c.groupSize = 0;
        c.rank = 0;
      }
      r.candidates.push_back(c);
      if (!c.format) {
        r.outputError.push_back(0);
        r.sensitivity.push_back(0);
        r.bits.push_back(32.0 * r.rows * r.cols);
        continue;
      }
      QuantizedMatrix q =
          options.gptq
              ? quantizeMatrixGptq(*c.format, s.weight, r.rows, r.cols,
                                   c.groupSize, r.hessian, options.search,
                                   options.f16Scales)
              : quantizeMatrix(*c.format, s.weight, r.rows, r.cols,
                               c.groupSize, options.search, options.f16Scales);
      std::vector<float> deq = dequantizeMatrix(*c.format, q);
      double branchBits = 0;
      if (c.rank > 0) {
        // The EoRA branch as lowbit-quantize-weights would store it.
        deq = withEoraBranch(s.weight, deq, r.rows, r.cols, c.rank,
                             ArrayRef<float>(h.data(), h.size()), branchBits);
      }
      RowMatrix dw(r.rows, r.cols);
      for (int64_t i = 0; i < r.rows * r.cols; ++i)
        dw.data()[i] = s.weight[i] - deq[i];
      RowMatrix dwh = dw * h;
      // Summed over output channels: the error energy of one input row.
      double err = std::max(0.0, double(dwh.cwiseProduct(dw).sum()));
      r.outputError.push_back(err);
      r.sensitivity.push_back(r.gain * err);
      r.bits.push_back(quantizedBits(*c.format, r.rows, r.cols, c.groupSize,
                                     options.f16Scales ? 16 : 32) +
                       branchBits);
    }
  }
  progress("measuring formats", layers.size(), layers.size());
  for (auto &s : layers)
    out.layers.push_back(std::move(s.result));
  out.reference = std::move(reference);
  return out;
}

FailureOr<double> mlir::lowbit::measureLayerLoss(
    func::FuncOp func, const LayerAnalysis &layer, size_t candidate,
    ArrayRef<std::vector<Tensor>> batches,
    ArrayRef<std::vector<Tensor>> reference, ScaleSearch search, bool gptq,
    bool f16Scales) {
  const WeightCandidate &c = layer.candidates[candidate];
  if (!c.format)
    return 0.0;
  std::optional<SmallVector<float>> w = readF32Constant(layer.op->getOperand(1));
  if (!w)
    return failure();
  QuantizedMatrix q =
      gptq && !layer.hessian.empty()
          ? quantizeMatrixGptq(*c.format, *w, layer.rows, layer.cols,
                               c.groupSize, layer.hessian, search, f16Scales)
          : quantizeMatrix(*c.format, *w, layer.rows, layer.cols, c.groupSize,
                           search, f16Scales);
  std::vector<float> deq = dequantizeMatrix(*c.format, q);
  if (c.rank > 0 && !layer.hessian.empty()) {
    double branchBits = 0;
    deq = withEoraBranch(*w, deq, layer.rows, layer.cols, c.rank,
                         layer.hessian, branchBits);
  }
  FailureOr<std::vector<std::vector<Tensor>>> outputs =
      runWithWeight(func, layer.op, deq, batches, "measured_weight");
  if (failed(outputs))
    return failure();
  return outputDistortion(*outputs, reference.take_front(outputs->size()));
}
