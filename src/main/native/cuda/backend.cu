/*
 * The `cuda` backend: the bridge ABI's function table over the CUDA runtime (linked statically, so
 * the library needs only the NVIDIA driver) and the kernels of attention.cu.
 */
#include <dlfcn.h>
#include <mutex>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "abi_layout.h"
#include "cuda_attention.h"
#include "plugin_params.h"
#include "status.h"
#include "step_check.h"
#include "supported.h"

struct trtllm4j_plugin {
    trtllm4j_params params;
};

namespace {

int32_t cuda_failure(const char *call, cudaError_t error) {
    return trtllm4j_fail(error == cudaErrorMemoryAllocation ? TRTLLM4J_OUT_OF_MEMORY : TRTLLM4J_INTERNAL_ERROR,
                         "%s: %s (%s)", call, cudaGetErrorString(error), cudaGetErrorName(error));
}

#define CUDA_CHECK(call)                                            \
    do {                                                            \
        cudaError_t error_ = (call);                                \
        if (error_ != cudaSuccess) return cuda_failure(#call, error_); \
    } while (0)

/*
 * The checks of initialize, run once: their outcome and message are kept, because the CUDA runtime
 * must not be touched at all where the driver cannot be loaded.
 */
std::once_flag init_once;
int32_t init_status = TRTLLM4J_INTERNAL_ERROR;
char init_message[1024];
char device_line[512];

int32_t check_platform() {
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
                             "the NVIDIA driver is too old: it supports CUDA %d.%d, this library's CUDA runtime is %d.%d; "
                             "update the driver",
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
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    if (prop.major < 8) {
        return trtllm4j_fail(TRTLLM4J_UNSUPPORTED,
                             "CUDA device %d (%s) has compute capability %d.%d; the cuda backend needs 8.0 or newer",
                             device, prop.name, prop.major, prop.minor);
    }
    snprintf(device_line, sizeof device_line,
             "cuda: %s, %d SMs, compute capability %d.%d, driver CUDA %d.%d, runtime CUDA %d.%d", prop.name,
             prop.multiProcessorCount, prop.major, prop.minor, driver / 1000, driver % 1000 / 10,
             CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
    return TRTLLM4J_OK;
}

int32_t initialize() {
    std::call_once(init_once, [] {
        init_status = check_platform();
        snprintf(init_message, sizeof init_message, "%s", trtllm4j_last_error());
    });
    if (init_status != TRTLLM4J_OK) return trtllm4j_fail(init_status, "%s", init_message);
    trtllm4j_clear_error();
    return TRTLLM4J_OK;
}

#define REQUIRE_INITIALIZED()                          \
    do {                                               \
        int32_t status_ = initialize();                \
        if (status_ != TRTLLM4J_OK) return status_;    \
    } while (0)

const char *describe() {
    static thread_local char text[1200]; /* per thread: callers may race */
    if (initialize() == TRTLLM4J_OK) return device_line;
    snprintf(text, sizeof text, "cuda: unavailable: %s", init_message);
    return text;
}

int32_t create(const trtllm4j_plugin_field_collection *fields, trtllm4j_plugin **out) {
    trtllm4j_clear_error();
    if (out == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "create: the output pointer is NULL");
    *out = NULL;
    trtllm4j_params params;
    int32_t status = trtllm4j_params_parse(fields, &params);
    if (status == TRTLLM4J_OK) status = trtllm4j_check_supported(&params, "cuda");
    if (status != TRTLLM4J_OK) return status;
    trtllm4j_plugin *plugin = static_cast<trtllm4j_plugin *>(malloc(sizeof *plugin));
    if (plugin == NULL) return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "create: no memory for the plugin");
    plugin->params = params;
    *out = plugin;
    return TRTLLM4J_OK;
}

int32_t workspace_size(const trtllm4j_plugin *plugin, const trtllm4j_attention_step *step, int64_t *bytes) {
    if (plugin == NULL || step == NULL || bytes == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace_size: plugin, step and bytes must not be NULL");
    }
    if (step->batch_size < 1 || step->num_tokens < 1) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace_size: batch_size = %d, num_tokens = %d: need at least 1",
                             step->batch_size, step->num_tokens);
    }
    *bytes = trtllm4j_cuda_workspace_size(&plugin->params, step);
    return TRTLLM4J_OK;
}

