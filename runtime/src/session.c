// session.c - binding generated code to its package, arena and threads.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lowbit_session_t {
  const lowbit_model_code_t *code;
  lowbit_exec_t exec;
  void *owned_arena; // NULL when the caller passed one
  char error[256];
};

size_t lowbit_session_arena_size(const lowbit_model_code_t *code) {
  return code ? (size_t)code->arena_size : 0;
}

static lowbit_status_t report(char *message, size_t size,
                              lowbit_status_t status, const char *text) {
  if (message && size)
    snprintf(message, size, "%s", text);
  return status;
}

lowbit_status_t lowbit_session_create_ex(const lowbit_model_code_t *code,
                                         const void *package,
                                         size_t package_size,
                                         const lowbit_options_t *options,
                                         lowbit_session_t **out_session,
                                         char *message, size_t message_size) {
  if (!out_session)
    return report(message, message_size, LOWBIT_INVALID_ARGUMENT,
                  "out_session is NULL");
  *out_session = NULL;
  if (!code || !package)
    return report(message, message_size, LOWBIT_INVALID_ARGUMENT,
                  "code and package must not be NULL");
  lowbit_options_t opts = {0};
  if (options)
    opts = *options;
  lowbit_package_view_t view;
  lowbit_status_t st = lowbit_package_open(code, package, package_size, &view,
                                           message, message_size);
  if (st != LOWBIT_OK)
    return st;
  if (opts.arena && opts.arena_size < code->arena_size)
    return report(message, message_size, LOWBIT_ARENA_TOO_SMALL,
                  "the arena is smaller than lowbit_session_arena_size()");
  if (opts.arena && ((uintptr_t)opts.arena % 64) != 0)
    return report(message, message_size, LOWBIT_INVALID_ARGUMENT,
                  "the arena must be 64-byte aligned");

  lowbit_session_t *s = calloc(1, sizeof(*s));
  if (!s)
    return report(message, message_size, LOWBIT_OUT_OF_MEMORY,
                  "cannot allocate the session");
  s->code = code;
  s->exec.weights = view.weights;
  s->exec.arena = (uint8_t *)opts.arena;
  if (!s->exec.arena && code->arena_size) {
    size_t bytes = ((size_t)code->arena_size + 63) / 64 * 64;
    s->owned_arena = aligned_alloc(64, bytes);
    if (!s->owned_arena) {
      free(s);
      return report(message, message_size, LOWBIT_OUT_OF_MEMORY,
                    "cannot allocate the arena");
    }
    s->exec.arena = (uint8_t *)s->owned_arena;
  }
  uint32_t detected = lowbit_cpu_detect();
  s->exec.error = s->error;
  s->exec.error_size = sizeof(s->error);
  s->exec.adapter = code->num_adapters > 0 ? 1 : 0;
  s->exec.cpu = opts.cpu_features ? (opts.cpu_features & (detected |
                                                          LOWBIT_CPU_REFERENCE))
                                  : detected;
  if (opts.cpu_features && !(opts.cpu_features & LOWBIT_CPU_REFERENCE) &&
      (opts.cpu_features & ~detected)) {
    free(s->owned_arena);
    free(s);
    return report(message, message_size, LOWBIT_UNSUPPORTED,
                  "the requested CPU features are not available here");
  }
  int threads = opts.num_threads;
  if (threads <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (int)n : 1;
  }
  st = lowbit_threadpool_create(threads, &s->exec.pool);
  if (st != LOWBIT_OK) {
    free(s->owned_arena);
    free(s);
    return report(message, message_size, st, "cannot start worker threads");
  }
  *out_session = s;
  return LOWBIT_OK;
}

lowbit_status_t lowbit_session_create(const lowbit_model_code_t *code,
                                      const void *package, size_t package_size,
                                      const lowbit_options_t *options,
                                      lowbit_session_t **out_session) {
  return lowbit_session_create_ex(code, package, package_size, options,
                                  out_session, NULL, 0);
}

