// package.c - verifying and reading a .lbpkg (FlatBuffers) in C.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// flatc has no C backend, so this file reads the FlatBuffers wire format of
// runtime/schema/lowbit_package.fbs directly. Every offset is checked
// against the buffer before it is followed (the same rules as the
// FlatBuffers C++ verifier: alignment, vtable bounds, vector and string
// bounds, string terminators), so a corrupt or truncated package gives
// LOWBIT_CORRUPT_PACKAGE and never an out-of-bounds read.
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct reader_t {
  const uint8_t *buf;
  size_t size;
  char *msg;
  size_t msg_size;
} reader_t;

static lowbit_status_t fail(reader_t *r, lowbit_status_t st, const char *fmt,
                            ...) {
  if (r->msg && r->msg_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg, r->msg_size, fmt, ap);
    va_end(ap);
  }
  return st;
}

static int in_bounds(const reader_t *r, size_t pos, size_t len) {
  return pos <= r->size && len <= r->size - pos;
}
static uint32_t rd_u32(const reader_t *r, size_t pos) {
  uint32_t v;
  memcpy(&v, r->buf + pos, 4);
  return v;
}
static uint16_t rd_u16(const reader_t *r, size_t pos) {
  uint16_t v;
  memcpy(&v, r->buf + pos, 2);
  return v;
}

// A verified table: its position and vtable.
typedef struct table_t {
  size_t pos;
  size_t vt;
  uint16_t vt_size;
  uint16_t size;
} table_t;

static int table_at(const reader_t *r, size_t pos, table_t *t) {
  if (pos % 4 || !in_bounds(r, pos, 4))
    return 0;
  int32_t soff;
  memcpy(&soff, r->buf + pos, 4);
  int64_t vt = (int64_t)pos - soff;
  if (vt < 0 || vt % 2 || !in_bounds(r, (size_t)vt, 4))
    return 0;
  t->pos = pos;
  t->vt = (size_t)vt;
  t->vt_size = rd_u16(r, t->vt);
  t->size = rd_u16(r, t->vt + 2);
  return t->vt_size >= 4 && t->vt_size % 2 == 0 &&
         in_bounds(r, t->vt, t->vt_size) && in_bounds(r, pos, t->size);
}

// Offset of field |id| inside the table, 0 if absent.
static size_t field(const reader_t *r, const table_t *t, int id) {
  size_t slot = 4 + 2 * (size_t)id;
  if (slot + 2 > t->vt_size)
    return 0;
  uint16_t off = rd_u16(r, t->vt + slot);
  return off && off < t->size ? off : 0;
}

static int scalar(const reader_t *r, const table_t *t, int id, size_t width,
                  void *out) {
  size_t off = field(r, t, id);
  if (!off)
    return 1; // default (zero) already in *out
  if (off + width > t->size || (t->pos + off) % width)
    return 0;
  memcpy(out, r->buf + t->pos + off, width);
  return 1;
}

// Follows a uoffset field; *out = target position or 0 when absent.
static int ref(const reader_t *r, const table_t *t, int id, size_t *out) {
  *out = 0;
  size_t off = field(r, t, id);
  if (!off)
    return 1;
  size_t at = t->pos + off;
  if (at % 4 || !in_bounds(r, at, 4))
    return 0;
  uint64_t target = (uint64_t)at + rd_u32(r, at);
  if (target >= r->size)
    return 0;
  *out = (size_t)target;
  return 1;
}

// A vector at |pos| of |count| elements of |width| bytes.
static int vector_at(const reader_t *r, size_t pos, size_t width,
                     size_t *count) {
  if (pos % 4 || !in_bounds(r, pos, 4))
    return 0;
  uint32_t n = rd_u32(r, pos);
  if (width && n > (r->size - pos - 4) / width)
    return 0;
  *count = n;
  return 1;
}

