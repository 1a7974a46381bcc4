package dev.trtllm4j.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Typed reads of JSON object keys whose failures name the file and the key, so that a user learns
 * which line of which file to fix.
 */
final class JsonKeys {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final JsonNode node;
    private final String source;

    JsonKeys(JsonNode node, String source) {
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(source + ": not a JSON object");
        }
        this.node = node;
        this.source = source;
    }

    /** Reads a file as a JSON object; a missing or malformed file is an error naming it. */
    static JsonNode readObject(Path path) {
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(path + ": cannot be read: " + e.getMessage());
        }
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(path + ": not valid JSON: " + e.getOriginalMessage()
                    + " (line " + e.getLocation().getLineNr() + ")");
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException(path + ": not a JSON object");
        }
        return node;
    }

    String source() {
        return source;
    }

    JsonNode node() {
        return node;
    }

    /** Whether the key is present with a non-null value. */
    boolean has(String key) {
        JsonNode value = node.get(key);
        return value != null && !value.isNull();
    }

    JsonNode get(String key) {
        return has(key) ? node.get(key) : null;
    }

    int requiredInt(String key) {
        requirePresent(key);
        return intValue(key);
    }

    int optionalInt(String key, int defaultValue) {
        return has(key) ? intValue(key) : defaultValue;
    }

    double requiredDouble(String key) {
        requirePresent(key);
        return doubleValue(key);
    }

    double optionalDouble(String key, double defaultValue) {
        return has(key) ? doubleValue(key) : defaultValue;
    }

    boolean optionalBoolean(String key, boolean defaultValue) {
        if (!has(key)) {
            return defaultValue;
        }
        JsonNode value = node.get(key);
        if (!value.isBoolean()) {
            throw wrongType(key, "true or false", value);
        }
        return value.asBoolean();
    }

    String requiredString(String key) {
        requirePresent(key);
        return stringValue(key);
    }

    String optionalString(String key, String defaultValue) {
        return has(key) ? stringValue(key) : defaultValue;
    }

    /** The key's object, as keys of the same source; null when absent. */
    JsonKeys optionalObject(String key) {
        if (!has(key)) {
            return null;
        }
        JsonNode value = node.get(key);
        if (!value.isObject()) {
            throw wrongType(key, "a JSON object", value);
        }
        return new JsonKeys(value, source + ": " + key);
    }

    IllegalArgumentException problem(String key, String rule) {
        return new IllegalArgumentException(source + ": key '" + key + "' " + rule);
    }

    private void requirePresent(String key) {
        if (!has(key)) {
            throw new IllegalArgumentException(source + ": missing required key '" + key + "'");
        }
    }

    private int intValue(String key) {
        JsonNode value = node.get(key);
        if (!value.isNumber() || value.asDouble() != Math.rint(value.asDouble())
                || Math.abs(value.asDouble()) > Integer.MAX_VALUE) {
            throw wrongType(key, "an integer", value);
        }
        return (int) value.asDouble();
    }

    private double doubleValue(String key) {
        JsonNode value = node.get(key);
        if (!value.isNumber()) {
            throw wrongType(key, "a number", value);
        }
        return value.asDouble();
    }

    private String stringValue(String key) {
        JsonNode value = node.get(key);
        if (!value.isTextual()) {
            throw wrongType(key, "a string", value);
        }
        return value.asText();
    }

    private IllegalArgumentException wrongType(String key, String expected, JsonNode value) {
        return new IllegalArgumentException(source + ": key '" + key + "' must be " + expected + ", got " + value);
    }
}
