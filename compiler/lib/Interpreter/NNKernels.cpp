//===- NNKernels.cpp - matmul, convolution, pooling, norms, reductions -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Products go through Eigen (OpenMP-parallel GEMM); convolution is im2col +
// GEMM per group. Everything is templated on float/double so f64 models run
// exactly.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include <Eigen/Core>

#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace mlir;
using namespace mlir::lowbit;
using namespace mlir::lowbit::interp;

namespace {

template <typename T>
using RowMat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// C[M,N] = A[M,K] · B[K,N] (row-major, with optional transposes).
template <typename T>
void gemm(const T *a, const T *b, T *c, int64_t m, int64_t n, int64_t k,
          bool transA = false, bool transB = false) {
  if (m == 0 || n == 0)
    return;
  Eigen::Map<RowMat<T>> C(c, m, n);
  if (k == 0) {
    C.setZero();
    return;
  }
  Eigen::Map<const RowMat<T>> A(a, transA ? k : m, transA ? m : k);
  Eigen::Map<const RowMat<T>> B(b, transB ? n : k, transB ? k : n);
  if (!transA && !transB)
    C.noalias() = A * B;
  else if (transA && !transB)
    C.noalias() = A.transpose() * B;
  else if (!transA && transB)
    C.noalias() = A * B.transpose();
  else
    C.noalias() = A.transpose() * B.transpose();
}

bool isF32orF64(const Tensor &t) {
  return t.dtype() == DType::F32 || t.dtype() == DType::F64;
}

//===----------------------------------------------------------------------===//
// MatMul / Gemm / Einsum
//===----------------------------------------------------------------------===//

/// NumPy matmul of any numeric type; integer results accumulate in int64.
LogicalResult matmulTensors(KernelContext &ctx, const Tensor &a0,
                            const Tensor &b0, Tensor &out, DType outType) {
  if (a0.rank() == 0 || b0.rank() == 0)
    return ctx.fail("MatMul operands must not be scalars");
  Tensor a = a0.rank() == 1 ? a0.reshaped({1, a0.dim(0)}) : a0;
  Tensor b = b0.rank() == 1 ? b0.reshaped({b0.dim(0), 1}) : b0;
  int64_t m = a.dim(a.rank() - 2), k = a.dim(a.rank() - 1);
  int64_t k2 = b.dim(b.rank() - 2), n = b.dim(b.rank() - 1);
  if (k != k2)
    return ctx.fail("inner dimensions differ: " + a0.describe() + " x " +
                    b0.describe());
  std::vector<int64_t> ba(a.shape().begin(), a.shape().end() - 2);
  std::vector<int64_t> bb(b.shape().begin(), b.shape().end() - 2);
  std::vector<int64_t> batch;
  if (!broadcastShapes(ba, bb, batch))
    return ctx.fail("batch dimensions do not broadcast: " + a0.describe() +
                    " x " + b0.describe());
  std::vector<int64_t> shape = batch;
  if (a0.rank() > 1)
    shape.push_back(m);
  if (b0.rank() > 1)
    shape.push_back(n);
  out = Tensor::zeros(outType, shape);
  int64_t nb = 1;
  for (int64_t d : batch)
    nb *= d;
  std::vector<int64_t> offA(nb), offB(nb);
  std::vector<int64_t> sa = broadcastStrides(ba, batch);
  std::vector<int64_t> sb = broadcastStrides(bb, batch);
  forEachIndex(batch, {sa, sb}, [&](int64_t i, const int64_t *off) {
    offA[i] = off[0];
    offB[i] = off[1];
  });
  if (nb == 1 && batch.empty()) {
    offA = {0};
    offB = {0};
  }
  if (a.dtype() == b.dtype() && a.dtype() == outType && isF32orF64(a)) {
    auto run = [&](auto *dummy) {
      using T = std::remove_pointer_t<decltype(dummy)>;
      const T *pa = a.data<T>(), *pb = b.data<T>();
      T *pc = out.data<T>();
#pragma omp parallel for if (nb > 1 && m * n * k > 4096)
      for (int64_t i = 0; i < nb; ++i)
        gemm<T>(pa + offA[i] * m * k, pb + offB[i] * k * n, pc + i * m * n, m,
                n, k);
    };
    if (a.dtype() == DType::F32)
      run(static_cast<float *>(nullptr));
    else
      run(static_cast<double *>(nullptr));
    return success();
  }
  // Integer (or mixed) path: exact int64 accumulation.
  for (int64_t i = 0; i < nb; ++i)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) {
        int64_t acc = 0;
        double facc = 0;
        for (int64_t t = 0; t < k; ++t) {
          int64_t ia = (offA[i] * m + r) * k + t;
          int64_t ib = (offB[i] * k + t) * n + c;
          if (isFloat(outType))
            facc += a.getDouble(ia) * b.getDouble(ib);
          else
            acc += a.getInt(ia) * b.getInt(ib);
        }
        int64_t o = (i * m + r) * n + c;
        LOWBIT_DISPATCH_ALL(outType, T, {
          out.data<T>()[o] = isFloat(outType) ? static_cast<T>(facc)
                                              : static_cast<T>(acc);
        });
      }
  return success();
}

LogicalResult matmulK(KernelContext &ctx) {
  Tensor out;
  if (failed(matmulTensors(ctx, ctx.in(0), ctx.in(1), out, ctx.in(0).dtype())))
    return failure();
  ctx.outputs = {out};
  return success();
}

LogicalResult gemmK(KernelContext &ctx) {
  const Tensor &a = ctx.in(0), &b = ctx.in(1);
  if (a.rank() != 2 || b.rank() != 2)
    return ctx.fail("A and B must be 2-D, got " + a.describe() + " and " +
                    b.describe());
  if (!isF32orF64(a) || a.dtype() != b.dtype())
    return ctx.notSupported(std::string("Gemm on ") + dtypeName(a.dtype()));
  bool ta = ctx.getInt("transA", 0), tb = ctx.getInt("transB", 0);
  double alpha = ctx.getFloat("alpha", 1.0f), beta = ctx.getFloat("beta", 1.0f);
  int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  int64_t k2 = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (k != k2)
    return ctx.fail("inner dimensions differ: " + a.describe() + " x " +
                    b.describe());
  Tensor y = Tensor::zeros(a.dtype(), {m, n});
  auto run = [&](auto *dummy) -> LogicalResult {
    using T = std::remove_pointer_t<decltype(dummy)>;
    gemm<T>(a.data<T>(), b.data<T>(), y.data<T>(), m, n, k, ta, tb);
    T *o = y.data<T>();
    if (alpha != 1.0)
      for (int64_t i = 0; i < m * n; ++i)
        o[i] *= static_cast<T>(alpha);
    if (ctx.hasInput(2) && beta != 0.0) {
      const Tensor &c = ctx.in(2);
      std::vector<int64_t> shape;
      if (!broadcastShapes(c.shape(), {m, n}, shape) ||
          shape != std::vector<int64_t>{m, n})
        return ctx.fail("C " + c.describe() + " does not broadcast to [" +
                        std::to_string(m) + "x" + std::to_string(n) + "]");
      Tensor cc = c.cast(a.dtype());
      const T *pc = cc.data<T>();
      forEachIndex(shape, {broadcastStrides(c.shape(), shape)},
                   [&](int64_t i, const int64_t *off) {
                     o[i] += static_cast<T>(beta) * pc[off[0]];
                   });
    }
    return success();
  };
  LogicalResult r = a.dtype() == DType::F32 ? run(static_cast<float *>(nullptr))
                                           : run(static_cast<double *>(nullptr));
  if (failed(r))
    return r;
  ctx.outputs = {y};
  return success();
}

