//===- ElementwiseEmitter.cpp - fused elementwise loops ---------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// One loop nest per elementwise root, with its fused producers inlined as
// one C expression per element.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace mlir::lowbit::x86 {

std::string Emitter::ptr(Value v) {
  Value root = rootOf(v);
  const ValueInfo &vi = info[root];
  std::string ct = cTypeOf(tensorType(v).getElementType())->c;
  std::string p;
  switch (vi.kind) {
  case Kind::Input:
    p = llvm::formatv("((const {0} *)inputs[{1}])", ct, vi.argIndex);
    break;
  case Kind::Constant:
    p = llvm::formatv("((const {0} *)(W + {1}))", ct, vi.weightOffset);
    break;
  case Kind::Buffer:
    p = llvm::formatv("(({0} *)(A + {1}))", ct, buffers[vi.buffer].offset);
    break;
  default:
    return "NULL";
  }
  if (!hoist)
    return p;
  auto it = hoist->find(p);
  if (it != hoist->end())
    return it->second;
  std::string local = "p" + std::to_string(hoist->size());
  hoistDecls += "    const " + ct + " *restrict " + local + " = " + p + ";\n";
  (*hoist)[p] = local;
  return local;
}

std::string Emitter::offsetExpr(ArrayRef<int64_t> shape,
                                ArrayRef<int64_t> root,
                                ArrayRef<std::string> idx) {
  int64_t numel = 1;
  for (int64_t d : shape)
    numel *= d;
  if (numel == 1)
    return "0";
  if (shape == root)
    return "o";
  std::string out;
  int64_t stride = 1;
  int64_t r = root.size(), s = shape.size();
  for (int64_t d = s - 1; d >= 0; --d) {
    int64_t rd = d + (r - s);
    if (shape[d] != 1) {
      if (!out.empty())
        out += " + ";
      out += idx[rd] + (stride == 1 ? "" : " * " + std::to_string(stride));
    }
    stride *= shape[d];
  }
  return out.empty() ? "0" : out;
}

/// The C expression for element (idx) of `v` broadcast to `root`.
FailureOr<std::string>
Emitter::expr(Value v, ArrayRef<int64_t> root, ArrayRef<std::string> idx,
              std::optional<SmallVector<int64_t>> viewShape) {
  Value base = rootOf(v);
  if (info[base].kind != Kind::Fused) {
    SmallVector<int64_t> shape = viewShape
                                     ? *viewShape
                                     : SmallVector<int64_t>(
                                           tensorType(v).getShape());
    return ptr(v) + "[" + offsetExpr(shape, root, idx) + "]";
  }
  return exprOfOp(cast<OnnxNodeOp>(base.getDefiningOp()), root, idx);
}

