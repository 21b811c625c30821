//===- WeightPacking.cpp - x86 weight layouts in the package ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Constants the kernels read are copied into the package blob in the layout
// each kernel wants (f32/s4/s8 panels of 16, rows for gathers, codebooks),
// at compile time, so that a session maps the package and runs.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace mlir::lowbit::x86 {

LogicalResult Emitter::planWeights() {
  // Quantized weights in "s4-panel16" / "s8-panel16" with their scales per
  // (panel, group, column); a convolution's weight is packed per group of
  // output channels like its f32 form.
  for (Operation *op : ops) {
    auto qw = dyn_cast<QWeightOp>(op);
    if (!qw)
      continue;
    SchemeAttr scheme = qw.getScheme();
    auto wt = qw.getOutput().getType();
    bool perChannel = scheme.getGranularity() == Granularity::PerChannel &&
                      scheme.getAxis() == 0;
    bool grouped = scheme.getGranularity() == Granularity::Group &&
                   scheme.getAxis() == 1 && wt.getRank() == 2;
    auto dataCst = qw.getData().getDefiningOp<arith::ConstantOp>();
    auto scaleCst = qw.getScales().getDefiningOp<arith::ConstantOp>();
    // Signed integer formats int2..int8 decode natively ("sB-panel16");
    // the codebook formats (nf4, fp4, fp8) through a table of their values.
    // Affine integer weights (uintB with zero points, from MatMulNBits)
    // decode through a table of their integer values minus the zero point.
    FormatInfo fi = getFormatInfo(scheme.getFormat());
    bool affine = !scheme.getSymmetric();
    bool codebook = !fi.isInteger || affine;
    auto zpCst = affine ? qw.getZeroPoints().getDefiningOp<arith::ConstantOp>()
                        : arith::ConstantOp();
    unsigned bits = (fi.isInteger && (fi.isSigned || affine)) || !fi.isInteger
                        ? fi.bits
                        : 0;
    if (!bits || (affine && (!fi.isInteger || !zpCst)) ||
        !(perChannel || grouped) || !dataCst || !scaleCst ||
        !(scheme.getScaleType().isF32() || scheme.getScaleType().isF16()))
      return fail(op, "only int2..int8 (symmetric, or affine with constant "
                      "zero points), nf4, fp4_e2m1 and fp8 weights (per "
                      "channel or grouped along K, f32 or f16 scales) run "
                      "natively on x86; got " +
                          stringifyQuantFormat(scheme.getFormat()).str());
    std::optional<Tensor> zp;
    if (affine) {
      FailureOr<Tensor> z = tensorFromConstant(zpCst.getValue());
      if (failed(z))
        return fail(op, "unreadable zero points");
      zp = std::move(*z);
    }
    FailureOr<Tensor> data = tensorFromConstant(dataCst.getValue());
    FailureOr<Tensor> scales = tensorFromConstant(scaleCst.getValue());
    if (failed(data) || failed(scales))
      return fail(op, "unreadable packed weight");
    std::string format = stringifyQuantFormat(scheme.getFormat()).str();
    // One table of code values per format, shared by its weights.
    auto valueTable = [&]() {
      auto [it, added] = lutOffsets.try_emplace(format, -1);
      if (added) {
        std::vector<float> lut(size_t(1) << bits);
        for (uint32_t c = 0; c < lut.size(); ++c)
          lut[c] = static_cast<float>(decodeCode(scheme.getFormat(), c));
        it->second = addWeight(format + ".values", lut, "f32");
      }
      return it->second;
    };
    if (llvm::all_of(qw->getUsers(), [](Operation *u) {
          auto n = dyn_cast<OnnxNodeOp>(u);
          return (n && n.getOpType() == "Gather") || isDepthwise(u);
        })) {
      // An embedding table or depthwise filters: whole rows, byte-aligned
      // ("FORMAT-rows"), so a gather decodes only the rows it reads and a
      // depthwise convolution one channel's taps at a time.
      int64_t rows = wt.getDimSize(0), cols = wt.getNumElements() / rows;
      int64_t g = grouped ? scheme.getGroupSize() : cols;
      int64_t groups = (cols + g - 1) / g, rowBytes = (cols * bits + 7) / 8;
      std::vector<uint8_t> packed(rows * rowBytes, 0);
      std::vector<float> sc(rows * groups), zs(affine ? rows * groups : 0);
      const uint8_t *bytes = data->data<uint8_t>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          writePackedCode(&packed[r * rowBytes], c, bits,
                          readPackedCode(bytes, r * cols + c, bits));
      for (int64_t i = 0; i < rows * groups; ++i) {
        sc[i] = static_cast<float>(scales->getDouble(i));
        if (affine)
          zs[i] = static_cast<float>(zp->getDouble(i));
      }
      info[qw.getResult()].packedOffset =
          addWeight(getNodeName(op), packed, format + "-rows");
      info[qw.getResult()].weightOffset =
          addWeight(getNodeName(op) + ".scales", sc, "f32");
      QWeightInfo q{bits, g, int64_t(packed.size()), -1, valueTable(), format};
      q.rows = true;
      if (affine)
        q.zeroPointOffset =
            addWeight(getNodeName(op) + ".zero_points", zs, "f32");
      qweights[qw.getResult()] = q;
      continue;
    }
    int64_t convGroups = 1;
    for (Operation *u : qw->getUsers())
      if (auto conv = dyn_cast<Conv2DOp>(u))
        convGroups = conv.getGroups();
    int64_t rows = wt.getDimSize(0) / convGroups;
    int64_t k = wt.getNumElements() / wt.getDimSize(0);
    int64_t g = grouped ? scheme.getGroupSize() : k;
    int64_t groups = (k + g - 1) / g, panels = (rows + kPanel - 1) / kPanel;
    int64_t rowBytes = kPanel * bits / 8;
    std::vector<uint8_t> packed(convGroups * panels * k * rowBytes, 0);
    std::vector<float> sc(convGroups * panels * groups * kPanel, 0.0f);
    std::vector<float> zs(affine ? sc.size() : 0, 0.0f);
    const uint8_t *bytes = data->data<uint8_t>();
    for (int64_t cg = 0; cg < convGroups; ++cg)
      for (int64_t r = 0; r < rows; ++r) {
        int64_t row = cg * rows + r, panel = cg * panels + r / kPanel;
        int64_t j = r % kPanel;
        for (int64_t kk = 0; kk < k; ++kk) {
          uint32_t code = readPackedCode(bytes, row * k + kk, bits);
          writePackedCode(&packed[(panel * k + kk) * rowBytes], j, bits, code);
        }
        for (int64_t gi = 0; gi < groups; ++gi) {
          sc[(panel * groups + gi) * kPanel + j] = static_cast<float>(
              scales->getDouble(row * groups + gi));
          if (affine)
            zs[(panel * groups + gi) * kPanel + j] =
                static_cast<float>(zp->getDouble(row * groups + gi));
        }
      }
    bool vnni = llvm::any_of(qw->getUsers(), [](Operation *u) {
      return static_cast<bool>(w8a8Input(u));
    });
    if (vnni) {
      // "s8-panel16x4" for the u8 x s8 kernel, with column sums and one
      // f32 scale per output channel.
      // A convolution's groups are stacked in whole panels.
      int64_t k4 = (k + 3) / 4;
      std::vector<int8_t> p4(convGroups * panels * k4 * 64, 0);
      std::vector<int32_t> colsum(convGroups * panels * kPanel, 0);
      std::vector<float> sw(convGroups * panels * kPanel, 0.0f);
      for (int64_t cg = 0; cg < convGroups; ++cg)
        for (int64_t r = 0; r < rows; ++r) {
          int64_t row = cg * rows + r, col = cg * panels * kPanel + r;
          for (int64_t kk = 0; kk < k; ++kk) {
            int8_t v =
                static_cast<int8_t>(readPackedCode(bytes, row * k + kk, 8));
            p4[(cg * panels + r / kPanel) * k4 * 64 + (kk / 4) * 64 +
               (r % kPanel) * 4 + kk % 4] = v;
            colsum[col] += v;
          }
          sw[col] = static_cast<float>(scales->getDouble(row));
        }
      int64_t off = addWeight(getNodeName(op), p4, "s8-panel16x4");
      int64_t coff = addWeight(getNodeName(op) + ".colsum", colsum, "i32");
      int64_t soff = addWeight(getNodeName(op) + ".scales", sw, "f32");
      info[qw.getResult()].packedOffset = off;
      info[qw.getResult()].weightOffset = soff;
      qweights[qw.getResult()] =
          QWeightInfo{8, k, int64_t(p4.size()), coff};
      continue;
    }
    std::string layout =
        (codebook ? format + "-" : "s" + std::to_string(bits) + "-") +
        "panel16";
    int64_t off = addWeight(getNodeName(op), packed, layout);
    int64_t soff = addWeight(getNodeName(op) + ".scales", sc, "f32");
    info[qw.getResult()].packedOffset = off;
    info[qw.getResult()].weightOffset = soff;
    QWeightInfo q{bits, g, int64_t(packed.size()), -1, -1, format};
    if (affine)
      q.zeroPointOffset =
          addWeight(getNodeName(op) + ".zero_points", zs, "f32");
    if (codebook)
      q.lutOffset = valueTable();
    qweights[qw.getResult()] = q;
  }
  for (Operation *op : ops) {
    auto cst = dyn_cast<arith::ConstantOp>(op);
    if (!cst)
      continue;
    Value v = cst.getResult();
    if (v.use_empty())
      continue;
    FailureOr<Tensor> t = tensorFromConstant(cst.getValue());
    if (failed(t))
      return op->emitError() << "unsupported by the x86 target: constant of "
                             << "type " << cst.getType();
    bool packed = false, plain = false;
    for (OpOperand &use : v.getUses()) {
      Operation *u = use.getOwner();
      if (isa<QWeightOp>(u))
        continue; // repacked with its qweight
      if ((isa<LinearOp, Conv2DOp>(u) && use.getOperandNumber() == 1 &&
           !isDepthwise(u)) ||
          isa<LowRankOp>(u)) // base and factors: [rows, K] panels alike
        packed = true;
      else
        plain = true;
    }
    if (!packed && !plain)
      continue;
    std::string wname = getNodeName(op);
    if (plain) {
      info[v].weightOffset = appendBlob(weights, t->raw(), t->byteSize());
      weightTable.emplace_back(wname, info[v].weightOffset, t->byteSize(),
                               "f32");
    }
    if (packed) {
      if (t->dtype() != DType::F32)
        return op->emitError()
               << "unsupported by the x86 target: non-f32 layer weight";
      // [N, K] (linear) or [O, C/g, kh, kw] (conv, per group): panels.
      SmallVector<int64_t> n_k;
      int64_t groups = 1;
      for (Operation *u : v.getUsers())
        if (auto conv = dyn_cast<Conv2DOp>(u))
          groups = conv.getGroups();
      int64_t rows = t->dim(0) / groups;
      int64_t k = t->numel() / t->dim(0);
      int64_t panels = (rows + kPanel - 1) / kPanel;
      std::vector<float> out(groups * panels * k * kPanel, 0.0f);
      const float *src = t->data<float>();
      for (int64_t g = 0; g < groups; ++g)
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t kk = 0; kk < k; ++kk)
            out[((g * panels + r / kPanel) * k + kk) * kPanel + r % kPanel] =
                src[(g * rows + r) * k + kk];
      info[v].packedOffset = addWeight(wname, out, "f32-panel16");
    }
  }
  weights.resize(alignUp(weights.size(), 64), '\0');
  return success();
}

} // namespace mlir::lowbit::x86