/// General Einsum by direct summation over every index (exact; meant for the
/// small contractions ONNX models use it for).
LogicalResult einsumK(KernelContext &ctx) {
  std::string eq = ctx.getString("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  std::string lhs = eq, rhs;
  bool explicitOut = false;
  if (size_t p = eq.find("->"); p != std::string::npos) {
    lhs = eq.substr(0, p);
    rhs = eq.substr(p + 2);
    explicitOut = true;
  }
  std::vector<std::string> terms;
  for (size_t s = 0;;) {
    size_t c = lhs.find(',', s);
    terms.push_back(lhs.substr(s, c == std::string::npos ? c : c - s));
    if (c == std::string::npos)
      break;
    s = c + 1;
  }
  if (terms.size() != ctx.numInputs())
    return ctx.fail("equation has " + std::to_string(terms.size()) +
                    " operands but the node has " +
                    std::to_string(ctx.numInputs()));
  // Expand "..." into upper-case letters (ONNX equations use lower case).
  size_t ellRank = 0;
  for (size_t i = 0; i < terms.size(); ++i)
    if (terms[i].find("...") != std::string::npos)
      ellRank = std::max<size_t>(ellRank, ctx.in(i).rank() -
                                              (terms[i].size() - 3));
  auto expand = [&](std::string &term, int64_t rank) {
    size_t p = term.find("...");
    if (p == std::string::npos)
      return;
    size_t own = rank - (term.size() - 3);
    std::string ell;
    for (size_t j = ellRank - own; j < ellRank; ++j)
      ell.push_back('A' + j);
    term = term.substr(0, p) + ell + term.substr(p + 3);
  };
  for (size_t i = 0; i < terms.size(); ++i)
    expand(terms[i], ctx.in(i).rank());
  if (explicitOut) {
    size_t p = rhs.find("...");
    if (p != std::string::npos) {
      std::string ell;
      for (size_t j = 0; j < ellRank; ++j)
        ell.push_back('A' + j);
      rhs = rhs.substr(0, p) + ell + rhs.substr(p + 3);
    }
  } else {
    std::map<char, int> count;
    for (auto &t : terms)
      for (char c : t)
        ++count[c];
    for (size_t j = 0; j < ellRank; ++j)
      rhs.push_back('A' + j);
    for (auto &[c, n] : count)
      if (n == 1 && c >= 'a')
        rhs.push_back(c);
  }
  std::map<char, int64_t> dims;
  for (size_t i = 0; i < terms.size(); ++i) {
    if (static_cast<int64_t>(terms[i].size()) != ctx.in(i).rank())
      return ctx.fail("operand " + std::to_string(i) + " rank does not match '" +
                      terms[i] + "'");
    for (size_t j = 0; j < terms[i].size(); ++j) {
      int64_t d = ctx.in(i).dim(j);
      auto [it, inserted] = dims.insert({terms[i][j], d});
      if (!inserted && it->second != d) {
        if (it->second == 1)
          it->second = d;
        else if (d != 1)
          return ctx.fail(std::string("dimension mismatch for index '") +
                          terms[i][j] + "'");
      }
    }
  }
  std::vector<char> letters;
  for (auto &[c, d] : dims)
    letters.push_back(c);
  std::vector<int64_t> loopShape;
  for (char c : letters)
    loopShape.push_back(dims[c]);
  auto stridesFor = [&](const std::string &term,
                        const std::vector<int64_t> &shape) {
    std::vector<int64_t> cs = contiguousStrides(shape);
    std::vector<int64_t> s(letters.size(), 0);
    for (size_t j = 0; j < term.size(); ++j) {
      size_t li = std::find(letters.begin(), letters.end(), term[j]) -
                  letters.begin();
      if (shape[j] != 1)
        s[li] += cs[j];
    }
    return s;
  };
  std::vector<int64_t> outShape;
  for (char c : rhs)
    outShape.push_back(dims[c]);
  std::vector<std::vector<int64_t>> strides;
  std::vector<Tensor> ins;
  for (size_t i = 0; i < terms.size(); ++i) {
    ins.push_back(ctx.in(i).cast(DType::F64));
    strides.push_back(stridesFor(terms[i], ctx.in(i).shape()));
  }
  strides.push_back(stridesFor(rhs, outShape));
  Tensor acc = Tensor::zeros(DType::F64, outShape);
  forEachIndex(loopShape, strides, [&](int64_t, const int64_t *off) {
    double p = 1;
    for (size_t i = 0; i < ins.size(); ++i)
      p *= ins[i].data<double>()[off[i]];
    acc.data<double>()[off[ins.size()]] += p;
  });
  ctx.outputs = {acc.cast(ctx.in(0).dtype())};
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

/// Spatial geometry shared by Conv, ConvTranspose and the pools.
struct Window {
  std::vector<int64_t> in, kernel, strides, dilations, padBegin, padEnd, out;
};

/// Resolves strides/dilations/pads/auto_pad for `spatial` dims; `ceil` picks
/// ceil_mode output sizes (pools).
LogicalResult resolveWindow(KernelContext &ctx, Window &w, bool ceil = false) {
  size_t r = w.in.size();
  w.strides = ctx.getInts("strides");
  w.dilations = ctx.getInts("dilations");
  std::vector<int64_t> pads = ctx.getInts("pads");
  if (w.strides.empty())
    w.strides.assign(r, 1);
  if (w.dilations.empty())
    w.dilations.assign(r, 1);
  if (pads.empty())
    pads.assign(2 * r, 0);
  if (w.strides.size() != r || w.dilations.size() != r || pads.size() != 2 * r)
    return ctx.fail("strides, dilations or pads have the wrong length for " +
                    std::to_string(r) + " spatial dimensions");
  std::string autoPad = ctx.getString("auto_pad", "NOTSET");
  w.padBegin.assign(pads.begin(), pads.begin() + r);
  w.padEnd.assign(pads.begin() + r, pads.end());
  w.out.resize(r);
  for (size_t i = 0; i < r; ++i) {
    if (w.strides[i] <= 0 || w.dilations[i] <= 0)
      return ctx.fail("strides and dilations must be positive");
    int64_t span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      w.out[i] = (w.in[i] + w.strides[i] - 1) / w.strides[i];
      int64_t total =
          std::max<int64_t>(0, (w.out[i] - 1) * w.strides[i] + span - w.in[i]);
      int64_t small = total / 2, large = total - small;
      w.padBegin[i] = autoPad == "SAME_UPPER" ? small : large;
      w.padEnd[i] = autoPad == "SAME_UPPER" ? large : small;
      continue;
    }
    if (autoPad == "VALID")
      w.padBegin[i] = w.padEnd[i] = 0;
    int64_t padded = w.in[i] + w.padBegin[i] + w.padEnd[i] - span;
    if (padded < 0)
      return ctx.fail("kernel does not fit in the padded input");
    if (ceil) {
      w.out[i] = (padded + w.strides[i] - 1) / w.strides[i] + 1;
      // The last window must start inside the input or the begin padding.
      if ((w.out[i] - 1) * w.strides[i] >= w.in[i] + w.padBegin[i])
        --w.out[i];
    } else {
      w.out[i] = padded / w.strides[i] + 1;
    }
  }
  return success();
}

template <typename T>
void convImpl(const Tensor &x, const Tensor &wt, const Tensor *bias,
              Tensor &y, const Window &w, int64_t group) {
  int64_t n = x.dim(0), c = x.dim(1), m = wt.dim(0);
  int64_t cg = c / group, mg = m / group;
  size_t r = w.in.size();
  int64_t inSize = 1, outSize = 1, kSize = 1;
  for (size_t i = 0; i < r; ++i) {
    inSize *= w.in[i];
    outSize *= w.out[i];
    kSize *= w.kernel[i];
  }
  // Precompute, for every (kernel offset, output position), the input
  // offset or -1 for padding.
  std::vector<int64_t> map(kSize * outSize);
  std::vector<int64_t> inStrides = contiguousStrides(w.in);
  std::vector<int64_t> kIdx(r), oIdx(r);
  for (int64_t kk = 0; kk < kSize; ++kk) {
    int64_t rem = kk;
    for (int64_t d = r - 1; d >= 0; --d) {
      kIdx[d] = rem % w.kernel[d];
      rem /= w.kernel[d];
    }
    for (int64_t o = 0; o < outSize; ++o) {
      int64_t rem2 = o, off = 0;
      bool inside = true;
      for (int64_t d = r - 1; d >= 0; --d) {
        oIdx[d] = rem2 % w.out[d];
        rem2 /= w.out[d];
        int64_t pos = oIdx[d] * w.strides[d] - w.padBegin[d] +
                      kIdx[d] * w.dilations[d];
        if (pos < 0 || pos >= w.in[d])
          inside = false;
        off += pos * inStrides[d];
      }
      map[kk * outSize + o] = inside ? off : -1;
    }
  }
  const T *px = x.data<T>();
  const T *pw = wt.data<T>();
  T *py = y.data<T>();
  std::vector<T> cols(cg * kSize * outSize);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < group; ++g) {
      const T *xg = px + (b * c + g * cg) * inSize;
#pragma omp parallel for if (cg * kSize * outSize > 65536)
      for (int64_t ci = 0; ci < cg; ++ci)
        for (int64_t kk = 0; kk < kSize; ++kk) {
          T *row = cols.data() + (ci * kSize + kk) * outSize;
          const int64_t *mrow = map.data() + kk * outSize;
          const T *xc = xg + ci * inSize;
          for (int64_t o = 0; o < outSize; ++o)
            row[o] = mrow[o] >= 0 ? xc[mrow[o]] : T(0);
        }
      gemm<T>(pw + g * mg * cg * kSize, cols.data(),
              py + (b * m + g * mg) * outSize, mg, outSize, cg * kSize);
    }
  if (bias) {
    const T *pb = bias->data<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oc = 0; oc < m; ++oc) {
        T *row = py + (b * m + oc) * outSize;
        for (int64_t o = 0; o < outSize; ++o)
          row[o] += pb[oc];
      }
  }
}

