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

/// A Transpose that only moves size-1 dimensions keeps the element order.
bool isOrderKeeping(OnnxNodeOp node) {
  auto in = cast<RankedTensorType>(node->getOperand(0).getType());
  SmallVector<int64_t> perm;
  if (auto attrs = node.getAttrsAttr())
    if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("perm")))
      perm.assign(a.asArrayRef().begin(), a.asArrayRef().end());
  if (perm.empty())
    for (int64_t d = in.getRank() - 1; d >= 0; --d)
      perm.push_back(d);
  int64_t last = -1;
  for (int64_t d : perm) {
    if (in.getDimSize(d) == 1)
      continue;
    if (d < last)
      return false;
    last = d;
  }
  return true;
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
  LogicalResult emitOp(Operation *op);
  /// A const array for a constant operand (deduplicated); its C name.
  FailureOr<std::string> constArray(Operation *user, Value v,
                                    StringRef ctype);
  std::string ptr(Value v) {
    return llvm::formatv("(A + {0})", offsetOf(v)).str();
  }
  int64_t offsetOf(Value v) {
    Value root = aliasRoot(v);
    return plan.offsets[bufferOf.lookup(root)];
  }
  Value aliasRoot(Value v) {
    while (alias.count(v))
      v = alias.lookup(v);
    return v;
  }

  func::FuncOp func;
  std::string name, cpu;
  std::vector<Operation *> steps;
  llvm::DenseMap<Operation *, int> stepOf;
  llvm::DenseMap<Value, Value> alias; ///< view -> what it views
  llvm::DenseMap<Value, int> bufferOf;
  std::vector<Value> bufferValues;
  std::vector<LiveRange> ranges;
  ArenaPlan plan;
  llvm::DenseMap<Value, std::string> arrays;
  std::string decls, body;
  int counter = 0;
  McuArtifact art;
  SmallVector<Value> inputCodes, outputCodes;
};

LogicalResult Emitter::classify() {
  Block &block = func.getBody().front();
  for (Operation &op : block) {
    stepOf[&op] = steps.size();
    steps.push_back(&op);
  }
  auto addBuffer = [&](Value v, Operation *def) {
    bufferOf[v] = ranges.size();
    bufferValues.push_back(v);
    ranges.push_back({numel(v), stepOf[def], stepOf[def]});
  };
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
    if (isa<arith::ConstantOp, func::ReturnOp, NoValueOp>(op))
      continue;
    if (auto q = dyn_cast<QuantizeOp>(op)) {
      if (!isa<BlockArgument>(q.getInput()))
        return fail(op, "a value is quantized inside the graph: this layer "
                        "has no integer form (lowbit-lower-to-integer left "
                        "it in floating point)");
      addBuffer(q.getOutput(), op);
      continue;
    }
    if (isa<DequantizeOp>(op))
      continue; // checked with the outputs below
    if (auto node = dyn_cast<OnnxNodeOp>(op)) {
      StringRef type = node.getOpType();
      bool onCodes = node->getNumResults() == 1 &&
                     codeType(node->getOperand(0)) &&
                     codeType(node->getResult(0));
      if (onCodes && (isViewOpType(type) ||
                      (type == "Transpose" && isOrderKeeping(node)))) {
        alias[node->getResult(0)] = node->getOperand(0);
        continue;
      }
      if (onCodes && type == "Transpose") {
        addBuffer(node->getResult(0), op);
        continue;
      }
      if (type == "Identity" && node->getOperand(0).getDefiningOp<DequantizeOp>())
        continue;
      return fail(op, "this op has no integer form; only int8 QDQ graphs "
                      "whose every layer lowers to integers compile for MCUs");
    }
    if (isa<QConv2DOp, QLinearOp, QAddOp, QPool2DOp, QLutOp, QSoftmaxOp>(op)) {
      addBuffer(op->getResult(0), op);
      continue;
    }
    return fail(op, "no MCU kernel for this op");
  }
  // Graph outputs: each returned value is dequantize(codes) (or an
  // Identity of it); the codes stay live to the end.
  auto ret = cast<func::ReturnOp>(block.getTerminator());
  for (Value v : ret.getOperands()) {
    Operation *def = v.getDefiningOp();
    if (auto node = dyn_cast_or_null<OnnxNodeOp>(def);
        node && node.getOpType() == "Identity")
      def = node->getOperand(0).getDefiningOp();
    auto dq = dyn_cast_or_null<DequantizeOp>(def);
    if (!dq || !codeType(dq.getInput()) || !bufferOf.count(aliasRoot(dq.getInput())))
      return func.emitError() << "unsupported by the mcu target: graph output #"
                              << outputCodes.size()
                              << " is not dequantized int8 codes";
    outputCodes.push_back(dq.getInput());
    ranges[bufferOf[aliasRoot(dq.getInput())]].end = steps.size();
  }
  // Uses extend live ranges (through views).
  for (Operation *op : steps)
    for (Value v : op->getOperands()) {
      auto it = bufferOf.find(aliasRoot(v));
      if (it != bufferOf.end())
        ranges[it->second].end = std::max(ranges[it->second].end, stepOf[op]);
    }
  plan = planArena(ranges, /*alignment=*/4);
  return success();
}

