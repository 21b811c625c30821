//===- OnnxImporter.cpp - ONNX model -> lowbit IR -----------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Structural import: protobuf -> func.func of lowbit.onnx_node ops. ONNX's
// own checker and shape inference run first (they throw; every exception is
// caught here and becomes a diagnostic). Weights move out of the protobuf
// into dense resource blobs without a second copy.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Importer/OnnxImporter.h"
#include "lowbit/Importer/OnnxTensor.h"

#include "ContribSchemas.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"
#include "onnx/shape_inference/implementation.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>
#include <deque>
#include <fstream>

using namespace mlir;
using namespace mlir::lowbit;

std::string mlir::lowbit::sanitizeName(StringRef name) {
  std::string out;
  for (char c : name)
    out.push_back(llvm::isAlnum(c) || c == '_' || c == '.' || c == '-' ? c
                                                                       : '_');
  if (out.empty() || out[0] == '.' || out[0] == '-')
    out.insert(out.begin(), '_');
  return out;
}

namespace {

/// Initializers and constants up to this many elements are inlined as
/// DenseElementsAttr (shapes, axes, scalars stay readable and foldable);
/// larger ones become dense resources.
constexpr int64_t kInlineElements = 16;

class OnnxImporter {
public:
  OnnxImporter(MLIRContext *ctx, StringRef fileName, StringRef baseDir,
               const OnnxImportOptions &options)
      : ctx(ctx), builder(ctx), fileName(fileName.str()),
        baseDir(baseDir.str()), options(options),
        fileLoc(FileLineColLoc::get(ctx, fileName, 0, 0)) {}

  OwningOpRef<ModuleOp> run(onnx::ModelProto &model);

private:
  /// Emits "<file>: <message>" at the file location.
  InFlightDiagnostic error() { return emitError(fileLoc) << fileName << ": "; }
  /// Emits "<file>: node '<name>' (<op>, opset N): <message>".
  InFlightDiagnostic nodeError(const onnx::NodeProto &node, int64_t opset) {
    return error() << "node '" << nodeName(node) << "' (" << node.op_type()
                   << ", opset " << opset << "): ";
  }
  std::string nodeName(const onnx::NodeProto &node) const {
    return node.name();
  }

  LogicalResult checkAndInferShapes(onnx::ModelProto &model);
  FailureOr<Type> convertElementType(int32_t dt, StringRef what);
  FailureOr<Type> convertType(const onnx::TypeProto &type, StringRef what,
                              const std::vector<int64_t> *overrideShape);
  /// `what` names the tensor in diagnostics, `name` becomes the blob name.
  FailureOr<TypedAttr> convertTensor(onnx::TensorProto &tensor,
                                     StringRef what, StringRef name);
  FailureOr<NamedAttribute> convertAttribute(onnx::AttributeProto &attr,
                                             const onnx::NodeProto &node,
                                             int64_t opset);
  LogicalResult sortNodes(onnx::GraphProto &graph,
                          std::vector<onnx::NodeProto *> &order);

  MLIRContext *ctx;
  OpBuilder builder;
  std::string fileName;
  std::string baseDir;
  const OnnxImportOptions &options;
  Location fileLoc;
  /// Opset per domain ("" is ai.onnx).
  llvm::StringMap<int64_t> opsets;
  /// Type of every value name known after shape inference.
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
};

} // namespace

/// Runs `fn` in a forked child and reports whether it died from a signal.
/// libonnx 1.12's checker and shape inference index past the end of inputs
/// and divide by attributes on some malformed models (found by the
/// importer fuzzer), which would kill the compiler; the child takes that
/// hit instead, and the parent reports the model as invalid.
template <typename Fn> static std::optional<int> crashesInChild(Fn fn) {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0)
    return std::nullopt; // cannot sandbox: run unprotected
  if (pid == 0) {
    // Report a crash through the exit status, before any crash handler
    // (a sanitizer's, a debugger's) treats it as the parent's.
    for (int sig : {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT}) {
      struct sigaction action;
      std::memset(&action, 0, sizeof(action));
      action.sa_handler = [](int s) { _exit(128 + s); };
      sigaction(sig, &action, nullptr);
    }
    fn();
    _exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0)
    return std::nullopt;
  if (WIFSIGNALED(status))
    return WTERMSIG(status);
  if (WIFEXITED(status) && WEXITSTATUS(status) > 128)
    return WEXITSTATUS(status) - 128;
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return SIGABRT;
  return std::nullopt;
}