LogicalResult convK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &wt = ctx.in(1);
  if (x.rank() < 3 || wt.rank() != x.rank())
    return ctx.fail("X " + x.describe() + " and W " + wt.describe() +
                    " must have the same rank, at least 3");
  if (!isF32orF64(x) || x.dtype() != wt.dtype())
    return ctx.notSupported(std::string("Conv on ") + dtypeName(x.dtype()));
  int64_t group = ctx.getInt("group", 1);
  if (group <= 0 || x.dim(1) % group || wt.dim(0) % group ||
      wt.dim(1) * group != x.dim(1))
    return ctx.fail("X has " + std::to_string(x.dim(1)) +
                    " channels, W " + wt.describe() + ", group " +
                    std::to_string(group) + ": inconsistent");
  Window w;
  w.in.assign(x.shape().begin() + 2, x.shape().end());
  w.kernel.assign(wt.shape().begin() + 2, wt.shape().end());
  std::vector<int64_t> ks = ctx.getInts("kernel_shape");
  if (!ks.empty() && ks != w.kernel)
    return ctx.fail("kernel_shape does not match W");
  if (failed(resolveWindow(ctx, w)))
    return failure();
  std::vector<int64_t> shape = {x.dim(0), wt.dim(0)};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  Tensor y = Tensor::zeros(x.dtype(), shape);
  const Tensor *bias = ctx.hasInput(2) ? &ctx.in(2) : nullptr;
  if (bias && bias->numel() != wt.dim(0))
    return ctx.fail("B has " + std::to_string(bias->numel()) +
                    " elements for " + std::to_string(wt.dim(0)) +
                    " output channels");
  if (x.dtype() == DType::F32)
    convImpl<float>(x, wt, bias, y, w, group);
  else
    convImpl<double>(x, wt, bias, y, w, group);
  ctx.outputs = {y};
  return success();
}

template <typename T>
void convTransposeImpl(const Tensor &x, const Tensor &wt, const Tensor *bias,
                       Tensor &y, const Window &w, int64_t group) {
  int64_t n = x.dim(0), c = x.dim(1);
  int64_t cg = c / group, mg = wt.dim(1), m = mg * group;
  size_t r = w.in.size();
  int64_t inSize = 1, outSize = 1, kSize = 1;
  for (size_t i = 0; i < r; ++i) {
    inSize *= w.in[i];
    outSize *= w.out[i];
    kSize *= w.kernel[i];
  }
  std::vector<int64_t> outStrides = contiguousStrides(w.out);
  std::vector<T> cols(mg * kSize * inSize);
  const T *px = x.data<T>(), *pw = wt.data<T>();
  T *py = y.data<T>();
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < group; ++g) {
      // cols[mg*k, in] = W_g^T [mg*k, cg] · X_g [cg, in]
      gemm<T>(pw + g * cg * mg * kSize, px + (b * c + g * cg) * inSize,
              cols.data(), mg * kSize, inSize, cg, /*transA=*/true);
      for (int64_t oc = 0; oc < mg; ++oc)
        for (int64_t kk = 0; kk < kSize; ++kk) {
          std::vector<int64_t> kIdx(r);
          int64_t rem = kk;
          for (int64_t d = r - 1; d >= 0; --d) {
            kIdx[d] = rem % w.kernel[d];
            rem /= w.kernel[d];
          }
          const T *row = cols.data() + (oc * kSize + kk) * inSize;
          T *yo = py + (b * m + g * mg + oc) * outSize;
          for (int64_t i = 0; i < inSize; ++i) {
            int64_t rem2 = i, off = 0;
            bool inside = true;
            for (int64_t d = r - 1; d >= 0; --d) {
              int64_t id = rem2 % w.in[d];
              rem2 /= w.in[d];
              int64_t pos = id * w.strides[d] - w.padBegin[d] +
                            kIdx[d] * w.dilations[d];
              if (pos < 0 || pos >= w.out[d])
                inside = false;
              off += pos * outStrides[d];
            }
            if (inside)
              yo[off] += row[i];
          }
        }
    }
  if (bias)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t oc = 0; oc < m; ++oc)
        for (int64_t o = 0; o < outSize; ++o)
          py[(b * m + oc) * outSize + o] += bias->data<T>()[oc];
}