lowbit_status_t lowbit_session_set_adapter(lowbit_session_t *session,
                                           const char *name) {
  if (!session)
    return LOWBIT_INVALID_ARGUMENT;
  session->error[0] = 0;
  if (!name) {
    session->exec.adapter = 0;
    return LOWBIT_OK;
  }
  const lowbit_model_code_t *code = session->code;
  for (uint32_t i = 0; i < code->num_adapters; ++i)
    if (code->adapters[i] && strcmp(code->adapters[i], name) == 0) {
      session->exec.adapter = i + 1;
      return LOWBIT_OK;
    }
  // "unknown adapter 'x' (the model has: a, b)" or "(the model has none)".
  int n = snprintf(session->error, sizeof(session->error),
                   "unknown adapter '%s' (the model has %s", name,
                   code->num_adapters ? "" : "none");
  for (uint32_t i = 0; i < code->num_adapters && n > 0 &&
                       (size_t)n < sizeof(session->error);
       ++i)
    n += snprintf(session->error + n, sizeof(session->error) - (size_t)n,
                  "%s%s", i ? ", " : "", code->adapters[i]);
  if (n > 0 && (size_t)n < sizeof(session->error))
    snprintf(session->error + n, sizeof(session->error) - (size_t)n, ")");
  return LOWBIT_INVALID_ARGUMENT;
}

const char *lowbit_session_adapter(const lowbit_session_t *session) {
  if (!session || session->exec.adapter == 0 ||
      session->exec.adapter > session->code->num_adapters)
    return NULL;
  return session->code->adapters[session->exec.adapter - 1];
}

lowbit_status_t lowbit_session_run(lowbit_session_t *session,
                                   const void *const *inputs,
                                   void *const *outputs) {
  if (!session)
    return LOWBIT_INVALID_ARGUMENT;
  session->error[0] = 0;
  for (uint32_t i = 0; i < session->code->num_inputs; ++i)
    if (!inputs || !inputs[i]) {
      snprintf(session->error, sizeof(session->error), "input %u is NULL", i);
      return LOWBIT_INVALID_ARGUMENT;
    }
  for (uint32_t i = 0; i < session->code->num_outputs; ++i)
    if (!outputs || !outputs[i]) {
      snprintf(session->error, sizeof(session->error), "output %u is NULL", i);
      return LOWBIT_INVALID_ARGUMENT;
    }
  lowbit_status_t st = session->code->run(&session->exec, inputs, outputs);
  if (st != LOWBIT_OK && !session->error[0])
    snprintf(session->error, sizeof(session->error), "%s",
             lowbit_status_string(st));
  return st;
}

lowbit_status_t lowbit_exec_fail(const lowbit_exec_t *exec,
                                 lowbit_status_t status, const char *message) {
  if (exec && exec->error && exec->error_size)
    snprintf(exec->error, exec->error_size, "%s", message);
  return status;
}

const char *lowbit_session_error(const lowbit_session_t *session) {
  return session ? session->error : "";
}

int lowbit_session_num_threads(const lowbit_session_t *session) {
  return session ? lowbit_threadpool_size(session->exec.pool) : 0;
}

uint32_t lowbit_session_cpu_features(const lowbit_session_t *session) {
  return session ? session->exec.cpu : 0;
}

const char *lowbit_cpu_kernels_name(uint32_t cpu) {
  switch (lowbit_isa(cpu)) {
  case LOWBIT_ISA_AVX512:
    return (cpu & LOWBIT_CPU_AVX512VNNI)
               ? "avx512-vnni (f32: AVX-512 FMA 12x32; int8: vpdpbusd)"
               : "avx512 (f32: AVX-512 FMA 12x32; int8: exact AVX2 "
                 "vpmaddubsw split)";
  case LOWBIT_ISA_AVX2:
    return "avx2 (f32: AVX2 FMA 6x16; int8: exact vpmaddubsw split)";
  default:
    return "reference (portable C)";
  }
}

void lowbit_session_destroy(lowbit_session_t *session) {
  if (!session)
    return;
  lowbit_threadpool_destroy(session->exec.pool);
  free(session->owned_arena);
  free(session);
}
