package dev.trtllm4j.runtime;

import java.util.List;

/** No library for a backend could be loaded; the message lists every place that was tried. */
public final class BackendNotFoundException extends TrtLlmException {

    private final List<String> attempts;

    BackendNotFoundException(String backend, List<String> attempts) {
        super("no library for backend '" + backend + "' could be loaded; tried:\n  - "
                + String.join("\n  - ", attempts));
        this.attempts = List.copyOf(attempts);
    }

    /** One line per place tried, in the order tried. */
    public List<String> attempts() {
        return attempts;
    }
}
