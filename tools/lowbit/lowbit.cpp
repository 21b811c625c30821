//===- lowbit.cpp - the lowbit user CLI --------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The user-facing driver. It parses flags and calls library code; it holds
// no compiler logic. Exit codes (also in `lowbit --help`):
//   0  success
//   1  usage error (bad flags or arguments)
//   2  invalid input (unreadable, corrupt or inconsistent model or tensor)
//   3  unsupported (an operator, type or feature lowbit does not handle)
//   4  internal error
//
//===----------------------------------------------------------------------===//

#include "lowbit/Importer/OnnxImporter.h"
#include "lowbit/InitAll.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Pipeline/Pipeline.h"
#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Transforms/QuantizePipeline.h"
#include "lowbit/Target/InitAllTargets.h"
#include "lowbit/Target/Mcu/McuTarget.h"
#include "lowbit/Target/X86/X86Target.h"
#include "lowbit/Transforms/Passes.h"

#include "Compiled.h"
#include "Files.h"
#include "Quantize.h"
#include "lowbit_package_generated.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstring>
#include <random>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

enum ExitCode { kOk = 0, kUsage = 1, kInvalid = 2, kUnsupported = 3,
                kInternal = 4 };

/// Prints diagnostics as "lowbit: error: ..." and remembers whether any of
/// them reported an unsupported feature (exit code 3) or not (exit code 2).
class DiagnosticPrinter {
public:
  explicit DiagnosticPrinter(MLIRContext &ctx)
      : handler(&ctx, [this](Diagnostic &diag) {
          std::string msg = diag.str();
          const char *sev = diag.getSeverity() == DiagnosticSeverity::Error
                                ? "error"
                                : diag.getSeverity() ==
                                          DiagnosticSeverity::Warning
                                      ? "warning"
                                      : "note";
          if (diag.getSeverity() == DiagnosticSeverity::Error) {
            ++errors;
            if (msg.find("unsupported") != std::string::npos)
              unsupported = true;
          }
          std::string where;
          if (auto loc = dyn_cast<FileLineColLoc>(diag.getLocation()))
            if (loc.getLine() != 0)
              where = (loc.getFilename().str() + ":" +
                       std::to_string(loc.getLine()) + ":" +
                       std::to_string(loc.getColumn()) + ": ");
          llvm::errs() << "lowbit: " << sev << ": " << where << msg << "\n";
          for (Diagnostic &note : diag.getNotes())
            llvm::errs() << "lowbit: note: " << note.str() << "\n";
          return success();
        }) {}

  int exitCode() const { return unsupported ? kUnsupported : kInvalid; }
  int errorCount() const { return errors; }

private:
  ScopedDiagnosticHandler handler;
  int errors = 0;
  bool unsupported = false;
};

/// Parses "NAME=D0xD1x..." into the import options.
bool parseInputShapes(const std::vector<std::string> &specs,
                      OnnxImportOptions &options) {
  for (const std::string &spec : specs) {
    size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      llvm::errs() << "lowbit: error: --input-shape '" << spec
                   << "' must look like NAME=1x3x224x224\n";
      return false;
    }
    std::vector<int64_t> dims;
    SmallVector<StringRef> parts;
    StringRef(spec).substr(eq + 1).split(parts, 'x');
    for (StringRef p : parts) {
      int64_t d;
      if (p.getAsInteger(10, d) || d < 0) {
        llvm::errs() << "lowbit: error: --input-shape '" << spec
                     << "': '" << p << "' is not a dimension\n";
        return false;
      }
      dims.push_back(d);
    }
    options.inputShapes[spec.substr(0, eq)] = dims;
  }
  return true;
}

/// Loads a model: ONNX (binary or text) is imported, .mlir/.mlirbc parsed.
OwningOpRef<ModuleOp> loadModel(const std::string &path, MLIRContext &ctx,
                                const OnnxImportOptions &options) {
  StringRef p(path);
  if (p.ends_with(".mlir") || p.ends_with(".mlirbc")) {
    ParserConfig config(&ctx);
    return parseSourceFile<ModuleOp>(path, config);
  }
  return importOnnxFile(path, &ctx, options);
}

/// Runs the frontend pipeline (ONNX layers -> lowbit ops, cleanup).
LogicalResult runFrontend(ModuleOp module) {
  PassManager pm(module.getContext());
  buildFrontendPipeline(pm, FrontendOptions());
  return pm.run(module);
}

func::FuncOp findEntry(ModuleOp module) {
  func::FuncOp entry;
  for (auto f : module.getOps<func::FuncOp>())
    if (!f.isExternal() && (!entry || f.getName() == "main"))
      entry = f;
  return entry;
}

/// The backend named `target` and the compile options the quantization
/// flags give; a nonzero exit code after printing an error.
int compileOptionsFor(const std::string &target,
                      const lowbit_tool::QuantArgs &quant,
                      CompileOptions &options, const TargetBackend *&backend) {
  backend = lookupTargetBackend(target);
  if (!backend) {
    llvm::errs() << "lowbit: error: unknown target '" << target
                 << "' (available: " << listTargetBackends() << ")\n";
    return kUnsupported;
  }
  options.quantize = lowbit_tool::isQuantizing(quant);
  if (options.quantize &&
      !lowbit_tool::toPassOptions(quant, target, options.quant))
    return kUsage;
  return kOk;
}

/// Pipeline construction errors (flags that do not go together), printed
/// like the passes' diagnostics.
std::function<LogicalResult(const Twine &)> pipelineError(MLIRContext &ctx) {
  return [&ctx](const Twine &message) {
    emitError(UnknownLoc::get(&ctx)) << message;
    return failure();
  };
}

/// Removes the quantization report attribute from the entry function and
/// returns it (an empty object when there is none).
nlohmann::json takeReport(ModuleOp module) {
  nlohmann::json report = nlohmann::json::object();
  module.walk([&](func::FuncOp f) {
    if (auto a = f->getAttrOfType<StringAttr>("lowbit.quant_report")) {
      report = nlohmann::json::parse(a.getValue().str(), nullptr, false);
      f->removeAttr("lowbit.quant_report");
    }
  });
  return report;
}

/// --report for `lowbit run`: the pass's summary plus where it ran.
bool writeReport(ModuleOp module, const lowbit_tool::QuantArgs &args,
                 const std::string &model, const std::string &target,
                 uint64_t packageBytes) {
  if (args.report.empty())
    return true;
  nlohmann::json report = takeReport(module);
  report["model"] = model;
  report["target"] = target;
  if (packageBytes)
    report["package_weight_bytes"] = packageBytes;
  return lowbit_tool::writeQuantReport(args, {report});
}

//===----------------------------------------------------------------------===//
// lowbit import
//===----------------------------------------------------------------------===//

struct ImportArgs {
  std::string model;
  std::string output = "-";
  bool bytecode = false;
  bool noCheck = false;
  bool frontend = false;
  std::vector<std::string> inputShapes;
  std::string emit = "onnx";
  std::string target = "x86";
  std::string integerRounding = "away";
  std::string loraMode = "merge";
  std::vector<std::string> lora, loraMap;
  lowbit_tool::QuantArgs quant;
};

