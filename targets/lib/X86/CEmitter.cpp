//===- CEmitter.cpp - lowbit IR -> C calling runtime kernels ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Three steps over the (static-shaped) function:
//  1. classify every value: constant (goes to the package, packed for the
//     kernel that reads it), input, alias (a view of another buffer:
//     Reshape, Flatten, ...), fused (an elementwise value with one
//     elementwise user of the same shape: it never hits memory), or buffer;
//  2. plan the arena: buffers and per-op scratch get offsets from a
//     first-fit allocator over their live ranges;
//  3. print C: kernel calls for layers, one loop nest per elementwise root
//     with its fused producers inlined as one expression.
//
//===----------------------------------------------------------------------===//

#include "EmitterImpl.h"

using namespace mlir;
using namespace mlir::lowbit;

extern "C" uint32_t lowbit_crc32(const void *data, size_t size);

std::string mlir::lowbit::modelIdentifier(StringRef path) {
  std::string stem = llvm::sys::path::stem(path).str();
  std::string out;
  for (char c : stem)
    out.push_back(llvm::isAlnum(c) ? c : '_');
  if (out.empty() || llvm::isDigit(out[0]))
    out.insert(out.begin(), 'm');
  return out;
}

namespace mlir::lowbit::x86 {

Value Emitter::rootOf(Value v) {
  while (info[v].kind == Kind::Alias)
    v = info[v].aliasOf;
  return v;
}

/// Where a use by `user` happens: fused users run inside their root.
int Emitter::useIndex(Operation *user) {
  while (user->getNumResults() == 1 &&
         info[user->getResult(0)].kind == Kind::Fused)
    user = *user->getResult(0).getUsers().begin();
  auto it = opIndex.find(user);
  return it == opIndex.end() ? static_cast<int>(ops.size()) : it->second;
}

LogicalResult Emitter::classify() {
  Block &block = func.getBody().front();
  for (Operation &op : block)
    ops.push_back(&op);
  for (auto [i, op] : llvm::enumerate(ops))
    opIndex[op] = i;
  for (BlockArgument arg : func.getArguments()) {
    info[arg].kind = Kind::Input;
    info[arg].argIndex = arg.getArgNumber();
  }
  for (Value v : func.getArguments()) {
    auto t = tensorType(v);
    if (!t || !t.hasStaticShape() || !cTypeOf(t.getElementType()))
      return emitError(func.getLoc())
             << "unsupported by the x86 target: input "
             << cast<BlockArgument>(v).getArgNumber()
             << " has type " << v.getType()
             << "; fix symbolic dimensions with --input-shape";
  }
  // Relu fused into the layer that produces its operand.
  for (Operation *op : ops) {
    auto node = dyn_cast<OnnxNodeOp>(op);
    if (!node || node.getOpType() != "Relu")
      continue;
    Value in = node.getInputs()[0];
    Operation *def = in.getDefiningOp();
    // (The u8 x s8 GEMM has no ReLU epilogue; the u8 convolution applies
    // it while scattering to NCHW.)
    if (def && isa<LinearOp, Conv2DOp>(def) && in.hasOneUse() &&
        !(isa<LinearOp>(def) && w8a8Input(def))) {
      fusedAct[def] = 1;
      info[node.getResult(0)] = ValueInfo{Kind::Alias, in};
    }
  }
  for (Operation *op : ops) {
    if (isa<func::ReturnOp, NoValueOp>(op))
      continue;
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      info[cst.getResult()].kind = Kind::Constant;
      continue;
    }
    if (isa<QWeightOp>(op)) {
      info[op->getResult(0)].kind = Kind::Constant; // packed in planWeights
      continue;
    }
    if (auto lr = dyn_cast<LowRankOp>(op)) {
      // Never formed: the layer adds the branch in its GEMM's epilogue
      // (a chain of switchable adapters' branches over one base).
      for (OpOperand &use : lr->getUses())
        if (!(isa<LinearOp>(use.getOwner()) && use.getOperandNumber() == 1) &&
            !(isa<LowRankOp>(use.getOwner()) && use.getOperandNumber() == 0))
          return fail(op, "a low-rank branch runs only as the weight of a "
                          "linear layer");
      if (lr.getAdapterAttr() && !llvm::is_contained(adapterNames,
                                                     lr.getAdapter()->str())) {
        auto names = func->getAttrOfType<ArrayAttr>("lowbit.adapters");
        for (Attribute a : names ? names : ArrayAttr())
          if (auto sa = dyn_cast<StringAttr>(a);
              sa && !llvm::is_contained(adapterNames, sa.str()))
            adapterNames.push_back(sa.str());
        if (!llvm::is_contained(adapterNames, lr.getAdapter()->str()))
          adapterNames.push_back(lr.getAdapter()->str());
      }
      auto lt = cast<RankedTensorType>(lr.getLeft().getType());
      if (lt.getDimSize(1) > LOWBIT_LOWRANK_MAX)
        return fail(op, "rank " + std::to_string(lt.getDimSize(1)) +
                            " is above the kernels' " +
                            std::to_string(LOWBIT_LOWRANK_MAX));
      info[lr.getResult()].kind = Kind::Constant;
      continue;
    }
    if (isa<DequantizeOp>(op) && op->hasOneUse() &&
        w8a8Input(*op->getUsers().begin())) {
      info[op->getResult(0)].kind = Kind::Fused; // read as u8 by the layer
      continue;
    }
    for (Value r : op->getResults()) {
      if (info[r].kind == Kind::Alias)
        continue;
      auto t = tensorType(r);
      if (!t || !t.hasStaticShape() || !cTypeOf(t.getElementType())) {
        if (r.use_empty())
          continue; // unused optional output (Dropout mask, ...)
        return fail(op, "result type " + std::to_string(0) +
                            " is not a static tensor of a supported type; "
                            "fix symbolic dimensions with --input-shape");
      }
    }
    StringRef type = opTypeOf(op);
    if (isa<OnnxNodeOp>(op) && isViewOpType(type) &&
        op->getNumResults() >= 1) {
      info[op->getResult(0)] =
          ValueInfo{Kind::Alias, cast<OnnxNodeOp>(op).getInputs()[0]};
      continue;
    }
    for (Value r : op->getResults())
      if (info[r].kind == Kind::None && !r.use_empty())
        info[r].kind = Kind::Buffer;
  }
  // A Transpose read only by a MatMul becomes a strided view: the product
  // packs its operands anyway, so reading through strides is free while
  // copying is a full pass over memory. The left operand needs unit stride
  // along its last (contraction) dimension.
  for (Operation *op : ops) {
    auto node = dyn_cast<OnnxNodeOp>(op);
    if (!node || node.getOpType() != "Transpose" || !node->hasOneUse())
      continue;
    auto user = dyn_cast<OnnxNodeOp>(*node->getUsers().begin());
    Value in = node.getInputs()[0];
    auto inType = tensorType(in);
    if (!user || user.getOpType() != "MatMul" || !inType ||
        !inType.getElementType().isF32() ||
        !info[in].strides.empty() || info[rootOf(in)].kind == Kind::None)
      continue;
    SmallVector<int64_t> perm;
    if (auto attrs = node.getAttrsAttr())
      if (auto a = dyn_cast_or_null<DenseI64ArrayAttr>(attrs.get("perm")))
        perm.assign(a.asArrayRef().begin(), a.asArrayRef().end());
    int64_t rank = inType.getRank();
    if (perm.empty())
      for (int64_t d = rank - 1; d >= 0; --d)
        perm.push_back(d);
    SmallVector<int64_t> cs(rank, 1), strides(rank);
    for (int64_t d = rank - 2; d >= 0; --d)
      cs[d] = cs[d + 1] * inType.getDimSize(d + 1);
    for (int64_t d = 0; d < rank; ++d)
      strides[d] = cs[perm[d]];
    bool isLhs = user.getInputs()[0] == node.getResult(0);
    bool isRhs = user.getInputs()[1] == node.getResult(0);
    if (isLhs && (isRhs || strides.back() != 1))
      continue;
    ValueInfo view;
    view.kind = Kind::Alias;
    view.aliasOf = in;
    view.strides = strides;
    info[node.getResult(0)] = view;
  }

