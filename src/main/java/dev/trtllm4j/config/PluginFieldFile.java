package dev.trtllm4j.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.attention.RotaryScalingParameters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The plugin-field file of the {@code trtllm4j} tool: a JSON object whose keys are the GPT attention
 * plugin's field names exactly as TensorRT-LLM spells them, with numbers, booleans, or names for enum
 * fields ({@code "rope_gpt_neox"}, {@code "llama3"}, {@code "bfloat16"}); {@code cp_group} is a list.
 * Fields left out take TensorRT-LLM's defaults.
 *
 * <p>One more key is allowed: {@code rotary_scaling}, TensorRT-LLM's dictionary of the scaling
 * parameters that are not plugin fields but shape the RoPE tables ({@code low_freq_factor},
 * {@code high_freq_factor}, {@code beta_fast}, {@code beta_slow}, {@code mscale},
 * {@code mscale_all_dim}, {@code short_factor}, {@code long_factor}). Any other key is an error.
 *
 * {@snippet lang=json :
 * {
 *   "num_heads": 32, "num_kv_heads": 8, "head_size": 128, "max_context_length": 8192,
 *   "position_embedding_type": "rope_gpt_neox", "rotary_embedding_dim": 128,
 *   "rotary_embedding_base": 500000.0, "type_id": "float32"
 * }
 * }
 */
public final class PluginFieldFile {

    /** The extra key holding the scaling parameters. */
    public static final String ROTARY_SCALING_KEY = "rotary_scaling";

    private static final List<String> SCALING_KEYS = List.of("low_freq_factor", "high_freq_factor", "beta_fast",
            "beta_slow", "mscale", "mscale_all_dim", "short_factor", "long_factor");

    private PluginFieldFile() {}

    /**
     * Reads a plugin-field file.
     *
     * @throws IllegalArgumentException naming the file and the key when a key is unknown, a value has
     *     the wrong kind, or the fields break a rule of the plugin
     */
    public static GptAttentionConfig read(Path path) {
        return parse(JsonKeys.readObject(path), path.toString());
    }

    /**
     * A configuration from the JSON of a plugin-field file.
     *
     * @param source how to name the file in error messages
     * @throws IllegalArgumentException naming the source and the key when a key is unknown, a value
     *     has the wrong kind, or the fields break a rule of the plugin
     */
    public static GptAttentionConfig parse(JsonNode json, String source) {
        GptAttentionConfig.Builder builder = builder(json, source);
        try {
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    /**
     * The fields of a plugin-field file's JSON, not yet checked against the plugin's rules.
     *
     * @param source how to name the file in error messages
     * @throws IllegalArgumentException naming the source and the key when a key is unknown or a value
     *     has the wrong kind
     */
    public static GptAttentionConfig.Builder builder(JsonNode json, String source) {
        JsonKeys keys = new JsonKeys(json, source);
        GptAttentionConfig.Builder builder = GptAttentionConfig.builder();
        for (Map.Entry<String, JsonNode> entry : json.properties()) {
            String key = entry.getKey();
            if (key.equals(ROTARY_SCALING_KEY)) {
                continue;
            }
            GptAttentionField field;
            try {
                field = GptAttentionField.byName(key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": unknown key '" + key
                        + "': not a GPT attention plugin field (names are TensorRT-LLM's, such as num_heads)");
            }
            try {
                builder.set(field, value(entry.getValue()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
            }
        }
        JsonKeys scaling = keys.optionalObject(ROTARY_SCALING_KEY);
        if (scaling != null) {
            builder.rotaryScaling(scalingParameters(scaling));
        }
        return builder;
    }

    /** The file's JSON for a configuration: every field, enums by name, and the scaling parameters. */
    public static ObjectNode toJsonNode(GptAttentionConfig config) {
        ObjectNode json = JsonKeys.JSON.createObjectNode();
        for (GptAttentionField field : GptAttentionField.values()) {
            Object value = config.get(field);
            switch (field.kind()) {
                case ENUM -> json.put(field.fieldName(), config.displayValue(field));
                case BOOLEAN -> json.put(field.fieldName(), config.flag(field));
                case FLOAT -> json.put(field.fieldName(), (Float) value);
                case INT -> json.put(field.fieldName(), (Integer) value);
                case INT_LIST -> {
                    ArrayNode list = json.putArray(field.fieldName());
                    for (int element : (int[]) value) {
                        list.add(element);
                    }
                }
            }
        }
        RotaryScalingParameters p = config.rotaryScaling();
        ObjectNode scaling = json.putObject(ROTARY_SCALING_KEY);
        scaling.put("low_freq_factor", p.lowFreqFactor()).put("high_freq_factor", p.highFreqFactor())
                .put("beta_fast", p.betaFast()).put("beta_slow", p.betaSlow())
                .put("mscale", p.mscale()).put("mscale_all_dim", p.mscaleAllDim());
        p.shortFactors().forEach(scaling.putArray("short_factor")::add);
        p.longFactors().forEach(scaling.putArray("long_factor")::add);
        return json;
    }

    /** Writes a plugin-field file for a configuration. */
    public static void write(Path path, GptAttentionConfig config) throws IOException {
        Files.writeString(path, toJsonNode(config).toPrettyString() + System.lineSeparator());
    }

    private static Object value(JsonNode node) {
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        if (node.isNumber()) {
            return node.isIntegralNumber() ? (Object) node.asLong() : (Object) node.asDouble();
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(element -> list.add(value(element)));
            return list;
        }
        // Objects and nulls have no field meaning; the field's own check names it.
        return node.toString();
    }

    private static RotaryScalingParameters scalingParameters(JsonKeys scaling) {
        for (Map.Entry<String, JsonNode> entry : scaling.node().properties()) {
            String key = entry.getKey();
            if (!SCALING_KEYS.contains(key)) {
                throw scaling.problem(key, "is unknown: rotary_scaling takes " + String.join(", ", SCALING_KEYS)
                        + " (the variant and factor are the fields rotary_embedding_scale_type and rotary_embedding_scale)");
            }
        }
        RotaryScalingParameters d = RotaryScalingParameters.DEFAULTS;
        return d.withLlama3(scaling.optionalDouble("low_freq_factor", d.lowFreqFactor()),
                        scaling.optionalDouble("high_freq_factor", d.highFreqFactor()))
                .withYarn(scaling.optionalDouble("beta_fast", d.betaFast()), scaling.optionalDouble("beta_slow", d.betaSlow()),
                        scaling.optionalDouble("mscale", d.mscale()), scaling.optionalDouble("mscale_all_dim", d.mscaleAllDim()))
                .withLongRope(scaling.has("short_factor") ? CheckpointConfig.factors(scaling, "short_factor") : List.of(),
                        scaling.has("long_factor") ? CheckpointConfig.factors(scaling, "long_factor") : List.of());
    }
}
