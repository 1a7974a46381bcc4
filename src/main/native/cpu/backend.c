/* The CPU backend: the reference semantics of one attention step, behind the bridge ABI. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_layout.h"
#include "attention.h"
#include "plugin_params.h"
#include "status.h"
#include "step_check.h"
#include "supported.h"

struct trtllm4j_plugin {
    trtllm4j_params params;
    int threads;
};

static const char *describe(void) {
    static _Thread_local char text[160]; /* per thread: callers may race */
    const char *isa = __builtin_cpu_supports("avx512f") ? "AVX-512"
                      : __builtin_cpu_supports("avx2") ? "AVX2"
                                                       : "baseline x86-64";
    snprintf(text, sizeof text, "cpu: C11 reference backend, %d OpenMP threads, %s kernels", omp_get_max_threads(),
             isa);
    return text;
}

static int32_t create(const trtllm4j_plugin_field_collection *fields, trtllm4j_plugin **out) {
    trtllm4j_clear_error();
    if (out == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "create: the output pointer is NULL");
    }
    *out = NULL;
    trtllm4j_params params;
    int32_t status = trtllm4j_params_parse(fields, &params);
    if (status == TRTLLM4J_OK) status = trtllm4j_check_supported(&params, "cpu");
    if (status != TRTLLM4J_OK) return status;
    trtllm4j_plugin *plugin = malloc(sizeof *plugin);
    if (plugin == NULL) {
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "create: no memory for the plugin");
    }
    plugin->params = params;
    plugin->threads = omp_get_max_threads();
    *out = plugin;
    return TRTLLM4J_OK;
}

static int32_t workspace_size(const trtllm4j_plugin *plugin, const trtllm4j_attention_step *step, int64_t *bytes) {
    if (plugin == NULL || step == NULL || bytes == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace_size: plugin, step and bytes must not be NULL");
    }
    if (step->batch_size < 1 || step->num_tokens < 1) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "workspace_size: batch_size = %d, num_tokens = %d: need at least 1",
                             step->batch_size, step->num_tokens);
    }
    *bytes = cpu_attention_workspace(&plugin->params, step, plugin->threads);
    return TRTLLM4J_OK;
}

static int32_t enqueue(trtllm4j_plugin *plugin, const trtllm4j_attention_step *step) {
    if (plugin == NULL) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "enqueue: the plugin is NULL");
    }
    int64_t needed = step == NULL ? 0 : cpu_attention_workspace(&plugin->params, step, plugin->threads);
    int32_t status = trtllm4j_check_step(&plugin->params, step, TRTLLM4J_HOST, needed);
    if (status != TRTLLM4J_OK) return status;
    cpu_attention_run(&plugin->params, step, plugin->threads);
    return TRTLLM4J_OK;
}

static void destroy(trtllm4j_plugin *plugin) {
    free(plugin);
}

/* Host memory through the same functions GPU backends give for device memory, so that Java has one
   kind of backend memory; 256-byte alignment as cudaMalloc gives. */
static int32_t allocate(int64_t bytes, void **pointer) {
    if (pointer == NULL || bytes < 1) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "allocate: bytes = %lld, pointer %s: need at least 1 byte and "
                             "a pointer", (long long)bytes, pointer == NULL ? "NULL" : "given");
    }
    size_t rounded = ((size_t)bytes + 255) / 256 * 256;
    *pointer = aligned_alloc(256, rounded);
    if (*pointer == NULL) {
        return trtllm4j_fail(TRTLLM4J_OUT_OF_MEMORY, "allocate: no host memory for %lld bytes", (long long)bytes);
    }
    return TRTLLM4J_OK;
}

static int32_t release(void *pointer) {
    free(pointer);
    return TRTLLM4J_OK;
}

static int32_t copy(void *destination, const void *source, int64_t bytes, int32_t kind) {
    if (bytes < 0 || (bytes > 0 && (destination == NULL || source == NULL)) || kind < TRTLLM4J_HOST_TO_DEVICE ||
        kind > TRTLLM4J_DEVICE_TO_DEVICE) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "copy: bytes = %lld, kind = %d: need bytes >= 0, non-NULL "
                             "pointers and a trtllm4j_copy_kind", (long long)bytes, kind);
    }
    memmove(destination, source, (size_t)bytes); /* every kind is host to host here */
    return TRTLLM4J_OK;
}

static int32_t fill(void *pointer, int32_t value, int64_t bytes) {
    if (bytes < 0 || (bytes > 0 && pointer == NULL)) {
        return trtllm4j_fail(TRTLLM4J_INVALID_ARGUMENT, "fill: bytes = %lld: need bytes >= 0 and a pointer",
                             (long long)bytes);
    }
    memset(pointer, value & 0xff, (size_t)bytes);
    return TRTLLM4J_OK;
}

static const trtllm4j_backend_api api = {
    .abi_version = TRTLLM4J_ABI_VERSION,
    .name = "cpu",
    .tensor_location = TRTLLM4J_HOST,
    .describe = describe,
    .create = create,
    .workspace_size = workspace_size,
    .enqueue = enqueue,
    .destroy = destroy,
    .last_error = trtllm4j_last_error,
    .layout = trtllm4j_abi_layout,
    .allocate = allocate,
    .release = release,
    .copy = copy,
    .fill = fill,
    /* No driver to check, no device memory to report, no streams: a step is done when enqueue returns.
       No options and no engines either: those members stay NULL. */
};

__attribute__((visibility("default"))) const trtllm4j_backend_api *trtllm4j_backend(void) {
    return &api;
}
