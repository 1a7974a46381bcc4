package dev.trtllm4j.runtime;

import dev.trtllm4j.ffi.Trtllm4j;

/** The status codes of the bridge ABI ({@code enum trtllm4j_status}). */
public enum NativeStatus {
    OK(Trtllm4j.TRTLLM4J_OK()),
    /** A plugin field or a step buffer broke a rule. */
    INVALID_ARGUMENT(Trtllm4j.TRTLLM4J_INVALID_ARGUMENT()),
    /** Valid for TensorRT-LLM, but not implemented by this backend. */
    UNSUPPORTED(Trtllm4j.TRTLLM4J_UNSUPPORTED()),
    OUT_OF_MEMORY(Trtllm4j.TRTLLM4J_OUT_OF_MEMORY()),
    /** CUDA, TensorRT or another library failed. */
    INTERNAL_ERROR(Trtllm4j.TRTLLM4J_INTERNAL_ERROR());

    private final int code;

    NativeStatus(int code) {
        this.code = code;
    }

    /** The C value. */
    public int code() {
        return code;
    }

    /**
     * The status with this C value.
     *
     * @throws IllegalArgumentException naming the unknown code
     */
    public static NativeStatus fromCode(int code) {
        for (NativeStatus status : values()) {
            if (status.code == code) {
                return status;
            }
        }
        throw new IllegalArgumentException("unknown trtllm4j_status " + code);
    }
}