static int string_at(const reader_t *r, size_t pos, const char **s,
                     size_t *len) {
  size_t n;
  if (!vector_at(r, pos, 1, &n) || !in_bounds(r, pos + 4, n + 1) ||
      r->buf[pos + 4 + n] != 0)
    return 0;
  *s = (const char *)r->buf + pos + 4;
  *len = n;
  return 1;
}

// Element |i| of a vector of tables.
static int table_elem(const reader_t *r, size_t vec, size_t i, table_t *t) {
  size_t at = vec + 4 + 4 * i;
  return table_at(r, at + rd_u32(r, at), t);
}

// Checks one TensorInfo against the code's descriptor.
static lowbit_status_t check_tensor(reader_t *r, const table_t *t,
                                    const lowbit_tensor_desc_t *want,
                                    const char *what, uint32_t i) {
  size_t name_pos, shape_pos, n = 0, len = 0;
  const char *name = "";
  int8_t dtype = 0;
  if (!ref(r, t, 0, &name_pos) || !scalar(r, t, 1, 1, &dtype) ||
      !ref(r, t, 2, &shape_pos) ||
      (name_pos && !string_at(r, name_pos, &name, &len)) ||
      (shape_pos && !vector_at(r, shape_pos, 8, &n)))
    return fail(r, LOWBIT_CORRUPT_PACKAGE, "%s %u: malformed tensor info",
                what, i);
  if (!want)
    return LOWBIT_OK;
  if (dtype != want->dtype || (int64_t)n != want->rank)
    return fail(r, LOWBIT_ABI_MISMATCH,
                "%s %u ('%s'): the package and the code disagree on its "
                "type or rank",
                what, i, name);
  for (size_t d = 0; d < n; ++d) {
    int64_t dim;
    memcpy(&dim, r->buf + shape_pos + 4 + 8 * d, 8);
    if (dim != want->shape[d])
      return fail(r, LOWBIT_ABI_MISMATCH,
                  "%s %u ('%s'): dimension %zu is %lld in the package but "
                  "%lld in the code",
                  what, i, name, d, (long long)dim,
                  (long long)want->shape[d]);
  }
  return LOWBIT_OK;
}

