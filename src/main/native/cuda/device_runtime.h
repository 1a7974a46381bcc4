/*
 * The bridge ABI's initialize, memory and stream functions over the CUDA runtime, shared by the
 * `cuda` and `tensorrt` backends, whose tensors are both device memory of the current CUDA device.
 */
#ifndef TRTLLM4J_DEVICE_RUNTIME_H
#define TRTLLM4J_DEVICE_RUNTIME_H

#include "trtllm4j.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Checks the driver, its CUDA version and the device (compute capability 8.0 or newer) once per
 * process; later calls give the same outcome and message. backend names the caller in messages.
 * Every function below runs this first, so no CUDA call is made where the driver cannot be loaded.
 */
int32_t trtllm4j_device_initialize(const char *backend);
/* "<GPU name>, <n> SMs, compute capability X.Y, driver CUDA A.B, runtime CUDA C.D", or why not, or
   "not initialised". */
const char *trtllm4j_device_description(void);
/* The current device's name and compute capability, e.g. "NVIDIA H200 (sm_90)". */
int32_t trtllm4j_device_identity(char *text, int32_t capacity);

int32_t trtllm4j_device_memory_info(int64_t *free_bytes, int64_t *total_bytes);
int32_t trtllm4j_device_allocate(int64_t bytes, void **pointer);
int32_t trtllm4j_device_release(void *pointer);
int32_t trtllm4j_device_copy(void *destination, const void *source, int64_t bytes, int32_t kind);
int32_t trtllm4j_device_fill(void *pointer, int32_t value, int64_t bytes);
int32_t trtllm4j_device_stream_create(void **stream);
int32_t trtllm4j_device_stream_synchronize(void *stream);
int32_t trtllm4j_device_stream_destroy(void *stream);

#ifdef __cplusplus
}
#endif

#endif