int runImport(const ImportArgs &args) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  DiagnosticPrinter diags(ctx);
  OnnxImportOptions options;
  options.check = !args.noCheck;
  if (!parseInputShapes(args.inputShapes, options))
    return kUsage;
  OwningOpRef<ModuleOp> module = loadModel(args.model, ctx, options);
  if (!module)
    return diags.exitCode();
  if (args.frontend && failed(runFrontend(*module)))
    return diags.exitCode();
  // --emit=STAGE: the compile pipeline up to that stage, printed with the
  // locations (ONNX node names) so that lowbit compile / lowbit-opt can
  // resume from the file.
  OpPrintingFlags flags;
  if (args.emit != "onnx") {
    CompileOptions options;
    const TargetBackend *backend = nullptr;
    if (int rc = compileOptionsFor(args.target, args.quant, options, backend))
      return rc;
    options.target.integerRounding = args.integerRounding;
    options.loraMode = args.loraMode;
    options.loraAdapters = args.lora;
    options.loraMap = args.loraMap;
    CompileStage stage = args.emit == "frontend"    ? CompileStage::Frontend
                         : args.emit == "quantized" ? CompileStage::Quantized
                                                    : CompileStage::Lowered;
    PassManager pm(&ctx, ModuleOp::getOperationName());
    if (failed(buildCompilePipeline(pm, options, *backend, pipelineError(ctx),
                                    stage)) ||
        failed(applyPassManagerCLOptions(pm)) || failed(pm.run(*module)))
      return diags.exitCode();
    if (!writeReport(*module, args.quant, args.model, args.target, 0))
      return kInvalid;
    flags.enableDebugInfo();
  }
  bool ok = lowbit_tool::writeAtomically(args.output, [&](llvm::raw_ostream &os) {
    if (args.bytecode) {
      if (failed(writeBytecodeToFile(*module, os)))
        llvm::errs() << "lowbit: error: cannot write bytecode\n";
    } else {
      module->print(os, flags);
    }
  });
  return ok ? kOk : kInvalid;
}

//===----------------------------------------------------------------------===//
// lowbit run
//===----------------------------------------------------------------------===//

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string outputDir;
  std::vector<std::string> inputShapes;
  bool print = false;
  bool raw = false;
  lowbit_tool::QuantArgs quant;
  /// --adapter NAME (--base: none); unset: the model's default.
  std::optional<std::string> adapter;
};

/// Reads `.npy` or ONNX TensorProto (`.pb` or anything else) files.
FailureOr<Tensor> readTensorFile(const std::string &path) {
  std::string error, name;
  FailureOr<Tensor> t = StringRef(path).ends_with(".npy")
                            ? readNpy(path, error)
                            : readTensorProto(path, name, error);
  if (failed(t))
    llvm::errs() << "lowbit: error: " << path << ": " << error << "\n";
  return t;
}

void printTensor(const std::string &name, const Tensor &t) {
  llvm::outs() << name << ": " << t.describe() << " =";
  int64_t n = std::min<int64_t>(t.numel(), 64);
  for (int64_t i = 0; i < n; ++i)
    llvm::outs() << " " << llvm::format("%g", t.getDouble(i));
  if (t.numel() > n)
    llvm::outs() << " ...";
  llvm::outs() << "\n";
}

int runRun(const RunArgs &args) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  DiagnosticPrinter diags(ctx);
  OnnxImportOptions options;
  if (!parseInputShapes(args.inputShapes, options))
    return kUsage;
  OwningOpRef<ModuleOp> module = loadModel(args.model, ctx, options);
  if (!module)
    return diags.exitCode();
  if (!args.raw && failed(runFrontend(*module)))
    return diags.exitCode();
  func::FuncOp entry = findEntry(*module);
  if (!entry) {
    llvm::errs() << "lowbit: error: " << args.model
                 << ": the module has no function to run\n";
    return kInvalid;
  }
  if (lowbit_tool::isQuantizing(args.quant)) {
    QuantizeOptions opts;
    if (!lowbit_tool::toPassOptions(args.quant, /*target=*/"", opts))
      return kUsage;
    PassManager pm(&ctx, func::FuncOp::getOperationName());
    if (failed(buildQuantizePipeline(pm, opts, pipelineError(ctx))) ||
        failed(pm.run(entry)))
      return diags.exitCode();
    if (!writeReport(*module, args.quant, args.model, "interpreter", 0))
      return kInvalid;
  }
  // Map NAME=FILE (or a bare FILE for single-input models) to arguments.
  unsigned numArgs = entry.getNumArguments();
  std::vector<std::string> argNames(numArgs);
  for (unsigned i = 0; i < numArgs; ++i) {
    auto name = entry.getArgAttrOfType<StringAttr>(i, "lowbit.name");
    argNames[i] = name ? name.str() : "arg" + std::to_string(i);
  }
  std::vector<std::optional<Tensor>> inputs(numArgs);
  for (const std::string &spec : args.inputs) {
    size_t eq = spec.find('=');
    std::string name, file;
    if (eq == std::string::npos) {
      if (numArgs != 1) {
        llvm::errs() << "lowbit: error: --input '" << spec
                     << "' needs a NAME= prefix; the model has " << numArgs
                     << " inputs\n";
        return kUsage;
      }
      name = argNames[0];
      file = spec;
    } else {
      name = spec.substr(0, eq);
      file = spec.substr(eq + 1);
    }
    auto it = std::find(argNames.begin(), argNames.end(), name);
    if (it == argNames.end()) {
      llvm::errs() << "lowbit: error: the model has no input named '" << name
                   << "' (inputs:";
      for (auto &n : argNames)
        llvm::errs() << " " << n;
      llvm::errs() << ")\n";
      return kUsage;
    }
    if (inputs[it - argNames.begin()]) {
      llvm::errs() << "lowbit: error: --input " << name
                   << " is given more than once\n";
      return kUsage;
    }
    FailureOr<Tensor> t = readTensorFile(file);
    if (failed(t))
      return kInvalid;
    inputs[it - argNames.begin()] = *t;
  }
  std::vector<Tensor> ready;
  for (unsigned i = 0; i < numArgs; ++i) {
    if (!inputs[i]) {
      llvm::errs() << "lowbit: error: missing --input " << argNames[i]
                   << "=FILE\n";
      return kUsage;
    }
    ready.push_back(*inputs[i]);
  }
  auto start = std::chrono::steady_clock::now();
  InterpreterOptions interpreterOptions;
  interpreterOptions.adapter = args.adapter;
  FailureOr<std::vector<Tensor>> outputs =
      interpret(entry, ready, interpreterOptions);
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (failed(outputs))
    return diags.exitCode();
  if (!args.outputDir.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::create_directories(args.outputDir)) {
      llvm::errs() << "lowbit: error: cannot create '" << args.outputDir
                   << "': " << ec.message() << "\n";
      return kInvalid;
    }
  }
  for (auto [i, t] : llvm::enumerate(*outputs)) {
    auto name = entry.getResultAttrOfType<StringAttr>(i, "lowbit.name");
    std::string outName = name ? name.str() : "output" + std::to_string(i);
    if (args.print)
      printTensor(outName, t);
    if (args.outputDir.empty())
      continue;
    SmallString<256> path(args.outputDir);
    llvm::sys::path::append(path, sanitizeName(outName) + ".npy");
    std::string error;
    if (failed(writeNpy(path, t, error))) {
      llvm::errs() << "lowbit: error: " << error << "\n";
      return kInvalid;
    }
    if (!args.print)
      llvm::outs() << "wrote " << path << " (" << t.describe() << ")\n";
  }
  llvm::outs() << llvm::format("ran %s in %.2f ms\n", args.model.c_str(), ms);
  return kOk;
}

//===----------------------------------------------------------------------===//
// lowbit compile
//===----------------------------------------------------------------------===//

struct CompileArgs {
  std::string model;
  std::string target = "x86";
  std::string output;
  std::string name;
  std::string cpu = "native";
  std::string cc = "cc";
  std::vector<std::string> inputShapes;
  lowbit_tool::QuantArgs quant;
  std::string passPipeline;
  bool printPipeline = false;
  bool force = false;
  std::string integerRounding = "away";
  std::string loraMode = "merge";
  std::vector<std::string> lora, loraMap;
};

