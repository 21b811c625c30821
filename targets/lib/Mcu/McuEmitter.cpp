//===- McuEmitter.cpp - integer IR -> C99 with a static arena ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Reads what lowbit-lower-to-integer leaves: graph inputs quantized once,
// integer ops (lowbit.qconv2d, ...), Reshape-like views and Transposes on
// codes, graph outputs dequantized once. Every code tensor gets an arena
// offset from the shared planner (planArena, lowbit/Analysis/MemoryPlan.h)
// over its live range; views share their source's bytes. Each integer op
// becomes one call into runtime/kernels/mcu/ with a `static const` parameter
// block, so the entry point is a flat list of calls and the weights, biases
// and requantization tables are const arrays the linker puts in flash.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Mcu/McuTarget.h"

#include "lowbit/Analysis/MemoryPlan.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Interpreter/Tensor.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

using namespace mlir;
using namespace mlir::lowbit;

int64_t McuTensorInfo::bytes() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

static const char *const kMcuCpus[] = {"cortex-m4", "cortex-m7", "cortex-m33",
                                       "cortex-m55", "generic"};

bool mlir::lowbit::isMcuCpu(StringRef cpu) {
  return llvm::is_contained(kMcuCpus, cpu);
}

std::string mlir::lowbit::listMcuCpus() {
  return llvm::join(ArrayRef<const char *>(kMcuCpus), ", ");
}

std::string McuArtifact::manifest() const {
  using nlohmann::json;
  auto tensors = [](const std::vector<McuTensorInfo> &ts) {
    json a = json::array();
    for (const McuTensorInfo &t : ts)
      a.push_back({{"name", t.name},
                   {"shape", t.shape},
                   {"dtype", "int8"},
                   {"scale", t.scale},
                   {"zero_point", t.zeroPoint},
                   {"arena_offset", t.arenaOffset}});
    return a;
  };
  json layers = json::array();
  for (const McuLayerInfo &l : this->layers)
    layers.push_back({{"node", l.node},
                      {"kernel", l.kernel},
                      {"macs", l.macs},
                      {"weight_bytes", l.weightBytes},
                      {"live_arena_bytes", l.liveBytes}});
  json j = {{"format", "lowbit-mcu"},
            {"version", 1},
            {"name", name},
            {"cpu", cpu},
            {"arena_bytes", arenaBytes},
            {"weight_bytes", weightBytes},
            {"peak_layer", peakLayer},
            {"inputs", tensors(inputs)},
            {"outputs", tensors(outputs)},
            {"layers", layers}};
  return j.dump(2) + "\n";
}

bool McuArtifact::parseManifest(StringRef text, McuArtifact &out,
                                std::string &error) {
  using nlohmann::json;
  json j = json::parse(text.begin(), text.end(), nullptr,
                       /*allow_exceptions=*/false);
  auto bad = [&](const std::string &why) {
    error = why;
    return false;
  };
  if (j.is_discarded() || !j.is_object())
    return bad("not JSON");
  if (j.value("format", "") != "lowbit-mcu" || j.value("version", 0) != 1)
    return bad("not a lowbit-mcu version 1 manifest");
  auto str = [&](const char *k) {
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                             : std::string();
  };
  out.name = str("name");
  out.cpu = str("cpu");
  out.peakLayer = str("peak_layer");
  if (out.name.empty() || !j["arena_bytes"].is_number_integer())
    return bad("the manifest lacks the model's name or arena size");
  out.arenaBytes = j["arena_bytes"].get<int64_t>();
  out.weightBytes = j.value("weight_bytes", int64_t(0));
  auto tensors = [&](const char *key, std::vector<McuTensorInfo> &ts) {
    if (!j.contains(key) || !j[key].is_array())
      return false;
    for (const json &t : j[key]) {
      if (!t.is_object() || !t.contains("shape") || !t["shape"].is_array() ||
          !t.contains("scale") || !t["scale"].is_number() ||
          !t.contains("zero_point") || !t["zero_point"].is_number_integer() ||
          !t.contains("arena_offset") ||
          !t["arena_offset"].is_number_integer())
        return false;
      McuTensorInfo info;
      info.name = t.value("name", "");
      for (const json &d : t["shape"]) {
        if (!d.is_number_integer() || d.get<int64_t>() <= 0 ||
            d.get<int64_t>() > (int64_t(1) << 31))
          return false;
        info.shape.push_back(d.get<int64_t>());
      }
      info.scale = t["scale"].get<double>();
      info.zeroPoint = t["zero_point"].get<int64_t>();
      info.arenaOffset = t["arena_offset"].get<int64_t>();
      if (info.arenaOffset < 0 ||
          info.arenaOffset + info.bytes() > out.arenaBytes)
        return false;
      ts.push_back(info);
    }
    return true;
  };
  if (!tensors("inputs", out.inputs) || !tensors("outputs", out.outputs))
    return bad("an input or output entry is malformed or outside the arena");
  if (j.contains("layers") && j["layers"].is_array())
    for (const json &l : j["layers"])
      if (l.is_object())
        out.layers.push_back({l.value("node", ""), l.value("kernel", ""),
                              l.value("macs", int64_t(0)),
                              l.value("weight_bytes", int64_t(0)),
                              l.value("live_arena_bytes", int64_t(0))});
  return true;
}

