//===- Calibration.cpp - calibration data sets --------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Calibration.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::lowbit;

namespace {
/// Little-endian reads with bounds checks against the whole archive.
struct Reader {
  StringRef data;
  bool ok = true;
  uint64_t u(uint64_t at, unsigned bytes) {
    if (at + bytes > data.size()) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; ++i)
      v |= uint64_t(uint8_t(data[at + i])) << (8 * i);
    return v;
  }
};
} // namespace

/// Reads the members of a ZIP archive (what np.savez writes) through its
/// central directory, which holds the sizes even when the local headers
/// defer them; ZIP64 records are followed for archives past 4 GiB.
static LogicalResult readZip(StringRef data,
                             std::vector<std::pair<std::string, std::string>>
                                 &members,
                             std::string &error) {
  Reader r{data};
  if (data.size() < 22) {
    error = "not an .npz archive (too short for a ZIP directory)";
    return failure();
  }
  int64_t eocd = -1;
  for (int64_t at = int64_t(data.size()) - 22;
       at >= 0 && at >= int64_t(data.size()) - 22 - 65535; --at)
    if (r.u(at, 4) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd < 0) {
    error = "not an .npz archive (no ZIP end-of-directory record)";
    return failure();
  }
  uint64_t entries = r.u(eocd + 10, 2), cdOffset = r.u(eocd + 16, 4);
  if ((entries == 0xFFFF || cdOffset == 0xFFFFFFFF) && eocd >= 20 &&
      r.u(eocd - 20, 4) == 0x07064b50) {
    uint64_t z64 = r.u(eocd - 20 + 8, 8);
    if (r.u(z64, 4) == 0x06064b50) {
      entries = r.u(z64 + 32, 8);
      cdOffset = r.u(z64 + 48, 8);
    }
  }
  uint64_t at = cdOffset;
  for (uint64_t e = 0; e < entries && r.ok; ++e) {
    if (r.u(at, 4) != 0x02014b50) {
      error = "corrupt .npz archive: bad central directory entry";
      return failure();
    }
    unsigned method = r.u(at + 10, 2);
    uint64_t compSize = r.u(at + 20, 4), size = r.u(at + 24, 4);
    unsigned nameLen = r.u(at + 28, 2), extraLen = r.u(at + 30, 2),
             commentLen = r.u(at + 32, 2);
    uint64_t local = r.u(at + 42, 4);
    if (at + 46 + nameLen > data.size()) {
      error = "corrupt .npz archive: truncated directory";
      return failure();
    }
    std::string name = data.substr(at + 46, nameLen).str();
    // ZIP64 extra field: the 64-bit values of the fields set to all ones.
    for (uint64_t x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen;) {
      unsigned id = r.u(x, 2), len = r.u(x + 2, 2);
      if (id == 1) {
        uint64_t p = x + 4;
        if (size == 0xFFFFFFFF) {
          size = r.u(p, 8);
          p += 8;
        }
        if (compSize == 0xFFFFFFFF) {
          compSize = r.u(p, 8);
          p += 8;
        }
        if (local == 0xFFFFFFFF)
          local = r.u(p, 8);
      }
      x += 4 + len;
    }
    at += 46 + nameLen + extraLen + commentLen;
    if (r.u(local, 4) != 0x04034b50) {
      error = "corrupt .npz archive: bad local header for '" + name + "'";
      return failure();
    }
    uint64_t start = local + 30 + r.u(local + 26, 2) + r.u(local + 28, 2);
    if (!r.ok || start + compSize > data.size()) {
      error = "corrupt .npz archive: '" + name + "' is truncated";
      return failure();
    }
    StringRef payload = data.substr(start, compSize);
    std::string bytes;
    if (method == 0) {
      bytes = payload.str();
    } else if (method == 8) {
      bytes.resize(size);
      z_stream zs;
      std::memset(&zs, 0, sizeof(zs));
      if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        error = "cannot initialize zlib";
        return failure();
      }
      zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(payload.data()));
      zs.avail_in = static_cast<uInt>(payload.size());
      zs.next_out = reinterpret_cast<Bytef *>(bytes.data());
      zs.avail_out = static_cast<uInt>(bytes.size());
      int rc = inflate(&zs, Z_FINISH);
      inflateEnd(&zs);
      if (rc != Z_STREAM_END || zs.total_out != size) {
        error = "corrupt .npz archive: cannot inflate '" + name + "'";
        return failure();
      }
    } else {
      error = "unsupported .npz compression method " + std::to_string(method) +
              " for '" + name + "' (np.savez and np.savez_compressed work)";
      return failure();
    }
    members.emplace_back(name, std::move(bytes));
  }
  if (!r.ok) {
    error = "corrupt .npz archive: truncated";
    return failure();
  }
  return success();
}

