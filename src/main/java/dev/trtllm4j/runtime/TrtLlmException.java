package dev.trtllm4j.runtime;

/**
 * A failure of a backend: a library that cannot be found or loaded, or a native call that returned
 * an error status. Configuration mistakes are caught earlier, as {@link IllegalArgumentException}s.
 */
public sealed class TrtLlmException extends RuntimeException
        permits BackendNotFoundException, NativeException {

    TrtLlmException(String message) {
        super(message);
    }

    TrtLlmException(String message, Throwable cause) {
        super(message, cause);
    }
}