int runCompile(const CompileArgs &args, DialectRegistry &registry) {
  CompileOptions options;
  const TargetBackend *backend = nullptr;
  if (int rc = compileOptionsFor(args.target, args.quant, options, backend))
    return rc;
  options.target.cpu = args.cpu;
  options.target.cc = args.cc;
  options.target.outputDir = args.output;
  options.target.force = args.force;
  options.target.integerRounding = args.integerRounding;
  options.loraMode = args.loraMode;
  options.loraAdapters = args.lora;
  options.loraMap = args.loraMap;
  options.target.modelName =
      args.name.empty() ? modelIdentifier(args.model) : args.name;
  backend->getDependentDialects(registry);
  MLIRContext ctx(registry);
  ctx.printOpOnDiagnostic(false);
  DiagnosticPrinter diags(ctx);
  PassManager pm(&ctx, ModuleOp::getOperationName());
  if (!args.passPipeline.empty()) {
    std::string error;
    llvm::raw_string_ostream os(error);
    FailureOr<OpPassManager> parsed = parsePassPipeline(args.passPipeline, os);
    if (failed(parsed)) {
      llvm::errs() << "lowbit: error: --pass-pipeline: " << error << "\n";
      return kUsage;
    }
    if (parsed->getOpAnchorName() != ModuleOp::getOperationName()) {
      llvm::errs() << "lowbit: error: --pass-pipeline must be anchored on "
                      "the module: 'builtin.module(...)', got '"
                   << parsed->getOpAnchorName() << "(...)'\n";
      return kUsage;
    }
    static_cast<OpPassManager &>(pm) = std::move(*parsed);
  } else if (failed(buildCompilePipeline(pm, options, *backend,
                                          pipelineError(ctx)))) {
    return diags.exitCode();
  }
  if (args.printPipeline) {
    pm.printAsTextualPipeline(llvm::outs());
    llvm::outs() << "\n";
    return kOk;
  }
  // --mlir-print-ir-*, --mlir-pass-pipeline-crash-reproducer, --mlir-timing.
  if (failed(applyPassManagerCLOptions(pm)))
    return kUsage;
  OnnxImportOptions importOptions;
  if (!parseInputShapes(args.inputShapes, importOptions))
    return kUsage;
  auto start = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module = loadModel(args.model, ctx, importOptions);
  if (!module || failed(pm.run(*module)))
    return diags.exitCode();
  // The report leaves the IR before emission (the backend ignores it).
  nlohmann::json report = takeReport(*module);
  std::string error;
  FailureOr<TargetArtifact> artifact =
      backend->emit(*module, options.target, error);
  if (failed(artifact)) {
    if (error.empty())
      return diags.exitCode();
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  if (!args.quant.report.empty()) {
    report["model"] = args.model;
    report["target"] = args.target;
    report["package_weight_bytes"] = artifact->weightBytes;
    report["arena_bytes"] = artifact->arenaBytes;
    if (!artifact->arenaPeakLayer.empty())
      report["arena_peak_layer"] = artifact->arenaPeakLayer;
    if (!lowbit_tool::writeQuantReport(args.quant, {report}))
      return kInvalid;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start)
                 .count();
  // "OUT/m.{c,h,lbpkg}" for the model's own files, the others by name.
  std::string own, other;
  std::string prefix = options.target.modelName + ".";
  for (const std::string &f : artifact->files) {
    if (StringRef(f).starts_with(prefix))
      own += (own.empty() ? "" : ",") + f.substr(prefix.size());
    else
      other += ", " + args.output + "/" + f;
  }
  llvm::outs() << llvm::format(
      "compiled %s for %s in %.1f s: %s/%s.{%s}%s, arena %llu bytes, weights "
      "%llu bytes, %zu kernel calls%s%s\n",
      args.model.c_str(), args.target.c_str(), s, args.output.c_str(),
      options.target.modelName.c_str(), own.c_str(), other.c_str(),
      (unsigned long long)artifact->arenaBytes,
      (unsigned long long)artifact->weightBytes, artifact->steps,
      artifact->note.empty() ? "" : "; ", artifact->note.c_str());
  return kOk;
}

/// Reads inputs for a compiled model, checking them against its signature.
/// With `chunks`, inputs may hold a multiple of the compiled batch (the same
/// multiple for all); `*chunks` receives it.
bool readCompiledInputs(const lowbit_tool::CompiledModel &m,
                        const std::vector<std::string> &specs,
                        std::vector<Tensor> &inputs,
                        int64_t *chunks = nullptr, int *code = nullptr) {
  // Usage errors (names) are exit 1; unreadable or mismatched tensors are
  // invalid input, exit 2, as on the interpreter's path.
  auto invalid = [&] {
    if (code)
      *code = kInvalid;
    return false;
  };
  if (code)
    *code = kUsage;
  if (chunks)
    *chunks = 0;
  unsigned n = m.code->num_inputs;
  inputs.assign(n, Tensor());
  std::vector<bool> seen(n, false);
  for (const std::string &spec : specs) {
    size_t eq = spec.find('=');
    std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
    std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    unsigned idx = n;
    for (unsigned i = 0; i < n; ++i)
      if (name.empty() ? n == 1 : name == m.code->inputs[i].name)
        idx = i;
    if (idx == n) {
      llvm::errs() << "lowbit: error: the model has no input named '" << name
                   << "'\n";
      return false;
    }
    if (seen[idx]) {
      llvm::errs() << "lowbit: error: --input " << m.code->inputs[idx].name
                   << " is given more than once\n";
      return false;
    }
    FailureOr<Tensor> t = readTensorFile(file);
    if (failed(t))
      return invalid();
    const lowbit_tensor_desc_t &d = m.code->inputs[idx];
    bool ok = t->rank() == d.rank;
    for (int r = 0; ok && r < d.rank; ++r)
      ok = t->dim(r) == d.shape[r];
    if (!ok && chunks && t->rank() == d.rank && d.rank >= 1 &&
        d.shape[0] > 0 && t->dim(0) % d.shape[0] == 0 && t->dim(0) > 0) {
      ok = true;
      for (int r = 1; ok && r < d.rank; ++r)
        ok = t->dim(r) == d.shape[r];
      int64_t k = t->dim(0) / d.shape[0];
      if (ok && *chunks && *chunks != k) {
        llvm::errs() << "lowbit: error: inputs hold different multiples of "
                        "the compiled batch\n";
        return invalid();
      }
      if (ok)
        *chunks = k;
    }
    // The interpreter's DType has lowbit_dtype_t's values (checked by
    // static_asserts in the x86 emitter).
    if (ok && static_cast<int32_t>(t->dtype()) != d.dtype) {
      llvm::errs() << "lowbit: error: input '" << d.name << "' was compiled "
                   << "for "
                   << dtypeName(static_cast<DType>(d.dtype)) << " but "
                   << file << " holds " << t->describe() << "\n";
      return invalid();
    }
    if (!ok) {
      llvm::errs() << "lowbit: error: input '" << d.name << "' was compiled "
                   << "for shape [";
      for (int r = 0; r < d.rank; ++r)
        llvm::errs() << (r ? "x" : "") << d.shape[r];
      llvm::errs() << "] but " << file << " holds " << t->describe()
                   << " (recompile with --input-shape"
                   << (chunks ? ", or give a multiple of the batch" : "")
                   << ")\n";
      return invalid();
    }
    inputs[idx] = *t;
    seen[idx] = true;
  }
  for (unsigned i = 0; i < n; ++i)
    if (!seen[i]) {
      llvm::errs() << "lowbit: error: missing --input " << m.code->inputs[i].name
                   << "=FILE\n";
      return false;
    }
  return true;
}

/// "avx2" from "avx2 (f32: ...)": the --cpu spelling of a kernel family.
std::string kernelsShortName(uint32_t cpu) {
  std::string name = lowbit_cpu_kernels_name(cpu);
  return name.substr(0, name.find(' '));
}

lowbit_session_t *openSession(const lowbit_tool::CompiledModel &m,
                              int threads, uint32_t cpu,
                              const std::optional<std::string> &adapter) {
  lowbit_options_t opts = {};
  opts.num_threads = threads;
  opts.cpu_features = cpu;
  lowbit_session_t *session = nullptr;
  char message[256];
  lowbit_status_t st = lowbit_session_create_ex(
      m.code, m.package.get(), m.packageSize, &opts, &session, message,
      sizeof(message));
  if (st != LOWBIT_OK) {
    llvm::errs() << "lowbit: error: " << m.dir << ": "
                 << lowbit_status_string(st) << ": " << message << "\n";
    return nullptr;
  }
  if (adapter &&
      lowbit_session_set_adapter(session, adapter->empty() ? nullptr
                                                           : adapter->c_str()) !=
          LOWBIT_OK) {
    llvm::errs() << "lowbit: error: " << m.dir << ": --adapter: "
                 << lowbit_session_error(session) << "\n";
    lowbit_session_destroy(session);
    return nullptr;
  }
  return session;
}

DType dtypeOfDesc(int32_t d) { return static_cast<DType>(d); }

/// Input pointers and freshly allocated outputs for one compiled run.
struct IoBuffers {
  std::vector<Tensor> outputs;
  std::vector<const void *> in;
  std::vector<void *> out;
};
IoBuffers bindIo(const lowbit_tool::CompiledModel &m,
                 const std::vector<Tensor> &inputs) {
  IoBuffers io;
  for (const Tensor &t : inputs)
    io.in.push_back(t.raw());
  for (unsigned i = 0; i < m.code->num_outputs; ++i) {
    const lowbit_tensor_desc_t &d = m.code->outputs[i];
    io.outputs.push_back(Tensor::zeros(
        dtypeOfDesc(d.dtype), std::vector<int64_t>(d.shape, d.shape + d.rank)));
  }
  for (Tensor &t : io.outputs)
    io.out.push_back(t.raw());
  return io;
}

/// Samples [chunk * b, (chunk + 1) * b) of `t` (b = the compiled batch).
Tensor sliceChunk(const Tensor &t, int64_t chunk, int64_t chunks) {
  if (chunks <= 1)
    return t;
  std::vector<int64_t> shape = t.shape();
  shape[0] /= chunks;
  Tensor out = Tensor::zeros(t.dtype(), shape);
  std::memcpy(out.raw(), t.raw() + chunk * out.byteSize(), out.byteSize());
  return out;
}

int runCompiled(const RunArgs &args, int threads, uint32_t cpu) {
  std::string error;
  auto m = lowbit_tool::loadCompiled(args.model, error);
  if (!m) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  std::vector<Tensor> inputs;
  int64_t chunks = 0;
  int readCode = kUsage;
  if (!readCompiledInputs(*m, args.inputs, inputs, &chunks, &readCode))
    return readCode;
  chunks = std::max<int64_t>(chunks, 1);
  if (chunks > 1)
    for (unsigned i = 0; i < m->code->num_outputs; ++i)
      if (m->code->outputs[i].rank < 1 ||
          m->code->outputs[i].shape[0] != m->code->inputs[0].shape[0]) {
        llvm::errs() << "lowbit: error: the inputs hold " << chunks
                     << " batches, but output '" << m->code->outputs[i].name
                     << "' has no batch dimension to stack them along\n";
        return kUsage;
      }
  lowbit_session_t *session = openSession(*m, threads, cpu, args.adapter);
  if (!session)
    return args.adapter ? kUsage : kInvalid;
  std::vector<Tensor> outputs;
  double ms = 0;
  lowbit_status_t st = LOWBIT_OK;
  for (int64_t c = 0; c < chunks && st == LOWBIT_OK; ++c) {
    std::vector<Tensor> part;
    for (const Tensor &t : inputs)
      part.push_back(sliceChunk(t, c, chunks));
    IoBuffers io = bindIo(*m, part);
    auto start = std::chrono::steady_clock::now();
    st = lowbit_session_run(session, io.in.data(), io.out.data());
    ms += std::chrono::duration<double, std::milli>(
              std::chrono::steady_clock::now() - start)
              .count();
    if (c == 0)
      for (const Tensor &o : io.outputs) {
        std::vector<int64_t> shape = o.shape();
        shape[0] *= chunks;
        outputs.push_back(chunks > 1 ? Tensor::zeros(o.dtype(), shape) : o);
      }
    if (chunks > 1)
      for (size_t i = 0; i < outputs.size(); ++i)
        std::memcpy(outputs[i].raw() + c * io.outputs[i].byteSize(),
                    io.outputs[i].raw(), io.outputs[i].byteSize());
  }
  int usedThreads = lowbit_session_num_threads(session);
  std::string kernels = kernelsShortName(lowbit_session_cpu_features(session));
  if (st != LOWBIT_OK) {
    llvm::errs() << "lowbit: error: run failed: " << lowbit_status_string(st)
                 << ": " << lowbit_session_error(session) << "\n";
    lowbit_session_destroy(session);
    return kInvalid;
  }
  lowbit_session_destroy(session);
  if (!args.outputDir.empty())
    llvm::sys::fs::create_directories(args.outputDir);
  for (unsigned i = 0; i < outputs.size(); ++i) {
    std::string outName = m->code->outputs[i].name;
    if (args.print)
      printTensor(outName, outputs[i]);
    if (args.outputDir.empty())
      continue;
    SmallString<256> path(args.outputDir);
    llvm::sys::path::append(path, sanitizeName(outName) + ".npy");
    if (failed(writeNpy(path, outputs[i], error))) {
      llvm::errs() << "lowbit: error: " << error << "\n";
      return kInvalid;
    }
    if (!args.print)
      llvm::outs() << "wrote " << path << " (" << outputs[i].describe() << ")\n";
  }
  if (chunks > 1)
    llvm::outs() << llvm::format(
        "ran %s (compiled, %d threads, %s kernels) on %lld batches in %.2f "
        "ms\n",
        args.model.c_str(), usedThreads, kernels.c_str(), (long long)chunks,
        ms);
  else
    llvm::outs() << llvm::format(
        "ran %s (compiled, %d threads, %s kernels) in %.2f ms\n",
        args.model.c_str(), usedThreads, kernels.c_str(), ms);
  return kOk;
}

/// `lowbit run OUT` on an MCU artifact: float inputs are quantized with the
/// input's scale and zero point (as lowbit.quantize does; int8 .npy files
/// are taken as codes), every sample runs on the emulated (or host-built)
/// MCU, and the output codes are dequantized as lowbit.dequantize does, so
/// the .npy files compare bit for bit with the interpreter's.
int runMcu(const RunArgs &args, const McuRunOptions &options) {
  McuArtifact art;
  std::string error;
  if (failed(loadMcuArtifact(args.model, art, error))) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  size_t n = art.inputs.size();
  std::vector<std::vector<int8_t>> codes(n);
  std::vector<bool> seen(n, false);
  int64_t samples = 0;
  for (const std::string &spec : args.inputs) {
    size_t eq = spec.find('=');
    std::string name = eq == std::string::npos ? "" : spec.substr(0, eq);
    std::string file = eq == std::string::npos ? spec : spec.substr(eq + 1);
    size_t idx = n;
    for (size_t i = 0; i < n; ++i)
      if (name.empty() ? n == 1 : name == art.inputs[i].name)
        idx = i;
    if (idx == n) {
      llvm::errs() << "lowbit: error: the model has no input named '" << name
                   << "'\n";
      return kUsage;
    }
    if (seen[idx]) {
      llvm::errs() << "lowbit: error: --input " << art.inputs[idx].name
                   << " is given more than once\n";
      return kUsage;
    }
    seen[idx] = true;
    FailureOr<Tensor> t = readTensorFile(file);
    if (failed(t))
      return kInvalid;
    const McuTensorInfo &d = art.inputs[idx];
    int64_t per = d.bytes();
    bool ok = t->numel() > 0 && t->numel() % per == 0 &&
              t->rank() == int64_t(d.shape.size());
    for (size_t r = 1; ok && r < d.shape.size(); ++r)
      ok = t->dim(r) == d.shape[r];
    int64_t k = ok ? t->numel() / per : 0;
    if (!ok || (samples && k != samples)) {
      llvm::errs() << "lowbit: error: " << file << " holds " << t->describe()
                   << "; input '" << d.name << "' takes "
                   << (samples ? std::to_string(samples) : std::string("N"))
                   << " samples of int8 [";
      for (size_t r = 0; r < d.shape.size(); ++r)
        llvm::errs() << (r ? "x" : "") << d.shape[r];
      llvm::errs() << "] stacked along the first axis (float or int8 codes)\n";
      return kUsage;
    }
    samples = k;
    codes[idx].resize(t->numel());
    for (int64_t i = 0; i < t->numel(); ++i) {
      if (t->dtype() == DType::I8) {
        codes[idx][i] = int8_t(t->getInt(i));
        continue;
      }
      float q = std::nearbyint(float(t->getDouble(i)) / float(d.scale)) +
                float(d.zeroPoint);
      codes[idx][i] = int8_t(std::clamp(q, -128.0f, 127.0f));
    }
  }
  for (size_t i = 0; i < n; ++i)
    if (!seen[i]) {
      llvm::errs() << "lowbit: error: missing --input " << art.inputs[i].name
                   << "\n";
      return kUsage;
    }
  McuRunResult result;
  auto start = std::chrono::steady_clock::now();
  if (failed(runMcuArtifact(args.model, art, codes, samples, options, result,
                            error))) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  if (!args.outputDir.empty())
    llvm::sys::fs::create_directories(args.outputDir);
  for (auto [i, d] : llvm::enumerate(art.outputs)) {
    std::vector<int64_t> shape = d.shape;
    shape[0] *= samples;
    Tensor out = Tensor::zeros(DType::F32, shape);
    for (int64_t j = 0; j < out.numel(); ++j)
      out.data<float>()[j] =
          float(double(result.outputs[i][j] - d.zeroPoint) * d.scale);
    if (args.print)
      printTensor(d.name, out);
    if (args.outputDir.empty())
      continue;
    SmallString<256> path(args.outputDir);
    llvm::sys::path::append(path, sanitizeName(d.name) + ".npy");
    if (failed(writeNpy(path, out, error))) {
      llvm::errs() << "lowbit: error: " << error << "\n";
      return kInvalid;
    }
    if (!args.print)
      llvm::outs() << "wrote " << path << " (" << out.describe() << ")\n";
  }
  llvm::outs() << "ran " << args.model << " (mcu, " << art.cpu << ", "
               << result.runnerDescription << ") on " << samples
               << (samples == 1 ? " sample" : " samples") << " in "
               << llvm::format("%.0f", ms) << " ms";
  if (result.instructions)
    llvm::outs() << "; " << result.instructions
                 << " instructions per inference (QEMU -icount, +-40; an "
                    "instruction count, not cycles)";
  llvm::outs() << "\n";
  return kOk;
}

//===----------------------------------------------------------------------===//
// lowbit bench / inspect
//===----------------------------------------------------------------------===//

struct BenchArgs {
  std::string dir;
  int iters = 100;
  int warmup = 10;
  int threads = 0;
  std::string cpu;
  std::vector<std::string> inputs;
  bool json = false;
  std::optional<std::string> adapter;
};

/// `--adapter NAME` / `--base` of run and bench: the adapter to select
/// (unset: the model's default; "": none).
struct AdapterFlags {
  std::string name;
  bool base = false;
  CLI::Option *option = nullptr;

  void add(CLI::App *cmd) {
    option = cmd->add_option(
        "--adapter", name,
        "For a compiled model with switchable LoRA adapters (--lora "
        "NAME=PATH --lora-mode branch): run with adapter NAME (default: the "
        "first)");
    cmd->add_flag("--base", base,
                  "For a compiled model with switchable LoRA adapters: run "
                  "the base model, no adapter")
        ->excludes(option);
  }
  std::optional<std::string> selected() const {
    if (base)
      return std::string();
    if (option && option->count())
      return name;
    return std::nullopt;
  }
};

uint32_t parseCpu(const std::string &cpu, bool &ok) {
  ok = true;
  if (cpu.empty() || cpu == "native")
    return 0;
  if (cpu == "reference")
    return LOWBIT_CPU_REFERENCE;
  if (cpu == "avx2")
    return LOWBIT_CPU_AVX2;
  if (cpu == "avx512") // with VNNI's int8 dot products where the CPU has them
    return LOWBIT_CPU_AVX512 | LOWBIT_CPU_AVX2 |
           (lowbit_cpu_detect() & LOWBIT_CPU_AVX512VNNI);
  ok = false;
  return 0;
}

/// `lowbit bench` on an MCU artifact: one inference under QEMU on
/// deterministic pseudo-random input codes (the kernels' instruction counts
/// do not depend on the data, except for saturation branches), reported as
/// instructions (QEMU -icount: not cycles) and MACs per instruction.
int runBenchMcu(const BenchArgs &args) {
  McuArtifact art;
  std::string error;
  if (failed(loadMcuArtifact(args.dir, art, error))) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  std::mt19937 rng(1);
  std::vector<std::vector<int8_t>> codes;
  for (const McuTensorInfo &t : art.inputs) {
    codes.emplace_back(t.bytes());
    for (int8_t &c : codes.back())
      c = int8_t(int(rng() % 256) - 128);
  }
  McuRunResult result;
  if (failed(runMcuArtifact(args.dir, art, codes, 1, McuRunOptions(), result,
                            error))) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  int64_t macs = 0;
  for (const McuLayerInfo &l : art.layers)
    macs += l.macs;
  double perInsn = result.instructions ? double(macs) / result.instructions : 0;
  if (args.json) {
    nlohmann::json j = {{"model", art.name},
                        {"target", "mcu"},
                        {"cpu", art.cpu},
                        {"runner", result.runnerDescription},
                        {"instructions", result.instructions},
                        {"macs", macs},
                        {"macs_per_instruction", perInsn},
                        {"arena_bytes", art.arenaBytes},
                        {"image_text_bytes", result.textBytes}};
    llvm::outs() << j.dump(2) << "\n";
    return kOk;
  }
  llvm::outs() << art.name << " (mcu, " << art.cpu << "): "
               << result.instructions << " instructions per inference, "
               << macs << " MACs, "
               << llvm::format("%.3f", perInsn) << " MACs per instruction ("
               << result.runnerDescription
               << "; QEMU counts instructions, not cycles)\n";
  return kOk;
}

int runBench(const BenchArgs &args) {
  std::string error;
  auto m = lowbit_tool::loadCompiled(args.dir, error);
  if (!m) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  bool ok;
  uint32_t cpu = parseCpu(args.cpu, ok);
  if (!ok) {
    llvm::errs() << "lowbit: error: --cpu must be native, avx512, avx2 or "
                    "reference\n";
    return kUsage;
  }
  std::vector<Tensor> inputs;
  if (!args.inputs.empty()) {
    int readCode = kUsage;
    if (!readCompiledInputs(*m, args.inputs, inputs, nullptr, &readCode))
      return readCode;
  } else {
    std::mt19937 rng(0);
    for (unsigned i = 0; i < m->code->num_inputs; ++i) {
      const lowbit_tensor_desc_t &d = m->code->inputs[i];
      Tensor t = Tensor::zeros(dtypeOfDesc(d.dtype),
                               std::vector<int64_t>(d.shape, d.shape + d.rank));
      if (t.dtype() == DType::F32)
        for (int64_t k = 0; k < t.numel(); ++k)
          t.data<float>()[k] =
              std::uniform_real_distribution<float>(-1, 1)(rng);
      else if (t.dtype() == DType::I64)
        for (int64_t k = 0; k < t.numel(); ++k)
          t.data<int64_t>()[k] = rng() % 2; // valid ids/masks/token types
      inputs.push_back(t);
    }
  }
  lowbit_session_t *session = openSession(*m, args.threads, cpu, args.adapter);
  if (!session)
    return args.adapter ? kUsage : kInvalid;
  IoBuffers io = bindIo(*m, inputs);
  std::vector<const void *> &in = io.in;
  std::vector<void *> &out = io.out;
  std::vector<double> times;
  for (int i = 0; i < args.warmup + args.iters; ++i) {
    auto start = std::chrono::steady_clock::now();
    lowbit_status_t st = lowbit_session_run(session, in.data(), out.data());
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (st != LOWBIT_OK) {
      llvm::errs() << "lowbit: error: run failed: " << lowbit_status_string(st)
                   << "\n";
      lowbit_session_destroy(session);
      return kInvalid;
    }
    if (i >= args.warmup)
      times.push_back(ms);
  }
  int threads = lowbit_session_num_threads(session);
  uint32_t used = lowbit_session_cpu_features(session);
  lowbit_session_destroy(session);
  std::sort(times.begin(), times.end());
  auto pct = [&](double p) {
    return times[std::min<size_t>(times.size() - 1,
                                  static_cast<size_t>(p * times.size()))];
  };
  double mean = 0;
  for (double t : times)
    mean += t;
  mean /= times.size();
  if (args.json)
    llvm::outs() << llvm::format(
        "{\"model\": \"%s\", \"iters\": %zu, \"threads\": %d, "
        "\"kernels\": \"%s\", \"median_ms\": %.4f, \"p90_ms\": %.4f, "
        "\"p99_ms\": %.4f, \"mean_ms\": %.4f, \"min_ms\": %.4f}\n",
        m->name.c_str(), times.size(), threads,
        kernelsShortName(used).c_str(), pct(0.5), pct(0.9), pct(0.99), mean,
        times.front());
  else
    llvm::outs() << llvm::format(
        "%s: %zu iterations on %d threads, kernels %s: median %.3f ms, p90 "
        "%.3f ms, p99 %.3f ms, min %.3f ms\n",
        m->name.c_str(), times.size(), threads,
        lowbit_cpu_kernels_name(used), pct(0.5), pct(0.9), pct(0.99),
        times.front());
  return kOk;
}

/// `lowbit inspect` on an MCU artifact: per layer the kernel, MACs, the
/// bytes of its const arrays (flash) and the arena bytes live while it
/// runs; then flash and SRAM measured by cross-compiling for the core.
int runInspectMcu(const std::string &dir) {
  McuArtifact art;
  std::string error;
  if (failed(loadMcuArtifact(dir, art, error))) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  auto shape = [](const McuTensorInfo &t) {
    std::string s;
    for (int64_t d : t.shape)
      s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
  };
  llvm::outs() << "model " << art.name << " (mcu, " << art.cpu
               << "): integer-only C99, arena " << art.arenaBytes
               << " bytes (peak at '" << art.peakLayer << "'), weights "
               << art.weightBytes << " bytes\n";
  for (const McuTensorInfo &t : art.inputs)
    llvm::outs() << "  input  " << t.name << ": int8[" << shape(t)
                 << "] scale " << llvm::format("%g", t.scale)
                 << " zero point " << t.zeroPoint << ", arena offset "
                 << t.arenaOffset << "\n";
  for (const McuTensorInfo &t : art.outputs)
    llvm::outs() << "  output " << t.name << ": int8[" << shape(t)
                 << "] scale " << llvm::format("%g", t.scale)
                 << " zero point " << t.zeroPoint << ", arena offset "
                 << t.arenaOffset << "\n";
  llvm::outs() << llvm::format("  %-3s %-22s %10s %10s %10s  %s\n", "#",
                               "kernel", "MACs", "flash B", "live SRAM B",
                               "node");
  int64_t macs = 0;
  for (auto [i, l] : llvm::enumerate(art.layers)) {
    macs += l.macs;
    llvm::outs() << llvm::format("  %-3zu %-22s %10lld %10lld %10lld  %s\n", i,
                                 l.kernel.c_str(), (long long)l.macs,
                                 (long long)l.weightBytes,
                                 (long long)l.liveBytes, l.node.c_str());
  }
  llvm::outs() << "  total " << macs << " MACs\n";
  McuFootprint fp;
  if (failed(measureMcuFootprint(dir, art, fp, error))) {
    llvm::outs() << "flash and stack not measured: " << error << "\n";
    return kOk;
  }
  llvm::outs() << "flash " << fp.codeBytes + fp.constBytes << " bytes (code "
               << fp.codeBytes << ", constants " << fp.constBytes
               << "); SRAM " << fp.sramBytes + fp.stackBytes
               << " bytes (static " << fp.sramBytes << ", stack "
               << fp.stackBytes << ": " << art.name << "_run + "
               << fp.deepestKernel
               << " + the deepest kernel helper), measured with "
                  "arm-none-eabi-gcc -O2 "
               << "for " << art.cpu << "\n";
  return kOk;
}

int runInspect(const std::string &dir) {
  std::string error;
  auto m = lowbit_tool::loadCompiled(dir, error);
  if (!m) {
    llvm::errs() << "lowbit: error: " << error << "\n";
    return kInvalid;
  }
  char message[256];
  lowbit_status_t st = lowbit_package_verify(m->code, m->package.get(),
                                             m->packageSize, message,
                                             sizeof(message));
  if (st != LOWBIT_OK) {
    llvm::errs() << "lowbit: error: " << dir << ": " << message << "\n";
    return kInvalid;
  }
  // The runtime's C verifier checks what the runtime reads; inspect reads
  // more (names, layouts), through the C++ accessors, so it runs the
  // FlatBuffers verifier too and treats every optional field as absent-able.
  flatbuffers::Verifier verifier(
      reinterpret_cast<const uint8_t *>(m->package.get()), m->packageSize);
  if (!::lowbit::pkg::VerifyModelBuffer(verifier)) {
    llvm::errs() << "lowbit: error: " << dir
                 << ": corrupt model package: its FlatBuffers structure does "
                    "not verify\n";
    return kInvalid;
  }
  auto str = [](const flatbuffers::String *s) {
    return s ? s->str() : std::string("(none)");
  };
  const auto *pkg = ::lowbit::pkg::GetModel(m->package.get());
  llvm::outs() << "model " << str(pkg->name()) << " (runtime ABI "
               << pkg->abi_version() << ", package " << m->packageSize
               << " bytes, verified)\n";
  llvm::outs() << "arena: " << pkg->arena_size() << " bytes\n";
  // What `lowbit run/bench` would run here, and what --cpu can select.
  uint32_t detected = lowbit_cpu_detect();
  llvm::outs() << "kernels on this CPU: " << lowbit_cpu_kernels_name(detected)
               << "; --cpu can select: reference";
  if (detected & LOWBIT_CPU_AVX2)
    llvm::outs() << ", avx2";
  if (detected & LOWBIT_CPU_AVX512)
    llvm::outs() << ", avx512";
  llvm::outs() << "\n";
  auto sig = [&](const char *what, auto *list) {
    for (unsigned i = 0; list && i < list->size(); ++i) {
      auto *t = list->Get(i);
      llvm::outs() << what << " " << i << ": " << str(t->name()) << " "
                   << ::lowbit::pkg::EnumNameDType(t->dtype()) << " [";
      for (unsigned d = 0; t->shape() && d < t->shape()->size(); ++d)
        llvm::outs() << (d ? "x" : "") << t->shape()->Get(d);
      llvm::outs() << "]\n";
    }
  };
  sig("input", pkg->inputs());
  sig("output", pkg->outputs());
  llvm::outs() << "weights: " << (pkg->weights() ? pkg->weights()->size() : 0)
               << " bytes, CRC-32 " << llvm::format_hex(pkg->weights_crc32(), 10)
               << "\n";
  for (unsigned i = 0; pkg->weight_table() && i < pkg->weight_table()->size();
       ++i) {
    auto *w = pkg->weight_table()->Get(i);
    llvm::outs() << llvm::format("  %-40s %-12s %10llu bytes at %llu\n",
                                 str(w->name()).c_str(),
                                 str(w->layout()).c_str(),
                                 (unsigned long long)w->size(),
                                 (unsigned long long)w->offset());
  }
  return kOk;
}

} // namespace

