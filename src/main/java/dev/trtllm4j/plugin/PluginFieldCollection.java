package dev.trtllm4j.plugin;

import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.ffi.trtllm4j_plugin_field;
import dev.trtllm4j.ffi.trtllm4j_plugin_field_collection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link GptAttentionConfig} as a TensorRT 10 {@code nvinfer1::PluginFieldCollection} in native
 * memory: the byte layout the {@code GPTAttention} creator's {@code createPlugin} takes unchanged.
 * One {@code PluginField} per {@link GptAttentionField}, in TensorRT-LLM's order, each with the wire
 * type the creator reads (int8 flags, except {@code paged_kv_cache} and {@code use_cache} in int32).
 */
public final class PluginFieldCollection {

    private PluginFieldCollection() {}

    /**
     * Writes the collection, its fields, their names and their values into {@code arena}.
     *
     * @return the {@code PluginFieldCollection} struct, alive as long as the arena
     */
    public static MemorySegment allocate(GptAttentionConfig config, Arena arena) {
        GptAttentionField[] all = GptAttentionField.values();
        MemorySegment fields = trtllm4j_plugin_field.allocateArray(all.length, arena);
        for (GptAttentionField field : all) {
            MemorySegment entry = trtllm4j_plugin_field.asSlice(fields, field.ordinal());
            MemorySegment data = value(config, field, arena);
            trtllm4j_plugin_field.name(entry, arena.allocateFrom(field.fieldName()));
            trtllm4j_plugin_field.data(entry, data);
            trtllm4j_plugin_field.type(entry, field.wireType().code());
            trtllm4j_plugin_field.length(entry, (int) (data.byteSize() / field.wireType().byteSize()));
        }
        MemorySegment collection = trtllm4j_plugin_field_collection.allocate(arena);
        trtllm4j_plugin_field_collection.nb_fields(collection, all.length);
        trtllm4j_plugin_field_collection.fields(collection, fields);
        return collection;
    }

    private static MemorySegment value(GptAttentionConfig config, GptAttentionField field, Arena arena) {
        return switch (field.wireType()) {
            case FLOAT32 -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, config.floatValue(field));
            case INT8 -> arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) config.intValue(field));
            case INT32 -> field.kind() == GptAttentionField.ValueKind.INT_LIST
                    ? arena.allocateFrom(ValueLayout.JAVA_INT, (int[]) config.get(field))
                    : arena.allocateFrom(ValueLayout.JAVA_INT, config.intValue(field));
        };
    }
}