namespace {

quant::UniformQuantizedType codeType(Value v) {
  auto uq = dyn_cast<quant::UniformQuantizedType>(getElementTypeOrSelf(v));
  return uq && uq.getStorageTypeIntegralWidth() == 8 && uq.isSigned()
             ? uq
             : nullptr;
}

int64_t numel(Value v) {
  return cast<RankedTensorType>(v.getType()).getNumElements();
}

/// The transpose permutation of an onnx_node "Transpose" (reversed by
/// default).
SmallVector<int64_t> permOf(OnnxNodeOp node) {
  SmallVector<int64_t> perm;
  if (auto attrs = node.getAttrsAttr())
    if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("perm")))
      perm.assign(a.asArrayRef().begin(), a.asArrayRef().end());
  if (perm.empty())
    for (int64_t d = cast<RankedTensorType>(node->getOperand(0).getType())
                         .getRank() -
                     1;
         d >= 0; --d)
      perm.push_back(d);
  return perm;
}

/// A Transpose that only moves size-1 dimensions keeps the element order.
bool isOrderKeeping(OnnxNodeOp node) {
  auto in = cast<RankedTensorType>(node->getOperand(0).getType());
  int64_t last = -1;
  for (int64_t d : permOf(node)) {
    if (in.getDimSize(d) == 1)
      continue;
    if (d < last)
      return false;
    last = d;
  }
  return true;
}

/// A 1x1, stride-1, unpadded convolution with one group: a matrix product
/// over NHWC pixels.
bool isPointwise(QConv2DOp conv) {
  auto wt = conv.getWeight().getType();
  return conv.getGroups() == 1 && wt.getDimSize(2) == 1 &&
         wt.getDimSize(3) == 1 &&
         llvm::all_of(conv.getStrides(), [](int64_t v) { return v == 1; }) &&
         llvm::all_of(conv.getPadding(), [](int64_t v) { return v == 0; });
}

/// 1 when a qconv2d / qlinear asks for TFLite's requantization.
int tfliteRounding(Operation *op) {
  auto r = op->getAttrOfType<RoundingModeAttr>("rounding");
  return r && r.getValue() == RoundingMode::DoublingHighMul ? 1 : 0;
}

/// How a code tensor's bytes are ordered. The IR is NCHW; the kernels read
/// 4-D activations channels-last, so every 4-D value an integer layer
/// makes is stored NHWC, and a value crosses between the two orders only
/// where an op needs the other one (a Reshape of a feature map, a graph
/// output): there the emitter inserts a reorder.
enum class Layout { Plain, Nhwc };

/// NCHW and NHWC order the bytes alike when H * W == 1 or C == 1.
bool sameBytes(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return t.getRank() != 4 || t.getDimSize(2) * t.getDimSize(3) == 1 ||
         t.getDimSize(1) == 1;
}

class Emitter {
public:
  Emitter(func::FuncOp func, StringRef name, StringRef cpu)
      : func(func), name(name.str()), cpu(cpu.str()) {}

  FailureOr<McuArtifact> run();

private:
  LogicalResult fail(Operation *op, const Twine &why) {
    return op->emitError() << "unsupported by the mcu target: "
                           << (isa<OnnxNodeOp>(op)
                                   ? cast<OnnxNodeOp>(op).getOpType()
                                   : op->getName().getStringRef())
                           << " at node '" << getNodeName(op) << "': " << why;
  }
  LogicalResult classify();
  /// A stride-1 convolution (one group, not 1x1, or depthwise with
  /// multiplier 1) keeping its input's shape, whose input is an integer
  /// layer's NHWC output read by nothing else.
  bool canRunInPlace(QConv2DOp conv);
  /// `v` has its own buffer, which nothing reads after its one use: an
  /// op may write its result over it.
  bool consumable(Value v);
  LogicalResult emitOp(Operation *op);
  void emitConversions(int step);
  /// A const array of `values` (deduplicated by `key`); its C name.
  std::string array(const std::string &key, StringRef ctype,
                    ArrayRef<int64_t> values);
  FailureOr<Tensor> constant(Operation *user, Value v);

  int newBuffer(Value v, int step, Layout l) {
    int b = ranges.size();
    ranges.push_back({numel(v), step, step});
    bufferOf[v] = b;
    layoutOf[v] = l;
    return b;
  }
  void extend(int b, int step) {
    ranges[b].end = std::max(ranges[b].end, step);
  }
  /// The buffer holding `v` in layout `want` at `step`: its own, or a
  /// reordered copy made (once) before the first op that needs it.
  int use(Value v, Layout want, int step);
  std::string ptrOf(int buffer) {
    return llvm::formatv("(A + {0})", plan.offsets[buffer]).str();
  }
  std::string operandPtr(Operation *op, unsigned i) {
    return ptrOf(operandBuffer.lookup({op, i}));
  }
  std::string resultPtr(Value v) { return ptrOf(bufferOf.lookup(v)); }

  struct Conversion {
    Value value;
    Layout to;
    int buffer;
  };

