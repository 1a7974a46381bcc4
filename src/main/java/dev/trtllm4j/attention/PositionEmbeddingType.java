package dev.trtllm4j.attention;

/**
 * TensorRT-LLM's {@code PositionEmbeddingType}, with the codes of its C++ {@code gptKernels.h}
 * (int8 on the wire). These codes have changed between TensorRT-LLM versions; these are the 2025 ones.
 */
public enum PositionEmbeddingType implements TensorRtLlmEnum {
    /** Positions are added to embeddings before attention; no rotation here. */
    LEARNED_ABSOLUTE(0, "learned_absolute"),
    /** RoPE rotating interleaved pairs {@code (2i, 2i+1)}, as GPT-J. */
    ROPE_GPTJ(1, "rope_gptj"),
    /** RoPE rotating halves {@code (i, i + rotary_dim/2)}, as GPT-NeoX and Llama. */
    ROPE_GPT_NEOX(2, "rope_gpt_neox"),
    /** Phi-3's LongRoPE: NeoX rotation with short and long frequency factors. */
    LONG_ROPE(3, "long_rope"),
    /** ALiBi: {@code q.k * scale + slope * (j - p)}. */
    ALIBI(4, "alibi"),
    /** ALiBi with the bias inside the scale: {@code (q.k + slope * (j - p)) * scale}. */
    ALIBI_WITH_SCALE(5, "alibi_with_scale"),
    /** T5-style relative attention bias. */
    RELATIVE(6, "relative"),
    /** ChatGLM's 2D rotary embedding. */
    CHATGLM(7, "chatglm"),
    /** YaRN, NeoX rotation with YaRN tables. */
    YARN(8, "yarn"),
    /** Multimodal RoPE (Qwen2-VL). */
    MROPE(9, "mrope");

    private final int code;
    private final String tensorRtLlmName;

    PositionEmbeddingType(int code, String tensorRtLlmName) {
        this.code = code;
        this.tensorRtLlmName = tensorRtLlmName;
    }

    @Override
    public int code() {
        return code;
    }

    @Override
    public String tensorRtLlmName() {
        return tensorRtLlmName;
    }

    /**
     * Whether the plugin treats this type as RoPE ({@code AttentionOp::isRoPE()}): exactly these types
     * need {@code rotary_embedding_dim > 0}, every other type needs 0.
     */
    public boolean isRope() {
        return switch (this) {
            case ROPE_GPTJ, ROPE_GPT_NEOX, LONG_ROPE, YARN, MROPE -> true;
            default -> false;
        };
    }

    /** Whether this type adds ALiBi slopes to the logits. */
    public boolean isAlibi() {
        return this == ALIBI || this == ALIBI_WITH_SCALE;
    }
}
