/* The CPU attention step: RoPE, KV-cache update and causal attention, in float32 arithmetic. */
#ifndef TRTLLM4J_CPU_ATTENTION_H
#define TRTLLM4J_CPU_ATTENTION_H

#include "plugin_params.h"

/* Bytes of workspace a step of this shape needs with this many threads. */
int64_t cpu_attention_workspace(const trtllm4j_params *params, const trtllm4j_attention_step *step, int threads);

/* Runs a step that trtllm4j_check_step has accepted. */
void cpu_attention_run(const trtllm4j_params *params, const trtllm4j_attention_step *step, int threads);

#endif
