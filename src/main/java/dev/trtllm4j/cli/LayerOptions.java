package dev.trtllm4j.cli;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.config.BuildConfig;
import dev.trtllm4j.config.ConfigFile;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Which layer of a checkpoint config to take, and its build config: options shared by the commands that load one. */
final class LayerOptions {

    @Option(names = "--layer", defaultValue = "0", paramLabel = "N",
            description = "Layer of a checkpoint config (default: ${DEFAULT-VALUE}).")
    private int layer;

    @Option(names = "--build-config", paramLabel = "BUILD.json",
            description = "trtllm-build build config for a checkpoint config.")
    private Path buildConfig;

    /** The layer's configuration from a plugin-field file, or a checkpoint config with a build config. */
    GptAttentionConfig load(Path configFile) {
        ConfigFile file = ConfigFile.read(configFile);
        if (file.kind() == ConfigFile.Kind.PLUGIN_FIELDS) {
            return file.attentionConfig(layer, null);
        }
        if (buildConfig != null) {
            return file.attentionConfig(layer, BuildConfig.read(buildConfig));
        }
        // The input's kv_cache is the contiguous one, whatever trtllm-build's default would be.
        return file.attentionConfig(layer, BuildConfig.defaults(file.checkpoint()).withPagedKvCache(false));
    }
}
