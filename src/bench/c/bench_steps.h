/*
 * Benchmark helpers around a backend's function table, shared by the C benchmark program, the Python
 * ctypes script and the JMH benchmarks (through FFM), so that all three time the same native call on
 * the same step.
 */
#ifndef TRTLLM4J_BENCH_STEPS_H
#define TRTLLM4J_BENCH_STEPS_H

#include <stdint.h>

#include "trtllm4j.h"

/*
 * Creates a plugin for the trivial step and the step itself: 1 sequence, 1 new token (a context
 * request, nothing cached), 1 head of size 32, float32, no position embedding. Both live until exit.
 */
__attribute__((visibility("default"))) int32_t trtllm4j_bench_trivial(const trtllm4j_backend_api *api,
                                                                      trtllm4j_plugin **plugin,
                                                                      trtllm4j_attention_step **step);

/* Calls api->enqueue(plugin, step) `calls` times; returns the first status that is not OK, else OK. */
__attribute__((visibility("default"))) int32_t trtllm4j_bench_enqueue_loop(const trtllm4j_backend_api *api,
                                                                           trtllm4j_plugin *plugin,
                                                                           const trtllm4j_attention_step *step,
                                                                           int64_t calls);

/* Copies bytes from src to dst, split into `threads` contiguous parts copied in parallel. */
__attribute__((visibility("default"))) void trtllm4j_bench_copy(void *dst, const void *src, int64_t bytes,
                                                                int threads);

/*
 * Reads bytes at src (a multiple of 128), split into `threads` contiguous parts read in parallel;
 * returns a sum of what it read, so that the reads cannot be left out.
 */
__attribute__((visibility("default"))) float trtllm4j_bench_read(const void *src, int64_t bytes, int threads);

#endif