  func::FuncOp func;
  std::string name, cpu;
  std::vector<Operation *> steps;
  llvm::DenseMap<Operation *, int> stepOf;
  llvm::DenseMap<Value, int> bufferOf;
  llvm::DenseMap<Value, Layout> layoutOf;
  std::map<std::pair<void *, int>, int> converted; // (value, layout) -> buffer
  std::map<int, std::vector<Conversion>> conversionsAt;
  llvm::DenseMap<std::pair<Operation *, unsigned>, int> operandBuffer;
  llvm::DenseMap<Operation *, int> scratchOf; ///< a convolution's patch
  llvm::DenseMap<Operation *, int> ringOf;    ///< an in-place conv's rows
  std::vector<LiveRange> ranges;
  ArenaPlan plan;
  std::map<std::string, std::string> arrays;
  std::string decls, body;
  int counter = 0;
  McuArtifact art;
  SmallVector<Value> inputCodes, outputCodes;
  SmallVector<int> outputBuffers;
};

bool Emitter::canRunInPlace(QConv2DOp conv) {
  auto in = conv.getInput().getType(), out = conv.getOutput().getType();
  auto wt = conv.getWeight().getType();
  int64_t groups = conv.getGroups();
  bool depthwise = groups == in.getDimSize(1) && groups > 1 &&
                   wt.getDimSize(0) == groups;
  bool oneByOne = wt.getDimSize(2) == 1 && wt.getDimSize(3) == 1;
  return in.getShape() == out.getShape() && (groups == 1 || depthwise) &&
         (!oneByOne || depthwise || isPointwise(conv)) &&
         llvm::all_of(conv.getStrides(), [](int64_t v) { return v == 1; }) &&
         llvm::all_of(conv.getDilations(), [](int64_t v) { return v == 1; }) &&
         conv.getPadding()[0] < wt.getDimSize(2) && consumable(conv.getInput()) &&
         layoutOf.lookup(conv.getInput()) == Layout::Nhwc;
}

bool Emitter::consumable(Value v) {
  Operation *def = v.getDefiningOp();
  return v.hasOneUse() &&
         isa_and_nonnull<QConv2DOp, QPool2DOp, QAddOp, QLutOp, QLinearOp,
                         QSoftmaxOp>(def) &&
         bufferOf.count(v);
}

int Emitter::use(Value v, Layout want, int step) {
  int own = bufferOf.lookup(v);
  if (layoutOf.lookup(v) == want || sameBytes(v)) {
    extend(own, step);
    return own;
  }
  auto key = std::make_pair(v.getAsOpaquePointer(), int(want));
  if (auto it = converted.find(key); it != converted.end()) {
    extend(it->second, step);
    return it->second;
  }
  extend(own, step);
  int b = ranges.size();
  ranges.push_back({numel(v), step, step});
  converted[key] = b;
  conversionsAt[step].push_back({v, want, b});
  return b;
}

