/* main.c - run a lowbit-compiled model from a plain C program.
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 * Build the model first:
 *   lowbit compile examples/digits/digits_cnn.onnx --input-shape image=8x1x8x8 -o out
 * then this program (see CMakeLists.txt, or by hand):
 *   cc main.c out/digits_cnn.o -Iout -I<runtime>/include -llowbit_runtime -lm -lpthread
 * and run it with the package and eight 8x8 digits (.npy, float32):
 *   ./embed-c out/digits_cnn.lbpkg examples/digits/digits_8.npy
 */
#include "digits_cnn.h"
#include "lowbit/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a whole file into 64-byte aligned memory (the package's weights
 * must be 64-byte aligned). */
static void *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *data = aligned_alloc(64, ((size_t)n + 63) / 64 * 64);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL.lbpkg DIGITS.npy\n", argv[0]);
    return 2;
  }
  size_t pkg_size = 0, npy_size = 0;
  void *pkg = read_file(argv[1], &pkg_size);
  char *npy = read_file(argv[2], &npy_size);
  if (!pkg || !npy) {
    fprintf(stderr, "cannot read %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  /* .npy v1: 10-byte preamble, header length at bytes 8-9, then data. */
  size_t header = 10 + (size_t)((unsigned char)npy[8] |
                                ((unsigned char)npy[9] << 8));
  size_t want = LOWBIT_MODEL_DIGITS_CNN_INPUT0_NUMEL * sizeof(float);
  if (npy_size < header + want) {
    fprintf(stderr, "%s: expected %zu bytes of float32 digits\n", argv[2], want);
    return 1;
  }
  float *images = (float *)(npy + header);

  lowbit_session_t *session = NULL;
  char message[256];
  lowbit_status_t st = lowbit_session_create_ex(
      &lowbit_model_digits_cnn, pkg, pkg_size, NULL, &session, message,
      sizeof(message));
  if (st != LOWBIT_OK) {
    fprintf(stderr, "lowbit_session_create: %s: %s\n",
            lowbit_status_string(st), message);
    return 1;
  }
  float logits[LOWBIT_MODEL_DIGITS_CNN_OUTPUT0_NUMEL];
  const void *inputs[] = {images};
  void *outputs[] = {logits};
  st = lowbit_session_run(session, inputs, outputs);
  if (st != LOWBIT_OK) {
    fprintf(stderr, "lowbit_session_run: %s\n", lowbit_status_string(st));
    return 1;
  }
  printf("predicted:");
  for (int i = 0; i < 8; ++i) {
    int best = 0;
    for (int j = 1; j < 10; ++j)
      if (logits[i * 10 + j] > logits[i * 10 + best])
        best = j;
    printf(" %d", best);
  }
  printf("\n");
  lowbit_session_destroy(session);
  free(pkg);
  free(npy);
  return 0;
}
