package dev.trtllm4j.runtime;

/** A native call returned an error status; the message is the backend's own. */
public final class NativeException extends TrtLlmException {

    private final NativeStatus status;
    private final String nativeMessage;

    NativeException(String backend, String call, NativeStatus status, String nativeMessage) {
        super(backend + " backend, " + call + ": " + status + ": " + nativeMessage);
        this.status = status;
        this.nativeMessage = nativeMessage;
    }

    /** The status the native call returned. */
    public NativeStatus status() {
        return status;
    }

    /** The backend's message, without the backend and call this exception's message adds. */
    public String nativeMessage() {
        return nativeMessage;
    }
}
