package dev.trtllm4j.testing;

import java.util.List;

/**
 * A command that {@link TrtLlmContainer} ran inside its container exited with a non-zero status.
 * The message names the command, the image and the exit status, and carries the command's standard
 * error, where the {@code trtllm4j} tool names the problem (exit status 2: bad input).
 */
public final class TrtLlmCommandException extends RuntimeException {

    private final List<String> command;
    private final int exitCode;
    private final String stdout;
    private final String stderr;

    TrtLlmCommandException(List<String> command, String image, int exitCode, String stdout, String stderr) {
        super("'" + String.join(" ", command) + "' exited with status " + exitCode + " in a container of " + image
                + (stderr.isBlank() ? "" : ": " + stderr.strip()));
        this.command = List.copyOf(command);
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** The command and its arguments, as run inside the container. */
    public List<String> command() {
        return command;
    }

    /** The command's exit status. */
    public int exitCode() {
        return exitCode;
    }

    /** What the command wrote to standard output. */
    public String stdout() {
        return stdout;
    }

    /** What the command wrote to standard error. */
    public String stderr() {
        return stderr;
    }
}