/// The C expression of one elementwise node over its operands' expressions.
FailureOr<std::string> Emitter::exprOfOp(OnnxNodeOp node,
                                         ArrayRef<int64_t> root,
                                         ArrayRef<std::string> idx) {
  Value base = node.getResult(0);
  StringRef t = node.getOpType();
  auto in = [&](unsigned i) -> FailureOr<std::string> {
    return expr(node.getInputs()[i], root, idx);
  };
  // Shape of a per-axis quantization parameter seen from `root`.
  auto axisView = [&](Value param) -> std::optional<SmallVector<int64_t>> {
    auto pt = tensorType(param);
    if (!pt || pt.getNumElements() <= 1)
      return std::nullopt;
    int64_t axis = 1;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<IntegerAttr>(attrs.get("axis")))
        axis = a.getInt();
    int64_t rank = root.size();
    if (axis < 0)
      axis += rank;
    SmallVector<int64_t> shape(rank, 1);
    shape[axis] = pt.getNumElements();
    return shape;
  };
  auto floatAttr = [&](StringRef n, double d) {
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get(n)))
        return a.getValueAsDouble();
    return d;
  };
  auto lit = [](double d) {
    std::string s = llvm::formatv("{0:e9}", d);
    return "(float)" + s;
  };
  std::string ct = cTypeOf(tensorType(base).getElementType())->c;
  bool isFloat = tensorType(node.getInputs()[0]) &&
                 tensorType(node.getInputs()[0]).getElementType().isF32();
  SmallVector<std::string> a;
  unsigned n = node.getInputs().size();
  for (unsigned i = 0; i < n; ++i) {
    if (isa<NoneType>(node.getInputs()[i].getType())) {
      a.push_back("");
      continue;
    }
    if ((t == "QuantizeLinear" || t == "DequantizeLinear") && i > 0) {
      FailureOr<std::string> e =
          expr(node.getInputs()[i], root, idx, axisView(node.getInputs()[i]));
      if (failed(e))
        return failure();
      a.push_back(*e);
      continue;
    }
    if (t == "Expand" && i == 1)
      continue;
    FailureOr<std::string> e = in(i);
    if (failed(e))
      return failure();
    a.push_back(*e);
  }
  auto bin = [&](StringRef opStr) {
    return "(" + a[0] + " " + opStr.str() + " " + a[1] + ")";
  };
  if (t == "Add")
    return bin("+");
  if (t == "Sub")
    return bin("-");
  if (t == "Mul")
    return bin("*");
  if (t == "Div")
    return bin("/");
  if (t == "Equal")
    return bin("==");
  if (t == "Less")
    return bin("<");
  if (t == "Greater")
    return bin(">");
  if (t == "LessOrEqual")
    return bin("<=");
  if (t == "GreaterOrEqual")
    return bin(">=");
  if (t == "And")
    return bin("&&");
  if (t == "Or")
    return bin("||");
  if (t == "Max" && isFloat)
    return "lb_max(" + a[0] + ", " + a[1] + ")";
  if (t == "Min" && isFloat)
    return "lb_min(" + a[0] + ", " + a[1] + ")";
  if (t == "Max")
    return "(" + a[0] + " > " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
  if (t == "Min")
    return "(" + a[0] + " < " + a[1] + " ? " + a[0] + " : " + a[1] + ")";
  if (t == "Not")
    return "(!" + a[0] + ")";
  if (t == "Neg")
    return "(-" + a[0] + ")";
  if (t == "Expand")
    return a[0];
  if (t == "Where")
    return "(" + a[0] + " ? " + a[1] + " : " + a[2] + ")";
  if (t == "Cast") {
    if (ct == std::string("uint8_t") &&
        tensorType(base).getElementType().isInteger(1))
      return "(uint8_t)(" + a[0] + " != 0)";
    return "(" + ct + ")(" + a[0] + ")";
  }
  if (!isFloat && t != "DequantizeLinear")
    return fail(node, "elementwise math on non-f32 values");
  if (t == "Pow")
    return "powf(" + a[0] + ", " + a[1] + ")";
  if (t == "Abs")
    return "fabsf(" + a[0] + ")";
  if (t == "Sqrt")
    return "sqrtf(" + a[0] + ")";
  if (t == "Reciprocal")
    return "(1.0f / " + a[0] + ")";
  if (t == "Exp")
    return "expf(" + a[0] + ")";
  if (t == "Log")
    return "logf(" + a[0] + ")";
  if (t == "Erf")
    return "erff(" + a[0] + ")";
  if (t == "Tanh")
    return "tanhf(" + a[0] + ")";
  if (t == "Floor")
    return "floorf(" + a[0] + ")";
  if (t == "Ceil")
    return "ceilf(" + a[0] + ")";
  if (t == "Round")
    return "nearbyintf(" + a[0] + ")";
  if (t == "Sign")
    return "lb_sign(" + a[0] + ")";
  if (t == "Sigmoid")
    return "lb_sigmoid(" + a[0] + ")";
  if (t == "Relu")
    return "lb_relu(" + a[0] + ")";
  if (t == "LeakyRelu")
    return "lb_leaky(" + a[0] + ", " + lit(floatAttr("alpha", 0.01)) + ")";
  if (t == "HardSigmoid")
    return "lb_clip(" + lit(floatAttr("alpha", 0.2)) + " * " + a[0] + " + " +
           lit(floatAttr("beta", 0.5)) + ", 0.0f, 1.0f)";
  if (t == "HardSwish")
    return "lb_hardswish(" + a[0] + ")";
  if (t == "Gelu")
    return "lb_gelu(" + a[0] + ")";
  if (t == "Clip") {
    if (node.getOpset() < 11)
      return "lb_clip(" + a[0] + ", " +
             lit(floatAttr("min", -3.4028234663852886e38)) + ", " +
             lit(floatAttr("max", 3.4028234663852886e38)) + ")";
    return "lb_clip(" + a[0] + ", " +
           (n > 1 && !a[1].empty() ? a[1] : std::string("-FLT_MAX")) + ", " +
           (n > 2 && !a[2].empty() ? a[2] : std::string("FLT_MAX")) + ")";
  }
  if (t == "DequantizeLinear") {
    std::string zp = n > 2 && !a[2].empty() ? "(float)" + a[2] : "0.0f";
    return "(((float)" + a[0] + " - " + zp + ") * " + a[1] + ")";
  }
  if (t == "QuantizeLinear") {
    std::string zp = n > 2 && !a[2].empty() ? "(float)" + a[2] : "0.0f";
    StringRef sat = ct == std::string("int8_t")    ? "lb_sat_i8"
                    : ct == std::string("uint8_t") ? "lb_sat_u8"
                                                   : "";
    if (sat.empty())
      return fail(node, "QuantizeLinear to " + ct);
    return sat.str() + "(nearbyintf(" + a[0] + " / " + a[1] + ") + " + zp + ")";
  }
  return fail(node, "no C expression for this op");
}

