/* Validation of one attention step against the plugin's parameters, shared by every backend. */
#ifndef TRTLLM4J_STEP_CHECK_H
#define TRTLLM4J_STEP_CHECK_H

#include "plugin_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Checks shapes, types, locations and sequence bookkeeping of a step. Tensors must live in
 * tensor_location; the three int32 arrays are always host memory. Returns TRTLLM4J_OK or
 * TRTLLM4J_INVALID_ARGUMENT with a message naming the buffer or the sequence.
 */
int32_t trtllm4j_check_step(const trtllm4j_params *params, const trtllm4j_attention_step *step,
                            int32_t tensor_location, int64_t workspace_bytes);

#ifdef __cplusplus
}
#endif

#endif
