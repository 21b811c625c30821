//===- McuRunner.cpp - run an MCU artifact under QEMU or on the host -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// `lowbit run OUT` on an MCU artifact: a small harness (generated here for
// the model's entry points) reads the input codes, runs one inference and
// writes the output codes. With the QEMU runner it is cross-built with
// arm-none-eabi-gcc (newlib's semihosting, librdimon, for the file I/O) for
// the artifact's core and run on the board QEMU emulates for it; SysTick,
// clocked by QEMU's -icount virtual time (one nanosecond per instruction at
// shift 0), gives the instructions of the inference: an instruction count,
// not a cycle count (QEMU is not cycle-accurate).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/Mcu/McuTarget.h"
#include "McuEmbedded.h"
#include "lowbit/Target/OutputFolder.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::lowbit;


namespace {
/// QEMU's board and GCC's flags for a core: Cortex-M4 on mps2-an386, M7 on
/// mps2-an500, M55 on mps3-an547 (whose DTCM, where the stack goes, is
/// 512 KiB at 0x20000000). The M33's board (mps2-an505) starts in the
/// secure state with another memory map: not set up yet.
struct Board {
  const char *machine, *qemuCpu;
  std::vector<std::string> gccFlags;
  /// The board's system clock, which SysTick counts: QEMU -icount shift=0
  /// runs one instruction per virtual nanosecond, so instructions = ticks *
  /// 1e9 / clock (checked with a 2,000,000-instruction loop: 49,999 ticks
  /// at 25 MHz on an386 and an500, 63,999 at 32 MHz on an547).
  double clockHz = 25e6;
  std::vector<std::string> linkFlags = {};
};

std::optional<Board> boardFor(StringRef cpu) {
  if (cpu == "cortex-m4" || cpu == "generic")
    return Board{"mps2-an386", "cortex-m4",
                 {"-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft"}};
  if (cpu == "cortex-m7")
    return Board{"mps2-an500", "cortex-m7",
                 {"-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=soft"}};
  if (cpu == "cortex-m55")
    return Board{"mps3-an547", "cortex-m55",
                 {"-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=soft"}, 32e6,
                 {"-Wl,--defsym=__lowbit_stack_top=0x20080000"}};
  return std::nullopt;
}

/// `base/file`.
std::string joinPath(StringRef base, StringRef file) {
  SmallString<256> p(base);
  llvm::sys::path::append(p, file);
  return std::string(p);
}

std::string harness(const McuArtifact &a, StringRef dir, bool qemu,
                    int64_t samples) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "/* Test harness written by lowbit run. */\n"
     << "#include <stdio.h>\n#include <stdint.h>\n#include \"" << a.name
     << ".h\"\n\n";
  if (qemu)
    os << "extern volatile uint32_t lowbit_systick_wraps;\n"
       << "#define SYST_CSR (*(volatile uint32_t *)0xE000E010)\n"
       << "#define SYST_RVR (*(volatile uint32_t *)0xE000E014)\n"
       << "#define SYST_CVR (*(volatile uint32_t *)0xE000E018)\n";
  os << "static FILE *open_file(const char *name, const char *mode) {\n"
     << "  char path[4096];\n"
     << "  snprintf(path, sizeof path, \"%s/%s\", \"" << dir << "\", name);\n"
     << "  return fopen(path, mode);\n}\n\n"
     << "int main(void) {\n"
     << "  unsigned long long ticks = 0;\n  long s;\n"
     << "  FILE *in[" << std::max<size_t>(a.inputs.size(), 1) << "], *out["
     << std::max<size_t>(a.outputs.size(), 1) << "], *t;\n"
     << "  if (" << a.name << "_init() != 0) return 3;\n";
  for (size_t i = 0; i < a.inputs.size(); ++i)
    os << "  if (!(in[" << i << "] = open_file(\"in" << i
       << ".bin\", \"rb\"))) return 4;\n";
  for (size_t i = 0; i < a.outputs.size(); ++i)
    os << "  if (!(out[" << i << "] = open_file(\"out" << i
       << ".bin\", \"wb\"))) return 6;\n";
  os << "  for (s = 0; s < " << samples << "; ++s) {\n";
  for (auto [i, t] : llvm::enumerate(a.inputs))
    os << "    if (fread(" << a.name << "_input(" << i << "), 1, " << t.bytes()
       << ", in[" << i << "]) != " << t.bytes() << ") return 4;\n";
  if (qemu)
    os << "    if (s == 0) {\n"
       << "      SYST_RVR = 0xFFFFFF; SYST_CVR = 0; lowbit_systick_wraps = 0;\n"
       << "      SYST_CSR = 7; /* core clock, interrupt, enable */\n    }\n";
  os << "    if (" << a.name << "_run() != 0) return 5;\n";
  if (qemu)
    os << "    if (s == 0) {\n"
       << "      uint32_t now = SYST_CVR, wraps = lowbit_systick_wraps;\n"
       << "      SYST_CSR = 0;\n"
       << "      ticks = (unsigned long long)wraps * 0x1000000ull + "
          "(0xFFFFFFu - now);\n    }\n";
  for (auto [i, t] : llvm::enumerate(a.outputs))
    os << "    if (fwrite(" << a.name << "_output(" << i << "), 1, "
       << t.bytes() << ", out[" << i << "]) != " << t.bytes()
       << ") return 6;\n";
  os << "  }\n";
  for (size_t i = 0; i < a.inputs.size(); ++i)
    os << "  fclose(in[" << i << "]);\n";
  for (size_t i = 0; i < a.outputs.size(); ++i)
    os << "  if (fclose(out[" << i << "]) != 0) return 6;\n";
  os << "  if (!(t = open_file(\"ticks.txt\", \"w\"))) return 7;\n"
     << "  fprintf(t, \"%llu\\n\", ticks);\n"
     << "  return fclose(t) != 0 ? 7 : 0;\n}\n";
  return s;
}