LogicalResult convTransposeK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0), &wt = ctx.in(1);
  if (x.rank() < 3 || wt.rank() != x.rank())
    return ctx.fail("X and W must have the same rank, at least 3");
  if (!isF32orF64(x) || x.dtype() != wt.dtype())
    return ctx.notSupported(std::string("ConvTranspose on ") +
                            dtypeName(x.dtype()));
  int64_t group = ctx.getInt("group", 1);
  if (group <= 0 || x.dim(1) != wt.dim(0) || x.dim(1) % group)
    return ctx.fail("channels of X and W are inconsistent");
  size_t r = x.rank() - 2;
  Window w;
  w.in.assign(x.shape().begin() + 2, x.shape().end());
  w.kernel.assign(wt.shape().begin() + 2, wt.shape().end());
  w.strides = ctx.getInts("strides");
  w.dilations = ctx.getInts("dilations");
  std::vector<int64_t> pads = ctx.getInts("pads");
  std::vector<int64_t> outPad = ctx.getInts("output_padding");
  std::vector<int64_t> outShape = ctx.getInts("output_shape");
  if (w.strides.empty())
    w.strides.assign(r, 1);
  if (w.dilations.empty())
    w.dilations.assign(r, 1);
  if (pads.empty())
    pads.assign(2 * r, 0);
  if (outPad.empty())
    outPad.assign(r, 0);
  if (outShape.size() > r)
    outShape.erase(outShape.begin(), outShape.end() - r);
  std::string autoPad = ctx.getString("auto_pad", "NOTSET");
  w.padBegin.assign(pads.begin(), pads.begin() + r);
  w.padEnd.assign(pads.begin() + r, pads.end());
  w.out.resize(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t span = (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t full = w.strides[i] * (w.in[i] - 1) + outPad[i] + span;
    if (!outShape.empty() || autoPad == "SAME_UPPER" ||
        autoPad == "SAME_LOWER") {
      int64_t target =
          !outShape.empty() ? outShape[i] : w.in[i] * w.strides[i];
      int64_t total = std::max<int64_t>(0, full - target);
      bool lower = autoPad == "SAME_LOWER";
      w.padBegin[i] = lower ? total - total / 2 : total / 2;
      w.padEnd[i] = total - w.padBegin[i];
      w.out[i] = target;
    } else {
      if (autoPad == "VALID")
        w.padBegin[i] = w.padEnd[i] = 0;
      w.out[i] = full - w.padBegin[i] - w.padEnd[i];
    }
    if (w.out[i] <= 0)
      return ctx.fail("output size is not positive");
  }
  std::vector<int64_t> shape = {x.dim(0), wt.dim(1) * group};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  Tensor y = Tensor::zeros(x.dtype(), shape);
  const Tensor *bias = ctx.hasInput(2) ? &ctx.in(2) : nullptr;
  if (x.dtype() == DType::F32)
    convTransposeImpl<float>(x, wt, bias, y, w, group);
  else
    convTransposeImpl<double>(x, wt, bias, y, w, group);
  ctx.outputs = {y};
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

template <typename T>
void poolImpl(const Tensor &x, Tensor &y, Tensor *indices, const Window &w,
              bool isMax, bool countIncludePad, int64_t lp = 0) {
  int64_t nc = x.dim(0) * x.dim(1);
  size_t r = w.in.size();
  int64_t inSize = 1, outSize = 1, kSize = 1;
  for (size_t i = 0; i < r; ++i) {
    inSize *= w.in[i];
    outSize *= w.out[i];
    kSize *= w.kernel[i];
  }
  std::vector<int64_t> inStrides = contiguousStrides(w.in);
  const T *px = x.data<T>();
  T *py = y.data<T>();
#pragma omp parallel for if (nc * outSize * kSize > 65536)
  for (int64_t p = 0; p < nc; ++p) {
    std::vector<int64_t> oIdx(r), kIdx(r);
    for (int64_t o = 0; o < outSize; ++o) {
      int64_t rem = o;
      for (int64_t d = r - 1; d >= 0; --d) {
        oIdx[d] = rem % w.out[d];
        rem /= w.out[d];
      }
      double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
      int64_t best = -1, count = 0, padCount = 0;
      for (int64_t kk = 0; kk < kSize; ++kk) {
        int64_t rem2 = kk, off = 0;
        bool inside = true, inPadded = true;
        for (int64_t d = r - 1; d >= 0; --d) {
          kIdx[d] = rem2 % w.kernel[d];
          rem2 /= w.kernel[d];
          int64_t pos = oIdx[d] * w.strides[d] - w.padBegin[d] +
                        kIdx[d] * w.dilations[d];
          if (pos < 0 || pos >= w.in[d])
            inside = false;
          if (pos < -w.padBegin[d] || pos >= w.in[d] + w.padEnd[d])
            inPadded = false;
          off += pos * inStrides[d];
        }
        if (inPadded)
          ++padCount;
        if (!inside)
          continue;
        double v = px[p * inSize + off];
        ++count;
        if (isMax) {
          // A NaN in the window is the maximum (NumPy's max, the ONNX
          // reference); the first one wins.
          if (best < 0 || (!std::isnan(acc) && (std::isnan(v) || v > acc))) {
            acc = v;
            best = p * inSize + off;
          }
        } else if (lp) {
          acc += std::pow(std::abs(v), static_cast<double>(lp));
        } else {
          acc += v;
        }
      }
      if (lp)
        acc = std::pow(acc, 1.0 / lp);
      else if (!isMax)
        acc /= std::max<int64_t>(1, countIncludePad ? padCount : count);
      py[p * outSize + o] = static_cast<T>(acc);
      if (indices)
        indices->data<int64_t>()[p * outSize + o] = best;
    }
  }
}

LogicalResult poolK(KernelContext &ctx, bool isMax, int64_t lp = 0) {
  const Tensor &x = ctx.in(0);
  if (x.rank() < 3)
    return ctx.fail("input must have rank at least 3, got " + x.describe());
  if (!isF32orF64(x))
    return ctx.notSupported(std::string("pooling on ") + dtypeName(x.dtype()));
  Window w;
  w.in.assign(x.shape().begin() + 2, x.shape().end());
  w.kernel = ctx.getInts("kernel_shape");
  if (w.kernel.size() != w.in.size())
    return ctx.fail("kernel_shape must have one entry per spatial dimension");
  if (failed(resolveWindow(ctx, w, ctx.getInt("ceil_mode", 0))))
    return failure();
  if (ctx.getInt("storage_order", 0) != 0)
    return ctx.notSupported("storage_order = 1");
  std::vector<int64_t> shape = {x.dim(0), x.dim(1)};
  shape.insert(shape.end(), w.out.begin(), w.out.end());
  Tensor y = Tensor::zeros(x.dtype(), shape);
  Tensor idx;
  bool wantIdx = isMax && ctx.numOutputs > 1;
  if (wantIdx)
    idx = Tensor::zeros(DType::I64, shape);
  bool cip = ctx.getInt("count_include_pad", 0);
  if (x.dtype() == DType::F32)
    poolImpl<float>(x, y, wantIdx ? &idx : nullptr, w, isMax, cip, lp);
  else
    poolImpl<double>(x, y, wantIdx ? &idx : nullptr, w, isMax, cip, lp);
  ctx.outputs = {y};
  if (wantIdx)
    ctx.outputs.push_back(idx);
  return success();
}

LogicalResult maxPoolK(KernelContext &ctx) { return poolK(ctx, true); }
LogicalResult averagePoolK(KernelContext &ctx) { return poolK(ctx, false); }
LogicalResult lpPoolK(KernelContext &ctx) {
  return poolK(ctx, false, ctx.getInt("p", 2));
}

LogicalResult globalPoolK(KernelContext &ctx, bool isMax, int64_t lp = 0) {
  const Tensor &x = ctx.in(0);
  if (x.rank() < 3 || !isF32orF64(x))
    return ctx.fail("needs a float input of rank at least 3");
  int64_t nc = x.dim(0) * x.dim(1), inner = x.numel() / std::max<int64_t>(nc, 1);
  std::vector<int64_t> shape(x.rank(), 1);
  shape[0] = x.dim(0);
  shape[1] = x.dim(1);
  Tensor y = Tensor::zeros(x.dtype(), shape);
  for (int64_t p = 0; p < nc; ++p) {
    double acc = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
    for (int64_t i = 0; i < inner; ++i) {
      double v = x.getDouble(p * inner + i);
      if (isMax)
        acc = std::isnan(acc) || std::isnan(v) ? std::numeric_limits<double>::quiet_NaN()
                                               : std::max(acc, v);
      else if (lp)
        acc += std::pow(std::abs(v), static_cast<double>(lp));
      else
        acc += v;
    }
    if (lp)
      acc = std::pow(acc, 1.0 / lp);
    else if (!isMax)
      acc /= inner;
    if (x.dtype() == DType::F32)
      y.data<float>()[p] = static_cast<float>(acc);
    else
      y.data<double>()[p] = acc;
  }
  ctx.outputs = {y};
  return success();
}

LogicalResult globalAveragePoolK(KernelContext &ctx) {
  return globalPoolK(ctx, false);
}
LogicalResult globalMaxPoolK(KernelContext &ctx) {
  return globalPoolK(ctx, true);
}
LogicalResult globalLpPoolK(KernelContext &ctx) {
  return globalPoolK(ctx, false, ctx.getInt("p", 2));
}

//===----------------------------------------------------------------------===//
// Normalizations and softmax
//===----------------------------------------------------------------------===//

LogicalResult batchNormK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  if (ctx.getInt("training_mode", 0))
    return ctx.notSupported("training_mode = 1");
  if (x.rank() < 2 || !isF32orF64(x))
    return ctx.fail("X must be a float tensor of rank at least 2");
  double eps = ctx.getFloat("epsilon", 1e-5f);
  int64_t n = x.dim(0), c = x.dim(1), inner = x.numel() / std::max<int64_t>(n * c, 1);
  for (int i = 1; i <= 4; ++i)
    if (ctx.in(i).numel() != c)
      return ctx.fail("parameter " + std::to_string(i) + " has " +
                      std::to_string(ctx.in(i).numel()) + " elements for " +
                      std::to_string(c) + " channels");
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  for (int64_t ch = 0; ch < c; ++ch) {
    double scale = ctx.in(1).getDouble(ch) /
                   std::sqrt(ctx.in(4).getDouble(ch) + eps);
    double shift = ctx.in(2).getDouble(ch) - ctx.in(3).getDouble(ch) * scale;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t o = (b * c + ch) * inner + i;
        double v = x.getDouble(o) * scale + shift;
        if (x.dtype() == DType::F32)
          y.data<float>()[o] = static_cast<float>(v);
        else
          y.data<double>()[o] = v;
      }
  }
  ctx.outputs = {y};
  for (size_t i = 1; i < ctx.numOutputs; ++i)
    ctx.outputs.push_back(ctx.in(i + 2));
  return success();
}

