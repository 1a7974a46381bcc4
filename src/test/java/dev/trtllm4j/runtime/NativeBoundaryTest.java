package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.ffi.Trtllm4j;
import dev.trtllm4j.ffi.trtllm4j_attention_step;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import dev.trtllm4j.ffi.trtllm4j_buffer;
import dev.trtllm4j.ffi.trtllm4j_plugin_field;
import dev.trtllm4j.ffi.trtllm4j_plugin_field_collection;
import dev.trtllm4j.plugin.PluginFieldCollection;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The CPU backend's own checks at the ABI boundary, reached by calling its function table directly
 * with collections Java would never build: a valid collection patched in native memory.
 */
class NativeBoundaryTest {

    private static final MemorySegment API = Backend.open("cpu").api();

    private static GptAttentionConfig valid() {
        return GptAttentionConfig.builder().numHeads(8).numKvHeads(2).headSize(64).maxContextLength(128)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64)
                .typeId(DataType.FLOAT32).build();
    }

    /** Calls create; returns its status and the thread's message, destroying any plugin made. */
    private static String create(MemorySegment collection, Arena arena) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        int status = trtllm4j_backend_api.create.invoke(trtllm4j_backend_api.create(API), collection, out);
        MemorySegment plugin = out.get(ValueLayout.ADDRESS, 0);
        if (!plugin.equals(MemorySegment.NULL)) {
            trtllm4j_backend_api.destroy.invoke(trtllm4j_backend_api.destroy(API), plugin);
        }
        String message = trtllm4j_backend_api.last_error.invoke(trtllm4j_backend_api.last_error(API))
                .reinterpret(1024).getString(0);
        return NativeStatus.fromCode(status) + ": " + message;
    }

    private static MemorySegment field(MemorySegment collection, String name) {
        int count = trtllm4j_plugin_field_collection.nb_fields(collection);
        MemorySegment fields = trtllm4j_plugin_field_collection.fields(collection)
                .reinterpret(count * trtllm4j_plugin_field.layout().byteSize());
        for (int i = 0; i < count; i++) {
            MemorySegment field = trtllm4j_plugin_field.asSlice(fields, i);
            if (trtllm4j_plugin_field.name(field).reinterpret(64).getString(0).equals(name)) {
                return field;
            }
        }
        throw new AssertionError("no field " + name);
    }

    /** Overwrites the value of a one-element field in place. */
    private static void patch(MemorySegment collection, String name, Number value) {
        MemorySegment field = field(collection, name);
        MemorySegment data = trtllm4j_plugin_field.data(field).reinterpret(4);
        switch (trtllm4j_plugin_field.type(field)) {
            case 1 -> data.set(ValueLayout.JAVA_FLOAT, 0, value.floatValue());
            case 3 -> data.set(ValueLayout.JAVA_BYTE, 0, value.byteValue());
            default -> data.set(ValueLayout.JAVA_INT, 0, value.intValue());
        }
    }

    @Test
    void acceptsTheCollectionJavaBuilds() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(create(PluginFieldCollection.allocate(valid(), arena), arena)).isEqualTo("OK: ");
        }
    }

    static Stream<Arguments> brokenFields() {
        return Stream.of(
                Arguments.of("num_heads", 0, "INVALID_ARGUMENT: num_heads = 0: must be at least 1"),
                Arguments.of("num_kv_heads", 3, "INVALID_ARGUMENT: num_kv_heads = 3: must divide num_heads = 8"),
                Arguments.of("head_size", 100, "INVALID_ARGUMENT: head_size = 100: must be one of the plugin's head"
                        + " sizes [32, 48, 64, 72, 80, 96, 104, 112, 128, 144, 160, 192, 224, 256]"),
                Arguments.of("rotary_embedding_dim", 0, "INVALID_ARGUMENT: rotary_embedding_dim = 0:"
                        + " position_embedding_type 2 is RoPE and needs rotary_embedding_dim > 0"),
                Arguments.of("rotary_embedding_dim", 33, "INVALID_ARGUMENT: rotary_embedding_dim = 33: must be even:"
                        + " RoPE rotates pairs of features"),
                Arguments.of("rotary_embedding_dim", 128, "INVALID_ARGUMENT: rotary_embedding_dim = 128: must be at"
                        + " most head_size = 64"),
                Arguments.of("position_embedding_type", 4, "INVALID_ARGUMENT: rotary_embedding_dim = 64: must be 0"
                        + " for position_embedding_type 4, which is not RoPE"),
                Arguments.of("position_embedding_type", 12, "INVALID_ARGUMENT: position_embedding_type = 12: not a"
                        + " PositionEmbeddingType code (0 to 9)"),
                Arguments.of("type_id", 3, "INVALID_ARGUMENT: type_id = 3: must be float32 (0), float16 (1) or"
                        + " bfloat16 (7)"),
                Arguments.of("tp_rank", 1, "INVALID_ARGUMENT: tp_rank = 1: must be in [0, tp_size = 1)"),
                Arguments.of("q_scaling", -1, "INVALID_ARGUMENT: q_scaling = -1: must be positive and finite"),
                Arguments.of("is_mla_enabled", 1, "INVALID_ARGUMENT: is_mla_enabled = 1: the TensorRT GPT attention"
                        + " plugin rejects MLA; TensorRT-LLM runs MLA in its PyTorch workflow"),
                Arguments.of("num_kv_heads_origin", 1, "INVALID_ARGUMENT: num_kv_heads_origin = 1: must be -1 (same"
                        + " as num_kv_heads) or at least num_kv_heads = 2"),
                Arguments.of("attn_logit_softcapping_scale", -2, "INVALID_ARGUMENT: attn_logit_softcapping_scale = -2:"
                        + " must be 0 (off) or positive"),
                Arguments.of("max_context_length", 0, "INVALID_ARGUMENT: max_context_length = 0: must be at least 1"),
                Arguments.of("layer_idx", -1, "INVALID_ARGUMENT: layer_idx = -1: must be at least 0"),
                Arguments.of("cp_rank", 2, "INVALID_ARGUMENT: cp_rank = 2: must be in [0, cp_size = 1)"),
                Arguments.of("tokens_per_block", 0, "INVALID_ARGUMENT: tokens_per_block = 0: must be at least 1"),
                Arguments.of("rotary_embedding_base", 0, "INVALID_ARGUMENT: rotary_embedding_base = 0: must be"
                        + " positive and finite"),
                Arguments.of("rotary_embedding_scale_type", 9, "INVALID_ARGUMENT: rotary_embedding_scale_type = 9:"
                        + " not a RotaryScalingType code (0 to 6)"),
                Arguments.of("mask_type", 7, "INVALID_ARGUMENT: mask_type = 7: not an AttentionMaskType code (0 to 6)"),
                Arguments.of("paged_kv_cache", 1, "UNSUPPORTED: paged_kv_cache = 1: the cpu backend keeps a"
                        + " contiguous KV cache"),
                Arguments.of("mask_type", 3, "UNSUPPORTED: mask_type = 3: the cpu backend implements causal and"
                        + " sliding_window_causal"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("brokenFields")
    void createRejectsABrokenFieldWithItsRule(String name, Number value, String expected) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            patch(collection, name, value);
            assertThat(create(collection, arena)).isEqualTo(expected);
        }
    }

    static Stream<Arguments> brokenScalings() {
        return Stream.of(
                Arguments.of(1, 0, "INVALID_ARGUMENT: rotary_embedding_scale = 0: must be positive and finite"),
                Arguments.of(2, 0.5, "INVALID_ARGUMENT: rotary_embedding_scale = 0.5: must be a finite factor of at"
                        + " least 1 for this rotary_embedding_scale_type"),
                Arguments.of(4, 0.5, "INVALID_ARGUMENT: rotary_embedding_scale = 0.5: must be a finite factor of at"
                        + " least 1 for this rotary_embedding_scale_type"),
                Arguments.of(5, 0.5, "INVALID_ARGUMENT: rotary_embedding_scale = 0.5: must be a finite factor of at"
                        + " least 1 for this rotary_embedding_scale_type"));
    }

    @ParameterizedTest(name = "scale type {0}, factor {1}")
    @MethodSource("brokenScalings")
    void createRejectsAScalingFactorOutsideItsVariantsRange(int scaleType, double factor, String expected) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            patch(collection, "rotary_embedding_scale_type", scaleType);
            patch(collection, "rotary_embedding_scale", factor);
            assertThat(create(collection, arena)).isEqualTo(expected);
        }
    }

    @Test
    void createRejectsRotaryScalingWithoutRope() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            patch(collection, "position_embedding_type", 0);
            patch(collection, "rotary_embedding_dim", 0);
            patch(collection, "rotary_embedding_scale_type", 1);
            assertThat(create(collection, arena)).isEqualTo("INVALID_ARGUMENT: rotary_embedding_scale_type = 1: needs"
                    + " a RoPE position_embedding_type, not 0");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(GptAttentionField.class)
    void createNamesEachFieldMissingFromTheCollection(GptAttentionField missing) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            // Drop the field by moving the last entry into its place.
            int count = trtllm4j_plugin_field_collection.nb_fields(collection);
            MemorySegment fields = trtllm4j_plugin_field_collection.fields(collection)
                    .reinterpret(count * trtllm4j_plugin_field.layout().byteSize());
            MemorySegment.copy(fields, trtllm4j_plugin_field.layout().byteSize() * (count - 1),
                    field(collection, missing.fieldName()), 0, trtllm4j_plugin_field.layout().byteSize());
            trtllm4j_plugin_field_collection.nb_fields(collection, count - 1);
            assertThat(create(collection, arena)).isEqualTo(
                    "INVALID_ARGUMENT: " + missing.fieldName() + " is missing from the plugin field collection");
        }
    }

    @Test
    void createRejectsAFieldOfTheWrongWireType() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            trtllm4j_plugin_field.type(field(collection, "use_cache"), 3);
            assertThat(create(collection, arena)).isEqualTo(
                    "INVALID_ARGUMENT: use_cache: must be one kINT32 value, got type 3 (kINT8), length 1");
        }
    }

    @Test
    void createRejectsAnUnknownField() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            trtllm4j_plugin_field.name(field(collection, "layer_idx"), arena.allocateFrom("layer_idx_in_cache_pool"));
            assertThat(create(collection, arena)).isEqualTo(
                    "INVALID_ARGUMENT: unknown GPT attention plugin field 'layer_idx_in_cache_pool'");
        }
    }

    @Test
    void createRejectsAQkvRowBeyondInt32() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            patch(collection, "num_heads", 1 << 30);
            patch(collection, "num_kv_heads", 1 << 30);
            // (2^30 + 2 * 2^30) * 64: the sum alone already passes int32's range.
            assertThat(create(collection, arena)).isEqualTo("INVALID_ARGUMENT: num_heads = 1073741824, num_kv_heads ="
                    + " 1073741824: a qkv row of (num_heads + 2 * num_kv_heads) * head_size = 206158430208 elements"
                    + " must fit in int32");
        }
    }

    @Test
    void createRejectsACpGroupLongerThanCpSize() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            MemorySegment cpGroup = field(collection, "cp_group");
            trtllm4j_plugin_field.data(cpGroup, arena.allocateFrom(ValueLayout.JAVA_INT, 0, 1));
            trtllm4j_plugin_field.length(cpGroup, 2);
            assertThat(create(collection, arena)).isEqualTo("INVALID_ARGUMENT: cp_group: 2 ranks, but cp_size = 1: it"
                    + " lists the ranks of the context-parallel group");
        }
    }

    @Test
    void createRejectsACpGroupListingARankTwice() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            MemorySegment cpGroup = field(collection, "cp_group");
            trtllm4j_plugin_field.data(cpGroup, arena.allocateFrom(ValueLayout.JAVA_INT, 3, 3));
            trtllm4j_plugin_field.length(cpGroup, 2);
            patch(collection, "cp_size", 2);
            assertThat(create(collection, arena)).isEqualTo("INVALID_ARGUMENT: cp_group: rank 3 is listed twice: the"
                    + " group holds cp_size = 2 distinct ranks");
        }
    }

    @Test
    void createAcceptsACpGroupOfCpSizeRanks() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment collection = PluginFieldCollection.allocate(valid(), arena);
            MemorySegment cpGroup = field(collection, "cp_group");
            trtllm4j_plugin_field.data(cpGroup, arena.allocateFrom(ValueLayout.JAVA_INT, 3, 1));
            trtllm4j_plugin_field.length(cpGroup, 2);
            patch(collection, "cp_size", 2);
            // Valid for TensorRT-LLM: only the backend's own refusal remains.
            assertThat(create(collection, arena)).isEqualTo("UNSUPPORTED: cp_size = 2: context parallelism is not on"
                    + " the cpu backend");
        }
    }

    @Test
    void createRejectsANullCollection() {
        try (Arena arena = Arena.ofConfined()) {
            assertThat(create(MemorySegment.NULL, arena)).isEqualTo("INVALID_ARGUMENT: the plugin field collection is NULL");
        }
    }

    /**
     * Enqueues a hand-built step (one context sequence of 4 tokens over a cache of 8 positions,
     * float32, with RoPE tables of 8 positions) after {@code breakIt} changed it.
     */
    private static String enqueue(Consumer<MemorySegment> breakIt) {
        return enqueue(collection -> {}, (step, arena) -> breakIt.accept(step));
    }

    /** As {@link #enqueue(Consumer)}, on a plugin created from fields that {@code patchFields} changed. */
    private static String enqueue(Consumer<MemorySegment> patchFields, BiConsumer<MemorySegment, Arena> breakIt) {
        GptAttentionConfig config = valid();
        int rowWidth = (8 + 2 * 2) * 64;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment collection = PluginFieldCollection.allocate(config, arena);
            patchFields.accept(collection);
            int created = trtllm4j_backend_api.create.invoke(trtllm4j_backend_api.create(API), collection, out);
            assertThat(created).as("create").isZero();
            MemorySegment plugin = out.get(ValueLayout.ADDRESS, 0);
            MemorySegment step = trtllm4j_attention_step.allocate(arena);
            trtllm4j_attention_step.batch_size(step, 1);
            trtllm4j_attention_step.num_tokens(step, 4);
            trtllm4j_attention_step.max_seq_len(step, 8);
            trtllm4j_attention_step.max_attention_window(step, 8);
            trtllm4j_attention_step.rotary_positions(step, 8);
            int int32 = Trtllm4j.TRTLLM4J_INT32(), float32 = Trtllm4j.TRTLLM4J_FLOAT32();
            buffer(trtllm4j_attention_step.input_lengths(step), arena.allocateFrom(ValueLayout.JAVA_INT, 4), int32);
            buffer(trtllm4j_attention_step.past_lengths(step), arena.allocateFrom(ValueLayout.JAVA_INT, 0), int32);
            buffer(trtllm4j_attention_step.host_request_types(step), arena.allocateFrom(ValueLayout.JAVA_INT, 0), int32);
            buffer(trtllm4j_attention_step.qkv(step), arena.allocate(4L * rowWidth * 4), float32);
            buffer(trtllm4j_attention_step.kv_cache(step), arena.allocate(2L * 2 * 8 * 64 * 4), float32);
            buffer(trtllm4j_attention_step.context(step), arena.allocate(4L * 8 * 64 * 4), float32);
            buffer(trtllm4j_attention_step.rotary_inv_freq(step), arena.allocate(32 * 4), float32);
            buffer(trtllm4j_attention_step.rotary_cos_sin(step), arena.allocate(8 * 32 * 2 * 4), float32);
            buffer(trtllm4j_attention_step.workspace(step), arena.allocate(1 << 22, 64), int32);
            breakIt.accept(step, arena);
            int status = trtllm4j_backend_api.enqueue.invoke(trtllm4j_backend_api.enqueue(API), plugin, step);
            String message = trtllm4j_backend_api.last_error.invoke(trtllm4j_backend_api.last_error(API))
                    .reinterpret(1024).getString(0);
            trtllm4j_backend_api.destroy.invoke(trtllm4j_backend_api.destroy(API), plugin);
            return NativeStatus.fromCode(status) + (status == 0 ? "" : ": " + message);
        }
    }

    private static void buffer(MemorySegment buffer, MemorySegment data, int type) {
        trtllm4j_buffer.data(buffer, data);
        trtllm4j_buffer.size_bytes(buffer, data.byteSize());
        trtllm4j_buffer.location(buffer, Trtllm4j.TRTLLM4J_HOST());
        trtllm4j_buffer.data_type(buffer, type);
    }

    @Test
    void enqueueAcceptsAWellFormedStep() {
        assertThat(enqueue(step -> {})).isEqualTo("OK");
    }

    @Test
    void enqueueRejectsATensorOfTheWrongSize() {
        assertThat(enqueue(step -> trtllm4j_buffer.size_bytes(trtllm4j_attention_step.qkv(step), 100)))
                .isEqualTo("INVALID_ARGUMENT: qkv: buffer has 100 bytes, expected 12288");
    }

    @Test
    void enqueueRejectsATensorInDeviceMemory() {
        assertThat(enqueue(step -> trtllm4j_buffer.location(trtllm4j_attention_step.context(step), Trtllm4j.TRTLLM4J_DEVICE())))
                .isEqualTo("INVALID_ARGUMENT: context: buffer is in device memory, this backend needs host memory");
    }

    @Test
    void enqueueRejectsANullTensor() {
        assertThat(enqueue(step -> trtllm4j_buffer.data(trtllm4j_attention_step.kv_cache(step), MemorySegment.NULL)))
                .isEqualTo("INVALID_ARGUMENT: kv_cache: buffer is NULL");
    }

    @Test
    void enqueueRejectsTokensPastTheCache() {
        assertThat(enqueue(step -> trtllm4j_buffer.data(trtllm4j_attention_step.past_lengths(step)).reinterpret(4)
                        .set(ValueLayout.JAVA_INT, 0, 5)))
                .isEqualTo("INVALID_ARGUMENT: sequence 0: past_lengths 5 + input_lengths 4 exceeds max_seq_len 8 of kv_cache");
    }

    @Test
    void enqueueRejectsAGenerationRequestOfSeveralTokens() {
        assertThat(enqueue(step -> trtllm4j_buffer.data(trtllm4j_attention_step.host_request_types(step)).reinterpret(4)
                        .set(ValueLayout.JAVA_INT, 0, 1)))
                .isEqualTo("INVALID_ARGUMENT: sequence 0: a generation request has exactly 1 new token, got input_lengths = 4");
    }

    @Test
    void enqueueRejectsTooFewRotaryPositions() {
        assertThat(enqueue(step -> trtllm4j_attention_step.rotary_positions(step, 2)))
                .isEqualTo("INVALID_ARGUMENT: rotary_cos_sin: 2 positions, but this step reaches position 3");
    }

    @Test
    void enqueueRejectsTokenCountsThatDisagree() {
        assertThat(enqueue(step -> trtllm4j_attention_step.num_tokens(step, 5)))
                .isEqualTo("INVALID_ARGUMENT: num_tokens = 5 but input_lengths add up to 4");
    }

    @Test
    void enqueueRejectsASmallWorkspace() {
        assertThat(enqueue(step -> trtllm4j_buffer.size_bytes(trtllm4j_attention_step.workspace(step), 16)))
                .startsWith("INVALID_ARGUMENT: workspace: 16 bytes, this step needs ");
    }

    @Test
    void enqueueRejectsSinksThatFillTheWindow() {
        assertThat(enqueue(step -> trtllm4j_attention_step.sink_token_length(step, 8)))
                .isEqualTo("INVALID_ARGUMENT: max_attention_window = 8, sink_token_length = 8: need a window of at"
                        + " least 1 that holds more than its sink tokens");
    }

    @Test
    void enqueueRejectsANegativeTensorSize() {
        assertThat(enqueue(step -> trtllm4j_buffer.size_bytes(trtllm4j_attention_step.qkv(step), -12288)))
                .isEqualTo("INVALID_ARGUMENT: qkv: size_bytes = -12288: a size cannot be negative");
    }

    @Test
    void enqueueRejectsANegativeWorkspaceSize() {
        assertThat(enqueue(step -> trtllm4j_buffer.size_bytes(trtllm4j_attention_step.workspace(step), -1)))
                .isEqualTo("INVALID_ARGUMENT: workspace: size_bytes = -1: a size cannot be negative");
    }

    /**
     * 2^23 query and KV heads of size 64 make a valid plugin; 4 sequences over a cache of 2^30 + 1
     * positions then need 2^64 + 2^34 bytes of kv_cache, which wraps to 2^34 in int64. A caller
     * giving that wrapped size must be refused, or the kernels would write far past the buffer.
     */
    @Test
    void enqueueRejectsATensorWhoseSizeOverflowsInt64() {
        int heads = 1 << 23, maxSeqLen = (1 << 30) + 1;
        String result = enqueue(collection -> {
            patch(collection, "num_heads", heads);
            patch(collection, "num_kv_heads", heads);
        }, (step, arena) -> {
            trtllm4j_attention_step.batch_size(step, 4);
            trtllm4j_attention_step.num_tokens(step, 4);
            trtllm4j_attention_step.max_seq_len(step, maxSeqLen);
            trtllm4j_buffer.data(trtllm4j_attention_step.input_lengths(step), arena.allocateFrom(ValueLayout.JAVA_INT, 1, 1, 1, 1));
            trtllm4j_buffer.data(trtllm4j_attention_step.past_lengths(step), arena.allocate(16, 4));
            trtllm4j_buffer.data(trtllm4j_attention_step.host_request_types(step), arena.allocate(16, 4));
            for (MemorySegment array : new MemorySegment[] {trtllm4j_attention_step.input_lengths(step),
                    trtllm4j_attention_step.past_lengths(step), trtllm4j_attention_step.host_request_types(step)}) {
                trtllm4j_buffer.size_bytes(array, 16);
            }
            trtllm4j_buffer.size_bytes(trtllm4j_attention_step.qkv(step), 4L * 3 * heads * 64 * 4);
            trtllm4j_buffer.size_bytes(trtllm4j_attention_step.kv_cache(step), 1L << 34);
            trtllm4j_buffer.size_bytes(trtllm4j_attention_step.context(step), 4L * heads * 64 * 4);
        });
        assertThat(result).isEqualTo("INVALID_ARGUMENT: kv_cache: [4 x 2 x 8388608 x 1073741825 x 64 x 4 bytes] does"
                + " not fit in int64: the step's sizes are out of range");
    }

    @Test
    void enqueueRejectsATensorNotAlignedToItsElements() {
        MemorySegment[] shifted = new MemorySegment[1];
        String result = enqueue(collection -> {}, (step, arena) -> {
            shifted[0] = arena.allocate(12288 + 4, 64).asSlice(2, 12288);
            trtllm4j_buffer.data(trtllm4j_attention_step.qkv(step), shifted[0]);
        });
        assertThat(result).isEqualTo("INVALID_ARGUMENT: qkv: data at 0x" + Long.toHexString(shifted[0].address())
                + " is not aligned to its 4-byte elements");
    }

    @Test
    void enqueueRejectsAHostArrayNotAlignedToItsInt32s() {
        MemorySegment[] shifted = new MemorySegment[1];
        String result = enqueue(collection -> {}, (step, arena) -> {
            shifted[0] = arena.allocate(8, 8).asSlice(1, 4);
            trtllm4j_buffer.data(trtllm4j_attention_step.past_lengths(step), shifted[0]);
        });
        assertThat(result).isEqualTo("INVALID_ARGUMENT: past_lengths: data at 0x"
                + Long.toHexString(shifted[0].address()) + " is not aligned to its 4-byte elements");
    }

    @Test
    void enqueueRejectsAWorkspaceNotAlignedTo16Bytes() {
        MemorySegment[] shifted = new MemorySegment[1];
        String result = enqueue(collection -> {}, (step, arena) -> {
            shifted[0] = arena.allocate((1 << 22) + 64, 64).asSlice(8, 1 << 22);
            trtllm4j_buffer.data(trtllm4j_attention_step.workspace(step), shifted[0]);
        });
        assertThat(result).isEqualTo("INVALID_ARGUMENT: workspace: data at 0x" + Long.toHexString(shifted[0].address())
                + " is not aligned to 16 bytes");
    }
}
