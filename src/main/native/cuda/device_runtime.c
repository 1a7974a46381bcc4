#include "device_runtime.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "status.h"

static int32_t cuda_failure(const char *call, cudaError_t error) {
    cudaGetLastError(); /* a non-sticky error is cleared, so that later calls do not report it */
    return trtllm4j_fail(error == cudaErrorMemoryAllocation ? TRTLLM4J_OUT_OF_MEMORY : TRTLLM4J_INTERNAL_ERROR,
                         "%s: %s (%s)", call, cudaGetErrorString(error), cudaGetErrorName(error));
}

#define CUDA_CHECK(call)                                                  \
    do {                                                                  \
        cudaError_t error_ = (call);                                      \
        if (error_ != cudaSuccess) return cuda_failure(#call, error_);   \
    } while (0)

/*
 * The checks run once: their outcome and message are kept, because the CUDA runtime must not be
 * touched at all where the driver cannot be loaded.
 */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_done = 0;
static int32_t init_status = TRTLLM4J_INTERNAL_ERROR;
static char init_message[1024];
static char device_line[512];
static char device_identity[320];

static int32_t check_platform(const char *backend) {
    /* The driver library first: with no driver, no CUDA call may run. */
    if (dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL) == NULL) {
        const char *why = dlerror();
        const char *path = getenv("LD_LIBRARY_PATH");
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                             "no NVIDIA driver: libcuda.so.1 cannot be loaded (%s); looked where the dynamic loader "
                             "looks: LD_LIBRARY_PATH (%s), /etc/ld.so.cache and the system library folders. Install "
                             "the NVIDIA driver, or in a container run with the NVIDIA container toolkit",
                             why != NULL ? why : "no reason given", path != NULL && *path ? path : "unset");
    }
    int driver = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    if (driver < CUDART_VERSION) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                             "the NVIDIA driver is too old: it supports CUDA %d.%d, this library's CUDA runtime is "
                             "%d.%d; update the driver",
                             driver / 1000, driver % 1000 / 10, CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    }
    int count = 0;
    cudaError_t error = cudaGetDeviceCount(&count);
    if (error == cudaErrorNoDevice || (error == cudaSuccess && count == 0)) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED, "no CUDA device: the driver (CUDA %d.%d) sees no GPU%s%s",
                             driver / 1000, driver % 1000 / 10, error == cudaSuccess ? "" : ": ",
                             error == cudaSuccess ? "" : cudaGetErrorString(error));
    }
    if (error != cudaSuccess) return cuda_failure("cudaGetDeviceCount", error);
    int device = 0;
    CUDA_CHECK(cudaGetDevice(&device));
    struct cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    if (prop.major < 8) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                             "CUDA device %d (%s) has compute capability %d.%d; the %s backend needs 8.0 or newer",
                             device, prop.name, prop.major, prop.minor, backend);
    }
    snprintf(device_line, sizeof device_line,
             "%s, %d SMs, compute capability %d.%d, driver CUDA %d.%d, runtime CUDA %d.%d", prop.name,
             prop.multiProcessorCount, prop.major, prop.minor, driver / 1000, driver % 1000 / 10,
             CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    snprintf(device_identity, sizeof device_identity, "%s (sm_%d%d)", prop.name, prop.major, prop.minor);
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_initialize(const char *backend) {
    pthread_mutex_lock(&init_lock);
    if (!init_done) {
        init_status = check_platform(backend);
        snprintf(init_message, sizeof init_message, "%s", trtllm4j_last_error());
        init_done = 1;
    }
    pthread_mutex_unlock(&init_lock);
    if (init_status != TRTLLM4J_OK) return trtllm4j_fail(init_status, "%s", init_message);
    trtllm4j_clear_error();
    return TRTLLM4J_OK;
}

const char *trtllm4j_device_description(void) {
    pthread_mutex_lock(&init_lock);
    const char *text = !init_done ? "not initialised" : init_status == TRTLLM4J_OK ? device_line : init_message;
    pthread_mutex_unlock(&init_lock);
    return text;
}

int32_t trtllm4j_device_identity(char *text, int32_t capacity) {
    int32_t status = trtllm4j_device_initialize("GPU");
    snprintf(text, (size_t)capacity, "%s", status == TRTLLM4J_OK ? device_identity : "");
    return status;
}

#define REQUIRE_INITIALIZED()                                   \
    do {                                                        \
        int32_t status_ = trtllm4j_device_initialize("GPU");    \
        if (status_ != TRTLLM4J_OK) return status_;             \
    } while (0)

int32_t trtllm4j_device_memory_info(int64_t *free_bytes, int64_t *total_bytes) {
    if (free_bytes == NULL || total_bytes == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "memory_info: free_bytes and total_bytes must not be NULL");
    }
    REQUIRE_INITIALIZED();
    size_t available = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&available, &total));
    *free_bytes = (int64_t)available;
    *total_bytes = (int64_t)total;
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_allocate(int64_t bytes, void **pointer) {
    if (pointer == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: pointer must not be NULL");
    *pointer = NULL;
    if (bytes <= 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: bytes = %lld: must be positive", (long long)bytes);
    }
    REQUIRE_INITIALIZED();
    cudaError_t error = cudaMalloc(pointer, (size_t)bytes); /* cudaMalloc aligns to 256 bytes or more */
    if (error == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "allocate: cudaMalloc of %lld bytes: %s", (long long)bytes,
                             cudaGetErrorString(error));
    }
    return error == cudaSuccess ? TRTLLM4J_OK : cuda_failure("cudaMalloc", error);
}

