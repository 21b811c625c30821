//===- McuTarget.h - integer-only C99 for microcontrollers ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// `--target mcu`: the integer IR of lowbit-lower-to-integer printed as one
// C99 file per model plus the kernels (runtime/kernels/mcu/), weights as
// const arrays (flash), one static arena sized at compile time, no heap, no
// libm, no floating point. <name>.mcu.json describes the artifact for
// `lowbit run` / `inspect`, which cross-build a test image and run it under
// QEMU (McuRunner.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_MCU_MCUTARGET_H
#define LOWBIT_TARGET_MCU_MCUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// One graph input or output: int8 codes of a per-tensor scale.
struct McuTensorInfo {
  std::string name;
  std::vector<int64_t> shape;
  double scale = 1;
  int64_t zeroPoint = 0;
  int64_t arenaOffset = 0;
  int64_t bytes() const;
};

/// One kernel call of the generated entry point.
struct McuLayerInfo {
  std::string node, kernel;
  int64_t macs = 0, weightBytes = 0;
  int64_t liveBytes = 0; ///< arena bytes live while it runs
};

struct McuArtifact {
  std::string name, cpu;
  std::string source, header; ///< <name>.c, <name>.h
  std::vector<McuTensorInfo> inputs, outputs;
  std::vector<McuLayerInfo> layers;
  int64_t arenaBytes = 0, weightBytes = 0;
  std::string peakLayer; ///< the layer where the arena is fullest
  /// <name>.mcu.json: everything above but the sources.
  std::string manifest() const;
  static bool parseManifest(StringRef json, McuArtifact &out,
                            std::string &error);
};

/// The Cortex-M cores `--cpu` names (and "generic": portable C only).
bool isMcuCpu(StringRef cpu);
/// "cortex-m4, cortex-m7, ...", for messages.
std::string listMcuCpus();

/// Prints the lowered (integer) module; errors name the node and the
/// reason ("unsupported by the mcu target: ...").
FailureOr<McuArtifact> emitMcuModel(ModuleOp module, StringRef name,
                                    StringRef cpu);

/// Writes <name>.c/.h, <name>.mcu.json and the kernels into `outDir`
/// atomically.
LogicalResult writeMcuArtifact(const McuArtifact &artifact, StringRef outDir,
                               bool force, std::string &error);

/// How `lowbit run` executes an MCU artifact.
struct McuRunOptions {
  /// "qemu": cross-build with arm-none-eabi-gcc and run on the board QEMU
  /// emulates for the artifact's --cpu; "host": build the same C with the
  /// host compiler (no emulator; the kernels are portable C).
  std::string runner = "qemu";
  std::string hostCc = "cc";
  /// Folder for the image and its I/O files ("" = a temporary one).
  std::string workDir;
};

/// Result of one run: output codes per output, and what it cost.
struct McuRunResult {
  std::vector<std::vector<int8_t>> outputs;
  /// Instructions executed per inference (QEMU -icount; 0 on the host).
  uint64_t instructions = 0;
  /// Size of the built image's sections (bytes).
  uint64_t textBytes = 0, dataBytes = 0, bssBytes = 0;
  std::string runnerDescription;
};

/// Reads <dir>/<name>.mcu.json (and checks the sources are there).
LogicalResult loadMcuArtifact(StringRef dir, McuArtifact &artifact,
                              std::string &error);
/// True when `dir` holds an MCU artifact.
bool isMcuArtifactDir(StringRef dir);

/// Builds and runs the artifact in `dir` on `inputs` (int8 codes, one per
/// graph input, in order, each holding `samples` inferences' worth); the
/// instruction count is the first inference's.
LogicalResult runMcuArtifact(StringRef dir, const McuArtifact &artifact,
                             ArrayRef<std::vector<int8_t>> inputs,
                             int64_t samples,
                             const McuRunOptions &options,
                             McuRunResult &result, std::string &error);

/// What the artifact costs on the device, measured by cross-compiling the
/// model and the kernels for the artifact's core (arm-none-eabi-gcc -O2
/// -fstack-usage): flash is code plus constants, SRAM the static arena plus
/// the deepest stack of the entry point (<name>_run and the kernel it
/// calls that needs the most; the kernels do not recurse).
struct McuFootprint {
  uint64_t codeBytes = 0;   ///< .text of both objects, minus the constants
  uint64_t constBytes = 0;  ///< the model's const arrays (.rodata)
  uint64_t sramBytes = 0;   ///< .data + .bss (the arena)
  uint64_t stackBytes = 0;  ///< <name>_run + its deepest kernel
  std::string deepestKernel;
};
LogicalResult measureMcuFootprint(StringRef dir, const McuArtifact &artifact,
                                  McuFootprint &footprint, std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_MCU_MCUTARGET_H
