package dev.trtllm4j.cli;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.NativeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code trtllm4j engine build}: a layer's fields to a TensorRT engine file. */
@Command(
        name = "build",
        mixinStandardHelpOptions = true,
        description = {
            "Builds the one-layer TensorRT engine of the tensorrt backend around a GPTAttention plugin made from"
                    + " --config, and writes it to --output: the plugin fields, then TensorRT's plan."
                    + " `trtllm4j attention run --backend tensorrt --engine FILE` runs it; Java opens it with"
                    + " Backend.openEngine.",
            "--config is a plugin-field file or a checkpoint config with --layer (and --build-config), as for"
                    + " `attention run`. The engine's optimisation profile holds at least --max-batch-size sequences,"
                    + " --max-num-tokens tokens a step and --max-seq-len cache positions; larger steps make the"
                    + " backend build a larger engine when they come.",
            "Needs TensorRT 10 (TRTLLM4J_TENSORRT_LIBRARY names the folder of libnvinfer.so.10) and an NVIDIA GPU;"
                    + " an engine runs on GPUs of the compute capability it was built on.",
            "",
            "Examples:",
            "  trtllm4j engine build --config fields.json --output attention.engine",
            "  trtllm4j engine build --config llama-ckpt/config.json --layer 3 --output layer3.engine --max-seq-len 8192",
            "  trtllm4j engine build --config fields.json --output attention.engine"
                    + " --plugin-library /opt/trtllm/libnvinfer_plugin_tensorrt_llm.so --plugin-namespace tensorrt_llm"
        })
final class EngineBuildCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE",
            description = "Plugin-field file, or TensorRT-LLM checkpoint config.json.")
    private Path configFile;

    @Mixin
    private LayerOptions layerOptions;

    @Option(names = "--output", required = true, paramLabel = "FILE.engine", description = "The engine file to write.")
    private Path output;

    @Mixin
    private TensorRtOptionsMixin tensorRt;

    @Override
    public Integer call() {
        GptAttentionConfig config = layerOptions.load(configFile);
        Path folder = output.toAbsolutePath().getParent();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new IllegalArgumentException("--output " + output + ": the folder " + folder + " does not exist");
        }
        tensorRt.options(); // checked before the backend is loaded
        Backend backend = AttentionRunCommand.open("tensorrt", tensorRt);
        GptAttentionPlugin.EngineInfo info;
        try (GptAttentionPlugin plugin = backend.createPlugin(config)) {
            plugin.saveEngine(output);
            info = plugin.engineInfo();
        } catch (NativeException e) {
            throw BadInput.rejected(e);
        }
        spec.commandLine().getOut().printf("wrote %s: GPTAttention layer %d, %s, %s%n", output, config.layerIdx(),
                config.typeId().tensorRtLlmName(), info.fromFile() ? "engine read from the engine cache"
                        : String.format("engine built in %.1f s", info.buildSeconds()));
        return 0;
    }
}