LogicalResult Emitter::classify() {
  Block &block = func.getBody().front();
  for (Operation &op : block) {
    stepOf[&op] = steps.size();
    steps.push_back(&op);
  }
  // Graph inputs: each argument is quantized once, at the start.
  for (BlockArgument arg : func.getArguments()) {
    if (!arg.hasOneUse() || !isa<QuantizeOp>(*arg.getUsers().begin()) ||
        !codeType(arg.getUsers().begin()->getResult(0)))
      return func.emitError()
             << "unsupported by the mcu target: graph input #"
             << arg.getArgNumber()
             << " is not quantized to int8 codes once (the target runs "
                "integer-only graphs: an int8 QDQ model)";
    inputCodes.push_back(arg.getUsers().begin()->getResult(0));
  }
  for (Operation *op : steps) {
    int s = stepOf[op];
    auto operand = [&](unsigned i, Layout want) {
      operandBuffer[{op, i}] = use(op->getOperand(i), want, s);
    };
    if (isa<arith::ConstantOp, func::ReturnOp, NoValueOp, DequantizeOp>(op))
      continue; // outputs (dequantized codes) are checked below
    if (auto q = dyn_cast<QuantizeOp>(op)) {
      if (!isa<BlockArgument>(q.getInput()))
        return fail(op, "a value is quantized inside the graph: this layer "
                        "has no integer form (lowbit-lower-to-integer left "
                        "it in floating point)");
      newBuffer(q.getOutput(), s, Layout::Plain);
      continue;
    }
    if (auto node = dyn_cast<OnnxNodeOp>(op)) {
      StringRef type = node.getOpType();
      bool onCodes = node->getNumResults() == 1 &&
                     codeType(node->getOperand(0)) &&
                     codeType(node->getResult(0));
      Value src = onCodes ? node->getOperand(0) : Value();
      Value res = onCodes ? node->getResult(0) : Value();
      if (onCodes && (isViewOpType(type) ||
                      (type == "Transpose" && isOrderKeeping(node)))) {
        operand(0, Layout::Plain);
        bufferOf[res] = operandBuffer[{op, 0u}];
        layoutOf[res] = Layout::Plain;
        continue;
      }
      if (onCodes && type == "Transpose") {
        SmallVector<int64_t> perm = permOf(node);
        bool toNchw = perm == SmallVector<int64_t>{0, 3, 1, 2};
        bool toNhwc = perm == SmallVector<int64_t>{0, 2, 3, 1};
        // NHWC data viewed as NCHW, or the reverse: the same bytes.
        if (toNchw && layoutOf.lookup(src) == Layout::Plain) {
          operand(0, Layout::Plain);
          bufferOf[res] = operandBuffer[{op, 0u}];
          layoutOf[res] = Layout::Nhwc;
          continue;
        }
        if (toNhwc && (layoutOf.lookup(src) == Layout::Nhwc ||
                       sameBytes(src))) {
          operand(0, Layout::Nhwc);
          bufferOf[res] = operandBuffer[{op, 0u}];
          layoutOf[res] = Layout::Plain;
          continue;
        }
        if (perm.size() > 6)
          return fail(op, "more than 6 dimensions");
        operand(0, Layout::Plain);
        newBuffer(res, s, Layout::Plain);
        continue;
      }
      if (type == "Identity" &&
          node->getOperand(0).getDefiningOp<DequantizeOp>())
        continue;
      return fail(op, "this op has no integer form; only int8 QDQ graphs "
                      "whose every layer lowers to integers compile for MCUs");
    }
    if (isa<QConv2DOp, QPool2DOp>(op)) {
      operand(0, Layout::Nhwc);
      auto conv = dyn_cast<QConv2DOp>(op);
      if (conv && canRunInPlace(conv)) {
        // The output overwrites the input: pointwise two pixels at a time,
        // otherwise row by row through a ring of pad_top + 1 output rows.
        bufferOf[conv.getOutput()] = operandBuffer[{op, 0u}];
        layoutOf[conv.getOutput()] = Layout::Nhwc;
        auto in = conv.getInput().getType();
        ringOf[op] = ranges.size();
        ranges.push_back({isPointwise(conv)
                              ? 2 * in.getDimSize(1)
                              : (conv.getPadding()[0] + 1) * in.getDimSize(3) *
                                    in.getDimSize(1),
                          s, s});
      } else {
        newBuffer(op->getResult(0), s, Layout::Nhwc);
      }
      // The patch a groups == 1 convolution gathers its windows into.
      if (conv && conv.getGroups() == 1 && !isPointwise(conv)) {
        auto wt = conv.getWeight().getType();
        scratchOf[op] = ranges.size();
        ranges.push_back(
            {wt.getDimSize(1) * wt.getDimSize(2) * wt.getDimSize(3), s, s});
      }
      continue;
    }
    if (isa<QAddOp, QLutOp>(op)) {
      // Elementwise: any order, as long as the operands agree; the result
      // overwrites an operand that nothing reads afterwards.
      Layout l = cast<RankedTensorType>(op->getOperand(0).getType())
                             .getRank() == 4
                     ? layoutOf.lookup(op->getOperand(0))
                     : Layout::Plain;
      operand(0, l);
      if (isa<QAddOp>(op))
        operand(1, l);
      Value res = op->getResult(0);
      int target = -1;
      for (unsigned i = 0; i < op->getNumOperands() && target < 0; ++i) {
        Value v = op->getOperand(i);
        if (isa<RankedTensorType>(v.getType()) && codeType(v) &&
            consumable(v) && operandBuffer[{op, i}] == bufferOf.lookup(v))
          target = operandBuffer[{op, i}];
      }
      if (target >= 0) {
        bufferOf[res] = target;
        layoutOf[res] = l;
      } else {
        newBuffer(res, s, l);
      }
      continue;
    }
    if (isa<QLinearOp, QSoftmaxOp>(op)) {
      operand(0, Layout::Plain);
      newBuffer(op->getResult(0), s, Layout::Plain);
      continue;
    }
    return fail(op, "no MCU kernel for this op");
  }
  // Graph outputs: each returned value is dequantize(codes) (or an
  // Identity of it), in the IR's order, live to the end.
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  int end = steps.size();
  for (Value v : ret.getOperands()) {
    Operation *def = v.getDefiningOp();
    if (auto node = dyn_cast_or_null<OnnxNodeOp>(def);
        node && node.getOpType() == "Identity")
      def = node->getOperand(0).getDefiningOp();
    auto dq = dyn_cast_or_null<DequantizeOp>(def);
    if (!dq || !codeType(dq.getInput()) || !bufferOf.count(dq.getInput()))
      return func.emitError() << "unsupported by the mcu target: graph output #"
                              << outputCodes.size()
                              << " is not dequantized int8 codes (the target "
                                 "runs integer-only graphs: an int8 QDQ model)";
    outputCodes.push_back(dq.getInput());
    outputBuffers.push_back(use(dq.getInput(), Layout::Plain, end));
  }
  for (int b : outputBuffers)
    extend(b, end);
  plan = planArena(ranges, /*alignment=*/4);
  // The kernels index with int32 (64-bit arithmetic is slow on a 32-bit
  // core); no MCU has 2 GiB of SRAM anyway.
  if (plan.size >= (int64_t(1) << 31))
    return func.emitError() << "unsupported by the mcu target: the arena "
                               "would need "
                            << plan.size << " bytes (at most 2^31 - 1)";
  return success();
}

std::string Emitter::array(const std::string &key, StringRef ctype,
                           ArrayRef<int64_t> values) {
  if (auto it = arrays.find(key); it != arrays.end())
    return it->second;
  std::string cname = "k" + std::to_string(counter++);
  llvm::raw_string_ostream os(decls);
  os << "static const " << ctype << " " << cname << "[" << values.size()
     << "] = {";
  for (auto [i, v] : llvm::enumerate(values))
    os << (i ? "," : "") << (i % 24 ? "" : "\n  ") << v;
  os << "};\n";
  art.weightBytes += values.size() * (ctype == "int8_t" ? 1 : 4);
  arrays[key] = cname;
  return cname;
}

FailureOr<Tensor> Emitter::constant(Operation *user, Value v) {
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return fail(user, "an operand that must be constant is computed");
  FailureOr<Tensor> t = tensorFromConstant(attr);
  if (failed(t))
    return fail(user, "unreadable constant");
  return t;
}