LogicalResult instanceNormK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  if (x.rank() < 3 || !isF32orF64(x))
    return ctx.fail("X must be a float tensor of rank at least 3");
  double eps = ctx.getFloat("epsilon", 1e-5f);
  int64_t n = x.dim(0), c = x.dim(1), inner = x.numel() / (n * c);
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      int64_t base = (b * c + ch) * inner;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < inner; ++i)
        mean += x.getDouble(base + i);
      mean /= inner;
      for (int64_t i = 0; i < inner; ++i) {
        double d = x.getDouble(base + i) - mean;
        var += d * d;
      }
      var /= inner;
      double s = ctx.in(1).getDouble(ch) / std::sqrt(var + eps);
      double sh = ctx.in(2).getDouble(ch);
      for (int64_t i = 0; i < inner; ++i) {
        double v = (x.getDouble(base + i) - mean) * s + sh;
        if (x.dtype() == DType::F32)
          y.data<float>()[base + i] = static_cast<float>(v);
        else
          y.data<double>()[base + i] = v;
      }
    }
  ctx.outputs = {y};
  return success();
}

LogicalResult layerNormK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  if (!isF32orF64(x))
    return ctx.notSupported(std::string("LayerNormalization on ") +
                            dtypeName(x.dtype()));
  int64_t axis = ctx.getInt("axis", -1);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  double eps = ctx.getFloat("epsilon", 1e-5f);
  int64_t outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  int64_t inner = outer ? x.numel() / outer : 0;
  std::vector<int64_t> normShape(x.shape().begin() + axis, x.shape().end());
  auto expandParam = [&](const Tensor &p) {
    std::vector<int64_t> shape;
    Tensor out = Tensor::zeros(DType::F64, normShape);
    if (!broadcastShapes(p.shape(), normShape, shape) || shape != normShape)
      return Tensor();
    Tensor pd = p.cast(DType::F64);
    forEachIndex(normShape, {broadcastStrides(p.shape(), normShape)},
                 [&](int64_t i, const int64_t *off) {
                   out.data<double>()[i] = pd.data<double>()[off[0]];
                 });
    return out;
  };
  Tensor scale = expandParam(ctx.in(1));
  Tensor bias;
  if (ctx.hasInput(2))
    bias = expandParam(ctx.in(2));
  if (!scale.valid() || (ctx.hasInput(2) && !bias.valid()))
    return ctx.fail("Scale or B does not broadcast to the normalized shape");
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  std::vector<int64_t> statShape(x.shape().begin(), x.shape().begin() + axis);
  statShape.resize(x.rank(), 1);
  Tensor meanT = Tensor::zeros(DType::F32, statShape);
  Tensor invStd = Tensor::zeros(DType::F32, statShape);
#pragma omp parallel for if (outer * inner > 65536)
  for (int64_t o = 0; o < outer; ++o) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i)
      mean += x.getDouble(o * inner + i);
    mean /= inner;
    for (int64_t i = 0; i < inner; ++i) {
      double d = x.getDouble(o * inner + i) - mean;
      var += d * d;
    }
    var /= inner;
    double inv = 1.0 / std::sqrt(var + eps);
    meanT.data<float>()[o] = static_cast<float>(mean);
    invStd.data<float>()[o] = static_cast<float>(inv);
    for (int64_t i = 0; i < inner; ++i) {
      double v = (x.getDouble(o * inner + i) - mean) * inv *
                     scale.data<double>()[i] +
                 (bias.valid() ? bias.data<double>()[i] : 0.0);
      if (x.dtype() == DType::F32)
        y.data<float>()[o * inner + i] = static_cast<float>(v);
      else
        y.data<double>()[o * inner + i] = v;
    }
  }
  ctx.outputs = {y, meanT, invStd};
  ctx.outputs.resize(ctx.numOutputs);
  return success();
}

