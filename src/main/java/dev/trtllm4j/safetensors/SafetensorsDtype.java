package dev.trtllm4j.safetensors;

/** The safetensors element types trtllm4j reads and writes, by the names the format's header uses. */
public enum SafetensorsDtype {
    /** IEEE 754 binary32. */
    F32(4),
    /** IEEE 754 binary16. */
    F16(2),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(2),
    /** Two's-complement 32-bit integer. */
    I32(4);

    private final int byteSize;

    SafetensorsDtype(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether elements are floating point. */
    public boolean isFloatingPoint() {
        return this != I32;
    }

    /**
     * The dtype a header names.
     *
     * @throws IllegalArgumentException naming the tensor and the dtype when trtllm4j does not read it
     */
    static SafetensorsDtype fromHeader(String tensor, String name) {
        for (SafetensorsDtype dtype : values()) {
            if (dtype.name().equals(name)) {
                return dtype;
            }
        }
        throw new IllegalArgumentException("tensor '" + tensor + "' has dtype " + name
                + ": trtllm4j reads F32, F16, BF16 and I32");
    }
}
