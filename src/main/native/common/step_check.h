/* Validation of one attention step against the plugin's parameters, shared by every backend. */
#ifndef TRTLLM4J_STEP_CHECK_H
#define TRTLLM4J_STEP_CHECK_H

#include "plugin_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The alignment the workspace's data needs: that of any scalar or vector type a backend keeps in it
 * (malloc's on x86-64; cudaMalloc and TensorRT give 256).
 */
#define TRTLLM4J_WORKSPACE_ALIGNMENT 16

/*
 * Checks shapes, types, locations, alignment and sequence bookkeeping of a step. Tensors must live
 * in tensor_location, each aligned to its element size, the workspace to
 * TRTLLM4J_WORKSPACE_ALIGNMENT; the three int32 arrays are always host memory, and the only data
 * read. Sizes are computed with overflow checks. Returns TRTLLM4J_OK or TRTLLM4J_INVALID_ARGUMENT
 * with a message naming the buffer or the sequence.
 */
int32_t trtllm4j_check_step(const trtllm4j_params *params, const trtllm4j_attention_step *step,
                            int32_t tensor_location, int64_t workspace_bytes);

#ifdef __cplusplus
}
#endif

#endif
