// lowbit/runtime.h - lowbit runtime public API.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// The whole public surface of the lowbit C runtime. Includes only <stddef.h>
// and <stdint.h>; never allocates behind the caller's back.
#ifndef LOWBIT_RUNTIME_H_
#define LOWBIT_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped on any incompatible change to this file or to lowbit/abi.h. Models
// record the version they were compiled against; sessions refuse others.
#define LOWBIT_RUNTIME_ABI_VERSION 1

// 0 is success. New codes may be added: treat unknown values as errors.
typedef enum lowbit_status_e {
  LOWBIT_OK = 0,
  LOWBIT_INVALID_ARGUMENT = 1,
  LOWBIT_ARENA_TOO_SMALL = 2,
  LOWBIT_ABI_MISMATCH = 3,
  LOWBIT_CORRUPT_PACKAGE = 4,
  LOWBIT_UNSUPPORTED = 5,
  LOWBIT_INTERNAL = 6,
} lowbit_status_t;

// Human-readable name of |status|; "unknown status" for codes this runtime
// does not know; "" when built with LOWBIT_STRIP_ERROR_STRINGS.
// Thread-safe; the returned string is static.
const char *lowbit_status_string(lowbit_status_t status);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // LOWBIT_RUNTIME_H_
