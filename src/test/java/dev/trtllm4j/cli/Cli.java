package dev.trtllm4j.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Path;
import picocli.CommandLine;

/** Runs the trtllm4j command in-process with captured output, as main would, without exiting. */
final class Cli {

    record Result(int exitCode, String out, String err) {}

    private Cli() {}

    static Result run(Object... args) {
        CommandLine commandLine = Trtllm4jCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        String[] strings = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            strings[i] = String.valueOf(args[i]);
        }
        int exitCode = commandLine.execute(strings);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** A published Hugging Face config stored under src/test/resources/hf-configs. */
    static Path hfConfig(String model) {
        try {
            return Path.of(Cli.class.getResource("/hf-configs/" + model + "/config.json").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
