package dev.trtllm4j.safetensors;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contents of a safetensors file: tensors by name, in file order, and the optional
 * {@code __metadata__} strings.
 *
 * @param tensors the tensors by name
 * @param metadata the {@code __metadata__} entries; empty when the file has none
 */
public record SafetensorsFile(Map<String, SafeTensor> tensors, Map<String, String> metadata) {

    /** The reserved header key of the metadata. */
    public static final String METADATA_KEY = "__metadata__";

    public SafetensorsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        if (tensors.containsKey(METADATA_KEY)) {
            throw new IllegalArgumentException("'" + METADATA_KEY + "' is reserved for metadata and cannot name a tensor");
        }
    }

    /**
     * The tensor with this name.
     *
     * @throws IllegalArgumentException naming the missing tensor and the ones present
     */
    public SafeTensor tensor(String name) {
        SafeTensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("no tensor '" + name + "'; the file holds " + tensors.keySet());
        }
        return tensor;
    }
}