void Emitter::emitConversions(int step) {
  llvm::raw_string_ostream os(body);
  llvm::raw_string_ostream ds(decls);
  for (const Conversion &c : conversionsAt[step]) {
    ArrayRef<int64_t> d = cast<RankedTensorType>(c.value.getType()).getShape();
    // NCHW -> NHWC reads [N, C, H, W] with perm (0, 2, 3, 1); NHWC ->
    // NCHW reads the stored [N, H, W, C] with perm (0, 3, 1, 2).
    bool toNhwc = c.to == Layout::Nhwc;
    std::string p = "p" + std::to_string(counter++);
    ds << llvm::formatv("static const lowbit_mcu_transpose_t {0} = {{4, {{{1}, "
                        "{2}, {3}, {4}, 1, 1}, {{{5}, 4, 5}};\n",
                        p, d[0], toNhwc ? d[1] : d[2], toNhwc ? d[2] : d[3],
                        toNhwc ? d[3] : d[1],
                        toNhwc ? "0, 2, 3, 1" : "0, 3, 1, 2");
    os << llvm::formatv("  lowbit_mcu_transpose_s8(&{0}, {1}, {2}); /* to "
                        "{3} */\n",
                        p, ptrOf(bufferOf.lookup(c.value)), ptrOf(c.buffer),
                        toNhwc ? "NHWC" : "NCHW");
    art.layers.push_back({getNodeName(c.value.getDefiningOp()) + ".reorder",
                          "reorder", 0, 0, 0});
  }
}