/// Softmax family. Before opset 13 the input is coerced to 2-D at `axis`.
LogicalResult softmaxFamily(KernelContext &ctx, int kind) {
  const Tensor &x = ctx.in(0);
  if (!isF32orF64(x))
    return ctx.notSupported(std::string("softmax on ") + dtypeName(x.dtype()));
  bool legacy = ctx.opset < 13;
  int64_t axis = ctx.getInt("axis", legacy ? 1 : -1);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  if (legacy) {
    len = outer ? x.numel() / outer : 0;
  } else {
    len = x.dim(axis);
    for (int64_t d = axis + 1; d < x.rank(); ++d)
      inner *= x.dim(d);
  }
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
#pragma omp parallel for if (outer * len * inner > 65536)
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * len + k) * inner + i; };
      double mx = -std::numeric_limits<double>::infinity();
      int64_t arg = 0;
      for (int64_t k = 0; k < len; ++k) {
        double v = x.getDouble(at(k));
        if (v > mx) {
          mx = v;
          arg = k;
        }
      }
      double sum = 0;
      for (int64_t k = 0; k < len; ++k)
        sum += std::exp(x.getDouble(at(k)) - mx);
      for (int64_t k = 0; k < len; ++k) {
        double v = x.getDouble(at(k));
        double r = kind == 0   ? std::exp(v - mx) / sum
                   : kind == 1 ? v - mx - std::log(sum)
                               : (k == arg ? 1.0 : 0.0);
        if (x.dtype() == DType::F32)
          y.data<float>()[at(k)] = static_cast<float>(r);
        else
          y.data<double>()[at(k)] = r;
      }
    }
  ctx.outputs = {y};
  return success();
}

LogicalResult softmaxK(KernelContext &ctx) { return softmaxFamily(ctx, 0); }
LogicalResult logSoftmaxK(KernelContext &ctx) { return softmaxFamily(ctx, 1); }
LogicalResult hardmaxK(KernelContext &ctx) { return softmaxFamily(ctx, 2); }

LogicalResult lrnK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  if (x.rank() < 3 || !isF32orF64(x))
    return ctx.fail("X must be a float tensor of rank at least 3");
  double alpha = ctx.getFloat("alpha", 1e-4f), beta = ctx.getFloat("beta", 0.75f),
         bias = ctx.getFloat("bias", 1.0f);
  int64_t size = ctx.getInt("size", 1);
  int64_t n = x.dim(0), c = x.dim(1), inner = x.numel() / (n * c);
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t i = 0; i < inner; ++i) {
        double sq = 0;
        for (int64_t k = std::max<int64_t>(0, ch - lo);
             k <= std::min<int64_t>(c - 1, ch + hi); ++k) {
          double v = x.getDouble((b * c + k) * inner + i);
          sq += v * v;
        }
        int64_t o = (b * c + ch) * inner + i;
        double v = x.getDouble(o) / std::pow(bias + alpha / size * sq, beta);
        if (x.dtype() == DType::F32)
          y.data<float>()[o] = static_cast<float>(v);
        else
          y.data<double>()[o] = v;
      }
  ctx.outputs = {y};
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class Reduce { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

LogicalResult reduceK(KernelContext &ctx, Reduce kind) {
  const Tensor &x = ctx.in(0);
  bool axesAsInput =
      ctx.opset >= (ctx.opType == "ReduceSum" ? 13 : 18);
  std::vector<int64_t> axes =
      axesAsInput ? (ctx.hasInput(1) ? toInts(ctx.in(1)) : std::vector<int64_t>{})
                  : ctx.getInts("axes");
  bool keep = ctx.getInt("keepdims", 1);
  if (axes.empty() && ctx.getInt("noop_with_empty_axes", 0)) {
    ctx.outputs = {x};
    return success();
  }
  std::vector<bool> reduced(x.rank(), axes.empty());
  for (int64_t a : axes) {
    if (!normalizeAxis(a, x.rank()))
      return ctx.fail("axis out of range");
    reduced[a] = true;
  }
  std::vector<int64_t> keptShape(x.rank()), outShape;
  for (int64_t d = 0; d < x.rank(); ++d) {
    keptShape[d] = reduced[d] ? 1 : x.dim(d);
    if (!reduced[d] || keep)
      outShape.push_back(keptShape[d]);
  }
  int64_t outN = 1;
  for (int64_t d : keptShape)
    outN *= d;
  int64_t count = outN ? x.numel() / outN : 0;
  bool integer = !isFloat(x.dtype());
  double init = 0;
  if (kind == Reduce::Max)
    init = -std::numeric_limits<double>::infinity();
  else if (kind == Reduce::Min)
    init = std::numeric_limits<double>::infinity();
  else if (kind == Reduce::Prod)
    init = 1;
  std::vector<double> acc(outN, init);
  std::vector<int64_t> iacc(outN, kind == Reduce::Prod ? 1 : 0);
  std::vector<int64_t> outStrides = contiguousStrides(keptShape);
  for (int64_t d = 0; d < x.rank(); ++d)
    if (reduced[d])
      outStrides[d] = 0;
  // LogSumExp subtracts the max for stability: first pass finds it.
  std::vector<double> mx(outN, -std::numeric_limits<double>::infinity());
  if (kind == Reduce::LogSumExp)
    forEachIndex(x.shape(), {outStrides}, [&](int64_t n, const int64_t *off) {
      mx[off[0]] = std::max(mx[off[0]], x.getDouble(n));
    });
  bool useInt = integer && (kind == Reduce::Sum || kind == Reduce::Prod ||
                            kind == Reduce::SumSquare || kind == Reduce::L1);
  forEachIndex(x.shape(), {outStrides}, [&](int64_t n, const int64_t *off) {
    if (useInt) {
      int64_t v = x.getInt(n);
      int64_t &a = iacc[off[0]];
      switch (kind) {
      case Reduce::Sum:
        a += v;
        break;
      case Reduce::Prod:
        a *= v;
        break;
      case Reduce::SumSquare:
        a += v * v;
        break;
      default:
        a += v < 0 ? -v : v;
        break;
      }
      return;
    }
    double v = x.getDouble(n);
    double &a = acc[off[0]];
    switch (kind) {
    case Reduce::Sum:
    case Reduce::Mean:
    case Reduce::LogSum:
      a += v;
      break;
    case Reduce::Max: // NaN propagates, as in NumPy
      a = std::isnan(a) || std::isnan(v) ? v + a : std::max(a, v);
      break;
    case Reduce::Min:
      a = std::isnan(a) || std::isnan(v) ? v + a : std::min(a, v);
      break;
    case Reduce::Prod:
      a *= v;
      break;
    case Reduce::L1:
      a += std::abs(v);
      break;
    case Reduce::L2:
    case Reduce::SumSquare:
      a += v * v;
      break;
    case Reduce::LogSumExp:
      a += std::exp(v - mx[off[0]]);
      break;
    }
  });
  Tensor y = Tensor::zeros(x.dtype(), outShape);
  for (int64_t i = 0; i < outN; ++i) {
    double v = acc[i];
    if (kind == Reduce::Mean)
      v /= count;
    else if (kind == Reduce::L2)
      v = std::sqrt(v);
    else if (kind == Reduce::LogSum)
      v = std::log(v);
    else if (kind == Reduce::LogSumExp)
      v = std::log(v) + mx[i];
    LOWBIT_DISPATCH_ALL(x.dtype(), T, {
      if (useInt) {
        y.data<T>()[i] = static_cast<T>(iacc[i]);
      } else if constexpr (std::is_integral_v<T>) {
        if (std::isinf(v))
          v = v > 0 ? static_cast<double>(std::numeric_limits<T>::max())
                    : static_cast<double>(std::numeric_limits<T>::lowest());
        y.data<T>()[i] = static_cast<T>(v);
      } else {
        y.data<T>()[i] = static_cast<T>(v);
      }
    });
  }
  ctx.outputs = {y};
  return success();
}

#define REDUCE(NAME, KIND)                                                     \
  LogicalResult NAME(KernelContext &ctx) { return reduceK(ctx, KIND); }
REDUCE(reduceSumK, Reduce::Sum)
REDUCE(reduceMeanK, Reduce::Mean)
REDUCE(reduceMaxK, Reduce::Max)
REDUCE(reduceMinK, Reduce::Min)
REDUCE(reduceProdK, Reduce::Prod)
REDUCE(reduceL1K, Reduce::L1)
REDUCE(reduceL2K, Reduce::L2)
REDUCE(reduceLogSumK, Reduce::LogSum)
REDUCE(reduceLogSumExpK, Reduce::LogSumExp)
REDUCE(reduceSumSquareK, Reduce::SumSquare)
#undef REDUCE

LogicalResult argK(KernelContext &ctx, bool isMax) {
  const Tensor &x = ctx.in(0);
  int64_t axis = ctx.getInt("axis", 0);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  bool keep = ctx.getInt("keepdims", 1), last = ctx.getInt("select_last_index", 0);
  int64_t outer = 1, len = x.dim(axis), inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  std::vector<int64_t> shape = x.shape();
  if (keep)
    shape[axis] = 1;
  else
    shape.erase(shape.begin() + axis);
  Tensor y = Tensor::zeros(DType::I64, shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      double bv = x.getDouble(o * len * inner + i);
      for (int64_t k = 1; k < len; ++k) {
        double v = x.getDouble((o * len + k) * inner + i);
        bool better = isMax ? (v > bv || (last && v == bv))
                            : (v < bv || (last && v == bv));
        if (better) {
          bv = v;
          best = k;
        }
      }
      y.data<int64_t>()[o * inner + i] = best;
    }
  ctx.outputs = {y};
  return success();
}

LogicalResult argMaxK(KernelContext &ctx) { return argK(ctx, true); }
LogicalResult argMinK(KernelContext &ctx) { return argK(ctx, false); }

LogicalResult cumSumK(KernelContext &ctx) {
  const Tensor &x = ctx.in(0);
  int64_t axis = ctx.in(1).getInt(0);
  if (!normalizeAxis(axis, x.rank()))
    return ctx.fail("axis out of range");
  bool exclusive = ctx.getInt("exclusive", 0), reverse = ctx.getInt("reverse", 0);
  int64_t outer = 1, len = x.dim(axis), inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.dim(d);
  for (int64_t d = axis + 1; d < x.rank(); ++d)
    inner *= x.dim(d);
  Tensor y = Tensor::zeros(x.dtype(), x.shape());
  LOWBIT_DISPATCH_ALL(x.dtype(), T, {
    const T *px = x.data<T>();
    T *py = y.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        T acc = T(0);
        for (int64_t s = 0; s < len; ++s) {
          int64_t k = reverse ? len - 1 - s : s;
          int64_t idx = (o * len + k) * inner + i;
          if (exclusive) {
            py[idx] = acc;
            acc = static_cast<T>(acc + px[idx]);
          } else {
            acc = static_cast<T>(acc + px[idx]);
            py[idx] = acc;
          }
        }
      }
  });
  ctx.outputs = {y};
  return success();
}

