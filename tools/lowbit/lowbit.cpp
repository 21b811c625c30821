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

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>

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

/// Writes through a temporary file and renames, so a failed or interrupted
/// write never leaves a partial file behind.
bool writeAtomically(const std::string &path,
                     llvm::function_ref<void(llvm::raw_ostream &)> write) {
  if (path == "-") {
    write(llvm::outs());
    return true;
  }
  SmallString<256> tmp(path);
  tmp += ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(tmp, ec, llvm::sys::fs::OF_None);
    if (ec) {
      llvm::errs() << "lowbit: error: cannot write '" << tmp
                   << "': " << ec.message() << "\n";
      return false;
    }
    write(os);
    os.close();
    if (os.has_error()) {
      llvm::sys::fs::remove(tmp);
      llvm::errs() << "lowbit: error: cannot write '" << path << "'\n";
      return false;
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(tmp, path)) {
    llvm::sys::fs::remove(tmp);
    llvm::errs() << "lowbit: error: cannot rename to '" << path
                 << "': " << ec.message() << "\n";
    return false;
  }
  return true;
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
};

int runImport(const ImportArgs &args) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
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
  bool ok = writeAtomically(args.output, [&](llvm::raw_ostream &os) {
    if (args.bytecode) {
      if (failed(writeBytecodeToFile(*module, os)))
        llvm::errs() << "lowbit: error: cannot write bytecode\n";
    } else {
      module->print(os);
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
  FailureOr<std::vector<Tensor>> outputs = interpret(entry, ready);
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

} // namespace

int main(int argc, char **argv) {
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
  run->add_flag("--raw", runArgs.raw,
                "Interpret the imported ONNX nodes as they are, without the "
                "frontend pipeline");
  run->callback([&] { code = runRun(runArgs); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  return code;
}