LogicalResult Emitter::emitOp(Operation *op) {
  emitConversions(stepOf[op]);
  llvm::raw_string_ostream os(body);
  llvm::raw_string_ostream ds(decls);
  McuLayerInfo layer;
  layer.node = getNodeName(op);
  int64_t weightBefore = art.weightBytes;
  std::string p = "p" + std::to_string(counter++);
  std::string key = std::to_string(reinterpret_cast<uintptr_t>(op));
  auto zp = [](Value v) { return codeType(v).getZeroPoint(); };
  auto dims = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  auto values = [](const Tensor &t) {
    std::vector<int64_t> v(t.numel());
    for (int64_t i = 0; i < t.numel(); ++i)
      v[i] = t.getInt(i);
    return v;
  };
  // bias, multiplier and shift of a qconv2d / qlinear; the bias with the
  // input zero point folded in when `foldedWeights` is given.
  auto requant = [&](Operation *o, int64_t inZp,
                     const Tensor *foldedWeights) -> FailureOr<std::string> {
    FailureOr<Tensor> b = constant(o, o->getOperand(2));
    FailureOr<Tensor> m = constant(o, o->getOperand(3));
    FailureOr<Tensor> s = constant(o, o->getOperand(4));
    if (failed(b) || failed(m) || failed(s))
      return failure();
    std::vector<int64_t> bias = values(*b);
    if (foldedWeights) {
      int64_t k = foldedWeights->numel() / int64_t(bias.size());
      for (size_t n = 0; n < bias.size(); ++n) {
        int64_t sum = 0;
        for (int64_t i = 0; i < k; ++i)
          sum += foldedWeights->getInt(n * k + i);
        bias[n] -= inZp * sum;
        if (bias[n] < INT32_MIN || bias[n] > INT32_MAX)
          return fail(o, "the bias with the input zero point folded in "
                         "overflows int32");
      }
    }
    return llvm::formatv("{0}, {1}, {2}",
                         array(key + (foldedWeights ? "b0" : "b"), "int32_t",
                               bias),
                         array(key + "m", "int32_t", values(*m)),
                         array(key + "s", "int32_t", values(*s)))
        .str();
  };
  auto fc = [&](Operation *o, int64_t m, int64_t k, int64_t n, int64_t inZp,
                Value out, int64_t lo, int64_t hi,
                const Tensor &w) -> LogicalResult {
    FailureOr<std::string> arrs = requant(o, inZp, &w);
    if (failed(arrs))
      return failure();
    std::string wname = array(key + "w", "int8_t", values(w));
    ds << llvm::formatv("static const lowbit_mcu_fc_t {0} = {{{1}, {2}, {3}, "
                        "{4}, {5}, {6}, {7}, {8}, {9}};\n",
                        p, m, k, n, zp(out), lo, hi, wname, *arrs,
                        tfliteRounding(o));
    os << llvm::formatv("  lowbit_mcu_fc_s8(&{0}, {1}, {2});\n", p,
                        operandPtr(o, 0), resultPtr(out));
    layer.macs = m * k * n;
    return success();
  };
  if (auto conv = dyn_cast<QConv2DOp>(op)) {
    FailureOr<Tensor> w = constant(op, conv.getWeight());
    if (failed(w))
      return failure();
    ArrayRef<int64_t> x = dims(conv.getInput()), wd = dims(conv.getWeight()),
                      y = dims(conv.getOutput());
    ArrayRef<int64_t> st = conv.getStrides(), pad = conv.getPadding(),
                      dil = conv.getDilations();
    int64_t groups = conv.getGroups(), cg = wd[1], kh = wd[2], kw = wd[3];
    layer.macs = y[0] * y[1] * y[2] * y[3] * cg * kh * kw;
    bool pointwise = isPointwise(conv);
    if (pointwise && ringOf.count(op)) {
      // In place: each pair of output pixels goes through a 2-pixel buffer.
      layer.kernel = "pointwise conv (in place)";
      FailureOr<std::string> arrs = requant(op, zp(conv.getInput()), &*w);
      if (failed(arrs))
        return failure();
      std::string wname = array(key + "w", "int8_t", values(*w));
      ds << llvm::formatv("static const lowbit_mcu_fc_t {0} = {{{1}, {2}, {3}, "
                          "{4}, {5}, {6}, {7}, {8}, {9}};\n",
                          p, x[0] * x[2] * x[3], x[1], wd[0],
                          zp(conv.getOutput()), int64_t(conv.getClampMin()),
                          int64_t(conv.getClampMax()), wname, *arrs,
                          tfliteRounding(op));
      os << llvm::formatv("  lowbit_mcu_fc_inplace_s8(&{0}, {1}, {2});\n", p,
                          operandPtr(op, 0), ptrOf(ringOf.lookup(op)));
      layer.macs = x[0] * x[2] * x[3] * x[1] * wd[0];
    } else if (pointwise) {
      // A 1x1 convolution over NHWC pixels is a matrix product.
      layer.kernel = "pointwise conv";
      if (failed(fc(op, x[0] * x[2] * x[3], x[1], wd[0], zp(conv.getInput()),
                    conv.getOutput(), int64_t(conv.getClampMin()),
                    int64_t(conv.getClampMax()), *w)))
        return failure();
    } else {
      bool depthwise = groups == x[1] && groups > 1 && cg == 1;
      // OIHW -> OHWI (per group), or HWO for depthwise.
      std::vector<int64_t> packed(w->numel());
      for (int64_t o = 0; o < wd[0]; ++o)
        for (int64_t c = 0; c < cg; ++c)
          for (int64_t r = 0; r < kh; ++r)
            for (int64_t q = 0; q < kw; ++q) {
              int64_t src = ((o * cg + c) * kh + r) * kw + q;
              int64_t dst = depthwise ? (r * kw + q) * wd[0] + o
                                      : ((o * kh + r) * kw + q) * cg + c;
              packed[dst] = w->getInt(src);
            }
      // groups == 1 gathers each window into a scratch patch (padding as
      // the zero point), so the zero point folds into the bias.
      bool patched = groups == 1;
      Tensor packedWeights = Tensor::zeros(DType::I8, {wd[0], cg * kh * kw});
      for (size_t i = 0; i < packed.size(); ++i)
        packedWeights.data<int8_t>()[i] = int8_t(packed[i]);
      FailureOr<std::string> arrs =
          requant(op, zp(conv.getInput()), patched ? &packedWeights : nullptr);
      if (failed(arrs))
        return failure();
      // Arrays first: array() appends their declarations to `decls`.
      std::string wname = array(key + "w", "int8_t", packed);
      ds << llvm::formatv("static const lowbit_mcu_conv_t {0} = {{{1}, {2}, "
                          "{3}, {4}, {5}, {6}, {7}, {8}, {9}, ",
                          p, x[0], x[1], x[2], x[3], wd[0], kh, kw, y[2], y[3])
         << llvm::formatv("{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                          "{10}, {11}, {12}, {13}};\n",
                          st[0], st[1], pad[0], pad[1], dil[0], dil[1], groups,
                          zp(conv.getInput()), zp(conv.getOutput()),
                          int64_t(conv.getClampMin()),
                          int64_t(conv.getClampMax()), wname, *arrs,
                          tfliteRounding(op));
      if (ringOf.count(op))
        os << llvm::formatv(
            "  lowbit_mcu_conv_inplace_s8(&{0}, {1}, {2}, {3}, {4});\n", p,
            operandPtr(op, 0),
            patched ? ptrOf(scratchOf.lookup(op)) : "NULL",
            ptrOf(ringOf.lookup(op)), depthwise ? 1 : 0);
      else if (depthwise)
        os << llvm::formatv("  lowbit_mcu_depthwise_s8(&{0}, {1}, {2});\n", p,
                            operandPtr(op, 0), resultPtr(conv.getOutput()));
      else
        os << llvm::formatv("  lowbit_mcu_conv_s8(&{0}, {1}, {2}, {3});\n", p,
                            operandPtr(op, 0), resultPtr(conv.getOutput()),
                            patched ? ptrOf(scratchOf.lookup(op)) : "NULL");
      layer.kernel = depthwise ? "depthwise conv"
                     : groups == 1 ? "conv"
                                   : "grouped conv";
      if (ringOf.count(op))
        layer.kernel += " (in place)";
    }
  } else if (auto lin = dyn_cast<QLinearOp>(op)) {
    FailureOr<Tensor> w = constant(op, lin.getWeight());
    if (failed(w))
      return failure();
    ArrayRef<int64_t> x = dims(lin.getInput()), wd = dims(lin.getWeight());
    layer.kernel = "fully connected";
    if (failed(fc(op, x[0], x[1], wd[0], zp(lin.getInput()), lin.getOutput(),
                  int64_t(lin.getClampMin()), int64_t(lin.getClampMax()), *w)))
      return failure();
  } else if (auto add = dyn_cast<QAddOp>(op)) {
    ds << llvm::formatv("static const lowbit_mcu_add_t {0} = {{{1}, {2}, {3}, "
                        "{4}, {5}, {6}, {7}, {8}, {9}};\n",
                        p, numel(add.getOutput()), zp(add.getLhs()),
                        zp(add.getRhs()), zp(add.getOutput()),
                        int64_t(add.getLhsMultiplier()),
                        int64_t(add.getRhsMultiplier()),
                        int64_t(add.getShift()), int64_t(add.getClampMin()),
                        int64_t(add.getClampMax()));
    os << llvm::formatv("  lowbit_mcu_add_s8(&{0}, {1}, {2}, {3});\n", p,
                        operandPtr(op, 0), operandPtr(op, 1),
                        resultPtr(add.getOutput()));
    layer.kernel = "add";
  } else if (auto pool = dyn_cast<QPool2DOp>(op)) {
    ArrayRef<int64_t> x = dims(pool.getInput()), y = dims(pool.getOutput());
    ArrayRef<int64_t> k = pool.getKernel(), st = pool.getStrides(),
                      pad = pool.getPadding();
    ds << llvm::formatv("static const lowbit_mcu_pool_t {0} = {{{1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, ",
                        p, x[0], x[1], x[2], x[3], y[2], y[3], k[0], k[1],
                        st[0], st[1])
       << llvm::formatv("{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                        "{10}, {11}};\n",
                        pad[0], pad[1], pad[2], pad[3],
                        pool.getKind() == "max" ? 1 : 0,
                        pool.getCountIncludePad() ? 1 : 0,
                        zp(pool.getInput()), zp(pool.getOutput()),
                        int64_t(pool.getMultiplier()),
                        int64_t(pool.getShift()), int64_t(pool.getClampMin()),
                        int64_t(pool.getClampMax()));
    os << llvm::formatv("  lowbit_mcu_pool_s8(&{0}, {1}, {2});\n", p,
                        operandPtr(op, 0), resultPtr(pool.getOutput()));
    layer.kernel = pool.getKind() == "max" ? "max pool" : "average pool";
  } else if (auto lut = dyn_cast<QLutOp>(op)) {
    FailureOr<Tensor> t = constant(op, lut.getTable());
    if (failed(t))
      return failure();
    os << llvm::formatv("  lowbit_mcu_lut_s8({0}, {1}, {2}, {3});\n",
                        numel(lut.getOutput()),
                        array(key + "t", "int8_t", values(*t)),
                        operandPtr(op, 0), resultPtr(lut.getOutput()));
    layer.kernel = "table lookup";
  } else if (auto sm = dyn_cast<QSoftmaxOp>(op)) {
    FailureOr<Tensor> t = constant(op, sm.getTable());
    if (failed(t))
      return failure();
    int64_t row = dims(sm.getInput()).back();
    std::string tname = array(key + "t", "int32_t", values(*t));
    ds << llvm::formatv("static const lowbit_mcu_softmax_t {0} = {{{1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7}, {8}};\n",
                        p, numel(sm.getInput()) / row, row, zp(sm.getOutput()),
                        int64_t(sm.getMultiplier()), int64_t(sm.getShift()),
                        int64_t(sm.getClampMin()), int64_t(sm.getClampMax()),
                        tname);
    os << llvm::formatv("  lowbit_mcu_softmax_s8(&{0}, {1}, {2});\n", p,
                        operandPtr(op, 0), resultPtr(sm.getOutput()));
    layer.kernel = "softmax";
  } else if (auto node = dyn_cast<OnnxNodeOp>(op)) {
    if (!node->getNumResults() || !bufferOf.count(node->getResult(0)) ||
        bufferOf.lookup(node->getResult(0)) ==
            operandBuffer.lookup({op, 0u}))
      return success(); // a view
    ArrayRef<int64_t> x = dims(node->getOperand(0));
    SmallVector<int64_t> perm = permOf(node);
    std::string shape, permText;
    for (size_t d = 0; d < 6; ++d) {
      shape += (d ? ", " : "") + std::to_string(d < x.size() ? x[d] : 1);
      permText +=
          (d ? ", " : "") + std::to_string(d < perm.size() ? perm[d] : d);
    }
    ds << llvm::formatv("static const lowbit_mcu_transpose_t {0} = {{{1}, "
                        "{{{2}}, {{{3}}};\n",
                        p, x.size(), shape, permText);
    os << llvm::formatv("  lowbit_mcu_transpose_s8(&{0}, {1}, {2});\n", p,
                        operandPtr(op, 0), resultPtr(node->getResult(0)));
    layer.kernel = "transpose";
  } else {
    return success();
  }
  layer.weightBytes = art.weightBytes - weightBefore;
  int step = stepOf[op];
  for (const LiveRange &r : ranges)
    if (r.start <= step && r.end >= step)
      layer.liveBytes += r.bytes;
  art.layers.push_back(layer);
  return success();
}