bool readBytes(StringRef path, std::vector<int8_t> &out, size_t bytes,
               std::string &error) {
  auto buf = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buf || (*buf)->getBufferSize() != bytes) {
    error = "the MCU run did not write " + path.str() + " (" +
            std::to_string(bytes) + " bytes)";
    return false;
  }
  out.assign((*buf)->getBufferStart(), (*buf)->getBufferEnd());
  return true;
}

/// "text data bss" of arm-none-eabi-size's Berkeley output.
void readSizes(StringRef log, McuRunResult &r) {
  SmallVector<StringRef> lines;
  log.split(lines, '\n');
  if (lines.size() < 2)
    return;
  SmallVector<StringRef> cols;
  lines[1].split(cols, '\t', -1, false);
  if (cols.size() >= 3) {
    cols[0].trim().getAsInteger(10, r.textBytes);
    cols[1].trim().getAsInteger(10, r.dataBytes);
    cols[2].trim().getAsInteger(10, r.bssBytes);
  }
}
} // namespace

LogicalResult mlir::lowbit::runMcuArtifact(StringRef dir,
                                           const McuArtifact &artifact,
                                           ArrayRef<std::vector<int8_t>> inputs,
                                           int64_t samples,
                                           const McuRunOptions &options,
                                           McuRunResult &result,
                                           std::string &error) {
  bool qemu = options.runner == "qemu";
  if (!qemu && options.runner != "host") {
    error = "unknown MCU runner '" + options.runner + "' (qemu or host)";
    return failure();
  }
  if (samples < 1) {
    error = "no samples to run";
    return failure();
  }
  if (inputs.size() != artifact.inputs.size()) {
    error = "the model takes " + std::to_string(artifact.inputs.size()) +
            " inputs, " + std::to_string(inputs.size()) + " given";
    return failure();
  }
  std::optional<Board> board = boardFor(artifact.cpu);
  if (qemu && !board) {
    error = "no QEMU board is set up for --cpu " + artifact.cpu +
            " yet (cortex-m4, cortex-m7, cortex-m55 and generic run under "
            "QEMU; use --mcu-runner host to check the C on this machine)";
    return failure();
  }
  std::string gcc = qemu ? "arm-none-eabi-gcc" : options.hostCc;
  const char *qemuBin = "qemu-system-arm";
  if (!llvm::sys::findProgramByName(gcc)) {
    error = "cannot find '" + gcc + "'" +
            (qemu ? ": install gcc-arm-none-eabi and libnewlib-arm-none-eabi "
                    "(scripts/install-deps.sh), or run with --mcu-runner host"
                  : "");
    return failure();
  }
  if (qemu && !llvm::sys::findProgramByName(qemuBin)) {
    error = "cannot find 'qemu-system-arm': install qemu-system-arm "
            "(scripts/install-deps.sh), or run with --mcu-runner host";
    return failure();
  }

  SmallString<256> work(options.workDir);
  if (work.empty()) {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("lowbit-mcu-run", work)) {
      error = "cannot create a build folder: " + ec.message();
      return failure();
    }
  } else if (std::error_code ec = llvm::sys::fs::create_directories(work)) {
    error = "cannot create '" + work.str().str() + "': " + ec.message();
    return failure();
  }
  llvm::sys::fs::make_absolute(work);
  auto at = [&](StringRef f) { return joinPath(work, f); };
  SmallString<256> src(dir);
  llvm::sys::fs::make_absolute(src);
  auto inSrc = [&](StringRef f) { return joinPath(src, f); };
  if (!writeFile(at("harness.c"), harness(artifact, work, qemu, samples), error))
    return failure();
  for (auto [i, data] : llvm::enumerate(inputs)) {
    if (int64_t(data.size()) != samples * artifact.inputs[i].bytes()) {
      error = "input " + std::to_string(i) + " has " +
              std::to_string(data.size()) + " codes, the model takes " +
              std::to_string(artifact.inputs[i].bytes()) + " per sample";
      return failure();
    }
    StringRef bytes(reinterpret_cast<const char *>(data.data()), data.size());
    if (!writeFile(at("in" + std::to_string(i) + ".bin"), bytes, error))
      return failure();
  }
  std::vector<std::string> cc = {gcc, "-std=c99", "-O2", "-Wall",
                                 "-I" + src.str().str(), at("harness.c"),
                                 inSrc(artifact.name + ".c"),
                                 inSrc("lowbit_mcu.c")};
  std::string image = at(qemu ? "image.elf" : "image");
  if (qemu) {
    for (size_t i = 0; i < mcu::kNumEmbeddedFiles; ++i) {
      StringRef path = mcu::kEmbeddedFiles[i].path;
      if (path.starts_with("qemu/") &&
          !writeFile(at(llvm::sys::path::filename(path)),
                     mcu::kEmbeddedFiles[i].text, error))
        return failure();
    }
    cc.insert(cc.end(), board->gccFlags.begin(), board->gccFlags.end());
    cc.insert(cc.end(), board->linkFlags.begin(), board->linkFlags.end());
    cc.insert(cc.end(), {at("startup.c"), "-T", at("mps2.ld"),
                         "--specs=rdimon.specs", "-nostartfiles",
                         "-Wl,--gc-sections", "-ffunction-sections",
                         "-fdata-sections"});
  }
  cc.insert(cc.end(), {"-o", image});
  if (!runProgram(cc, at("build.log"), error))
    return failure();
  if (qemu) {
    if (runProgram({"arm-none-eabi-size", image}, at("size.log"), error)) {
      auto log = llvm::MemoryBuffer::getFile(at("size.log"));
      if (log)
        readSizes((*log)->getBuffer(), result);
    }
    error.clear();
    result.runnerDescription =
        llvm::formatv("QEMU {0} ({1}), -icount shift=0", board->machine,
                      board->qemuCpu)
            .str();
    if (!runProgram({qemuBin, "-M", board->machine, "-cpu", board->qemuCpu,
                     "-nographic", "-monitor", "none", "-serial", "none",
                     "-icount", "shift=0", "-semihosting-config",
                     "enable=on,target=native", "-kernel", image},
                    at("run.log"), error)) {
      error = "the MCU image failed under QEMU (exit codes: 3 init, 4 input, "
              "5 run, 6 output, 70 fault): " + error;
      return failure();
    }
  } else {
    result.runnerDescription = "host build of the same C (" + gcc + ")";
    if (!runProgram({image}, at("run.log"), error))
      return failure();
  }
  result.outputs.resize(artifact.outputs.size());
  for (auto [i, t] : llvm::enumerate(artifact.outputs))
    if (!readBytes(at("out" + std::to_string(i) + ".bin"), result.outputs[i],
                   samples * t.bytes(), error))
      return failure();
  if (qemu) {
    auto ticks = llvm::MemoryBuffer::getFile(at("ticks.txt"));
    uint64_t n = 0;
    if (ticks && !(*ticks)->getBuffer().trim().getAsInteger(10, n))
      result.instructions = uint64_t(double(n) * 1e9 / board->clockHz + 0.5);
  }
  if (options.workDir.empty())
    llvm::sys::fs::remove_directories(work);
  return success();
}

