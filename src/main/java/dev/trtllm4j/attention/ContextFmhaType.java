package dev.trtllm4j.attention;

/** TensorRT-LLM's {@code ContextFMHAType} (int8 on the wire): the fused context attention kernel. */
public enum ContextFmhaType implements TensorRtLlmEnum {
    DISABLED(0, "disabled"),
    ENABLED(1, "enabled"),
    ENABLED_WITH_FP32_ACC(2, "enabled_with_fp32_acc");

    private final int code;
    private final String tensorRtLlmName;

    ContextFmhaType(int code, String tensorRtLlmName) {
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
