#include "device_runtime.h"

#include <cuda_runtime_api.h>
#include <stdio.h>

#include "status.h"

/* A failed CUDA call becomes the thread's message, naming the call and CUDA's own words. */
static int32_t cuda_status(cudaError_t error, const char *what) {
    if (error == cudaSuccess) return TRTLLM4J_OK;
    cudaGetLastError(); /* clears a non-sticky error so the next call starts clean */
    return trtllm4j_fail(error == cudaErrorMemoryAllocation ? TRTLLM4J_OUT_OF_MEMORY : TRTLLM4J_INTERNAL_ERROR,
                         "%s: %s (%s)", what, cudaGetErrorString(error), cudaGetErrorName(error));
}

int32_t trtllm4j_device_initialize(void) {
    int count = 0;
    cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess) {
        return cuda_status(error, "no usable CUDA device: cudaGetDeviceCount failed");
    }
    if (count == 0) {
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "no CUDA device: cudaGetDeviceCount found 0");
    }
    return cuda_status(cudaFree(NULL), "creating the CUDA context");
}

int32_t trtllm4j_device_memory_info(int64_t *free_bytes, int64_t *total_bytes) {
    if (free_bytes == NULL || total_bytes == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "memory_info: free_bytes and total_bytes must not be NULL");
    }
    size_t free_size = 0, total_size = 0;
    int32_t status = cuda_status(cudaMemGetInfo(&free_size, &total_size), "cudaMemGetInfo");
    *free_bytes = (int64_t)free_size;
    *total_bytes = (int64_t)total_size;
    return status;
}

int32_t trtllm4j_device_allocate(int64_t bytes, void **pointer) {
    if (pointer == NULL || bytes <= 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: bytes = %lld must be positive and pointer non-NULL",
                             (long long)bytes);
    }
    *pointer = NULL;
    char what[96];
    snprintf(what, sizeof what, "cudaMalloc of %lld bytes", (long long)bytes);
    return cuda_status(cudaMalloc(pointer, (size_t)bytes), what); /* cudaMalloc aligns to 256 bytes or more */
}

int32_t trtllm4j_device_release(void *pointer) {
    return pointer == NULL ? TRTLLM4J_OK : cuda_status(cudaFree(pointer), "cudaFree");
}

int32_t trtllm4j_device_copy(void *destination, const void *source, int64_t bytes, int32_t kind) {
    static const enum cudaMemcpyKind kinds[] = {cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost,
                                                cudaMemcpyDeviceToDevice};
    if (kind < TRTLLM4J_HOST_TO_DEVICE || kind > TRTLLM4J_DEVICE_TO_DEVICE) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: kind = %d is not a trtllm4j_copy_kind (0 to 2)", kind);
    }
    if (bytes < 0 || (bytes > 0 && (destination == NULL || source == NULL))) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: bytes = %lld, destination %p, source %p",
                             (long long)bytes, destination, source);
    }
    if (bytes == 0) return TRTLLM4J_OK;
    /* cudaMemcpy runs on the legacy default stream: after earlier work on every blocking stream. */
    int32_t status = cuda_status(cudaMemcpy(destination, source, (size_t)bytes, kinds[kind]), "cudaMemcpy");
    /* A device-to-device copy may return before it is done; the ABI promises it is. */
    return status == TRTLLM4J_OK && kind == TRTLLM4J_DEVICE_TO_DEVICE
               ? cuda_status(cudaStreamSynchronize(0), "cudaStreamSynchronize after cudaMemcpy")
               : status;
}

int32_t trtllm4j_device_fill(void *pointer, int32_t value, int64_t bytes) {
    if (bytes < 0 || (bytes > 0 && pointer == NULL)) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: bytes = %lld, pointer %p", (long long)bytes, pointer);
    }
    if (bytes == 0) return TRTLLM4J_OK;
    int32_t status = cuda_status(cudaMemset(pointer, value & 0xff, (size_t)bytes), "cudaMemset");
    return status == TRTLLM4J_OK ? cuda_status(cudaStreamSynchronize(0), "cudaStreamSynchronize after cudaMemset")
                                 : status;
}

int32_t trtllm4j_device_stream_create(void **stream) {
    if (stream == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "stream_create: the output pointer is NULL");
    }
    *stream = NULL;
    /* A blocking stream, so that copy and fill (on the legacy default stream) order after its work. */
    return cuda_status(cudaStreamCreate((cudaStream_t *)stream), "cudaStreamCreate");
}

int32_t trtllm4j_device_stream_synchronize(void *stream) {
    return cuda_status(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize");
}

int32_t trtllm4j_device_stream_destroy(void *stream) {
    if (stream == NULL) return TRTLLM4J_OK;
    int32_t status = cuda_status(cudaStreamSynchronize((cudaStream_t)stream), "cudaStreamSynchronize before destroy");
    int32_t destroyed = cuda_status(cudaStreamDestroy((cudaStream_t)stream), "cudaStreamDestroy");
    return status != TRTLLM4J_OK ? status : destroyed;
}

int32_t trtllm4j_device_identity(char *text, int32_t capacity, int32_t *major, int32_t *minor) {
    int device = 0;
    struct cudaDeviceProp properties;
    int32_t status = cuda_status(cudaGetDevice(&device), "cudaGetDevice");
    if (status == TRTLLM4J_OK) status = cuda_status(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    if (status != TRTLLM4J_OK) {
        if (capacity > 0) text[0] = '\0';
        return status;
    }
    snprintf(text, (size_t)capacity, "%s (sm_%d%d)", properties.name, properties.major, properties.minor);
    *major = properties.major;
    *minor = properties.minor;
    return TRTLLM4J_OK;
}
