package dev.trtllm4j.cli;

import picocli.CommandLine.Command;

/** {@code trtllm4j attention}: run the GPT attention plugin. */
@Command(
        name = "attention",
        mixinStandardHelpOptions = true,
        description = {
            "Runs the GPT attention plugin on a backend.",
            "",
            "Example:",
            "  trtllm4j attention run --config fields.json --input step.safetensors --output out.safetensors"
        },
        subcommands = {AttentionRunCommand.class})
final class AttentionCommand {}
