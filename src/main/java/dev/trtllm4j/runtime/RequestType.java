package dev.trtllm4j.runtime;

/** TensorRT-LLM's request types, as {@code host_request_types} carries them. */
public enum RequestType {
    /** A prompt: any number of new tokens. */
    CONTEXT(0),
    /** One generated token. */
    GENERATION(1);

    private final int code;

    RequestType(int code) {
        this.code = code;
    }

    /** The value in {@code host_request_types}. */
    public int code() {
        return code;
    }
}