lowbit_status_t lowbit_package_open(const lowbit_model_code_t *code,
                                    const void *data, size_t size,
                                    lowbit_package_view_t *out, char *message,
                                    size_t message_size) {
  reader_t r = {(const uint8_t *)data, size, message, message_size};
  if (message && message_size)
    message[0] = 0;
  if (!data || size < 8)
    return fail(&r, LOWBIT_CORRUPT_PACKAGE,
                "package is %zu bytes, too small to be a package", size);
  if (memcmp(r.buf + 4, "LBPK", 4) != 0)
    return fail(&r, LOWBIT_CORRUPT_PACKAGE,
                "not a lowbit package (identifier is not LBPK)");
  table_t model;
  if (!table_at(&r, rd_u32(&r, 0), &model))
    return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed root table");
  uint32_t abi = 0, crc = 0;
  uint64_t arena = 0;
  size_t inputs, outputs, table, weights, name_pos;
  if (!scalar(&r, &model, 0, 4, &abi) || !ref(&r, &model, 1, &name_pos) ||
      !ref(&r, &model, 2, &inputs) || !ref(&r, &model, 3, &outputs) ||
      !scalar(&r, &model, 4, 8, &arena) || !scalar(&r, &model, 5, 4, &crc) ||
      !ref(&r, &model, 6, &table) || !ref(&r, &model, 8, &weights))
    return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed model table");
  if (abi != LOWBIT_RUNTIME_ABI_VERSION)
    return fail(&r, LOWBIT_ABI_MISMATCH,
                "package was compiled for runtime ABI %u, this runtime is %u",
                abi, (unsigned)LOWBIT_RUNTIME_ABI_VERSION);
  if (code && code->abi_version != LOWBIT_RUNTIME_ABI_VERSION)
    return fail(&r, LOWBIT_ABI_MISMATCH,
                "code was compiled for runtime ABI %u, this runtime is %u",
                code->abi_version, (unsigned)LOWBIT_RUNTIME_ABI_VERSION);

  // Signature.
  size_t n_in = 0, n_out = 0;
  if (!inputs || !outputs || !vector_at(&r, inputs, 4, &n_in) ||
      !vector_at(&r, outputs, 4, &n_out))
    return fail(&r, LOWBIT_CORRUPT_PACKAGE, "missing or malformed signature");
  if (code && (n_in != code->num_inputs || n_out != code->num_outputs))
    return fail(&r, LOWBIT_ABI_MISMATCH,
                "package has %zu inputs and %zu outputs, code has %u and %u",
                n_in, n_out, code->num_inputs, code->num_outputs);
  for (size_t i = 0; i < n_in + n_out; ++i) {
    int is_in = i < n_in;
    size_t idx = is_in ? i : i - n_in;
    table_t t;
    if (!table_elem(&r, is_in ? inputs : outputs, idx, &t))
      return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed %s %zu",
                  is_in ? "input" : "output", idx);
    const lowbit_tensor_desc_t *want =
        code ? (is_in ? &code->inputs[idx] : &code->outputs[idx]) : NULL;
    lowbit_status_t st =
        check_tensor(&r, &t, want, is_in ? "input" : "output", (uint32_t)idx);
    if (st != LOWBIT_OK)
      return st;
  }

  // Weights: 64-byte aligned blob, table entries inside it, CRC.
  size_t blob = 0;
  if (weights && !vector_at(&r, weights, 1, &blob))
    return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed weight blob");
  const uint8_t *w = weights ? r.buf + weights + 4 : r.buf;
  if (blob && ((uintptr_t)w % 64) != 0)
    return fail(&r, LOWBIT_CORRUPT_PACKAGE,
                "weights are not 64-byte aligned in memory (load the package "
                "at a 64-byte aligned address)");
  size_t n_w = 0;
  if (table && !vector_at(&r, table, 4, &n_w))
    return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed weight table");
  for (size_t i = 0; i < n_w; ++i) {
    table_t t;
    uint64_t off = 0, len = 0;
    size_t s1, s2;
    if (!table_elem(&r, table, i, &t) || !ref(&r, &t, 0, &s1) ||
        !scalar(&r, &t, 1, 8, &off) || !scalar(&r, &t, 2, 8, &len) ||
        !ref(&r, &t, 3, &s2))
      return fail(&r, LOWBIT_CORRUPT_PACKAGE, "malformed weight %zu", i);
    if (off > blob || len > blob - off || off % 64)
      return fail(&r, LOWBIT_CORRUPT_PACKAGE,
                  "weight %zu [%llu, +%llu) lies outside the %zu-byte blob "
                  "or is misaligned",
                  i, (unsigned long long)off, (unsigned long long)len, blob);
  }
  uint32_t got = lowbit_crc32(w, blob);
  if (got != crc)
    return fail(&r, LOWBIT_CORRUPT_PACKAGE,
                "weights are corrupted: CRC-32 is %08x, expected %08x", got,
                crc);
  if (code && code->weights_crc32 != crc)
    return fail(&r, LOWBIT_ABI_MISMATCH,
                "package and code come from different compilations (weights "
                "CRC %08x vs %08x)",
                crc, code->weights_crc32);
  if (code && code->arena_size != arena)
    return fail(&r, LOWBIT_ABI_MISMATCH,
                "package and code disagree on the arena size");
  if (out) {
    out->weights = w;
    out->weights_size = blob;
    out->arena_size = arena;
  }
  return LOWBIT_OK;
}

lowbit_status_t lowbit_package_verify(const lowbit_model_code_t *code,
                                      const void *data, size_t size,
                                      char *message, size_t message_size) {
  return lowbit_package_open(code, data, size, NULL, message, message_size);
}
