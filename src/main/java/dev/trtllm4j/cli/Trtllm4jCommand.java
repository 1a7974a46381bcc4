package dev.trtllm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code trtllm4j} command: the entry point of the tool, in a checkout and in every container image. */
@Command(
        name = "trtllm4j",
        mixinStandardHelpOptions = true,
        versionProvider = Trtllm4jCommand.Version.class,
        description = "TensorRT-LLM's GPT attention plugin from the JVM.",
        subcommands = {DemoCommand.class, ConfigCommand.class, AttentionCommand.class, EngineCommand.class})
public final class Trtllm4jCommand {

    /** Exit code for bad input: a wrong option, file, field or tensor. */
    static final int BAD_INPUT = 2;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with trtllm4j's error handling: one line naming the problem, exit code 2. */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Trtllm4jCommand());
        commandLine.setExecutionExceptionHandler((exception, cmd, parseResult) -> {
            if (exception instanceof IllegalArgumentException) {
                cmd.getErr().println("trtllm4j: " + exception.getMessage());
                return BAD_INPUT;
            }
            throw exception;
        });
        commandLine.setParameterExceptionHandler((exception, args) -> {
            CommandLine cmd = exception.getCommandLine();
            cmd.getErr().println("trtllm4j: " + exception.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help'.");
            return BAD_INPUT;
        });
        return commandLine;
    }

    /** The version from the jar's manifest, or "development" in a build tree. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Trtllm4jCommand.class.getPackage().getImplementationVersion();
            return new String[] {"trtllm4j " + (version == null ? "development" : version)};
        }
    }
}
