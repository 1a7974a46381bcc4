package dev.trtllm4j.attention;

/** TensorRT-LLM's {@code AttentionMaskType} (int32 on the wire). */
public enum AttentionMaskType implements TensorRtLlmEnum {
    PADDING(0, "padding"),
    CAUSAL(1, "causal"),
    SLIDING_WINDOW_CAUSAL(2, "sliding_window_causal"),
    BIDIRECTIONAL(3, "bidirectional"),
    BIDIRECTIONALGLM(4, "bidirectionalglm"),
    BLOCKSPARSE(5, "blocksparse"),
    CUSTOM_MASK(6, "custom_mask");

    private final int code;
    private final String tensorRtLlmName;

    AttentionMaskType(int code, String tensorRtLlmName) {
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