LogicalResult mlir::lowbit::measureMcuFootprint(StringRef dir,
                                                const McuArtifact &artifact,
                                                McuFootprint &fp,
                                                std::string &error) {
  std::optional<Board> board = boardFor(artifact.cpu);
  std::vector<std::string> flags =
      board ? board->gccFlags
            : std::vector<std::string>{"-mcpu=" + artifact.cpu, "-mthumb"};
  if (!llvm::sys::findProgramByName("arm-none-eabi-gcc")) {
    error = "cannot find 'arm-none-eabi-gcc' to measure flash and stack: "
            "install gcc-arm-none-eabi (scripts/install-deps.sh)";
    return failure();
  }
  SmallString<256> work;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("lowbit-mcu-size", work)) {
    error = "cannot create a build folder: " + ec.message();
    return failure();
  }
  auto at = [&](StringRef f) { return joinPath(work, f); };
  SmallString<256> src(dir);
  llvm::sys::fs::make_absolute(src);
  llvm::scope_exit cleanup(
      [&] { llvm::sys::fs::remove_directories(work); });
  std::vector<std::string> objects;
  for (std::string file : {artifact.name + ".c", std::string("lowbit_mcu.c")}) {
    std::string in = joinPath(src, file);
    std::string obj = at(file + ".o");
    std::vector<std::string> cmd = {"arm-none-eabi-gcc", "-std=c99", "-O2",
                                    "-fstack-usage", "-I" + src.str().str(),
                                    "-c", in, "-o", obj};
    cmd.insert(cmd.begin() + 3, flags.begin(), flags.end());
    if (!runProgram(cmd, at("build.log"), error))
      return failure();
    objects.push_back(obj);
  }
  // Sections by name (`size -A`): .rodata of the model are its constants.
  for (auto [i, obj] : llvm::enumerate(objects)) {
    if (!runProgram({"arm-none-eabi-size", "-A", obj}, at("size.log"), error))
      return failure();
    auto log = llvm::MemoryBuffer::getFile(at("size.log"));
    if (!log)
      continue;
    SmallVector<StringRef> lines;
    (*log)->getBuffer().split(lines, '\n');
    for (StringRef line : lines) {
      SmallVector<StringRef> cols;
      line.split(cols, ' ', -1, false);
      uint64_t bytes = 0;
      if (cols.size() < 2 || cols[1].getAsInteger(10, bytes))
        continue;
      StringRef sec = cols[0];
      if (sec.starts_with(".text"))
        fp.codeBytes += bytes;
      else if (sec.starts_with(".rodata"))
        (i == 0 ? fp.constBytes : fp.codeBytes) += bytes;
      else if (sec.starts_with(".data") || sec.starts_with(".bss"))
        fp.sramBytes += bytes;
    }
  }
  // Stack: <name>_run's own frame plus the deepest kernel it calls (the
  // kernels call no one but inlined helpers).
  llvm::StringSet<> called;
  {
    SmallString<256> c(src);
    llvm::sys::path::append(c, artifact.name + ".c");
    auto text = llvm::MemoryBuffer::getFile(c);
    StringRef rest = text ? (*text)->getBuffer() : StringRef();
    for (size_t at; (at = rest.find("lowbit_mcu_")) != StringRef::npos;) {
      rest = rest.drop_front(at);
      size_t paren = rest.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyz0123456789_");
      if (paren != StringRef::npos && rest[paren] == '(')
        called.insert(rest.take_front(paren));
      rest = rest.drop_front(std::min(paren, rest.size()));
    }
  }
  uint64_t runFrame = 0, deepest = 0, helper = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(work, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (!StringRef(it->path()).ends_with(".su"))
      continue;
    auto su = llvm::MemoryBuffer::getFile(it->path());
    if (!su)
      continue;
    SmallVector<StringRef> lines;
    (*su)->getBuffer().split(lines, '\n');
    for (StringRef line : lines) {
      SmallVector<StringRef> cols;
      line.split(cols, '\t');
      uint64_t bytes = 0;
      if (cols.size() < 2 || cols[1].getAsInteger(10, bytes))
        continue;
      StringRef fn = cols[0].rsplit(':').second;
      if (fn == artifact.name + "_run")
        runFrame = bytes;
      else if (called.contains(fn) && bytes > deepest) {
        deepest = bytes;
        fp.deepestKernel = fn.str();
      } else if (!fn.starts_with("lowbit_mcu_") &&
                 StringRef(it->path()).ends_with("lowbit_mcu.c.su")) {
        // A kernel's static helper (conv_row, fc_rows, ...): counted on
        // top of the deepest kernel, whichever kernel calls it (an upper
        // bound: the helpers call no one).
        helper = std::max<uint64_t>(helper, bytes);
      }
    }
  }
  fp.stackBytes = runFrame + deepest + helper;
  return success();
}