int32_t enqueue(trtllm4j_plugin *plugin, const trtllm4j_attention_step *step) {
    if (plugin == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "enqueue: the plugin is NULL");
    int64_t needed = step == NULL || step->batch_size < 1 || step->num_tokens < 1
                         ? 0
                         : trtllm4j_cuda_workspace_size(&plugin->params, step);
    int32_t status = trtllm4j_check_step(&plugin->params, step, TRTLLM4J_DEVICE, needed);
    if (status != TRTLLM4J_OK) return status;
    REQUIRE_INITIALIZED();
    try {
        return trtllm4j_cuda_attention_enqueue(&plugin->params, step);
    } catch (...) { /* nothing may cross the C boundary */
        return trtllm4j_fail(TRTLLM4J_INTERNAL_ERROR, "enqueue: unexpected C++ exception");
    }
}

void destroy(trtllm4j_plugin *plugin) {
    free(plugin);
}

int32_t memory_info(int64_t *free_bytes, int64_t *total_bytes) {
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

int32_t allocate(int64_t bytes, void **pointer) {
    if (pointer == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: pointer must not be NULL");
    *pointer = NULL;
    if (bytes <= 0) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: bytes = %lld: must be positive", (long long)bytes);
    REQUIRE_INITIALIZED();
    cudaError_t error = cudaMalloc(pointer, (size_t)bytes);
    if (error == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* not sticky: clear it so that later calls do not report it */
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "allocate: cudaMalloc of %lld bytes: %s", (long long)bytes,
                             cudaGetErrorString(error));
    }
    if (error != cudaSuccess) return cuda_failure("cudaMalloc", error);
    return TRTLLM4J_OK;
}

int32_t release(void *pointer) {
    if (pointer == NULL) return TRTLLM4J_OK;
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaFree(pointer));
    return TRTLLM4J_OK;
}

/* copy and fill run on the legacy default stream, which waits for all earlier work on the backend's
   (blocking) streams, and return once it is done. */
int32_t copy(void *destination, const void *source, int64_t bytes, int32_t kind) {
    if (bytes < 0) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: bytes = %lld: must not be negative", (long long)bytes);
    if (bytes == 0) return TRTLLM4J_OK;
    if (destination == NULL || source == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: destination and source must not be NULL");
    }
    cudaMemcpyKind direction;
    switch (kind) {
    case TRTLLM4J_HOST_TO_DEVICE: direction = cudaMemcpyHostToDevice; break;
    case TRTLLM4J_DEVICE_TO_HOST: direction = cudaMemcpyDeviceToHost; break;
    case TRTLLM4J_DEVICE_TO_DEVICE: direction = cudaMemcpyDeviceToDevice; break;
    default:
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: kind = %d: must be 0 (host to device), 1 (device to host) "
                             "or 2 (device to device)", kind);
    }
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaMemcpyAsync(destination, source, (size_t)bytes, direction, cudaStreamLegacy));
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
    return TRTLLM4J_OK;
}

int32_t fill(void *pointer, int32_t value, int64_t bytes) {
    if (bytes < 0) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: bytes = %lld: must not be negative", (long long)bytes);
    if (bytes == 0) return TRTLLM4J_OK;
    if (pointer == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: pointer must not be NULL");
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaMemsetAsync(pointer, value & 0xff, (size_t)bytes, cudaStreamLegacy));
    CUDA_CHECK(cudaStreamSynchronize(cudaStreamLegacy));
    return TRTLLM4J_OK;
}

int32_t stream_create(void **stream) {
    if (stream == NULL) return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "stream_create: stream must not be NULL");
    *stream = NULL;
    REQUIRE_INITIALIZED();
    cudaStream_t created;
    CUDA_CHECK(cudaStreamCreate(&created)); /* blocking: ordered with the legacy default stream */
    *stream = created;
    return TRTLLM4J_OK;
}

int32_t stream_synchronize(void *stream) {
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
    return TRTLLM4J_OK;
}

int32_t stream_destroy(void *stream) {
    if (stream == NULL) return TRTLLM4J_OK;
    REQUIRE_INITIALIZED();
    CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
    CUDA_CHECK(cudaStreamDestroy(static_cast<cudaStream_t>(stream)));
    return TRTLLM4J_OK;
}

const trtllm4j_backend_api api = {
    TRTLLM4J_ABI_VERSION,
    "cuda",
    TRTLLM4J_DEVICE,
    describe,
    create,
    workspace_size,
    enqueue,
    destroy,
    trtllm4j_last_error,
    trtllm4j_abi_layout,
    initialize,
    memory_info,
    allocate,
    release,
    copy,
    fill,
    stream_create,
    stream_synchronize,
    stream_destroy,
};

} // namespace

extern "C" __attribute__((visibility("default"))) const trtllm4j_backend_api *trtllm4j_backend(void) {
    return &api;
}