LogicalResult OnnxImporter::checkAndInferShapes(onnx::ModelProto &model) {
  if (!options.check)
    return success();
  // libonnx knows opsets up to its release; newer models skip its checker
  // (our own conversion still validates every op it handles). Contrib ops
  // lowbit registers schemas for (ContribSchemas.h) keep models checked and
  // typed; a model with any other contrib op skips the checker too.
  bool known = contribOpsKnown(model);
  auto range = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  for (const auto &imp : model.opset_import()) {
    std::string domain = imp.domain() == "ai.onnx" ? "" : imp.domain();
    auto it = range.find(domain);
    if (it == range.end() || imp.version() > it->second.second)
      known = false;
  }
  if (!known)
    return success();
  bool externalData = false;
  for (const auto &init : model.graph().initializer())
    externalData |= init.data_location() == onnx::TensorProto::EXTERNAL;
  // An IR version newer than libonnx's fails its checker outright although
  // the graph may only use what libonnx knows: shape inference still runs.
  bool newerIr = model.ir_version() > onnx::IR_VERSION;
  auto check = [&] {
    if (newerIr)
      return;
    if (!externalData) {
      onnx::checker::check_model(model);
      return;
    }
    // check_model(ModelProto) resolves external files against the current
    // directory; check the graph with the model's directory instead.
    onnx::checker::CheckerContext ctx;
    ctx.set_ir_version(static_cast<int>(model.ir_version()));
    std::unordered_map<std::string, int> imports;
    for (const auto &imp : model.opset_import())
      imports[imp.domain()] = static_cast<int>(imp.version());
    ctx.set_opset_imports(imports);
    ctx.set_model_dir(baseDir);
    onnx::checker::LexicalScopeContext lex;
    onnx::checker::check_graph(model.graph(), ctx, lex);
  };
  if (std::optional<int> sig = crashesInChild([&] {
        try {
          check();
          onnx::ShapeInferenceOptions opts(true, 1, false);
          // The child's copy of the model is its own (fork), so the
          // inference may mutate it.
          onnx::shape_inference::InferShapes(
              model, onnx::OpSchemaRegistry::Instance(), opts);
        } catch (...) {
        }
      }))
    return error() << "invalid model: ONNX's checker or shape inference "
                      "crashes on it ("
                   << strsignal(*sig)
                   << "); an input's rank or an attribute is inconsistent";
  try {
    check();
  } catch (const std::exception &e) {
    return error() << "invalid model: " << e.what();
  }
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/true, /*strict=*/1,
                                     /*data_prop=*/false);
    onnx::shape_inference::InferShapes(
        model, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception &e) {
    return error() << "inconsistent shapes or types: " << e.what();
  }
  return success();
}

FailureOr<Type> OnnxImporter::convertElementType(int32_t dt, StringRef what) {
  using TP = onnx::TensorProto;
  switch (dt) {
  case TP::FLOAT:
    return Type(Float32Type::get(ctx));
  case TP::DOUBLE:
    return Type(Float64Type::get(ctx));
  case TP::FLOAT16:
    return Type(Float16Type::get(ctx));
  case TP::BFLOAT16:
    return Type(BFloat16Type::get(ctx));
  case TP::BOOL:
    return Type(IntegerType::get(ctx, 1));
  case TP::INT8:
  case TP::INT16:
  case TP::INT32:
  case TP::INT64:
    return Type(IntegerType::get(ctx, 8 * onnxElementBytes(dt)));
  case TP::UINT8:
  case TP::UINT16:
  case TP::UINT32:
  case TP::UINT64:
    return Type(IntegerType::get(ctx, 8 * onnxElementBytes(dt),
                                 IntegerType::Unsigned));
  default:
    error() << "unsupported: element type " << onnxDataTypeName(dt) << " of "
            << what;
    return failure();
  }
}