//===----------------------------------------------------------------------===//
// Resize / Upsample
//===----------------------------------------------------------------------===//

LogicalResult resizeImpl(KernelContext &ctx, std::vector<double> scales,
                         std::vector<int64_t> sizes, std::vector<double> roi,
                         std::string mode, std::string coord,
                         std::string nearestMode) {
  const Tensor &x = ctx.in(0);
  int64_t r = x.rank();
  std::vector<int64_t> axes = ctx.getInts("axes");
  if (axes.empty())
    for (int64_t i = 0; i < r; ++i)
      axes.push_back(i);
  std::vector<double> fullScales(r, 1.0);
  std::vector<int64_t> outShape = x.shape();
  std::vector<double> fullRoiStart(r, 0.0), fullRoiEnd(r, 1.0);
  if (!roi.empty()) {
    if (roi.size() != 2 * axes.size())
      return ctx.fail("roi must have 2 entries per resized axis");
    for (size_t i = 0; i < axes.size(); ++i) {
      fullRoiStart[axes[i]] = roi[i];
      fullRoiEnd[axes[i]] = roi[i + axes.size()];
    }
  }
  if (!sizes.empty()) {
    if (sizes.size() != axes.size())
      return ctx.fail("sizes must have one entry per resized axis");
    std::string policy = ctx.getString("keep_aspect_ratio_policy", "stretch");
    double s = policy == "not_larger" ? std::numeric_limits<double>::infinity()
                                      : 0.0;
    for (size_t i = 0; i < axes.size(); ++i) {
      double si = static_cast<double>(sizes[i]) / x.dim(axes[i]);
      if (policy == "not_larger")
        s = std::min(s, si);
      else if (policy == "not_smaller")
        s = std::max(s, si);
    }
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i];
      if (policy == "stretch") {
        outShape[a] = sizes[i];
        fullScales[a] = static_cast<double>(sizes[i]) / x.dim(a);
      } else {
        outShape[a] = static_cast<int64_t>(std::round(x.dim(a) * s));
        fullScales[a] = s;
      }
    }
  } else {
    if (scales.size() != axes.size())
      return ctx.fail("scales must have one entry per resized axis");
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axes[i];
      if (scales[i] <= 0)
        return ctx.fail("scales must be positive");
      fullScales[a] = scales[i];
      outShape[a] = static_cast<int64_t>(std::floor(x.dim(a) * scales[i]));
    }
  }
  if (ctx.getInt("antialias", 0))
    return ctx.notSupported("antialias = 1");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return ctx.notSupported("mode '" + mode + "'");
  double cubicA = ctx.getFloat("cubic_coeff_a", -0.75f);
  bool excludeOutside = ctx.getInt("exclude_outside", 0);
  double extrapolation = ctx.getFloat("extrapolation_value", 0.0f);

  // Per axis and output index: list of (input index, weight), or an
  // "outside" marker for tf_crop_and_resize extrapolation.
  struct Tap {
    int64_t index;
    double weight;
  };
  std::vector<std::vector<std::vector<Tap>>> taps(r);
  std::vector<std::vector<bool>> outside(r);
  for (int64_t d = 0; d < r; ++d) {
    int64_t in = x.dim(d), out = outShape[d];
    double s = fullScales[d];
    // ONNX maps coordinates with the unrounded resized length in * scale.
    double outLen = in * s;
    taps[d].resize(out);
    outside[d].assign(out, false);
    for (int64_t o = 0; o < out; ++o) {
      double xo;
      if (coord == "half_pixel") {
        xo = (o + 0.5) / s - 0.5;
      } else if (coord == "half_pixel_symmetric") {
        double adj = static_cast<double>(out) / (s * in);
        double center = in / 2.0;
        xo = center * (1 - adj) + (o + 0.5) / s - 0.5;
      } else if (coord == "pytorch_half_pixel") {
        xo = outLen > 1 ? (o + 0.5) / s - 0.5 : 0.0;
      } else if (coord == "align_corners") {
        xo = outLen == 1 ? 0.0 : o * (in - 1.0) / (outLen - 1.0);
      } else if (coord == "asymmetric") {
        xo = o / s;
      } else if (coord == "tf_crop_and_resize") {
        double st = fullRoiStart[d], en = fullRoiEnd[d];
        xo = out > 1 ? st * (in - 1) + o * (en - st) * (in - 1) / (out - 1)
                     : 0.5 * (st + en) * (in - 1);
        if (xo < 0 || xo > in - 1) {
          outside[d][o] = true;
          continue;
        }
      } else {
        return ctx.notSupported("coordinate_transformation_mode '" + coord +
                                "'");
      }
      auto clampIdx = [&](int64_t i) {
        return std::clamp<int64_t>(i, 0, in - 1);
      };
      if (mode == "nearest") {
        double f;
        if (nearestMode == "round_prefer_ceil")
          f = std::round(xo) == xo + 0.5 ? std::ceil(xo) : std::round(xo);
        else if (nearestMode == "floor")
          f = std::floor(xo);
        else if (nearestMode == "ceil")
          f = std::ceil(xo);
        else // round_prefer_floor
          f = (xo - std::floor(xo)) == 0.5 ? std::floor(xo) : std::round(xo);
        taps[d][o] = {{clampIdx(static_cast<int64_t>(f)), 1.0}};
      } else if (mode == "linear") {
        double fl = std::floor(xo), t = xo - fl;
        if (in == 1)
          taps[d][o] = {{0, 1.0}};
        else
          taps[d][o] = {{clampIdx(static_cast<int64_t>(fl)), 1 - t},
                        {clampIdx(static_cast<int64_t>(fl) + 1), t}};
      } else {
        double fl = std::floor(xo), t = xo - fl;
        double A = cubicA;
        double ws[4] = {
            ((A * (t + 1) - 5 * A) * (t + 1) + 8 * A) * (t + 1) - 4 * A,
            ((A + 2) * t - (A + 3)) * t * t + 1,
            ((A + 2) * (1 - t) - (A + 3)) * (1 - t) * (1 - t) + 1,
            ((A * (2 - t) - 5 * A) * (2 - t) + 8 * A) * (2 - t) - 4 * A};
        double total = 0;
        std::vector<Tap> list;
        for (int k = 0; k < 4; ++k) {
          int64_t idx = static_cast<int64_t>(fl) - 1 + k;
          if (excludeOutside && (idx < 0 || idx >= in))
            continue;
          list.push_back({clampIdx(idx), ws[k]});
          total += ws[k];
        }
        if (excludeOutside && total != 0)
          for (Tap &tp : list)
            tp.weight /= total;
        taps[d][o] = list;
      }
    }
  }
  Tensor xd = x.cast(DType::F64);
  Tensor y = Tensor::zeros(DType::F64, outShape);
  std::vector<int64_t> inStrides = contiguousStrides(x.shape());
  std::vector<int64_t> oIdx(r);
  for (int64_t n = 0; n < y.numel(); ++n) {
    int64_t rem = n;
    bool out = false;
    for (int64_t d = r - 1; d >= 0; --d) {
      oIdx[d] = rem % outShape[d];
      rem /= outShape[d];
      if (outside[d][oIdx[d]])
        out = true;
    }
    if (out) {
      y.data<double>()[n] = extrapolation;
      continue;
    }
    // Sum over the product of taps.
    std::vector<size_t> t(r, 0);
    double acc = 0;
    while (true) {
      double w = 1;
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) {
        const Tap &tp = taps[d][oIdx[d]][t[d]];
        w *= tp.weight;
        off += tp.index * inStrides[d];
      }
      acc += w * xd.data<double>()[off];
      int64_t d = r - 1;
      for (; d >= 0; --d) {
        if (++t[d] < taps[d][oIdx[d]].size())
          break;
        t[d] = 0;
      }
      if (d < 0)
        break;
    }
    y.data<double>()[n] = acc;
  }
  if (isFloat(x.dtype())) {
    ctx.outputs = {y.cast(x.dtype())};
  } else {
    Tensor rounded = Tensor::zeros(DType::F64, outShape);
    for (int64_t i = 0; i < y.numel(); ++i)
      rounded.data<double>()[i] = std::nearbyint(y.data<double>()[i]);
    ctx.outputs = {rounded.cast(x.dtype())};
  }
  return success();
}