FailureOr<CalibrationSet> mlir::lowbit::loadCalibrationSet(StringRef path,
                                                           std::string &error) {
  CalibrationSet set;
  set.source = path.str();
  auto fail = [&](const std::string &msg) {
    error = path.str() + ": " + msg;
    return failure();
  };
  if (llvm::sys::fs::is_directory(path)) {
    std::vector<std::string> files;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(path, ec), end; it != end && !ec;
         it.increment(ec))
      if (StringRef(it->path()).ends_with(".npy"))
        files.push_back(it->path());
    std::sort(files.begin(), files.end());
    if (files.empty())
      return fail("the folder holds no .npy files");
    for (const std::string &f : files) {
      std::string err;
      FailureOr<Tensor> t = readNpy(f, err);
      if (failed(t)) {
        error = f + ": " + err;
        return failure();
      }
      set.arrays.emplace_back(llvm::sys::path::stem(f).str(), *t);
    }
  } else {
    auto buffer = llvm::MemoryBuffer::getFile(path, false, false);
    if (!buffer)
      return fail("cannot read: " + buffer.getError().message());
    std::vector<std::pair<std::string, std::string>> members;
    std::string err;
    if (failed(readZip((*buffer)->getBuffer(), members, err)))
      return fail(err);
    for (auto &[name, bytes] : members) {
      FailureOr<Tensor> t = parseNpy(bytes, err);
      if (failed(t))
        return fail("array '" + name + "': " + err);
      StringRef key(name);
      key.consume_back(".npy");
      set.arrays.emplace_back(key.str(), *t);
    }
    if (set.arrays.empty())
      return fail("the archive holds no arrays");
  }
  for (auto &[name, t] : set.arrays) {
    if (t.rank() == 0)
      return fail("array '" + name + "' is a scalar; the first axis must "
                  "index samples");
    if (&t == &set.arrays.front().second)
      set.numSamples = t.dim(0);
    else if (t.dim(0) != set.numSamples)
      return fail("array '" + name + "' has " + std::to_string(t.dim(0)) +
                  " samples but '" + set.arrays.front().first + "' has " +
                  std::to_string(set.numSamples));
  }
  return set;
}

/// Samples [begin, begin + count) of `t` along axis 0.
/// Samples [begin, begin + count) of `t`, wrapping around past the last
/// one of the first `available`.
static Tensor sliceSamples(const Tensor &t, int64_t begin, int64_t count,
                           int64_t available) {
  std::vector<int64_t> shape = t.shape();
  shape[0] = count;
  Tensor out = Tensor::zeros(t.dtype(), shape);
  size_t sampleBytes = t.dim(0) ? t.byteSize() / t.dim(0) : 0;
  for (int64_t s = 0; s < count; ++s)
    std::memcpy(out.raw() + s * sampleBytes,
                t.raw() + ((begin + s) % available) * sampleBytes, sampleBytes);
  return out;
}

