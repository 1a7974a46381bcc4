/*
 * The `cuda` backend: the bridge ABI's function table over the CUDA runtime (linked statically, so
 * the library needs only the NVIDIA driver) and the kernels of attention.cu.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "abi_layout.h"
#include "cuda_attention.h"
#include "device_runtime.h"
#include "plugin_params.h"
#include "status.h"
#include "step_check.h"
#include "supported.h"

struct trtllm4j_plugin {
    trtllm4j_params params;
};

namespace {

int32_t initialize() {
    return trtllm4j_device_initialize("cuda");
}

#define REQUIRE_INITIALIZED()                          \
    do {                                               \
        int32_t status_ = initialize();                \
        if (status_ != TRTLLM4J_OK) return status_;    \
    } while (0)

const char *describe() {
    static thread_local char text[1200]; /* per thread: callers may race */
    bool ready = initialize() == TRTLLM4J_OK;
    snprintf(text, sizeof text, ready ? "cuda: %s" : "cuda: unavailable: %s", trtllm4j_device_description());
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
    trtllm4j_device_memory_info,
    trtllm4j_device_allocate,
    trtllm4j_device_release,
    trtllm4j_device_copy,
    trtllm4j_device_fill,
    trtllm4j_device_stream_create,
    trtllm4j_device_stream_synchronize,
    trtllm4j_device_stream_destroy,
    /* No options and no engines: the kernels run as they are. */
    nullptr, /* set_option */
    nullptr, /* save_engine */
    nullptr, /* open_engine */
    nullptr, /* plugin_fields */
    nullptr, /* engine_info */
};

} // namespace

extern "C" __attribute__((visibility("default"))) const trtllm4j_backend_api *trtllm4j_backend(void) {
    return &api;
}