/// Splits off the MLIR options (--mlir-print-ir-after-all, ...) that
/// llvm::cl parses, and loads --load-pass-plugin / --load-dialect-plugin
/// libraries, before CLI11 sees the rest. Returns false on a bad plugin.
bool takeMlirArgs(int argc, char **argv, std::vector<char *> &rest,
                  DialectRegistry &registry) {
  std::vector<char *> mlirArgs = {argv[0]};
  rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    StringRef a = argv[i];
    auto value = [&](StringRef flag) -> std::optional<std::string> {
      if (a.consume_front(flag)) {
        if (a.consume_front("="))
          return a.str();
        if (a.empty() && i + 1 < argc)
          return std::string(argv[++i]);
      }
      return std::nullopt;
    };
    if (a.starts_with("--mlir-")) {
      mlirArgs.push_back(argv[i]);
    } else if (std::optional<std::string> path = value("--load-pass-plugin")) {
      auto plugin = PassPlugin::load(*path);
      if (!plugin) {
        llvm::errs() << "lowbit: error: --load-pass-plugin " << *path << ": "
                     << llvm::toString(plugin.takeError()) << "\n";
        return false;
      }
      plugin->registerPassRegistryCallbacks();
    } else if (std::optional<std::string> path =
                   value("--load-dialect-plugin")) {
      auto plugin = DialectPlugin::load(*path);
      if (!plugin) {
        llvm::errs() << "lowbit: error: --load-dialect-plugin " << *path
                     << ": " << llvm::toString(plugin.takeError()) << "\n";
        return false;
      }
      plugin->registerDialectRegistryCallbacks(registry);
    } else {
      rest.push_back(argv[i]);
    }
  }
  registerPassManagerCLOptions();
  registerMLIRContextCLOptions();
  registerAsmPrinterCLOptions();
  return llvm::cl::ParseCommandLineOptions(int(mlirArgs.size()),
                                           mlirArgs.data(), "lowbit\n",
                                           &llvm::errs());
}

