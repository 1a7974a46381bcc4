/*
 * Which RoPE angles a sequence's tokens get: the rule every backend shares (CPU, CUDA, the TensorRT
 * plugin), so that they rotate alike. Plain C11 that also compiles as C++17 and CUDA, where the
 * functions are host and device functions.
 *
 * TensorRT-LLM decides two things per step that the tables alone do not say:
 *
 * - Dynamic NTK grows the base per sequence, from that sequence's own length, once it passes
 *   rotary_embedding_max_positions (update_rotary_base_n_scale in
 *   cpp/tensorrt_llm/kernels/decoderMaskedMultiheadAttentionUtils.h). The length is the sequence's
 *   KV length after the step for a context request (computeSeqAndPaddingOffsets in
 *   cpp/tensorrt_llm/kernels/gptKernels.cu, from seqKVLengths[b]) and the KV length before the new
 *   token for a generation request (the masked MHA kernel's tlength, sequence length - 1, in
 *   decoderMaskedMultiheadAttentionTemplate.h). Past it, angles come from the grown base, not from
 *   rotary_cos_sin, for every position of that sequence.
 * - long_rope picks the long-factor tables over the short ones batch-wide, but separately for the
 *   context requests and for the generation requests of a batch (GPTAttentionPlugin::enqueueSome in
 *   cpp/tensorrt_llm/plugins/gptAttentionPlugin/gptAttentionPlugin.cpp runs once per group and
 *   compares the group's longest host_context_lengths with rotary_embedding_original_max_positions).
 *   host_context_lengths is a context request's new tokens; for a generation request it is its
 *   prompt's length, which this ABI does not carry: here a generation request counts its length
 *   after the step (past + 1), Hugging Face's rule. The two differ only for a sequence whose prompt
 *   fitted the original context and whose generation has since passed it.
 */
#ifndef TRTLLM4J_ROTARY_H
#define TRTLLM4J_ROTARY_H

#include <math.h>
#include <stdint.h>

#include "plugin_params.h"

#ifdef __CUDACC__
#define TRTLLM4J_ROTARY_FN static inline __host__ __device__
#else
#define TRTLLM4J_ROTARY_FN static inline
#endif

/* The length dynamic NTK scaling grows the base from, for one sequence of the step. */
TRTLLM4J_ROTARY_FN int32_t trtllm4j_rotary_dynamic_length(int32_t request_type, int32_t past_length,
                                                          int32_t input_length) {
    return request_type == TRTLLM4J_REQUEST_GENERATION ? past_length : past_length + input_length;
}

/* The length a sequence brings to its group's long_rope choice (see above). */
TRTLLM4J_ROTARY_FN int32_t trtllm4j_long_rope_length(int32_t request_type, int32_t past_length,
                                                     int32_t input_length) {
    return request_type == TRTLLM4J_REQUEST_GENERATION ? past_length + 1 : input_length;
}

/* Whether the sequences of request_type in this batch use the long-factor tables. */
TRTLLM4J_ROTARY_FN int trtllm4j_long_rope_uses_long(const trtllm4j_params *p, int32_t batch_size,
                                                    const int32_t *request_types, const int32_t *past_lengths,
                                                    const int32_t *input_lengths, int32_t request_type) {
    if (p->position_embedding_type != POS_LONG_ROPE) return 0;
    int32_t longest = 0;
    for (int32_t b = 0; b < batch_size; b++) {
        if (request_types[b] != request_type) continue;
        int32_t length = trtllm4j_long_rope_length(request_type, past_lengths[b], input_lengths[b]);
        if (length > longest) longest = length;
    }
    return longest > p->rotary_embedding_original_max_positions;
}

/* Whether a sequence of this dynamic length rotates with a grown base instead of the table. */
TRTLLM4J_ROTARY_FN int trtllm4j_rotary_grows_base(const trtllm4j_params *p, int32_t dynamic_length) {
    return p->rotary_embedding_scale_type == SCALE_DYNAMIC && dynamic_length > p->rotary_embedding_max_positions;
}

/* Dynamic NTK's base for a sequence of this length: base (s L / max - (s - 1))^(d / (d - 2)). */
TRTLLM4J_ROTARY_FN double trtllm4j_rotary_grown_base(const trtllm4j_params *p, int32_t dynamic_length) {
    double scale = p->rotary_embedding_scale;
    double dim = p->rotary_embedding_dim;
    double growth = scale * dynamic_length / p->rotary_embedding_max_positions - (scale - 1.0);
    return p->rotary_embedding_base * pow(growth, dim / (dim - 2.0));
}

/*
 * cos and sin of pair i at position pos for a sequence of this dynamic length: from cos_sin
 * ([positions][rotary_embedding_dim / 2][cos, sin]), or from the grown base past max positions.
 * Double precision for the grown angles, as the tables are computed, then rounded once to float.
 */
/* cos and sin of pair i at position pos from a grown base, in double, rounded once to float. */
TRTLLM4J_ROTARY_FN void trtllm4j_rotary_grown_cos_sin(double base, int32_t rotary_embedding_dim, int32_t pos, int32_t i,
                                                      float *cos_out, float *sin_out) {
    double angle = pos * pow(base, -2.0 * i / rotary_embedding_dim);
    *cos_out = (float)cos(angle);
    *sin_out = (float)sin(angle);
}

TRTLLM4J_ROTARY_FN void trtllm4j_rotary_cos_sin(const trtllm4j_params *p, const float *cos_sin,
                                                int32_t dynamic_length, int32_t pos, int32_t i, float *cos_out,
                                                float *sin_out) {
    if (trtllm4j_rotary_grows_base(p, dynamic_length)) {
        trtllm4j_rotary_grown_cos_sin(trtllm4j_rotary_grown_base(p, dynamic_length), p->rotary_embedding_dim, pos, i,
                                      cos_out, sin_out);
        return;
    }
    const float *pair = cos_sin + ((int64_t)pos * (p->rotary_embedding_dim / 2) + i) * 2;
    *cos_out = pair[0];
    *sin_out = pair[1];
}

#endif
