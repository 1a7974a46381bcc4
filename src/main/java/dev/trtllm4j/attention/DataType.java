package dev.trtllm4j.attention;

/**
 * The storage types of {@code type_id}: TensorRT's {@code nvinfer1::DataType} codes for the three
 * types the plugin computes in. Accumulation is float32 whatever the storage type.
 */
public enum DataType implements TensorRtLlmEnum {
    FLOAT32(0, "float32", 4),
    FLOAT16(1, "float16", 2),
    BFLOAT16(7, "bfloat16", 2);

    private final int code;
    private final String tensorRtLlmName;
    private final int byteSize;

    DataType(int code, String tensorRtLlmName, int byteSize) {
        this.code = code;
        this.tensorRtLlmName = tensorRtLlmName;
        this.byteSize = byteSize;
    }

    @Override
    public int code() {
        return code;
    }

    @Override
    public String tensorRtLlmName() {
        return tensorRtLlmName;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }
}