FailureOr<Type>
OnnxImporter::convertType(const onnx::TypeProto &type, StringRef what,
                          const std::vector<int64_t> *overrideShape) {
  if (!type.has_tensor_type()) {
    error() << "unsupported: " << what
            << " is not a tensor (sequence, map and optional types are not "
               "supported)";
    return failure();
  }
  const auto &tt = type.tensor_type();
  FailureOr<Type> elt = convertElementType(tt.elem_type(), what);
  if (failed(elt))
    return failure();
  if (overrideShape)
    return Type(RankedTensorType::get(*overrideShape, *elt));
  if (!tt.has_shape())
    return Type(UnrankedTensorType::get(*elt));
  SmallVector<int64_t> shape;
  for (const auto &d : tt.shape().dim())
    shape.push_back(d.has_dim_value() && d.dim_value() >= 0
                        ? d.dim_value()
                        : ShapedType::kDynamic);
  return Type(RankedTensorType::get(shape, *elt));
}

FailureOr<TypedAttr> OnnxImporter::convertTensor(onnx::TensorProto &tensor,
                                                 StringRef what,
                                                 StringRef name) {
  std::string message;
  FailureOr<DecodedOnnxTensor> decoded =
      decodeOnnxTensor(tensor, baseDir, message);
  if (failed(decoded)) {
    error() << what << " " << message;
    return failure();
  }
  FailureOr<Type> elt = convertElementType(decoded->dataType, what);
  if (failed(elt))
    return failure();
  auto type = RankedTensorType::get(decoded->dims, *elt);
  int64_t numel = decoded->numElements;
  int64_t width = onnxElementBytes(decoded->dataType);
  std::unique_ptr<std::string> &bytes = decoded->bytes;

  if (elt->isInteger(1)) {
    SmallVector<bool> values(numel);
    for (int64_t i = 0; i < numel; ++i)
      values[i] = (*bytes)[i] != 0;
    return TypedAttr(DenseElementsAttr::get(type, values));
  }
  if (numel <= kInlineElements)
    return TypedAttr(DenseElementsAttr::getFromRawBuffer(
        type, ArrayRef<char>(bytes->data(), bytes->size())));
  // Hand the protobuf's buffer to the blob: the weights are never copied.
  ArrayRef<char> data(bytes->data(), bytes->size());
  std::string *owned = bytes.release();
  AsmResourceBlob blob(
      data, /*dataAlignment=*/width,
      [owned](void *, size_t, size_t) { delete owned; },
      /*dataIsMutable=*/false);
  std::string blobName = sanitizeName(name.empty() ? "tensor" : name);
  return TypedAttr(cast<TypedAttr>(
      DenseResourceElementsAttr::get(type, blobName, std::move(blob))));
}

FailureOr<NamedAttribute>
OnnxImporter::convertAttribute(onnx::AttributeProto &attr,
                               const onnx::NodeProto &node, int64_t opset) {
  using AP = onnx::AttributeProto;
  StringAttr name = builder.getStringAttr(attr.name());
  switch (attr.type()) {
  case AP::FLOAT:
    return NamedAttribute(name, builder.getF32FloatAttr(attr.f()));
  case AP::INT:
    return NamedAttribute(name, builder.getI64IntegerAttr(attr.i()));
  case AP::STRING:
    return NamedAttribute(name, builder.getStringAttr(attr.s()));
  case AP::FLOATS:
    return NamedAttribute(
        name, builder.getDenseF32ArrayAttr(SmallVector<float>(
                  attr.floats().begin(), attr.floats().end())));
  case AP::INTS:
    return NamedAttribute(
        name, builder.getDenseI64ArrayAttr(SmallVector<int64_t>(
                  attr.ints().begin(), attr.ints().end())));
  case AP::STRINGS: {
    SmallVector<Attribute> strings;
    for (const auto &s : attr.strings())
      strings.push_back(builder.getStringAttr(s));
    return NamedAttribute(name, builder.getArrayAttr(strings));
  }
  case AP::TENSOR: {
    std::string what = "attribute '" + attr.name() + "' of node '" +
                       nodeName(node) + "'";
    FailureOr<TypedAttr> value =
        convertTensor(*attr.mutable_t(), what, nodeName(node));
    if (failed(value))
      return failure();
    return NamedAttribute(name, *value);
  }
  default:
    nodeError(node, opset) << "unsupported: attribute '" << attr.name()
                           << "' of kind "
                           << AP::AttributeType_Name(attr.type())
                           << " (subgraphs and sparse tensors are not "
                              "supported)";
    return failure();
  }
}