  // Fusion: an elementwise value whose only user is an elementwise op of
  // the same shape is computed inside that user's loop. Chains are cut
  // every kMaxFusedDepth values: the emitter inlines a chain recursively
  // and the C compiler gets one expression per chain (a 10,000-op chain
  // overflowed the stack and would be one enormous statement).
  constexpr int kMaxFusedDepth = 32;
  llvm::DenseMap<Value, int> depth;
  for (Operation *op : ops) {
    if (!isa<OnnxNodeOp>(op) || !elementwiseOps().contains(opTypeOf(op)) ||
        op->getNumResults() != 1)
      continue;
    Value r = op->getResult(0);
    if (!r.hasOneUse() || info[r].kind != Kind::Buffer)
      continue;
    Operation *user = *r.getUsers().begin();
    if (!isa<OnnxNodeOp>(user) || !elementwiseOps().contains(opTypeOf(user)) ||
        user->getNumResults() != 1)
      continue;
    auto userType = tensorType(user->getResult(0));
    if (!userType || userType.getShape() != tensorType(r).getShape())
      continue;
    int d = 1;
    for (Value operand : op->getOperands())
      if (info[operand].kind == Kind::Fused)
        d = std::max(d, depth.lookup(operand) + 1);
    if (d > kMaxFusedDepth)
      continue;
    depth[r] = d;
    info[r].kind = Kind::Fused;
  }
  return success();
}


