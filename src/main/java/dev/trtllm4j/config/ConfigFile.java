package dev.trtllm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.trtllm4j.attention.GptAttentionConfig;
import java.nio.file.Path;

/**
 * A configuration file of one of the kinds trtllm4j reads, recognised by its keys, and the GPT
 * attention plugin configuration it yields.
 *
 * @param path the file
 * @param kind what the file is
 * @param json its JSON object
 */
public record ConfigFile(Path path, Kind kind, JsonNode json) {

    /** The kinds of file, and the key that tells each apart. */
    public enum Kind {
        /** A Hugging Face {@code config.json}: it has {@code model_type}. */
        HUGGING_FACE("Hugging Face config"),
        /** TensorRT-LLM's checkpoint {@code config.json}: it has {@code architecture}. */
        CHECKPOINT("TensorRT-LLM checkpoint config"),
        /** A {@code trtllm-build} build config: it has {@code plugin_config} or {@code max_seq_len}. */
        BUILD("trtllm-build build config"),
        /** A plugin-field file: any other JSON object, whose keys must be plugin field names. */
        PLUGIN_FIELDS("plugin-field file");

        private final String description;

        Kind(String description) {
            this.description = description;
        }

        /** How the tool names the kind to users. */
        public String description() {
            return description;
        }
    }

    /**
     * Reads a file and recognises its kind.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read or is not a JSON object
     */
    public static ConfigFile read(Path path) {
        JsonNode json = JsonKeys.readObject(path);
        Kind kind;
        if (json.has("architecture")) {
            kind = Kind.CHECKPOINT;
        } else if (json.has("model_type")) {
            kind = Kind.HUGGING_FACE;
        } else if (json.has("plugin_config") || json.has("max_seq_len")) {
            kind = Kind.BUILD;
        } else {
            // Anything else is read as plugin fields, so that a misspelt field name is reported as
            // an unknown key rather than as a file of no known kind.
            kind = Kind.PLUGIN_FIELDS;
        }
        return new ConfigFile(path, kind, json);
    }

    /**
     * The GPT attention plugin configuration this file yields for a layer.
     *
     * @param layer the layer, for Hugging Face and checkpoint configs; a plugin-field file names its
     *     own {@code layer_idx}
     * @param build the build config for Hugging Face and checkpoint configs, or null for
     *     {@link BuildConfig#defaults trtllm-build's defaults}
     * @throws IllegalArgumentException naming the file and the key when it yields no valid configuration
     */
    public GptAttentionConfig attentionConfig(int layer, BuildConfig build) {
        return switch (kind) {
            case PLUGIN_FIELDS -> PluginFieldFile.parse(json, path.toString());
            case HUGGING_FACE, CHECKPOINT -> {
                CheckpointConfig checkpoint = checkpoint();
                yield checkpoint.attentionConfig(build == null ? BuildConfig.defaults(checkpoint) : build, layer);
            }
            case BUILD -> throw noModel();
        };
    }

    /**
     * The plugin fields this file yields for a layer, not yet checked against the plugin's rules: what
     * {@link #attentionConfig} builds, for showing a configuration that breaks a rule.
     *
     * @throws IllegalArgumentException naming the file and the key when a key is missing, unknown or invalid
     */
    public GptAttentionConfig.Builder attentionBuilder(int layer, BuildConfig build) {
        return switch (kind) {
            case PLUGIN_FIELDS -> PluginFieldFile.builder(json, path.toString());
            case HUGGING_FACE, CHECKPOINT -> {
                CheckpointConfig checkpoint = checkpoint();
                yield checkpoint.attentionBuilder(build == null ? BuildConfig.defaults(checkpoint) : build, layer);
            }
            case BUILD -> throw noModel();
        };
    }

    private IllegalArgumentException noModel() {
        return new IllegalArgumentException(path + ": a trtllm-build build config holds no model;"
                + " give the checkpoint config, with this file as its build config");
    }

    /**
     * The checkpoint config of a Hugging Face or checkpoint file (a Hugging Face one converted with
     * the dtype {@code auto}).
     *
     * @throws IllegalArgumentException naming the file when it is of another kind or invalid
     */
    public CheckpointConfig checkpoint() {
        return switch (kind) {
            case HUGGING_FACE -> HuggingFaceConfig.convert(json, path.toString(), null);
            case CHECKPOINT -> CheckpointConfig.parse(json, path.toString());
            default -> throw new IllegalArgumentException(path + ": a " + kind.description() + ", not a model config");
        };
    }
}
