# -*- Python -*-
# lit configuration for the lowbit regression tests (test/).
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "LOWBIT"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py",
                   "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.lowbit_obj_root, "test")

# Same as mlir/test/lit.cfg.py: captured variables do not leak across labels.
config.environment["FILECHECK_OPTS"] = \
    "--enable-var-scope --allow-unused-prefixes=false"

# `not`, `count` and `split-file` are used verbatim: put LLVM's tools on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.with_environment("PATH", config.lowbit_tools_dir, append_path=True)
llvm_config.use_default_substitutions()
config.substitutions.append(("%lowbit_src", config.lowbit_src_root))
config.substitutions.append(("%shared", config.lowbit_shared_dir))
# Not "%python": lit already defines that as its own interpreter.
config.substitutions.append(("%lowbit_python", config.python_executable))
tools = ["lowbit-opt", "lowbit"]
llvm_config.add_tool_substitutions(
    tools, [config.lowbit_tools_dir, config.llvm_tools_dir])

# Tests that read ../shared declare `REQUIRES: shared` and skip without it.
if os.path.isdir(config.lowbit_shared_dir):
    config.available_features.add("shared")
# Tests that use the Python ONNX tooling declare `REQUIRES: onnx-python`.
if config.have_python_onnx:
    config.available_features.add("onnx-python")
# all-MiniLM-L6-v2's weights and tokenizer (pip, see scripts/install-deps.sh).
if config.have_minilm:
    config.available_features.add("minilm")
# The TFLite schema bindings (pip `tflite`): MLPerf Tiny .tflite -> ONNX.
if config.have_tflite:
    config.available_features.add("tflite-python")
# The Cortex-M cross toolchain and QEMU (gcc-arm-none-eabi,
# libnewlib-arm-none-eabi, qemu-system-arm): MCU artifacts run emulated.
import shutil
if shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm"):
    config.available_features.add("arm-qemu")
else:
    lit_config.note("arm-none-eabi-gcc or qemu-system-arm not found: the MCU "
                    "tests that run under QEMU are skipped")
if os.path.isdir("/usr/share/libonnx-testdata/data"):
    config.available_features.add("onnx-testdata")

# Round-trip every lowbit-opt invocation when asked (CIRCT's trick).
if os.environ.get("LOWBIT_CHECK_IR_ROUNDTRIP"):
    llvm_config.add_tool_substitutions(
        [ToolSubst("lowbit-opt", "lowbit-opt --verify-roundtrip",
                   unresolved="fatal")],
        [config.lowbit_tools_dir])