/// Kahn's algorithm over value names: ONNX requires topological order, but
/// a hand-edited or corrupted file may not have it, and a cycle must be an
/// error rather than a hang.
LogicalResult OnnxImporter::sortNodes(onnx::GraphProto &graph,
                                      std::vector<onnx::NodeProto *> &order) {
  llvm::StringSet<> available;
  for (const auto &in : graph.input())
    available.insert(in.name());
  for (const auto &init : graph.initializer())
    available.insert(init.name());
  available.insert("");

  llvm::StringMap<int> producer;
  int n = graph.node_size();
  for (int i = 0; i < n; ++i)
    for (const auto &out : graph.node(i).output())
      if (!out.empty())
        producer[out] = i;

  std::vector<int> pending(n, 0);
  llvm::StringMap<std::vector<int>> consumers;
  for (int i = 0; i < n; ++i) {
    const auto &node = graph.node(i);
    for (const auto &in : node.input()) {
      if (available.contains(in))
        continue;
      if (!producer.count(in)) {
        nodeError(node, opsets.lookup(node.domain()))
            << "input '" << in
            << "' is not produced by any node, initializer or graph input";
        return failure();
      }
      ++pending[i];
      consumers[in].push_back(i);
    }
  }
  std::deque<int> ready;
  for (int i = 0; i < n; ++i)
    if (pending[i] == 0)
      ready.push_back(i);
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(graph.mutable_node(i));
    for (const auto &out : graph.node(i).output()) {
      auto it = consumers.find(out);
      if (it == consumers.end())
        continue;
      for (int c : it->second)
        if (--pending[c] == 0)
          ready.push_back(c);
      consumers.erase(it);
    }
  }
  if (static_cast<int>(order.size()) != n) {
    for (int i = 0; i < n; ++i)
      if (pending[i] > 0) {
        nodeError(graph.node(i), opsets.lookup(graph.node(i).domain()))
            << "the graph has a cycle through this node";
        return failure();
      }
  }
  return success();
}

