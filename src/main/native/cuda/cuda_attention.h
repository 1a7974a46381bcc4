/*
 * The CUDA backend's attention step as a C entry point, shared by the `cuda` backend's function
 * table and by trtllm4j's GPTAttention TensorRT plugin, which builds a trtllm4j_attention_step from
 * TensorRT-LLM's plugin inputs and runs the same kernels.
 */
#ifndef TRTLLM4J_CUDA_ATTENTION_H
#define TRTLLM4J_CUDA_ATTENTION_H

#include "plugin_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Device scratch bytes a step needs: a function of its batch_size, num_tokens and max_seq_len alone. */
int64_t trtllm4j_cuda_workspace_size(const trtllm4j_params *params, const trtllm4j_attention_step *step);

/*
 * Launches one step on step->stream (a cudaStream_t; NULL is the default stream) and returns without
 * waiting. Tensors and the workspace are device memory; the three int32 arrays are host memory,
 * read before this returns. The step must already have passed trtllm4j_check_step. Returns a
 * trtllm4j_status, with the message set on failure.
 */
int32_t trtllm4j_cuda_attention_enqueue(const trtllm4j_params *params, const trtllm4j_attention_step *step);

#ifdef __cplusplus
}
#endif

#endif
