// crc32.c - CRC-32 (IEEE) for package integrity checks.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "internal.h"

uint32_t lowbit_crc32(const void *data, size_t size) {
  // Slicing-by-one with a table built on the stack: no globals to
  // initialize, ~1 GB/s, run once per session creation.
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  const uint8_t *p = (const uint8_t *)data;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i)
    crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}