OwningOpRef<ModuleOp> OnnxImporter::run(onnx::ModelProto &model) {
  if (!model.has_graph()) {
    error() << "not an ONNX model: no graph";
    return nullptr;
  }
  if (model.opset_import_size() == 0 && model.ir_version() >= 3) {
    error() << "invalid model: no opset_import";
    return nullptr;
  }
  for (const auto &imp : model.opset_import()) {
    std::string domain = imp.domain() == "ai.onnx" ? "" : imp.domain();
    opsets[domain] = imp.version();
  }
  if (model.opset_import_size() == 0)
    opsets[""] = 1; // IR version < 3 has an implicit opset 1.
  int64_t defaultOpset = opsets.lookup("");
  if (defaultOpset > kMaxSupportedOpset) {
    error() << "unsupported: opset " << defaultOpset
            << " of domain ai.onnx (lowbit supports up to "
            << kMaxSupportedOpset << ")";
    return nullptr;
  }
  onnx::GraphProto &graph = *model.mutable_graph();
  for (int i = 0; i < graph.node_size(); ++i) {
    // Unnamed nodes get "<op>_<index>" so every diagnostic, ONNX's own
    // included, can point at them.
    if (graph.node(i).name().empty())
      graph.mutable_node(i)->set_name(graph.node(i).op_type() + "_" +
                                      std::to_string(i));
    const auto &node = graph.node(i);
    std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
    if (!opsets.count(domain)) {
      error() << "node '" << nodeName(node) << "' (" << node.op_type()
              << "): unknown domain '" << node.domain()
              << "' (the model imports no opset for it)";
      return nullptr;
    }
    if (domain != "" && domain != "com.microsoft" && domain != "ai.onnx.ml") {
      error() << "node '" << nodeName(node) << "' (" << node.op_type()
              << "): unsupported: domain '" << node.domain() << "'";
      return nullptr;
    }
  }
  // libonnx's shape inference divides by some attributes without checking
  // them (found by the fuzzer: strides = [2, 0] raises SIGFPE), so those
  // are validated before it runs.
  // ONNX graphs are in SSA form: every value has exactly one definition.
  llvm::StringSet<> defined;
  auto define = [&](const std::string &name, StringRef what) -> bool {
    if (name.empty() || defined.insert(name).second)
      return true;
    error() << what << " defines '" << name
            << "', which is already defined (ONNX graphs are SSA)";
    return false;
  };
  for (const auto &in : graph.input())
    if (!define(in.name(), "graph input"))
      return nullptr;
  for (const auto &node : graph.node()) {
    if (node.op_type().empty()) {
      error() << "node '" << node.name() << "' has no op_type";
      return nullptr;
    }
    for (const auto &out : node.output())
      if (!define(out, "node '" + node.name() + "'"))
        return nullptr;
    for (const auto &attr : node.attribute()) {
      StringRef name = attr.name();
      if (name.empty()) {
        nodeError(node, opsets.lookup(node.domain()))
            << "an attribute has no name";
        return nullptr;
      }
      bool positiveInts = name == "strides" || name == "dilations" ||
                          name == "kernel_shape";
      bool positiveInt = name == "group" || name == "blocksize" ||
                         name == "block_size";
      for (int64_t v : attr.ints())
        if (positiveInts && v <= 0) {
          nodeError(node, opsets.lookup(node.domain()))
              << "attribute '" << name << "' must be positive, got " << v;
          return nullptr;
        }
      if (positiveInt && attr.has_i() && attr.i() <= 0 &&
          !(name == "block_size" && attr.i() == 0)) {
        nodeError(node, opsets.lookup(node.domain()))
            << "attribute '" << name << "' must be positive, got " << attr.i();
        return nullptr;
      }
    }
  }

  // Structure first (cycles, dangling inputs), so those get our precise
  // messages rather than the checker's; then ONNX's checker and inference.
  std::vector<onnx::NodeProto *> order;
  if (failed(sortNodes(graph, order)))
    return nullptr;
  // --input-shape: write the fixed shapes into the graph inputs before
  // shape inference, so every intermediate value becomes static too.
  if (!options.inputShapes.empty()) {
    for (auto &in : *graph.mutable_input()) {
      auto it = options.inputShapes.find(in.name());
      if (it == options.inputShapes.end() || !in.type().has_tensor_type())
        continue;
      auto *shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
      if (shape->dim_size() != 0 &&
          shape->dim_size() != static_cast<int>(it->second.size())) {
        error() << "--input-shape gives '" << in.name() << "' "
                << it->second.size() << " dimensions but the model declares "
                << shape->dim_size();
        return nullptr;
      }
      shape->clear_dim();
      for (int64_t d : it->second)
        shape->add_dim()->set_dim_value(d);
    }
    graph.clear_value_info(); // stale symbolic shapes
  }
  if (failed(checkAndInferShapes(model)))
    return nullptr;

  for (const auto &vi : graph.value_info())
    valueTypes[vi.name()] = &vi.type();
  for (const auto &vi : graph.output())
    valueTypes[vi.name()] = &vi.type();


  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  module->getOperation()->setAttr("lowbit.source", builder.getStringAttr(
                                                       llvm::sys::path::filename(fileName)));
  SmallVector<NamedAttribute> opsetAttrs;
  for (const auto &kv : opsets)
    opsetAttrs.push_back(builder.getNamedAttr(
        kv.getKey().empty() ? "ai.onnx" : kv.getKey(),
        builder.getI64IntegerAttr(kv.getValue())));
  module->getOperation()->setAttr("lowbit.opsets",
                                  builder.getDictionaryAttr(opsetAttrs));
  if (!model.producer_name().empty())
    module->getOperation()->setAttr(
        "lowbit.producer",
        builder.getStringAttr(model.producer_name() + " " +
                              model.producer_version()));

  // Graph inputs that are also initializers are constants (IR < 4 lists
  // every initializer as an input).
  llvm::StringSet<> initializerNames;
  for (const auto &init : graph.initializer())
    initializerNames.insert(init.name());

  SmallVector<Type> argTypes;
  SmallVector<const onnx::ValueInfoProto *> args;
  for (const auto &in : graph.input()) {
    if (initializerNames.contains(in.name()))
      continue;
    auto it = options.inputShapes.find(in.name());
    const std::vector<int64_t> *shape =
        it == options.inputShapes.end() ? nullptr : &it->second;
    FailureOr<Type> t =
        convertType(in.type(), "graph input '" + in.name() + "'", shape);
    if (failed(t))
      return nullptr;
    argTypes.push_back(*t);
    args.push_back(&in);
  }
  for (const auto &kv : options.inputShapes) {
    if (!llvm::any_of(args, [&](const onnx::ValueInfoProto *a) {
          return a->name() == kv.first;
        })) {
      error() << "--input-shape names '" << kv.first
              << "', which is not an input of the model";
      return nullptr;
    }
  }
  SmallVector<Type> resultTypes;
  for (const auto &out : graph.output()) {
    FailureOr<Type> t = convertType(out.type(), "graph output '" +
                                                    out.name() + "'",
                                    nullptr);
    if (failed(t))
      return nullptr;
    resultTypes.push_back(*t);
  }

  std::string funcName = graph.name().empty() ? "main" : graph.name();
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, sanitizeName(funcName),
                                   builder.getFunctionType(argTypes,
                                                           resultTypes));
  for (auto [i, in] : llvm::enumerate(args))
    func.setArgAttr(i, "lowbit.name", builder.getStringAttr(in->name()));
  for (auto [i, out] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "lowbit.name", builder.getStringAttr(out.name()));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);

  llvm::StringMap<Value> values;
  for (auto [i, in] : llvm::enumerate(args))
    values[in->name()] = body->getArgument(i);
  for (auto &init : *graph.mutable_initializer()) {
    FailureOr<TypedAttr> attr =
        convertTensor(init, "initializer '" + init.name() + "'", init.name());
    if (failed(attr))
      return nullptr;
    Location loc = NameLoc::get(builder.getStringAttr(init.name()), fileLoc);
    values[init.name()] = arith::ConstantOp::create(builder, loc, *attr);
  }

  Value noValue;
  for (onnx::NodeProto *node : order) {
    std::string domain = node->domain() == "ai.onnx" ? "" : node->domain();
    int64_t opset = opsets.lookup(domain);
    SmallVector<Value> operands;
    for (const auto &in : node->input()) {
      if (in.empty()) {
        if (!noValue) {
          OpBuilder::InsertionGuard guard(builder);
          builder.setInsertionPointToStart(body);
          noValue = NoValueOp::create(builder, fileLoc);
        }
        operands.push_back(noValue);
        continue;
      }
      operands.push_back(values.lookup(in));
    }
    SmallVector<Type> types;
    for (const auto &out : node->output()) {
      const onnx::TypeProto *tp = valueTypes.lookup(out);
      FailureOr<Type> t = failure();
      if (tp && tp->has_tensor_type() && tp->tensor_type().elem_type() != 0) {
        t = convertType(*tp, "value '" + out + "'", nullptr);
        if (failed(t))
          return nullptr;
      } else {
        // Shape inference could not type this value (an op or opset newer
        // than libonnx): the interpreter computes it at run time, and the
        // conversions leave unranked values alone.
        t = Type(UnrankedTensorType::get(builder.getF32Type()));
      }
      types.push_back(*t);
    }
    SmallVector<NamedAttribute> attrs;
    for (auto &attr : *node->mutable_attribute()) {
      FailureOr<NamedAttribute> named = convertAttribute(attr, *node, opset);
      if (failed(named))
        return nullptr;
      attrs.push_back(*named);
    }
    Location loc =
        NameLoc::get(builder.getStringAttr(nodeName(*node)), fileLoc);
    auto op = OnnxNodeOp::create(
        builder, loc, types, builder.getStringAttr(node->op_type()),
        domain.empty() ? StringAttr() : builder.getStringAttr(domain),
        builder.getI64IntegerAttr(opset), operands,
        attrs.empty() ? DictionaryAttr() : builder.getDictionaryAttr(attrs));
    for (auto [i, out] : llvm::enumerate(node->output()))
      if (!out.empty())
        values[out] = op->getResult(i);
  }

  SmallVector<Value> results;
  for (const auto &out : graph.output()) {
    Value v = values.lookup(out.name());
    if (!v) {
      error() << "graph output '" << out.name()
              << "' is not produced by any node, initializer or input";
      return nullptr;
    }
    results.push_back(v);
  }
  func::ReturnOp::create(builder, fileLoc, results);
  // Result types of the function follow the values actually returned
  // (shape inference may know more than the declared outputs, or less).
  func.setFunctionType(builder.getFunctionType(
      argTypes, ValueRange(results).getTypes()));
  // Safety net: whatever the checks above missed must not escape as
  // invalid IR.
  if (failed(mlir::verify(*module))) {
    error() << "the model cannot be represented (see the errors above)";
    return nullptr;
  }
  return module;
}