FailureOr<McuArtifact> Emitter::run() {
  if (failed(classify()))
    return failure();
  art.name = name;
  art.cpu = cpu;
  art.arenaBytes = std::max<int64_t>(plan.size, 4);
  for (Operation *op : steps)
    if (failed(emitOp(op)))
      return failure();
  emitConversions(steps.size()); // outputs reordered to the IR's layout
  // The layer where the most arena bytes are live.
  int64_t peak = -1;
  for (const McuLayerInfo &l : art.layers)
    if (l.liveBytes > peak) {
      peak = l.liveBytes;
      art.peakLayer = l.node;
    }
  auto describe = [&](Value codes, int buffer, unsigned index, bool input) {
    McuTensorInfo t;
    StringAttr n = input ? func.getArgAttrOfType<StringAttr>(index, "lowbit.name")
                         : func.getResultAttrOfType<StringAttr>(index,
                                                                "lowbit.name");
    t.name = n ? n.str() : (input ? "input" : "output") + std::to_string(index);
    for (int64_t d : cast<RankedTensorType>(codes.getType()).getShape())
      t.shape.push_back(d);
    t.scale = codeType(codes).getScale();
    t.zeroPoint = codeType(codes).getZeroPoint();
    t.arenaOffset = plan.offsets[buffer];
    return t;
  };
  for (auto [i, v] : llvm::enumerate(inputCodes))
    art.inputs.push_back(describe(v, bufferOf.lookup(v), i, true));
  for (auto [i, v] : llvm::enumerate(outputCodes))
    art.outputs.push_back(describe(v, outputBuffers[i], i, false));

  std::string upper = StringRef(name).upper();
  // The header: sizes and quantization parameters as macros, four entry
  // points. Nothing in it needs floating point; the scales are there for
  // the caller's own conversions.
  llvm::raw_string_ostream h(art.header);
  h << "/* " << name << ".h: generated by lowbit compile --target mcu. */\n"
    << "#ifndef " << upper << "_H\n#define " << upper << "_H\n\n"
    << "#include <stdint.h>\n\n"
    << "/* Bytes of the static arena (inputs, outputs, every activation). */\n"
    << "#define " << upper << "_ARENA_BYTES " << art.arenaBytes << "\n"
    << "/* Bytes of weights, biases and tables (const: in flash). */\n"
    << "#define " << upper << "_WEIGHT_BYTES " << art.weightBytes << "\n"
    << "#define " << upper << "_NUM_INPUTS " << art.inputs.size() << "\n"
    << "#define " << upper << "_NUM_OUTPUTS " << art.outputs.size() << "\n";
  auto macros = [&](const std::vector<McuTensorInfo> &ts, StringRef kind) {
    for (auto [i, t] : llvm::enumerate(ts)) {
      std::string shape;
      for (int64_t d : t.shape)
        shape += (shape.empty() ? "" : "x") + std::to_string(d);
      h << "/* " << kind << " " << i << " '" << t.name << "': int8 [" << shape
        << "], real = (code - ZERO_POINT) * SCALE */\n"
        << "#define " << upper << "_" << StringRef(kind).upper() << i
        << "_BYTES " << t.bytes() << "\n"
        << "#define " << upper << "_" << StringRef(kind).upper() << i
        << "_SCALE " << llvm::formatv("{0:e9}", t.scale) << "\n"
        << "#define " << upper << "_" << StringRef(kind).upper() << i
        << "_ZERO_POINT " << t.zeroPoint << "\n";
    }
  };
  macros(art.inputs, "input");
  macros(art.outputs, "output");
  h << "\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
    << "/* Returns 0. Call once before " << name << "_run. */\n"
    << "int " << name << "_init(void);\n"
    << "/* Where to write input `index`'s codes, or NULL. */\n"
    << "int8_t *" << name << "_input(int index);\n"
    << "/* Where output `index`'s codes are after a run, or NULL. */\n"
    << "const int8_t *" << name << "_output(int index);\n"
    << "/* One inference from the inputs to the outputs; returns 0. */\n"
    << "int " << name << "_run(void);\n"
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";

  llvm::raw_string_ostream c(art.source);
  c << "/* " << name << ".c: generated by lowbit compile --target mcu.\n"
    << " * Integer-only C99: no heap, no libm, no floating point.\n"
    << " * Arena " << art.arenaBytes << " bytes (peak at '" << art.peakLayer
    << "'), weights " << art.weightBytes << " bytes, " << art.layers.size()
    << " kernel calls. */\n"
    << "#include \"" << name << ".h\"\n#include \"lowbit_mcu.h\"\n\n"
    << "#include <stddef.h>\n\n"
    << decls << "\n"
    << "/* int64_t aligns the arena for every kernel. */\n"
    << "static union {\n  int8_t bytes[" << upper << "_ARENA_BYTES];\n"
    << "  int64_t align;\n} arena;\n#define A (arena.bytes)\n\n"
    << "int " << name << "_init(void) { return 0; }\n\n"
    << "int8_t *" << name << "_input(int index) {\n  switch (index) {\n";
  for (auto [i, t] : llvm::enumerate(art.inputs))
    c << "  case " << i << ": return A + " << t.arenaOffset << ";\n";
  c << "  default: return NULL;\n  }\n}\n\n"
    << "const int8_t *" << name << "_output(int index) {\n  switch (index) {\n";
  for (auto [i, t] : llvm::enumerate(art.outputs))
    c << "  case " << i << ": return A + " << t.arenaOffset << ";\n";
  c << "  default: return NULL;\n  }\n}\n\n"
    << "int " << name << "_run(void) {\n"
    << body << "  return 0;\n}\n";
  return art;
}

} // namespace

FailureOr<McuArtifact> mlir::lowbit::emitMcuModel(ModuleOp module,
                                                  StringRef name,
                                                  StringRef cpu) {
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return module.emitError() << "the mcu target compiles one function, the "
                                 "module has "
                              << funcs.size();
  return Emitter(funcs.front(), name, cpu).run();
}