std::vector<double> toDoubles(const Tensor &t) {
  std::vector<double> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i)
    v[i] = t.getDouble(i);
  return v;
}

LogicalResult resizeK(KernelContext &ctx) {
  std::string mode = ctx.getString("mode", "nearest");
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  std::string coord, nearest;
  if (ctx.opset < 11) {
    scales = toDoubles(ctx.in(1));
    coord = "asymmetric";
    nearest = "floor";
  } else {
    if (ctx.hasInput(1))
      roi = toDoubles(ctx.in(1));
    if (ctx.hasInput(2))
      scales = toDoubles(ctx.in(2));
    if (ctx.hasInput(3))
      sizes = toInts(ctx.in(3));
    coord = ctx.getString("coordinate_transformation_mode", "half_pixel");
    nearest = ctx.getString("nearest_mode", "round_prefer_floor");
    if (coord != "tf_crop_and_resize")
      roi.clear();
    if (!sizes.empty() && !scales.empty())
      return ctx.fail("only one of scales and sizes may be given");
  }
  return resizeImpl(ctx, scales, sizes, roi, mode, coord, nearest);
}

LogicalResult upsampleK(KernelContext &ctx) {
  std::vector<double> scales;
  if (ctx.opset < 9) {
    for (float f : ctx.getFloats("scales"))
      scales.push_back(f);
  } else {
    scales = toDoubles(ctx.in(1));
  }
  std::string mode = ctx.getString("mode", "nearest");
  if (mode == "bilinear")
    mode = "linear";
  return resizeImpl(ctx, scales, {}, {}, mode, "asymmetric", "floor");
}

} // namespace

void interp::registerNNKernels(KernelTable &t) {
  t["MatMul"] = matmulK;
  t["Gemm"] = gemmK;
  t["Einsum"] = einsumK;
  t["Conv"] = convK;
  t["ConvTranspose"] = convTransposeK;
  t["MaxPool"] = maxPoolK;
  t["AveragePool"] = averagePoolK;
  t["LpPool"] = lpPoolK;
  t["GlobalAveragePool"] = globalAveragePoolK;
  t["GlobalMaxPool"] = globalMaxPoolK;
  t["GlobalLpPool"] = globalLpPoolK;
  t["BatchNormalization"] = batchNormK;
  t["InstanceNormalization"] = instanceNormK;
  t["LayerNormalization"] = layerNormK;
  t["Softmax"] = softmaxK;
  t["LogSoftmax"] = logSoftmaxK;
  t["Hardmax"] = hardmaxK;
  t["LRN"] = lrnK;
  t["ReduceSum"] = reduceSumK;
  t["ReduceMean"] = reduceMeanK;
  t["ReduceMax"] = reduceMaxK;
  t["ReduceMin"] = reduceMinK;
  t["ReduceProd"] = reduceProdK;
  t["ReduceL1"] = reduceL1K;
  t["ReduceL2"] = reduceL2K;
  t["ReduceLogSum"] = reduceLogSumK;
  t["ReduceLogSumExp"] = reduceLogSumExpK;
  t["ReduceSumSquare"] = reduceSumSquareK;
  t["ArgMax"] = argMaxK;
  t["ArgMin"] = argMinK;
  t["CumSum"] = cumSumK;
  t["Resize"] = resizeK;
  t["Upsample"] = upsampleK;
}

namespace mlir::lowbit::interp {
/// Exposed for the quantized kernels (QLinearMatMul, MatMulInteger, ...).
LogicalResult matmulAny(KernelContext &ctx, const Tensor &a, const Tensor &b,
                        Tensor &out, DType outType) {
  return matmulTensors(ctx, a, b, out, outType);
}
LogicalResult convFloat(KernelContext &ctx) { return convK(ctx); }
} // namespace mlir::lowbit::interp