FailureOr<std::vector<std::vector<Tensor>>>
mlir::lowbit::makeCalibrationBatches(func::FuncOp func,
                                     const CalibrationSet &set,
                                     int64_t maxSamples, std::string &error) {
  unsigned numArgs = func.getNumArguments();
  std::vector<const Tensor *> chosen(numArgs, nullptr);
  std::vector<std::string> names(numArgs);
  for (unsigned i = 0; i < numArgs; ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "lowbit.name");
    names[i] = name ? name.str() : "arg" + std::to_string(i);
    for (auto &[key, t] : set.arrays)
      if (key == names[i])
        chosen[i] = &t;
  }
  bool byPosition = set.arrays.size() == numArgs &&
                    llvm::count(chosen, nullptr) == int64_t(numArgs);
  for (unsigned i = 0; i < numArgs; ++i) {
    if (byPosition)
      chosen[i] = &set.arrays[i].second;
    if (!chosen[i]) {
      std::string have;
      for (auto &[key, t] : set.arrays)
        have += (have.empty() ? "" : ", ") + key;
      error = set.source + ": no array for model input '" + names[i] +
              "' (the file has: " + have + ")";
      return failure();
    }
  }
  auto castTo = [&](Tensor t, unsigned i) {
    FailureOr<DType> want = dtypeFromType(
        cast<RankedTensorType>(func.getArgument(i).getType()).getElementType());
    return succeeded(want) && *want != t.dtype() ? t.cast(*want) : t;
  };
  int64_t samples = set.numSamples;
  if (maxSamples > 0)
    samples = std::min(samples, maxSamples);
  int64_t batch = 32;
  bool fixed = false;
  for (unsigned i = 0; i < numArgs; ++i) {
    auto type = dyn_cast<RankedTensorType>(func.getArgument(i).getType());
    if (!type || type.getRank() != chosen[i]->rank()) {
      error = set.source + ": array for '" + names[i] + "' has rank " +
              std::to_string(chosen[i]->rank()) + " but the input is " +
              (type ? "rank " + std::to_string(type.getRank())
                    : std::string("unranked"));
      return failure();
    }
    for (int64_t d = 1; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d) && type.getDimSize(d) != chosen[i]->dim(d)) {
        error = set.source + ": array for '" + names[i] + "' has dimension " +
                std::to_string(d) + " = " + std::to_string(chosen[i]->dim(d)) +
                " but the input needs " + std::to_string(type.getDimSize(d));
        return failure();
      }
    if (!type.isDynamicDim(0)) {
      batch = type.getDimSize(0);
      fixed = true;
    }
  }
  if (samples <= 0 || (fixed && batch <= 0)) {
    error = set.source + (samples <= 0 ? ": the calibration set has no samples"
                                       : ": the model's batch size is 0");
    return failure();
  }
  std::vector<std::vector<Tensor>> batches;
  // A fixed batch takes whole batches (a remainder is dropped), or, with
  // fewer samples than one, one batch that repeats them in order (each
  // counts floor(B/N) or ceil(B/N) times), so the calibration set does not
  // have to match the batch compiled for.
  int64_t rows = fixed ? std::max(batch, samples / batch * batch) : samples;
  for (int64_t b0 = 0; b0 < rows; b0 += batch) {
    int64_t count = std::min(batch, rows - b0);
    std::vector<Tensor> args;
    for (unsigned i = 0; i < numArgs; ++i)
      args.push_back(castTo(sliceSamples(*chosen[i], b0, count, samples), i));
    batches.push_back(std::move(args));
  }
  return batches;
}

void mlir::lowbit::u8Params(ActivationRange range, double &scale,
                            int64_t &zeroPoint) {
  double lo = std::min(0.0, range.min), hi = std::max(0.0, range.max);
  scale = hi > lo ? (hi - lo) / 255.0 : 1.0;
  zeroPoint = std::clamp<int64_t>(int64_t(std::nearbyint(-lo / scale)), 0, 255);
}

/// Squared error of u8 quantization of `values` with the range [lo, hi].
static double u8Error(ArrayRef<float> values, double lo, double hi) {
  double scale;
  int64_t zp;
  u8Params({lo, hi}, scale, zp);
  double err = 0;
  for (float v : values) {
    double q = std::clamp(std::nearbyint(v / scale) + double(zp), 0.0, 255.0);
    double d = (q - double(zp)) * scale - v;
    err += d * d;
  }
  return err;
}

