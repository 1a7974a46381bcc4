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
 * {@link #read} turns such a collection, as a backend hands one back, into a configuration again.
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

    /**
     * The fields of a native collection, as a builder: what a backend reports a plugin was made from
     * (an engine file's fields). Fields it lacks keep TensorRT-LLM's defaults; the scaling parameters
     * that are no plugin fields keep theirs, so set them on the builder where the RoPE variant needs them.
     *
     * @param collection a {@code PluginFieldCollection} struct and the fields it points to
     * @throws IllegalArgumentException naming the field when its name is not a GPT attention field or
     *     its wire type or length is not the field's
     */
    public static GptAttentionConfig.Builder read(MemorySegment collection) {
        MemorySegment struct = collection.reinterpret(trtllm4j_plugin_field_collection.layout().byteSize());
        int count = trtllm4j_plugin_field_collection.nb_fields(struct);
        MemorySegment fields = trtllm4j_plugin_field_collection.fields(struct)
                .reinterpret(count * trtllm4j_plugin_field.layout().byteSize());
        GptAttentionConfig.Builder builder = GptAttentionConfig.builder();
        for (int i = 0; i < count; i++) {
            MemorySegment entry = trtllm4j_plugin_field.asSlice(fields, i);
            // A field name is a short C string; no field is longer than 64 bytes.
            String name = trtllm4j_plugin_field.name(entry).reinterpret(64).getString(0);
            GptAttentionField field = GptAttentionField.byName(name);
            int type = trtllm4j_plugin_field.type(entry);
            int length = trtllm4j_plugin_field.length(entry);
            boolean list = field.kind() == GptAttentionField.ValueKind.INT_LIST;
            if (type != field.wireType().code() || length < 0 || (!list && length != 1)) {
                throw new IllegalArgumentException(name + ": plugin field of type " + type + " and length " + length
                        + "; the field is " + field.wireType().tensorRtName() + (list ? " [n]" : " [1]"));
            }
            MemorySegment data = trtllm4j_plugin_field.data(entry).reinterpret((long) length * field.wireType().byteSize());
            builder.set(field, switch (field.wireType()) {
                case FLOAT32 -> data.get(ValueLayout.JAVA_FLOAT, 0);
                case INT8 -> (int) data.get(ValueLayout.JAVA_BYTE, 0);
                case INT32 -> list ? data.toArray(ValueLayout.JAVA_INT) : (Object) data.get(ValueLayout.JAVA_INT, 0);
            });
        }
        return builder;
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
