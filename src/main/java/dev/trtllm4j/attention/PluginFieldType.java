package dev.trtllm4j.attention;

/** The TensorRT 10 {@code nvinfer1::PluginFieldType} codes that GPT attention fields travel as. */
public enum PluginFieldType {
    FLOAT32(1, 4),
    INT8(3, 1),
    INT32(5, 4);

    private final int code;
    private final int byteSize;

    PluginFieldType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code nvinfer1::PluginFieldType} code. */
    public int code() {
        return code;
    }

    /** Bytes per element on the wire. */
    public int byteSize() {
        return byteSize;
    }

    /** TensorRT's spelling, such as {@code kINT8}. */
    public String tensorRtName() {
        return "k" + name();
    }
}