/// Drops `//` comment lines so lit RUN/CHECK lines can share the file.
static std::string stripComments(StringRef text) {
  std::string out;
  SmallVector<StringRef> lines;
  text.split(lines, '\n');
  for (StringRef line : lines) {
    if (line.ltrim().starts_with("//"))
      continue;
    out += line.str();
    out += '\n';
  }
  return out;
}

OwningOpRef<ModuleOp> mlir::lowbit::importOnnxBuffer(
    StringRef bytes, StringRef name, StringRef baseDir, bool isText,
    MLIRContext *ctx, const OnnxImportOptions &options) {
  ctx->loadDialect<LowbitDialect, func::FuncDialect, arith::ArithDialect>();
  Location loc = FileLineColLoc::get(ctx, name, 0, 0);
  onnx::ModelProto model;
  if (isText) {
    std::string text = stripComments(bytes);
    onnx::Status status;
    try {
      status = onnx::OnnxParser::Parse(model, text.c_str());
    } catch (const std::exception &e) {
      emitError(loc) << name << ": cannot parse ONNX text: " << e.what();
      return nullptr;
    }
    if (!status.IsOK()) {
      emitError(loc) << name
                     << ": cannot parse ONNX text: " << status.ErrorMessage();
      return nullptr;
    }
  } else {
    google::protobuf::io::CodedInputStream stream(
        reinterpret_cast<const uint8_t *>(bytes.data()),
        static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)));
    stream.SetTotalBytesLimit(INT_MAX);
    if (bytes.size() > static_cast<size_t>(INT_MAX)) {
      emitError(loc) << name
                     << ": the protobuf part of a model must be under 2 GB; "
                        "store large weights as ONNX external data";
      return nullptr;
    }
    if (!model.ParseFromCodedStream(&stream) ||
        !stream.ConsumedEntireMessage()) {
      emitError(loc) << name
                     << ": not a valid ONNX model (the protobuf does not "
                        "parse; the file is truncated, corrupted or not ONNX)";
      return nullptr;
    }
  }
  OnnxImporter importer(ctx, name, baseDir, options);
  return importer.run(model);
}

OwningOpRef<ModuleOp>
mlir::lowbit::importOnnxFile(StringRef path, MLIRContext *ctx,
                             const OnnxImportOptions &options) {
  Location loc = FileLineColLoc::get(ctx, path, 0, 0);
  if (std::string error; !checkRegularFile(path, error)) {
    emitError(loc) << path << ": " << error;
    return nullptr;
  }
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(loc) << path << ": cannot read: " << buffer.getError().message();
    return nullptr;
  }
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  bool isText = path.ends_with(".onnxtxt") || path.ends_with(".onnxtext");
  return importOnnxBuffer((*buffer)->getBuffer(), path, dir, isText, ctx,
                          options);
}