LogicalResult Emitter::planLiveRanges() {
  // Live ranges: from the defining op to the last (effective) use; uses of
  // an alias count for its root.
  llvm::DenseMap<Value, int> lastUse;
  for (Operation *op : ops)
    for (Value operand : op->getOperands()) {
      Value root = rootOf(operand);
      if (info[root].kind != Kind::Buffer)
        continue;
      int at = isa<func::ReturnOp>(op) ? static_cast<int>(ops.size())
                                       : useIndex(op);
      lastUse[root] = std::max(lastUse.lookup(root), at);
    }
  // A W8A8 layer reads its input's u8 codes directly, past the
  // dequantize between them.
  for (Operation *op : ops)
    if (QuantizeOp q = w8a8Input(op)) {
      Value root = rootOf(q.getOutput());
      lastUse[root] = std::max(lastUse.lookup(root), useIndex(op));
    }
  // Fused values' operands are read when the root runs: handled by
  // useIndex. Buffers for values:
  for (Operation *op : ops)
    for (Value r : op->getResults())
      if (info[r].kind == Kind::Buffer) {
        auto t = tensorType(r);
        // Checked: a shape such as [2^31, 2^31] wraps the byte count and
        // used to compile to a 64-byte arena that the code then overran.
        int64_t bytes = cTypeOf(t.getElementType())->bytes;
        for (int64_t d : t.getShape())
          if (__builtin_mul_overflow(bytes, d, &bytes) ||
              bytes > kMaxTensorBytes)
            return fail(op, "result " +
                                std::to_string(cast<OpResult>(r).getResultNumber()) +
                                " has shape " + shapeString(t) +
                                ", more than the " +
                                std::to_string(kMaxTensorBytes >> 30) +
                                " GiB a tensor may take");
        buffers.push_back(
            Buffer{alignUp(std::max<int64_t>(bytes, 1), 64), opIndex[op],
                   std::max(lastUse.lookup(r), opIndex[op]), 0});
        info[r].buffer = buffers.size() - 1;
      }
  return success();
}

FailureOr<X86Artifact> Emitter::run() {
  if (failed(classify()) || failed(planWeights()))
    return failure();
  // Scratch for ops that need it, then the arena plan.
  for (Operation *op : ops) {
    if (auto conv = dyn_cast<Conv2DOp>(op)) {
      auto xt = conv.getInput().getType();
      auto wt = cast<RankedTensorType>(conv.getWeight().getType());
      auto yt = conv.getOutput().getType();
      // The runtime says how much scratch its convolution needs.
      lowbit_conv2d_params_t p = {};
      p.n = xt.getDimSize(0);
      p.c = xt.getDimSize(1);
      p.o = wt.getDimSize(0);
      p.oh = yt.getDimSize(2);
      p.ow = yt.getDimSize(3);
      p.kh = wt.getDimSize(2);
      p.kw = wt.getDimSize(3);
      p.groups = conv.getGroups();
      addScratch(op, lowbit_k_conv2d_scratch(&p));
    } else if (auto linear = dyn_cast<LinearOp>(op);
               linear && linear.getWeight().getDefiningOp<LowRankOp>()) {
      // x·Rᵀ of every row: M x rank floats.
      // (The largest branch of a chain: one runs at a time.)
      int64_t k = 1, rank = 0;
      for (auto lr = linear.getWeight().getDefiningOp<LowRankOp>(); lr;
           lr = lr.getWeight().getDefiningOp<LowRankOp>()) {
        k = lr.getRight().getType().getDimSize(1);
        rank = std::max(rank, lr.getRight().getType().getDimSize(0));
      }
      addScratch(op, linear.getInput().getType().getNumElements() / k * rank *
                         4);
    } else if (auto node = dyn_cast<OnnxNodeOp>(op);
               node && node.getOpType() == "MatMul") {
      auto b = tensorType(node.getInputs()[1]);
      if (b && b.getRank() >= 2) {
        int64_t k = b.getDimSize(b.getRank() - 2),
                n = b.getDimSize(b.getRank() - 1);
        // One packing slice per thread (LOWBIT_MAX_THREADS in abi.h).
        addScratch(op, 8 * ((n + kPanel - 1) / kPanel * kPanel *
                            std::max<int64_t>(k, 1) * 4));
      }
    }
  }
  if (failed(planLiveRanges()))
    return failure();
  // The shared arena planner (lowbit/Analysis/MemoryPlan.h) over x86's
  // live ranges, which know about fused loops and scratch.
  std::vector<LiveRange> ranges;
  for (const Buffer &b : buffers)
    ranges.push_back({b.bytes, b.start, b.end});
  ArenaPlan plan = planArena(ranges, 64);
  for (auto [i, b] : llvm::enumerate(buffers))
    b.offset = plan.offsets[i];
  int64_t arena = plan.size;
  if (arena > kMaxArenaBytes)
    return func.emitError() << "unsupported by the x86 target: the model "
                               "needs an activation arena of "
                            << arena << " bytes, more than the "
                            << (kMaxArenaBytes >> 30) << " GiB limit";
  if (failed(emitBody()))
    return failure();

  artifact.name = name;
  artifact.arenaSize = arena;
  artifact.weightBytes = weights.size();
  uint32_t crc = lowbit_crc32(weights.data(), weights.size());

  return writeArtifact(arena, crc);
}

} // namespace mlir::lowbit::x86


FailureOr<X86Artifact> mlir::lowbit::emitX86Model(ModuleOp module,
                                                  StringRef name) {
  func::FuncOp entry;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal())
      entry = f;
  if (!entry)
    return emitError(module.getLoc()) << "the module has no function";
  x86::Emitter emitter(entry, name);
  return emitter.run();
}