int main(int argc, char **argv) {
  registerAllTargets();
  registerAllPasses();
  DialectRegistry registry;
  registerAllDialects(registry);
  std::vector<char *> rest;
  if (!takeMlirArgs(argc, argv, rest, registry))
    return kUsage;
  argc = int(rest.size());
  argv = rest.data();
  CLI::App app{"lowbit: ahead-of-time compiler for quantized and low-rank "
               "neural networks.\n\n"
               "Exit codes: 0 success, 1 usage error, 2 invalid input "
               "(unreadable, corrupt or inconsistent model or tensor), "
               "3 unsupported operator or feature, 4 internal error.",
               "lowbit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lowbit 0.1.0 (LLVM/MLIR 22)");
  int code = kOk;

  ImportArgs importArgs;
  CLI::App *imp = app.add_subcommand(
      "import", "Import an ONNX model (binary .onnx or text .onnxtxt) into "
                "lowbit IR");
  imp->add_option("model", importArgs.model, "ONNX model file")->required();
  imp->add_option("-o,--output", importArgs.output,
                  "Output file; '-' for stdout (default)");
  imp->add_flag("--emit-bytecode", importArgs.bytecode,
                "Write MLIR bytecode instead of text");
  imp->add_flag("--no-check", importArgs.noCheck,
                "Skip ONNX's model checker and strict shape inference");
  imp->add_flag("--frontend", importArgs.frontend,
                "Also run the frontend pipeline: layers with constant weights "
                "become lowbit.linear/conv2d (lowbit-opt "
                "--lowbit-frontend-pipeline)");
  imp->add_option("--input-shape", importArgs.inputShapes,
                  "Fix an input's shape, e.g. input=1x3x224x224 (repeatable)");
  imp->add_option("--emit", importArgs.emit,
                  "Stage to write: onnx (the structural import, default), "
                  "frontend (typed lowbit ops), quantized (after "
                  "the quantization passes with the quantization flags) or lowered "
                  "(after the --target's lowering: what its emitter reads). "
                  "Every stage is valid input to lowbit compile and "
                  "lowbit-opt")
      ->check(CLI::IsMember({"onnx", "frontend", "quantized", "lowered"}));
  imp->add_option("--target", importArgs.target,
                  "Target whose formats and lowering --emit uses (default "
                  "x86)");
  imp->add_option("--integer-rounding", importArgs.integerRounding,
                  "With --target mcu: requantization rounding, away or "
                  "tflite (see lowbit compile --help)")
      ->check(CLI::IsMember({"away", "tflite"}));
  imp->add_option("--lora", importArgs.lora,
                  "A PEFT LoRA adapter to apply: PATH or NAME=PATH, PATH an "
      "adapter_model.safetensors or its folder (adapter_config.json beside "
      "it gives r, lora_alpha, use_rslora). Its modules are matched to the "
      "model's layers by name; repeatable (merge sums them)");
  imp->add_option("--lora-map", importArgs.loraMap,
                  "MODULE=NAME: the adapter's module MODULE adapts the layer whose "
      "weight or node is NAME (names as lowbit import --emit frontend "
      "prints them); repeatable");
  imp->add_option("--lora-mode", importArgs.loraMode,
                  "LoRA adapters found unmerged in the model (PEFT's base(x) + "
      "lora_B(lora_A(x)) * scaling): merge (default) folds W + (alpha/r)·B·A "
      "into the weight before quantization; branch keeps each adapter as a "
      "low-rank branch beside its (quantized) base weight, added in the "
      "x86 GEMM's epilogue")
      ->check(CLI::IsMember({"merge", "branch"}));
  lowbit_tool::addQuantOptions(imp, importArgs.quant, /*compile=*/true);
  imp->callback([&] { code = runImport(importArgs); });

  RunArgs runArgs;
  CLI::App *run = app.add_subcommand(
      "run", "Run a model (.onnx, .onnxtxt or .mlir) on the reference "
             "interpreter.\nInputs are .npy or ONNX TensorProto (.pb) files; "
             "every graph output is written to DIR/<name>.npy, where <name> "
             "is the output name with characters outside [A-Za-z0-9_.-] "
             "replaced by '_'.");
  run->add_option("model", runArgs.model, "Model file")->required();
  run->add_option("-i,--input", runArgs.inputs,
                  "NAME=FILE (.npy or .pb); a bare FILE for one-input models");
  run->add_option("-d,--output-dir", runArgs.outputDir,
                  "Directory for <output>.npy files");
  run->add_option("--input-shape", runArgs.inputShapes,
                  "Fix an input's shape, e.g. input=1x3x224x224 (repeatable)");
  run->add_flag("--print", runArgs.print, "Print the outputs' values");
  lowbit_tool::addQuantOptions(run, runArgs.quant, /*compile=*/false);
  AdapterFlags runAdapter;
  runAdapter.add(run);
  run->add_flag("--raw", runArgs.raw,
                "Interpret the imported ONNX nodes as they are, without the "
                "frontend pipeline");
  int runThreads = 0;
  std::string runCpu;
  run->add_option("--threads", runThreads,
                  "Worker threads for a compiled model (0 = one per core)");
  run->add_option("--cpu", runCpu,
                  "Kernels for a compiled model: native (detect), avx512, "
                  "avx2 or reference")
      ->check(CLI::IsMember({"native", "avx512", "avx2", "reference"}));
  McuRunOptions mcuRun;
  run->add_option("--mcu-runner", mcuRun.runner,
                  "For an MCU artifact: qemu (cross-build with "
                  "arm-none-eabi-gcc and run on QEMU's board for its --cpu, "
                  "default) or host (build the same C with --cc and run it "
                  "here)")
      ->check(CLI::IsMember({"qemu", "host"}));
  run->add_option("--mcu-build-dir", mcuRun.workDir,
                  "For an MCU artifact: keep the test image, harness and I/O "
                  "files in this folder (default: a temporary one)");
  run->callback([&] {
    runArgs.adapter = runAdapter.selected();
    // A folder is a compiled model (loadCompiled says what is wrong with
    // one that holds no package or several); a file is a model to import.
    if (llvm::sys::fs::is_directory(runArgs.model) &&
        isMcuArtifactDir(runArgs.model)) {
      code = runMcu(runArgs, mcuRun);
    } else if (llvm::sys::fs::is_directory(runArgs.model)) {
      bool ok;
      uint32_t cpu = parseCpu(runCpu, ok);
      code = ok ? runCompiled(runArgs, runThreads, cpu) : kUsage;
    } else {
      code = runRun(runArgs);
    }
  });

  CompileArgs compileArgs;
  CLI::App *comp = app.add_subcommand(
      "compile",
      "Compile a model to C + object code + a weight package (OUT/<name>.c, "
      ".h, .o, .so, .lbpkg), written atomically");
  comp->add_option("model", compileArgs.model, "ONNX model or lowbit IR")
      ->required();
  comp->add_option("-o,--output", compileArgs.output, "Output folder")
      ->required();
  std::string targetHelp = "Target backend (default x86):";
  for (const TargetBackend *b : getRegisteredTargetBackends())
    targetHelp += "\n  " + b->getName().str() + ": " +
                  b->getDescription().str();
  comp->add_option("--target", compileArgs.target, targetHelp);
  comp->add_flag("--force", compileArgs.force,
                 "Replace -o even if it is a file or a folder holding files "
                 "lowbit did not write (default: refuse)");
  comp->add_option("--name", compileArgs.name,
                   "C identifier for the model (default: the file's stem)");
  comp->add_option("--cpu", compileArgs.cpu,
                   "The CPU to build for: x86 -march (default native); mcu: cortex-m4 (default), cortex-m7, cortex-m33, cortex-m55 or generic");
  comp->add_option("--integer-rounding", compileArgs.integerRounding,
                   "Integer-only targets (mcu): requantization of convolutions "
                   "and linear layers. away (default): one rounding of acc * m "
                   "/ 2^s, half away from zero, the closest to the float QDQ "
                   "graph; tflite: TFLite's doubling high multiply and "
                   "rounding shift, so outputs equal TensorFlow Lite Micro's")
      ->check(CLI::IsMember({"away", "tflite"}));
  comp->add_option("--lora", compileArgs.lora,
                  "A PEFT LoRA adapter to apply: PATH or NAME=PATH, PATH an "
      "adapter_model.safetensors or its folder (adapter_config.json beside "
      "it gives r, lora_alpha, use_rslora). Its modules are matched to the "
      "model's layers by name; repeatable (merge sums them)");
  comp->add_option("--lora-map", compileArgs.loraMap,
                  "MODULE=NAME: the adapter's module MODULE adapts the layer whose "
      "weight or node is NAME (names as lowbit import --emit frontend "
      "prints them); repeatable");
  comp->add_option("--lora-mode", compileArgs.loraMode,
                   "LoRA adapters found unmerged in the model (PEFT's base(x) + "
      "lora_B(lora_A(x)) * scaling): merge (default) folds W + (alpha/r)·B·A "
      "into the weight before quantization; branch keeps each adapter as a "
      "low-rank branch beside its (quantized) base weight, added in the "
      "x86 GEMM's epilogue")
      ->check(CLI::IsMember({"merge", "branch"}));
  comp->add_option("--cc", compileArgs.cc,
                   "C compiler for <name>.o/.so; empty to skip");
  comp->add_option("--input-shape", compileArgs.inputShapes,
                   "Fix an input's shape, e.g. input=1x3x224x224 (repeatable); "
                   "compiled models have static shapes");
  lowbit_tool::addQuantOptions(comp, compileArgs.quant, /*compile=*/true);
  comp->add_option("--pass-pipeline", compileArgs.passPipeline,
                   "Run this textual pipeline instead of the default one, "
                   "e.g. 'builtin.module(lowbit-frontend-pipeline, "
                   "my-pass, lowbit-x86-pipeline)'; start from "
                   "--print-pipeline")
      ->group("Passes");
  comp->add_flag("--print-pipeline", compileArgs.printPipeline,
                 "Print the pipeline these flags build, as text for "
                 "--pass-pipeline or lowbit-opt, and exit")
      ->group("Passes");
  comp->footer("Passes: --load-pass-plugin=LIB.so and --load-dialect-plugin="
               "LIB.so load MLIR plugins (their passes can then be named in "
               "--pass-pipeline); MLIR's --mlir-print-ir-after-all, "
               "--mlir-print-ir-before=PASS, --mlir-pass-pipeline-crash-"
               "reproducer=FILE, --mlir-timing and the other --mlir-* "
               "options apply to the compile pipeline.");
  comp->callback([&] { code = runCompile(compileArgs, registry); });

  std::string inspectDir;
  CLI::App *insp = app.add_subcommand(
      "inspect", "Show a compiled model's signature, arena and weights");
  insp->add_option("dir", inspectDir, "Folder written by lowbit compile")
      ->required();
  insp->callback([&] {
    code = isMcuArtifactDir(inspectDir) ? runInspectMcu(inspectDir)
                                        : runInspect(inspectDir);
  });

  BenchArgs benchArgs;
  CLI::App *bench = app.add_subcommand(
      "bench", "Time a compiled model: latency percentiles over --iters runs");
  bench->add_option("dir", benchArgs.dir, "Folder written by lowbit compile")
      ->required();
  bench->add_option("--iters", benchArgs.iters, "Timed runs (default 100)");
  bench->add_option("--warmup", benchArgs.warmup, "Untimed runs (default 10)");
  bench->add_option("--threads", benchArgs.threads,
                    "Worker threads (default 0 = one per core)");
  bench->add_option("--cpu", benchArgs.cpu,
                    "Kernels: native (detect), avx512, avx2 or reference")
      ->check(CLI::IsMember({"native", "avx512", "avx2", "reference"}));
  bench->add_option("-i,--input", benchArgs.inputs,
                    "NAME=FILE inputs (default: random)");
  AdapterFlags benchAdapter;
  benchAdapter.add(bench);
  bench->add_flag("--json", benchArgs.json,
                  "Print one JSON object (median_ms, p90_ms, iters, threads)");
  bench->callback([&] {
    benchArgs.adapter = benchAdapter.selected();
    code = isMcuArtifactDir(benchArgs.dir) ? runBenchMcu(benchArgs)
                                           : runBench(benchArgs);
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  return code;
}
