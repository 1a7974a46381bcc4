package dev.trtllm4j.cli;

import picocli.CommandLine.Command;

/** {@code trtllm4j config}: engine configuration files. */
@Command(
        name = "config",
        mixinStandardHelpOptions = true,
        description = {
            "Converts a Hugging Face config.json into TensorRT-LLM's checkpoint and build configs, and shows the"
                    + " GPT attention plugin fields a config yields.",
            "",
            "Examples:",
            "  trtllm4j config convert --hf Llama-3.1-8B/config.json --out llama-3.1-8b-ckpt",
            "  trtllm4j config explain llama-3.1-8b-ckpt/config.json --layer 31"
        },
        subcommands = {ConfigConvertCommand.class, ConfigExplainCommand.class})
final class ConfigCommand {}
