/*
 * The memory and stream functions of the bridge ABI on the CUDA runtime, shared by the `cuda` and
 * `tensorrt` backends, whose tensors are both device memory of the current CUDA device.
 */
#ifndef TRTLLM4J_DEVICE_RUNTIME_H
#define TRTLLM4J_DEVICE_RUNTIME_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Checks that a CUDA device answers; the message names the driver's error otherwise. */
int32_t trtllm4j_device_initialize(void);
int32_t trtllm4j_device_memory_info(int64_t *free_bytes, int64_t *total_bytes);
int32_t trtllm4j_device_allocate(int64_t bytes, void **pointer);
int32_t trtllm4j_device_release(void *pointer);
int32_t trtllm4j_device_copy(void *destination, const void *source, int64_t bytes, int32_t kind);
int32_t trtllm4j_device_fill(void *pointer, int32_t value, int64_t bytes);
int32_t trtllm4j_device_stream_create(void **stream);
int32_t trtllm4j_device_stream_synchronize(void *stream);
int32_t trtllm4j_device_stream_destroy(void *stream);

/* The current device's name and compute capability, e.g. "NVIDIA H200 (sm_90)"; "" on failure. */
int32_t trtllm4j_device_identity(char *text, int32_t capacity, int32_t *major, int32_t *minor);

#ifdef __cplusplus
}
#endif

#endif
