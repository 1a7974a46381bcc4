package dev.trtllm4j.runtime;

import dev.trtllm4j.ffi.Trtllm4j;

/** Where a tensor lives ({@code enum trtllm4j_memory_location}): host memory or a GPU's memory. */
public enum MemoryLocation {
    HOST(Trtllm4j.TRTLLM4J_HOST()),
    DEVICE(Trtllm4j.TRTLLM4J_DEVICE());

    private final int code;

    MemoryLocation(int code) {
        this.code = code;
    }

    /** The C value. */
    public int code() {
        return code;
    }

    /** The location with this C value; throws naming an unknown code. */
    static MemoryLocation fromCode(int code) {
        for (MemoryLocation location : values()) {
            if (location.code == code) {
                return location;
            }
        }
        throw new IllegalArgumentException("unknown trtllm4j_memory_location " + code);
    }

    /** Lower-case, as messages name it: "host" or "device". */
    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