/// A loop nest over the root's shape computing the fused expression.
LogicalResult Emitter::emitElementwise(Operation *op) {
  auto node = cast<OnnxNodeOp>(op);
  Value r = node.getResult(0);
  auto t = tensorType(r);
  ArrayRef<int64_t> shape = t.getShape();
  // When every leaf of the fused tree has the root's shape or one element,
  // a single flat loop suffices (and vectorizes best).
  bool flat = true;
  std::function<void(Value)> scan = [&](Value v) {
    if (isa<NoneType>(v.getType()))
      return;
    Value b = rootOf(v);
    if (info[b].kind == Kind::Fused) {
      for (Value in : b.getDefiningOp()->getOperands())
        scan(in);
      return;
    }
    auto vt = tensorType(v);
    if (vt && vt.getShape() != shape && vt.getNumElements() != 1)
      flat = false;
  };
  for (Value in : node.getInputs())
    scan(in);
  if (node.getOpType() == "QuantizeLinear" ||
      node.getOpType() == "DequantizeLinear")
    flat = flat && llvm::all_of(node.getInputs().drop_front(), [](Value v) {
             auto vt = tensorType(v);
             return !vt || vt.getNumElements() == 1;
           });
  SmallVector<std::string> idx;
  std::string ct = cTypeOf(t.getElementType())->c;
  std::string outPtr = ptr(r);
  std::map<std::string, std::string> locals;
  hoist = &locals;
  hoistDecls.clear();
  if (flat)
    idx.assign(shape.size(), "o");
  else
    for (size_t d = 0; d < shape.size(); ++d)
      idx.push_back("i" + std::to_string(d));
  FailureOr<std::string> e = exprOfOp(node, shape, idx);
  hoist = nullptr;
  if (failed(e))
    return failure();
  // Large loops run on all threads: the body becomes a function of the
  // bounds of its outermost index (flat: the element index); the arena,
  // weights and inputs travel in a context.
  int64_t numel = t.getNumElements();
  bool parallel =
      numel >= (1 << 16) && (flat || (shape.size() >= 2 && shape[0] >= 2));
  std::string lo = parallel ? "begin" : "0";
  std::string loop;
  llvm::raw_string_ostream l(loop);
  if (flat) {
    l << "  for (int64_t o = " << lo << "; o < "
      << (parallel ? "end" : std::to_string(numel)) << "; ++o)\n    y[o] = "
      << *e << ";\n";
  } else {
    int64_t outer = shape.empty() ? 1 : shape[0];
    l << "  for (int64_t i0 = " << lo << "; i0 < "
      << (parallel ? "end" : std::to_string(outer)) << "; ++i0) {\n"
      << "    int64_t o = i0 * " << numel / std::max<int64_t>(outer, 1)
      << ";\n";
    for (size_t d = 1; d < shape.size(); ++d)
      l << std::string(4 + 2 * (d - 1), ' ') << "for (int64_t i" << d
        << " = 0; i" << d << " < " << shape[d] << "; ++i" << d << ")\n";
    l << std::string(4 + 2 * (shape.size() ? shape.size() - 1 : 0), ' ')
      << "y[o++] = " << *e << ";\n  }\n";
  }
  std::string decls = "  " + ct + " *restrict y = " + outPtr + ";\n";
  for (StringRef line : llvm::split(StringRef(hoistDecls), '\n'))
    if (!line.empty())
      decls += line.drop_front(2).str() + "\n";
  if (!parallel) {
    os << "  {\n" << decls << loop << "  }\n";
    return success();
  }
  std::string fn = "lb_loop" + std::to_string(loopCounter++);
  llvm::raw_string_ostream f(functions);
  f << "static void " << fn << "(void *c, int64_t begin, int64_t end) {\n"
    << "  const lb_ctx *x = (const lb_ctx *)c;\n"
    << "  uint8_t *A = x->A;\n  const uint8_t *W = x->W;\n"
    << "  const void *const *inputs = x->inputs;\n"
    << "  (void)A;\n  (void)W;\n  (void)inputs;\n"
    << decls << loop << "}\n\n";
  os << "  lowbit_k_parallel_for(ex, " << (flat ? numel : shape[0]) << ", "
     << fn << ", &lbc);\n";
  return success();
}

} // namespace mlir::lowbit::x86
