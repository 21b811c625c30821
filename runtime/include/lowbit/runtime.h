// lowbit/runtime.h - lowbit runtime public API.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// The whole public surface of the lowbit C runtime. A compiled model is two
// pieces: generated code (a `lowbit_model_code_t` named
// `lowbit_model_<name>`, declared in the generated <name>.h) and its package
// (<name>.lbpkg: weights already packed for the kernels, the signature and
// quantization metadata). The runtime verifies the package, binds it to the
// code and runs it:
//
//   lowbit_session_t* s;
//   lowbit_status_t st = lowbit_session_create(&lowbit_model_digits, pkg,
//                                              pkg_size, NULL, &s);
//   st = lowbit_session_run(s, inputs, outputs);
//   lowbit_session_destroy(s);
//
// Memory: the runtime never allocates behind the caller's back. Activation
// memory (the arena) is either passed in `lowbit_options_t.arena` or, when
// NULL, allocated once by lowbit_session_create with the caller-visible
// size lowbit_session_arena_size(); nothing is allocated while running.
// Errors: every call returns a status; lowbit_session_error() adds a
// message for the last failure of a session.
#ifndef LOWBIT_RUNTIME_H_
#define LOWBIT_RUNTIME_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bumped on any incompatible change to this file, to lowbit/abi.h or to
// runtime/schema/lowbit_package.fbs. Code and packages record the version
// they were compiled against; sessions refuse others.
#define LOWBIT_RUNTIME_ABI_VERSION 3

// 0 is success. New codes may be added: treat unknown values as errors.
typedef enum lowbit_status_e {
  LOWBIT_OK = 0,
  LOWBIT_INVALID_ARGUMENT = 1,
  LOWBIT_ARENA_TOO_SMALL = 2,
  LOWBIT_ABI_MISMATCH = 3,
  LOWBIT_CORRUPT_PACKAGE = 4,
  LOWBIT_UNSUPPORTED = 5,
  LOWBIT_INTERNAL = 6,
  LOWBIT_OUT_OF_MEMORY = 7,
} lowbit_status_t;

// Element types of model inputs and outputs (same values as the package).
typedef enum lowbit_dtype_e {
  LOWBIT_F32 = 0, LOWBIT_F64 = 1, LOWBIT_F16 = 2, LOWBIT_BF16 = 3,
  LOWBIT_I8 = 4, LOWBIT_I16 = 5, LOWBIT_I32 = 6, LOWBIT_I64 = 7,
  LOWBIT_U8 = 8, LOWBIT_U16 = 9, LOWBIT_U32 = 10, LOWBIT_U64 = 11,
  LOWBIT_BOOL = 12,
} lowbit_dtype_t;

// Generated code for one model (see lowbit/abi.h); opaque here.
typedef struct lowbit_model_code_t lowbit_model_code_t;
// A model bound to its package, its arena and its threads.
typedef struct lowbit_session_t lowbit_session_t;

typedef struct lowbit_options_t {
  // Worker threads including the caller; 0 means one per core.
  int num_threads;
  // Caller-owned activation memory of at least lowbit_session_arena_size()
  // bytes, 64-byte aligned; NULL lets lowbit_session_create allocate it.
  void *arena;
  size_t arena_size;
  // Force a kernel family: 0 = detect, else a LOWBIT_CPU_* mask (abi.h).
  uint32_t cpu_features;
} lowbit_options_t;

// Human-readable name of |status|; "unknown status" for codes this runtime
// does not know; "" when built with LOWBIT_STRIP_ERROR_STRINGS.
// Thread-safe; the returned string is static.
const char *lowbit_status_string(lowbit_status_t status);

// Checks that |data| (|size| bytes) is a well-formed package for |code|:
// FlatBuffers structure (every offset inside the buffer), identifier, ABI
// version, 64-byte weight alignment, weight table bounds, CRC-32 of the
// weights, and the signature against the code. Never reads out of bounds.
// |message| (may be NULL) receives a reason of at most |message_size| bytes.
lowbit_status_t lowbit_package_verify(const lowbit_model_code_t *code,
                                      const void *data, size_t size,
                                      char *message, size_t message_size);

// Activation bytes the session for |code| needs (fixed at compile time).
size_t lowbit_session_arena_size(const lowbit_model_code_t *code);

// Verifies |package| (which must outlive the session and stay unchanged) and
// creates a session. |options| may be NULL (defaults). On failure
// |*out_session| is NULL; with a non-NULL |message| the reason is copied
// there.
lowbit_status_t lowbit_session_create(const lowbit_model_code_t *code,
                                      const void *package, size_t package_size,
                                      const lowbit_options_t *options,
                                      lowbit_session_t **out_session);

// Same, reporting the reason of a failure into |message|.
lowbit_status_t lowbit_session_create_ex(const lowbit_model_code_t *code,
                                         const void *package,
                                         size_t package_size,
                                         const lowbit_options_t *options,
                                         lowbit_session_t **out_session,
                                         char *message, size_t message_size);

// Runs one inference. |inputs[i]| points to input i laid out densely as in
// the generated header (row-major, its dtype); |outputs[i]| to room for
// output i. Not thread-safe per session; no allocation.
lowbit_status_t lowbit_session_run(lowbit_session_t *session,
                                   const void *const *inputs,
                                   void *const *outputs);

// Selects the LoRA adapter whose branches run (a model compiled with
// --lora-mode branch): |name| one of the model's adapters, or NULL for the
// base model alone. A session starts with the first adapter selected. No
// reload and no allocation; an unknown name is LOWBIT_INVALID_ARGUMENT
// (lowbit_session_error lists the names) and leaves the selection as it was.
lowbit_status_t lowbit_session_set_adapter(lowbit_session_t *session,
                                           const char *name);

// The selected adapter's name, or NULL (none, or a model without any).
const char *lowbit_session_adapter(const lowbit_session_t *session);

// Message for the last failure of |session| ("" if none).
const char *lowbit_session_error(const lowbit_session_t *session);

// Number of worker threads the session runs on.
int lowbit_session_num_threads(const lowbit_session_t *session);

// The LOWBIT_CPU_* bits the session's kernels use (detected, or forced by
// lowbit_options_t.cpu_features), and a static description of that kernel
// family, e.g. "avx2 (f32: AVX2+FMA 6x16; int8: exact vpmaddubsw split)".
uint32_t lowbit_session_cpu_features(const lowbit_session_t *session);
const char *lowbit_cpu_kernels_name(uint32_t cpu_features);

// Stops the threads and frees what lowbit_session_create allocated. NULL is
// a no-op.
void lowbit_session_destroy(lowbit_session_t *session);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // LOWBIT_RUNTIME_H_
