package dev.trtllm4j.cli;

import picocli.CommandLine.Command;

/** {@code trtllm4j engine}: TensorRT engines of one GPT attention layer. */
@Command(
        name = "engine",
        mixinStandardHelpOptions = true,
        description = {
            "Builds TensorRT engines of one GPT attention layer (the tensorrt backend).",
            "",
            "Example:",
            "  trtllm4j engine build --config llama-ckpt/config.json --layer 3 --output layer3.engine"
        },
        subcommands = {EngineBuildCommand.class})
final class EngineCommand {}