FailureOr<std::string> Emitter::constArray(Operation *user, Value v,
                                           StringRef ctype) {
  if (auto it = arrays.find(v); it != arrays.end())
    return it->second;
  Attribute attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return fail(user, "an operand that must be constant is computed");
  FailureOr<Tensor> t = tensorFromConstant(attr);
  if (failed(t))
    return fail(user, "unreadable constant");
  std::string cname = "k" + std::to_string(counter++);
  llvm::raw_string_ostream os(decls);
  os << "static const " << ctype << " " << cname << "[" << t->numel()
     << "] = {";
  for (int64_t i = 0; i < t->numel(); ++i)
    os << (i ? "," : "") << (i % 24 ? "" : "\n  ") << t->getInt(i);
  os << "};\n";
  int64_t elemBytes = ctype == "int8_t" ? 1 : 4;
  art.weightBytes += t->numel() * elemBytes;
  arrays[v] = cname;
  return cname;
}

LogicalResult Emitter::emitOp(Operation *op) {
  llvm::raw_string_ostream os(body);
  McuLayerInfo layer;
  layer.node = getNodeName(op);
  int64_t weightBefore = art.weightBytes;
  std::string p = "p" + std::to_string(counter++);
  auto zp = [](Value v) { return codeType(v).getZeroPoint(); };
  auto dims = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  };
  auto requantArrays = [&](Operation *o) -> FailureOr<std::string> {
    FailureOr<std::string> w = constArray(o, o->getOperand(1), "int8_t");
    FailureOr<std::string> b = constArray(o, o->getOperand(2), "int32_t");
    FailureOr<std::string> m = constArray(o, o->getOperand(3), "int32_t");
    FailureOr<std::string> s = constArray(o, o->getOperand(4), "int32_t");
    if (failed(w) || failed(b) || failed(m) || failed(s))
      return failure();
    return llvm::formatv("{0}, {1}, {2}, {3}", *w, *b, *m, *s).str();
  };
  llvm::raw_string_ostream ds(decls);
  if (auto conv = dyn_cast<QConv2DOp>(op)) {
    FailureOr<std::string> arrs = requantArrays(op);
    if (failed(arrs))
      return failure();
    ArrayRef<int64_t> x = dims(conv.getInput()), w = dims(conv.getWeight()),
                      y = dims(conv.getOutput());
    ArrayRef<int64_t> st = conv.getStrides(), pad = conv.getPadding(),
                      dil = conv.getDilations();
    ds << llvm::formatv("static const lowbit_mcu_conv_t {0} = {{{1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7}, {8}, {9}, ",
                        p, x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2],
                        y[3])
       << llvm::formatv("{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                        "{10}, {11}};\n",
                        st[0], st[1], pad[0], pad[1], dil[0], dil[1],
                        conv.getGroups(), zp(conv.getInput()),
                        zp(conv.getOutput()), int64_t(conv.getClampMin()),
                        int64_t(conv.getClampMax()), *arrs);
    os << llvm::formatv("  lowbit_mcu_conv_s8(&{0}, {1}, {2});\n", p,
                        ptr(conv.getInput()), ptr(conv.getOutput()));
    layer.kernel = conv.getGroups() == 1 ? "conv" : "depthwise/grouped conv";
    if (w[2] == 1 && w[3] == 1 && conv.getGroups() == 1)
      layer.kernel = "pointwise conv";
    layer.macs = y[0] * y[1] * y[2] * y[3] * w[1] * w[2] * w[3];
  } else if (auto fc = dyn_cast<QLinearOp>(op)) {
    FailureOr<std::string> arrs = requantArrays(op);
    if (failed(arrs))
      return failure();
    ArrayRef<int64_t> x = dims(fc.getInput()), w = dims(fc.getWeight());
    ds << llvm::formatv("static const lowbit_mcu_fc_t {0} = {{{1}, {2}, {3}, "
                        "{4}, {5}, {6}, {7}, {8}};\n",
                        p, x[0], x[1], w[0], zp(fc.getInput()),
                        zp(fc.getOutput()), int64_t(fc.getClampMin()),
                        int64_t(fc.getClampMax()), *arrs);
    os << llvm::formatv("  lowbit_mcu_fc_s8(&{0}, {1}, {2});\n", p,
                        ptr(fc.getInput()), ptr(fc.getOutput()));
    layer.kernel = "fully connected";
    layer.macs = x[0] * x[1] * w[0];
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
                        ptr(add.getLhs()), ptr(add.getRhs()),
                        ptr(add.getOutput()));
    layer.kernel = "add";
  } else if (auto pool = dyn_cast<QPool2DOp>(op)) {
    ArrayRef<int64_t> x = dims(pool.getInput()), y = dims(pool.getOutput());
    ArrayRef<int64_t> k = pool.getKernel(), st = pool.getStrides(),
                      pad = pool.getPadding();
    ds << llvm::formatv("static const lowbit_mcu_pool_t {0} = {{{1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7}, {8}, {9}, ",
                        p, x[0] * x[1], x[2], x[3], y[2], y[3], k[0], k[1],
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
                        ptr(pool.getInput()), ptr(pool.getOutput()));
    layer.kernel = pool.getKind() == "max" ? "max pool" : "average pool";
  } else if (auto lut = dyn_cast<QLutOp>(op)) {
    FailureOr<std::string> t = constArray(op, lut.getTable(), "int8_t");
    if (failed(t))
      return failure();
    os << llvm::formatv("  lowbit_mcu_lut_s8({0}, {1}, {2}, {3});\n",
                        numel(lut.getOutput()), *t, ptr(lut.getInput()),
                        ptr(lut.getOutput()));
    layer.kernel = "table lookup";
  } else if (auto sm = dyn_cast<QSoftmaxOp>(op)) {
    FailureOr<std::string> t = constArray(op, sm.getTable(), "int32_t");
    if (failed(t))
      return failure();
    int64_t row = dims(sm.getInput()).back();
    ds << llvm::formatv("static const lowbit_mcu_softmax_t {0} = {{{1}, {2}, "
                        "{3}, {4}, {5}, {6}, {7}, {8}};\n",
                        p, numel(sm.getInput()) / row, row, zp(sm.getOutput()),
                        int64_t(sm.getMultiplier()), int64_t(sm.getShift()),
                        int64_t(sm.getClampMin()), int64_t(sm.getClampMax()),
                        *t);
    os << llvm::formatv("  lowbit_mcu_softmax_s8(&{0}, {1}, {2});\n", p,
                        ptr(sm.getInput()), ptr(sm.getOutput()));
    layer.kernel = "softmax";
  } else if (auto node = dyn_cast<OnnxNodeOp>(op)) {
    if (!bufferOf.count(node->getResult(0)))
      return success(); // a view
    ArrayRef<int64_t> x = dims(node->getOperand(0));
    if (x.size() > 6)
      return fail(op, "more than 6 dimensions");
    SmallVector<int64_t> perm;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("perm")))
        perm.assign(a.asArrayRef().begin(), a.asArrayRef().end());
    if (perm.empty())
      for (int64_t d = x.size() - 1; d >= 0; --d)
        perm.push_back(d);
    std::string shape, permText;
    for (size_t d = 0; d < 6; ++d) {
      shape += (d ? ", " : "") + std::to_string(d < x.size() ? x[d] : 1);
      permText += (d ? ", " : "") + std::to_string(d < perm.size() ? perm[d] : d);
    }
    ds << llvm::formatv("static const lowbit_mcu_transpose_t {0} = {{{1}, "
                        "{{{2}}, {{{3}}};\n",
                        p, x.size(), shape, permText);
    os << llvm::formatv("  lowbit_mcu_transpose_s8(&{0}, {1}, {2});\n", p,
                        ptr(node->getOperand(0)), ptr(node->getResult(0)));
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
  // The layer where the most arena bytes are live.
  int64_t peak = -1;
  for (const McuLayerInfo &l : art.layers)
    if (l.liveBytes > peak) {
      peak = l.liveBytes;
      art.peakLayer = l.node;
    }
  auto describe = [&](Value codes, Value named, unsigned index, bool input) {
    McuTensorInfo t;
    StringAttr n = input ? func.getArgAttrOfType<StringAttr>(index, "lowbit.name")
                         : func.getResultAttrOfType<StringAttr>(index,
                                                                "lowbit.name");
    t.name = n ? n.str() : (input ? "input" : "output") + std::to_string(index);
    for (int64_t d : cast<RankedTensorType>(codes.getType()).getShape())
      t.shape.push_back(d);
    t.scale = codeType(codes).getScale();
    t.zeroPoint = codeType(codes).getZeroPoint();
    t.arenaOffset = offsetOf(codes);
    return t;
  };
  for (auto [i, v] : llvm::enumerate(inputCodes))
    art.inputs.push_back(describe(v, v, i, true));
  for (auto [i, v] : llvm::enumerate(outputCodes))
    art.outputs.push_back(describe(v, v, i, false));

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