int32_t trtllm4j_device_release(void *pointer) {
    if (pointer == NULL) return TRTLLM4J_OK;
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaFree(pointer));
    return TRTLLM4J_OK;
}

/* copy and fill run on the legacy default stream, which waits for all earlier work on the backends'
   (blocking) streams, and return once it is done. */
int32_t trtllm4j_device_copy(void *destination, const void *source, int64_t bytes, int32_t kind) {
    if (bytes < 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: bytes = %lld: must not be negative", (long long)bytes);
    }
    if (bytes == 0) return TRTLLM4J_OK;
    if (destination == NULL || source == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: destination and source must not be NULL");
    }
    enum cudaMemcpyKind direction;
    switch (kind) {
    case TRTLLM4J_HOST_TO_DEVICE: direction = cudaMemcpyHostToDevice; break;
    case TRTLLM4J_DEVICE_TO_HOST: direction = cudaMemcpyDeviceToHost; break;
    case TRTLLM4J_DEVICE_TO_DEVICE: direction = cudaMemcpyDeviceToDevice; break;
    default:
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT,
                             "copy: kind = %d: must be 0 (host to device), 1 (device to host) or 2 (device to device)",
                             kind);
    }
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaMemcpyAsync(destination, source, (size_t)bytes, direction, cudaStreamLegacy));
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_fill(void *pointer, int32_t value, int64_t bytes) {
    if (bytes < 0) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: bytes = %lld: must not be negative", (long long)bytes);
    }
    if (bytes == 0) return TRTLLM4J_OK;
    if (pointer == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: pointer must not be NULL");
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaMemsetAsync(pointer, value & 0xff, (size_t)bytes, cudaStreamLegacy));
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_stream_create(void **stream) {
    if (stream == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "stream_create: stream must not be NULL");
    *stream = NULL;
    REQUIRE_INITIALIZED();
    cudaStream_t created;
    CUDA_CHECK(cudaStreamCreate(&created)); /* blocking: ordered with the legacy default stream */
    *stream = created;
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_stream_synchronize(void *stream) {
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)stream));
    return TRTLLM4J_OK;
}

int32_t trtllm4j_device_stream_destroy(void *stream) {
    if (stream == NULL) return TRTLLM4J_OK;
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)stream));
    CUDA_CHECK(cudaStreamDestroy((cudaStream_t)stream));
    return TRTLLM4J_OK;
}
