// threadpool.c - a small fork-join pool over pthreads.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// One parallel_for at a time (kernels run one after another); workers
// sleep on a condition variable between calls.
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

struct lowbit_threadpool_t {
  int size; // threads including the caller
  pthread_t *threads;
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  pthread_cond_t done;
  uint64_t generation;
  int pending;
  int stop;
  lowbit_range_fn fn;
  void *ctx;
  int64_t n;
};

typedef struct worker_arg_t {
  lowbit_threadpool_t *pool;
  int index;
} worker_arg_t;

static void chunk(int64_t n, int parts, int i, int64_t *b, int64_t *e) {
  int64_t base = n / parts, rem = n % parts;
  *b = i * base + (i < rem ? i : rem);
  *e = *b + base + (i < rem ? 1 : 0);
}

static void *worker_main(void *p) {
  worker_arg_t arg = *(worker_arg_t *)p;
  free(p);
  lowbit_threadpool_t *pool = arg.pool;
  uint64_t seen = 0;
  for (;;) {
    pthread_mutex_lock(&pool->mutex);
    while (!pool->stop && pool->generation == seen)
      pthread_cond_wait(&pool->wake, &pool->mutex);
    if (pool->stop) {
      pthread_mutex_unlock(&pool->mutex);
      return NULL;
    }
    seen = pool->generation;
    lowbit_range_fn fn = pool->fn;
    void *ctx = pool->ctx;
    int64_t n = pool->n;
    pthread_mutex_unlock(&pool->mutex);
    int64_t b, e;
    chunk(n, pool->size, arg.index, &b, &e);
    if (b < e)
      fn(ctx, b, e);
    pthread_mutex_lock(&pool->mutex);
    if (--pool->pending == 0)
      pthread_cond_signal(&pool->done);
    pthread_mutex_unlock(&pool->mutex);
  }
}

lowbit_status_t lowbit_threadpool_create(int num_threads,
                                         lowbit_threadpool_t **out_pool) {
  *out_pool = NULL;
  if (num_threads <= 1)
    return LOWBIT_OK; // run inline
  lowbit_threadpool_t *pool = calloc(1, sizeof(*pool));
  if (!pool)
    return LOWBIT_OUT_OF_MEMORY;
  pool->size = num_threads;
  pool->threads = calloc((size_t)num_threads, sizeof(pthread_t));
  if (!pool->threads) {
    free(pool);
    return LOWBIT_OUT_OF_MEMORY;
  }
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
  for (int i = 1; i < num_threads; ++i) {
    // Filled in before the thread starts: the worker reads it at once.
    worker_arg_t *arg = malloc(sizeof(*arg));
    if (arg) {
      arg->pool = pool;
      arg->index = i;
    }
    if (!arg || pthread_create(&pool->threads[i], NULL, worker_main, arg)) {
      free(arg);
      pool->size = i; // threads [1, i) exist
      lowbit_threadpool_destroy(pool);
      return LOWBIT_INTERNAL;
    }
  }
  *out_pool = pool;
  return LOWBIT_OK;
}

void lowbit_threadpool_destroy(lowbit_threadpool_t *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->mutex);
  pool->stop = 1;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 1; i < pool->size; ++i)
    pthread_join(pool->threads[i], NULL);
  pthread_mutex_destroy(&pool->mutex);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->done);
  free(pool->threads);
  free(pool);
}

int lowbit_threadpool_size(const lowbit_threadpool_t *pool) {
  return pool ? pool->size : 1;
}

void lowbit_parallel_for(lowbit_threadpool_t *pool, int64_t n,
                         lowbit_range_fn fn, void *ctx) {
  if (n <= 0)
    return;
  if (!pool || n == 1) {
    fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&pool->mutex);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n = n;
  pool->pending = pool->size - 1;
  pool->generation++;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  int64_t b, e;
  chunk(n, pool->size, 0, &b, &e);
  if (b < e)
    fn(ctx, b, e);
  pthread_mutex_lock(&pool->mutex);
  while (pool->pending > 0)
    pthread_cond_wait(&pool->done, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
}

void lowbit_k_parallel_for(const lowbit_exec_t *exec, int64_t n,
                           void (*fn)(void *ctx, int64_t begin, int64_t end),
                           void *ctx) {
  lowbit_parallel_for(exec->pool, n, fn, ctx);
}
