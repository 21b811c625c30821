// status.c - status code names.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "lowbit/runtime.h"

const char *lowbit_status_string(lowbit_status_t status) {
#if defined(LOWBIT_STRIP_ERROR_STRINGS)
  (void)status;
  return "";
#else
  switch (status) {
  case LOWBIT_OK:
    return "ok";
  case LOWBIT_INVALID_ARGUMENT:
    return "invalid argument";
  case LOWBIT_ARENA_TOO_SMALL:
    return "arena too small";
  case LOWBIT_ABI_MISMATCH:
    return "model was compiled for another runtime ABI version";
  case LOWBIT_CORRUPT_PACKAGE:
    return "corrupt or truncated model package";
  case LOWBIT_UNSUPPORTED:
    return "unsupported";
  case LOWBIT_INTERNAL:
    return "internal error";
  case LOWBIT_OUT_OF_MEMORY:
    return "out of memory";
  }
  return "unknown status";
#endif
}
