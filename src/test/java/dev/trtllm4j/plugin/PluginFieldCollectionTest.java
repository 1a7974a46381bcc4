package dev.trtllm4j.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The collection read back from native memory with raw offsets of TensorRT 10's structs
 * ({@code PluginField}: name@0, data@8, type@16, length@20, 24 bytes; {@code PluginFieldCollection}:
 * nbFields@0, fields@8), not with the bindings that wrote it.
 */
class PluginFieldCollectionTest {

    private static final int FLOAT32 = 1, INT8 = 3, INT32 = 5;

    record Field(int type, int length, Object value) {}

    private static Map<String, Field> readBack(MemorySegment collection) {
        int count = collection.get(ValueLayout.JAVA_INT, 0);
        MemorySegment fields = collection.get(ValueLayout.ADDRESS, 8).reinterpret(24L * count);
        Map<String, Field> read = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            long at = 24L * i;
            String name = fields.get(ValueLayout.ADDRESS, at).reinterpret(256).getString(0);
            int type = fields.get(ValueLayout.JAVA_INT, at + 16);
            int length = fields.get(ValueLayout.JAVA_INT, at + 20);
            MemorySegment data = fields.get(ValueLayout.ADDRESS, at + 8).reinterpret(4L * length);
            Object value = switch (type) {
                case FLOAT32 -> data.get(ValueLayout.JAVA_FLOAT, 0);
                case INT8 -> (int) data.get(ValueLayout.JAVA_BYTE, 0);
                case INT32 -> length == 1 ? data.get(ValueLayout.JAVA_INT, 0) : data.toArray(ValueLayout.JAVA_INT);
                default -> throw new AssertionError(name + " has type " + type);
            };
            read.put(name, new Field(type, length, value));
        }
        return read;
    }

    private static GptAttentionConfig llama() {
        return GptAttentionConfig.builder().layerIdx(3).numHeads(32).numKvHeads(8).headSize(128)
                .maxContextLength(8192).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(128).rotaryEmbeddingBase(500000f)
                .rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3).rotaryEmbeddingScale(8f)
                .typeId(DataType.BFLOAT16).pagedKvCache(true).cpGroup(0, 1).cpSize(2).build();
    }

    @Test
    void holdsEveryFieldWithNameTypeLengthAndValue() {
        GptAttentionConfig config = llama();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Field> read = readBack(PluginFieldCollection.allocate(config, arena));
            assertThat(read.keySet()).hasSize(58);
            for (GptAttentionField field : GptAttentionField.values()) {
                Field native_ = read.get(field.fieldName());
                assertThat(native_).as(field.fieldName()).isNotNull();
                assertThat(native_.type()).as(field.fieldName()).isEqualTo(field.wireType().code());
                Object expected = config.get(field);
                if (expected instanceof int[] list) {
                    assertThat(native_.length()).isEqualTo(list.length);
                    assertThat((int[]) native_.value()).containsExactly(list);
                } else {
                    assertThat(native_.length()).as(field.fieldName()).isEqualTo(1);
                    assertThat(native_.value()).as(field.fieldName()).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void writesTheValuesAUserSetInTensorRtLlmsEncoding() {
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Field> read = readBack(PluginFieldCollection.allocate(llama(), arena));
            assertThat(read.get("layer_idx")).isEqualTo(new Field(INT32, 1, 3));
            assertThat(read.get("position_embedding_type")).isEqualTo(new Field(INT8, 1, 2));
            assertThat(read.get("rotary_embedding_dim")).isEqualTo(new Field(INT32, 1, 128));
            assertThat(read.get("rotary_embedding_base")).isEqualTo(new Field(FLOAT32, 1, 500000f));
            assertThat(read.get("rotary_embedding_scale_type")).isEqualTo(new Field(INT8, 1, 4));
            assertThat(read.get("type_id")).isEqualTo(new Field(INT32, 1, 7));
            assertThat(read.get("paged_kv_cache")).isEqualTo(new Field(INT32, 1, 1));
            assertThat(read.get("use_cache")).isEqualTo(new Field(INT32, 1, 1));
            assertThat(read.get("remove_input_padding")).isEqualTo(new Field(INT8, 1, 1));
            assertThat(read.get("block_sparse_homo_head_pattern")).isEqualTo(new Field(INT8, 1, 0));
        }
    }

    @Test
    void structsHaveTensorRtSizes() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(llama(), arena);
            assertThat(collection.byteSize()).isEqualTo(16);
            assertThat(collection.get(ValueLayout.JAVA_INT, 0)).isEqualTo(58);
        }
    }

    /** A collection written with TensorRT's raw offsets: each field given as name, wire type and values. */
    private static MemorySegment handWritten(Arena arena, Object[]... fields) {
        MemorySegment entries = arena.allocate(24L * fields.length, 8);
        for (int i = 0; i < fields.length; i++) {
            String name = (String) fields[i][0];
            int type = (Integer) fields[i][1];
            MemorySegment data = switch (type) {
                case FLOAT32 -> arena.allocateFrom(ValueLayout.JAVA_FLOAT, (Float) fields[i][2]);
                case INT8 -> arena.allocateFrom(ValueLayout.JAVA_BYTE, ((Integer) fields[i][2]).byteValue());
                default -> arena.allocateFrom(ValueLayout.JAVA_INT, (int[]) fields[i][2]);
            };
            long at = 24L * i;
            entries.set(ValueLayout.ADDRESS, at, arena.allocateFrom(name));
            entries.set(ValueLayout.ADDRESS, at + 8, data);
            entries.set(ValueLayout.JAVA_INT, at + 16, type);
            entries.set(ValueLayout.JAVA_INT, at + 20, type == INT32 ? ((int[]) fields[i][2]).length : 1);
        }
        MemorySegment collection = arena.allocate(16, 8);
        collection.set(ValueLayout.JAVA_INT, 0, fields.length);
        collection.set(ValueLayout.ADDRESS, 8, entries);
        return collection;
    }

    @Test
    void readsAHandWrittenCollectionIntoTheConfigurationOfTheSameFields() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = handWritten(arena,
                    new Object[] {"num_heads", INT32, new int[] {8}}, new Object[] {"num_kv_heads", INT32, new int[] {2}},
                    new Object[] {"head_size", INT32, new int[] {64}}, new Object[] {"max_context_length", INT32, new int[] {16}},
                    new Object[] {"position_embedding_type", INT8, 1}, new Object[] {"rotary_embedding_dim", INT32, new int[] {32}},
                    new Object[] {"rotary_embedding_base", FLOAT32, 500000f}, new Object[] {"type_id", INT32, new int[] {1}},
                    new Object[] {"q_scaling", FLOAT32, 0.5f}, new Object[] {"cp_group", INT32, new int[] {0, 1}}, new Object[] {"cp_size", INT32, new int[] {2}});
            GptAttentionConfig expected = GptAttentionConfig.builder().numHeads(8).numKvHeads(2).headSize(64)
                    .maxContextLength(16).positionEmbeddingType(PositionEmbeddingType.ROPE_GPTJ).rotaryEmbeddingDim(32)
                    .rotaryEmbeddingBase(500000f).typeId(DataType.FLOAT16).qScaling(0.5f).cpGroup(0, 1).cpSize(2).build();
            assertThat(PluginFieldCollection.read(collection).build()).isEqualTo(expected);
        }
    }

    @Test
    void readsBackEveryFieldItWrote() {
        try (Arena arena = Arena.ofConfined()) {
            GptAttentionConfig config = llama();
            assertThat(PluginFieldCollection.read(PluginFieldCollection.allocate(config, arena)).build()).isEqualTo(config);
        }
    }

    @Test
    void refusesAFieldOfAnotherWireTypeNamingIt() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = handWritten(arena, new Object[] {"num_heads", FLOAT32, 8f});
            assertThatThrownBy(() -> PluginFieldCollection.read(collection))
                    .hasMessage("num_heads: plugin field of type 1 and length 1; the field is kINT32 [1]");
        }
    }

    @Test
    void refusesANameThatIsNoGptAttentionField() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = handWritten(arena, new Object[] {"num_experts", INT32, new int[] {8}});
            assertThatThrownBy(() -> PluginFieldCollection.read(collection))
                    .hasMessage("unknown GPT attention plugin field 'num_experts'");
        }
    }
}