FailureOr<llvm::DenseMap<Operation *, ActivationRange>>
mlir::lowbit::calibrateActivations(func::FuncOp func,
                                   ArrayRef<Operation *> layers,
                                   ArrayRef<std::vector<Tensor>> batches,
                                   RangeObserver observer, double percentile) {
  struct Stats {
    double min = INFINITY, max = -INFINITY;
    std::vector<float> sample;
    std::vector<float> chMin, chMax;
  };
  const size_t kSample = size_t(1) << 20;
  llvm::DenseMap<Value, SmallVector<Operation *>> readers;
  llvm::DenseMap<Operation *, Stats> stats;
  for (Operation *op : layers) {
    readers[op->getOperand(0)].push_back(op);
    stats[op];
  }
  // An even stride keeps the sample representative of every batch.
  int64_t total = 0;
  auto observe = [&](Value v, const Tensor &t) {
    auto it = readers.find(v);
    if (it == readers.end() || t.dtype() != DType::F32)
      return;
    int64_t perBatch = t.numel();
    int64_t stride = std::max<int64_t>(
        1, perBatch * int64_t(batches.size()) / int64_t(kSample));
    for (Operation *op : it->second) {
      Stats &s = stats[op];
      const float *x = t.data<float>();
      for (int64_t i = 0; i < perBatch; ++i) {
        s.min = std::min(s.min, double(x[i]));
        s.max = std::max(s.max, double(x[i]));
      }
      // Channel c of element i: [..., C] for linear, [N, C, ...] for conv.
      bool conv = isa<Conv2DOp>(op) && t.rank() >= 2;
      int64_t channels = t.rank() ? t.dim(conv ? 1 : t.rank() - 1) : 1;
      int64_t inner = conv ? perBatch / (t.dim(0) * channels) : 1;
      if (channels > 0 && int64_t(s.chMin.size()) != channels) {
        s.chMin.assign(channels, INFINITY);
        s.chMax.assign(channels, -INFINITY);
      }
      for (int64_t i = 0; i < perBatch && channels > 0; ++i) {
        int64_t c = (i / inner) % channels;
        s.chMin[c] = std::min(s.chMin[c], x[i]);
        s.chMax[c] = std::max(s.chMax[c], x[i]);
      }
      for (int64_t i = 0; i < perBatch; i += stride)
        s.sample.push_back(x[i]);
    }
    total += perBatch;
  };
  for (const std::vector<Tensor> &inputs : batches) {
    for (BlockArgument arg : func.getArguments())
      observe(arg, inputs[arg.getArgNumber()]);
    InterpreterOptions opts;
    opts.observer = [&](Operation *op, ArrayRef<Tensor> results) {
      for (auto [i, r] : llvm::enumerate(op->getResults()))
        observe(r, results[i]);
    };
    if (failed(interpret(func, inputs, opts)))
      return failure();
  }
  llvm::DenseMap<Operation *, ActivationRange> ranges;
  for (auto &[op, s] : stats) {
    ActivationRange r{std::isfinite(s.min) ? s.min : 0.0,
                      std::isfinite(s.max) ? s.max : 0.0, s.chMin, s.chMax};
    if (observer == RangeObserver::Percentile && !s.sample.empty()) {
      std::vector<float> v = s.sample;
      auto at = [&](double q) {
        size_t k = std::min(v.size() - 1, size_t(q * (v.size() - 1)));
        std::nth_element(v.begin(), v.begin() + k, v.end());
        return double(v[k]);
      };
      r.min = at(1.0 - percentile / 100.0);
      r.max = at(percentile / 100.0);
    } else if (observer == RangeObserver::Mse && !s.sample.empty()) {
      // Shrink both ends toward zero in 1 % steps; keep the best.
      double best = u8Error(s.sample, r.min, r.max);
      double fullMin = r.min, fullMax = r.max;
      for (int c = 99; c >= 20; --c) {
        double lo = fullMin * c / 100.0, hi = fullMax * c / 100.0;
        double e = u8Error(s.sample, lo, hi);
        if (e < best) {
          best = e;
          r.min = lo;
          r.max = hi;
        }
      }
    }
    ranges[op] = r;
  }
  return ranges;
}
