package dev.trtllm4j.attention;

/** TensorRT-LLM's {@code RotaryScalingType} (int8 on the wire): how RoPE frequencies are stretched. */
public enum RotaryScalingType implements TensorRtLlmEnum {
    /** Plain RoPE. */
    NONE(0, "none"),
    /** Positions divided by the factor (position interpolation). */
    LINEAR(1, "linear"),
    /** Dynamic NTK: the base grows once a sequence outgrows {@code rotary_embedding_max_positions}. */
    DYNAMIC(2, "dynamic"),
    /** Phi-3 LongRoPE: per-frequency short and long factors. */
    LONGROPE(3, "longrope"),
    /** Llama 3.1: low frequencies divided by the factor, high kept, a smooth ramp between. */
    LLAMA3(4, "llama3"),
    /** YaRN: NTK-by-parts interpolation plus an attention factor. */
    YARN(5, "yarn"),
    /** Multimodal RoPE sections (Qwen2-VL). */
    MROPE(6, "mrope");

    private final int code;
    private final String tensorRtLlmName;

    RotaryScalingType(int code, String tensorRtLlmName) {
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
}
