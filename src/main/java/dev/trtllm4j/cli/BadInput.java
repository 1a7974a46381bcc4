package dev.trtllm4j.cli;

import dev.trtllm4j.runtime.BackendNotFoundException;
import dev.trtllm4j.runtime.NativeException;
import dev.trtllm4j.runtime.NativeStatus;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Turns failures that are the user's input into the {@link IllegalArgumentException} the root
 * command reports as one line with exit code 2: a file that cannot be read or written, a backend
 * that is not there, a configuration or step a backend rejects.
 */
final class BadInput {

    private BadInput() {}

    static IllegalArgumentException file(Path path, IOException e) {
        String reason = e instanceof NoSuchFileException ? "no such file" : e.getMessage();
        return new IllegalArgumentException(path + ": " + reason, e);
    }

    static IllegalArgumentException backend(BackendNotFoundException e, String name) {
        return new IllegalArgumentException("--backend " + name + ": no library could be loaded (tried: "
                + String.join("; ", e.attempts()) + ")", e);
    }

    /**
     * A rejected configuration or step is bad input; any other native failure is not, and is
     * rethrown as it is.
     */
    static RuntimeException rejected(NativeException e) {
        if (e.status() == NativeStatus.INVALID_ARGUMENT || e.status() == NativeStatus.UNSUPPORTED) {
            return new IllegalArgumentException(e.getMessage(), e);
        }
        return e;
    }
}
