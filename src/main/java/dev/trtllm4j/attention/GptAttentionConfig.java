package dev.trtllm4j.attention;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable, validated configuration of TensorRT-LLM's GPT attention plugin: one value for every
 * field of {@link GptAttentionField}, plus the {@link RotaryScalingParameters} that shape its RoPE
 * tables.
 *
 * {@snippet :
 * GptAttentionConfig llama = GptAttentionConfig.builder()
 *         .numHeads(32).numKvHeads(8).headSize(128)
 *         .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
 *         .rotaryEmbeddingDim(128)
 *         .rotaryEmbeddingBase(500000f)
 *         .maxContextLength(8192)
 *         .build();
 * }
 *
 * <p>{@link Builder#build()} checks every rule a backend relies on and throws an {@link
 * IllegalArgumentException} naming the field, its value and the rule, so that nothing invalid reaches
 * native code (TensorRT-LLM terminates the process on some bad combinations).
 */
public final class GptAttentionConfig {

    /** The head sizes the plugin's kernels are built for ({@code AttentionOp::initialize}); 72 is FMHA-only. */
    public static final Set<Integer> SUPPORTED_HEAD_SIZES =
            Set.of(32, 48, 64, 72, 80, 96, 104, 112, 128, 144, 160, 192, 224, 256);

    private final Map<GptAttentionField, Object> values;
    private final RotaryScalingParameters rotaryScaling;

    private GptAttentionConfig(Map<GptAttentionField, Object> values, RotaryScalingParameters rotaryScaling) {
        this.values = Collections.unmodifiableMap(new EnumMap<>(values));
        this.rotaryScaling = rotaryScaling;
    }

    /** A builder holding TensorRT-LLM's defaults; the required fields are unset. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        Builder builder = new Builder();
        values.forEach((field, value) -> builder.values.put(field, copy(value)));
        builder.rotaryScaling = rotaryScaling;
        return builder;
    }

    /**
     * A field's value: an {@link Integer} for int, boolean (0 or 1) and enum (code) fields, a {@link
     * Float} for float fields, an {@code int[]} copy for {@code cp_group}.
     */
    public Object get(GptAttentionField field) {
        return copy(values.get(field));
    }

    /** The value of an int, boolean or enum field as its wire integer. */
    public int intValue(GptAttentionField field) {
        return (Integer) values.get(field);
    }

    /** The value of a float field. */
    public float floatValue(GptAttentionField field) {
        return (Float) values.get(field);
    }

    /** The value of a boolean field. */
    public boolean flag(GptAttentionField field) {
        return intValue(field) != 0;
    }

    /** The llama3, yarn and longrope parameters behind the RoPE tables. */
    public RotaryScalingParameters rotaryScaling() {
        return rotaryScaling;
    }

    /** Query heads per KV head: the GQA group size. */
    public int queriesPerKvHead() {
        return numHeads() / numKvHeads();
    }

    public int layerIdx() {
        return intValue(GptAttentionField.LAYER_IDX);
    }

    public int numHeads() {
        return intValue(GptAttentionField.NUM_HEADS);
    }

    public int visionStart() {
        return intValue(GptAttentionField.VISION_START);
    }

    public int visionLength() {
        return intValue(GptAttentionField.VISION_LENGTH);
    }

    public int numKvHeads() {
        return intValue(GptAttentionField.NUM_KV_HEADS);
    }

    public int numKvHeadsOrigin() {
        return intValue(GptAttentionField.NUM_KV_HEADS_ORIGIN);
    }

    public int headSize() {
        return intValue(GptAttentionField.HEAD_SIZE);
    }

    public int unidirectional() {
        return intValue(GptAttentionField.UNIDIRECTIONAL);
    }

    public float qScaling() {
        return floatValue(GptAttentionField.Q_SCALING);
    }

    public float attnLogitSoftcappingScale() {
        return floatValue(GptAttentionField.ATTN_LOGIT_SOFTCAPPING_SCALE);
    }

    public PositionEmbeddingType positionEmbeddingType() {
        return TensorRtLlmEnum.fromCode(PositionEmbeddingType.class, intValue(GptAttentionField.POSITION_EMBEDDING_TYPE));
    }

    public int rotaryEmbeddingDim() {
        return intValue(GptAttentionField.ROTARY_EMBEDDING_DIM);
    }

    public float rotaryEmbeddingBase() {
        return floatValue(GptAttentionField.ROTARY_EMBEDDING_BASE);
    }

    public RotaryScalingType rotaryEmbeddingScaleType() {
        return TensorRtLlmEnum.fromCode(RotaryScalingType.class, intValue(GptAttentionField.ROTARY_EMBEDDING_SCALE_TYPE));
    }

    public float rotaryEmbeddingScale() {
        return floatValue(GptAttentionField.ROTARY_EMBEDDING_SCALE);
    }

    public float rotaryEmbeddingShortMScale() {
        return floatValue(GptAttentionField.ROTARY_EMBEDDING_SHORT_M_SCALE);
    }

    public float rotaryEmbeddingLongMScale() {
        return floatValue(GptAttentionField.ROTARY_EMBEDDING_LONG_M_SCALE);
    }

    public int rotaryEmbeddingMaxPositions() {
        return intValue(GptAttentionField.ROTARY_EMBEDDING_MAX_POSITIONS);
    }

    public int rotaryEmbeddingOriginalMaxPositions() {
        return intValue(GptAttentionField.ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS);
    }

    public int tpSize() {
        return intValue(GptAttentionField.TP_SIZE);
    }

    public int tpRank() {
        return intValue(GptAttentionField.TP_RANK);
    }

    public boolean unfuseQkvGemm() {
        return flag(GptAttentionField.UNFUSE_QKV_GEMM);
    }

    public ContextFmhaType contextFmhaType() {
        return TensorRtLlmEnum.fromCode(ContextFmhaType.class, intValue(GptAttentionField.CONTEXT_FMHA_TYPE));
    }

    public int kvCacheQuantMode() {
        return intValue(GptAttentionField.KV_CACHE_QUANT_MODE);
    }

    public boolean removeInputPadding() {
        return flag(GptAttentionField.REMOVE_INPUT_PADDING);
    }

    public AttentionMaskType maskType() {
        return TensorRtLlmEnum.fromCode(AttentionMaskType.class, intValue(GptAttentionField.MASK_TYPE));
    }

    public int blockSparseBlockSize() {
        return intValue(GptAttentionField.BLOCK_SPARSE_BLOCK_SIZE);
    }

    public boolean blockSparseHomoHeadPattern() {
        return flag(GptAttentionField.BLOCK_SPARSE_HOMO_HEAD_PATTERN);
    }

    public int blockSparseNumLocalBlocks() {
        return intValue(GptAttentionField.BLOCK_SPARSE_NUM_LOCAL_BLOCKS);
    }

    public int blockSparseVerticalStride() {
        return intValue(GptAttentionField.BLOCK_SPARSE_VERTICAL_STRIDE);
    }

    public boolean pagedKvCache() {
        return flag(GptAttentionField.PAGED_KV_CACHE);
    }

    public int tokensPerBlock() {
        return intValue(GptAttentionField.TOKENS_PER_BLOCK);
    }

    public DataType typeId() {
        return TensorRtLlmEnum.fromCode(DataType.class, intValue(GptAttentionField.TYPE_ID));
    }

    public int maxContextLength() {
        return intValue(GptAttentionField.MAX_CONTEXT_LENGTH);
    }

    public boolean qkvBiasEnabled() {
        return flag(GptAttentionField.QKV_BIAS_ENABLED);
    }

    public boolean doCrossAttention() {
        return flag(GptAttentionField.DO_CROSS_ATTENTION);
    }

    public int maxDistance() {
        return intValue(GptAttentionField.MAX_DISTANCE);
    }

    public boolean posShiftEnabled() {
        return flag(GptAttentionField.POS_SHIFT_ENABLED);
    }

    public boolean denseContextFmha() {
        return flag(GptAttentionField.DENSE_CONTEXT_FMHA);
    }

    public boolean usePagedContextFmha() {
        return flag(GptAttentionField.USE_PAGED_CONTEXT_FMHA);
    }

    public boolean useFp8ContextFmha() {
        return flag(GptAttentionField.USE_FP8_CONTEXT_FMHA);
    }

    public boolean hasFullAttentionMask() {
        return flag(GptAttentionField.HAS_FULL_ATTENTION_MASK);
    }

    public boolean useCache() {
        return flag(GptAttentionField.USE_CACHE);
    }

    public boolean isSpecDecodingEnabled() {
        return flag(GptAttentionField.IS_SPEC_DECODING_ENABLED);
    }

    public boolean specDecodingIsGenerationLengthVariable() {
        return flag(GptAttentionField.SPEC_DECODING_IS_GENERATION_LENGTH_VARIABLE);
    }

    public int specDecodingMaxGenerationLength() {
        return intValue(GptAttentionField.SPEC_DECODING_MAX_GENERATION_LENGTH);
    }

    public boolean isMlaEnabled() {
        return flag(GptAttentionField.IS_MLA_ENABLED);
    }

    public int qLoraRank() {
        return intValue(GptAttentionField.Q_LORA_RANK);
    }

    public int kvLoraRank() {
        return intValue(GptAttentionField.KV_LORA_RANK);
    }

    public int qkNopeHeadDim() {
        return intValue(GptAttentionField.QK_NOPE_HEAD_DIM);
    }

    public int qkRopeHeadDim() {
        return intValue(GptAttentionField.QK_ROPE_HEAD_DIM);
    }

    public int vHeadDim() {
        return intValue(GptAttentionField.V_HEAD_DIM);
    }

    public boolean fuseFp4Quant() {
        return flag(GptAttentionField.FUSE_FP4_QUANT);
    }

    public boolean skipAttn() {
        return flag(GptAttentionField.SKIP_ATTN);
    }

    public int cpSize() {
        return intValue(GptAttentionField.CP_SIZE);
    }

    public int cpRank() {
        return intValue(GptAttentionField.CP_RANK);
    }

    public int[] cpGroup() {
        return ((int[]) values.get(GptAttentionField.CP_GROUP)).clone();
    }

    public boolean useLognScaling() {
        return flag(GptAttentionField.USE_LOGN_SCALING);
    }

    @Override
    public boolean equals(Object other) {
        if (!(other instanceof GptAttentionConfig that)) {
            return false;
        }
        if (!rotaryScaling.equals(that.rotaryScaling)) {
            return false;
        }
        for (GptAttentionField field : GptAttentionField.values()) {
            if (!Objects.deepEquals(values.get(field), that.values.get(field))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int hash = rotaryScaling.hashCode();
        for (GptAttentionField field : GptAttentionField.values()) {
            hash = 31 * hash + Arrays.deepHashCode(new Object[] {values.get(field)});
        }
        return hash;
    }

    @Override
    public String toString() {
        var text = new StringBuilder("GptAttentionConfig[");
        for (GptAttentionField field : GptAttentionField.values()) {
            if (field.ordinal() > 0) {
                text.append(", ");
            }
            text.append(field.fieldName()).append('=').append(displayValue(field, values.get(field)));
        }
        return text.append(", rotaryScaling=").append(rotaryScaling).append(']').toString();
    }

    /** How a value reads to users: enum fields by TensorRT-LLM's name, lists in brackets. */
    public String displayValue(GptAttentionField field) {
        return displayValue(field, values.get(field));
    }

    private static String displayValue(GptAttentionField field, Object value) {
        if (value instanceof int[] list) {
            return Arrays.toString(list);
        }
        if (field.kind() == GptAttentionField.ValueKind.ENUM) {
            return enumName(field, (Integer) value);
        }
        return String.valueOf(value);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static String enumName(GptAttentionField field, int code) {
        return ((TensorRtLlmEnum) TensorRtLlmEnum.fromCode((Class) field.enumType(), code)).tensorRtLlmName();
    }

    private static Object copy(Object value) {
        return value instanceof int[] list ? list.clone() : value;
    }

    /**
     * Collects field values; {@link #build()} fills defaults and validates. Every setter returns this
     * builder.
     */
    public static final class Builder {

        private final Map<GptAttentionField, Object> values = new EnumMap<>(GptAttentionField.class);
        private RotaryScalingParameters rotaryScaling = RotaryScalingParameters.DEFAULTS;

        private Builder() {}

        /**
         * Sets any field from a {@link Number}, a {@link Boolean}, a {@link TensorRtLlmEnum} constant
         * of the field's enum, or an {@code int[]} for {@code cp_group}.
         *
         * @throws IllegalArgumentException naming the field when the value has the wrong kind
         */
        public Builder set(GptAttentionField field, Object value) {
            values.put(field, FieldValues.normalize(field, value));
            return this;
        }

        /**
         * How a field's value so far reads to users, before any validation: the value set, else
         * TensorRT-LLM's default, else {@code (unset)} for a required field.
         */
        public String displayValue(GptAttentionField field) {
            Object value = values.containsKey(field) ? values.get(field) : field.defaultValue();
            return value == null ? "(unset)" : GptAttentionConfig.displayValue(field, value);
        }

        /** Sets the llama3, yarn and longrope parameters. */
        public Builder rotaryScaling(RotaryScalingParameters rotaryScaling) {
            this.rotaryScaling = Objects.requireNonNull(rotaryScaling, "rotaryScaling");
            return this;
        }

        public Builder layerIdx(int layerIdx) {
            return set(GptAttentionField.LAYER_IDX, layerIdx);
        }

        public Builder numHeads(int numHeads) {
            return set(GptAttentionField.NUM_HEADS, numHeads);
        }

        public Builder visionStart(int visionStart) {
            return set(GptAttentionField.VISION_START, visionStart);
        }

        public Builder visionLength(int visionLength) {
            return set(GptAttentionField.VISION_LENGTH, visionLength);
        }

        public Builder numKvHeads(int numKvHeads) {
            return set(GptAttentionField.NUM_KV_HEADS, numKvHeads);
        }

        public Builder numKvHeadsOrigin(int numKvHeadsOrigin) {
            return set(GptAttentionField.NUM_KV_HEADS_ORIGIN, numKvHeadsOrigin);
        }

        public Builder headSize(int headSize) {
            return set(GptAttentionField.HEAD_SIZE, headSize);
        }

        public Builder unidirectional(int unidirectional) {
            return set(GptAttentionField.UNIDIRECTIONAL, unidirectional);
        }

        public Builder qScaling(float qScaling) {
            return set(GptAttentionField.Q_SCALING, qScaling);
        }

        public Builder attnLogitSoftcappingScale(float attnLogitSoftcappingScale) {
            return set(GptAttentionField.ATTN_LOGIT_SOFTCAPPING_SCALE, attnLogitSoftcappingScale);
        }

        public Builder positionEmbeddingType(PositionEmbeddingType positionEmbeddingType) {
            return set(GptAttentionField.POSITION_EMBEDDING_TYPE, positionEmbeddingType);
        }

        public Builder rotaryEmbeddingDim(int rotaryEmbeddingDim) {
            return set(GptAttentionField.ROTARY_EMBEDDING_DIM, rotaryEmbeddingDim);
        }

        public Builder rotaryEmbeddingBase(float rotaryEmbeddingBase) {
            return set(GptAttentionField.ROTARY_EMBEDDING_BASE, rotaryEmbeddingBase);
        }

        public Builder rotaryEmbeddingScaleType(RotaryScalingType rotaryEmbeddingScaleType) {
            return set(GptAttentionField.ROTARY_EMBEDDING_SCALE_TYPE, rotaryEmbeddingScaleType);
        }

        public Builder rotaryEmbeddingScale(float rotaryEmbeddingScale) {
            return set(GptAttentionField.ROTARY_EMBEDDING_SCALE, rotaryEmbeddingScale);
        }

        public Builder rotaryEmbeddingShortMScale(float rotaryEmbeddingShortMScale) {
            return set(GptAttentionField.ROTARY_EMBEDDING_SHORT_M_SCALE, rotaryEmbeddingShortMScale);
        }

        public Builder rotaryEmbeddingLongMScale(float rotaryEmbeddingLongMScale) {
            return set(GptAttentionField.ROTARY_EMBEDDING_LONG_M_SCALE, rotaryEmbeddingLongMScale);
        }

        public Builder rotaryEmbeddingMaxPositions(int rotaryEmbeddingMaxPositions) {
            return set(GptAttentionField.ROTARY_EMBEDDING_MAX_POSITIONS, rotaryEmbeddingMaxPositions);
        }

        public Builder rotaryEmbeddingOriginalMaxPositions(int rotaryEmbeddingOriginalMaxPositions) {
            return set(GptAttentionField.ROTARY_EMBEDDING_ORIGINAL_MAX_POSITIONS, rotaryEmbeddingOriginalMaxPositions);
        }

        public Builder tpSize(int tpSize) {
            return set(GptAttentionField.TP_SIZE, tpSize);
        }

        public Builder tpRank(int tpRank) {
            return set(GptAttentionField.TP_RANK, tpRank);
        }

        public Builder unfuseQkvGemm(boolean unfuseQkvGemm) {
            return set(GptAttentionField.UNFUSE_QKV_GEMM, unfuseQkvGemm);
        }

        public Builder contextFmhaType(ContextFmhaType contextFmhaType) {
            return set(GptAttentionField.CONTEXT_FMHA_TYPE, contextFmhaType);
        }

        public Builder kvCacheQuantMode(int kvCacheQuantMode) {
            return set(GptAttentionField.KV_CACHE_QUANT_MODE, kvCacheQuantMode);
        }

        public Builder removeInputPadding(boolean removeInputPadding) {
            return set(GptAttentionField.REMOVE_INPUT_PADDING, removeInputPadding);
        }

        public Builder maskType(AttentionMaskType maskType) {
            return set(GptAttentionField.MASK_TYPE, maskType);
        }

        public Builder blockSparseBlockSize(int blockSparseBlockSize) {
            return set(GptAttentionField.BLOCK_SPARSE_BLOCK_SIZE, blockSparseBlockSize);
        }

        public Builder blockSparseHomoHeadPattern(boolean blockSparseHomoHeadPattern) {
            return set(GptAttentionField.BLOCK_SPARSE_HOMO_HEAD_PATTERN, blockSparseHomoHeadPattern);
        }

        public Builder blockSparseNumLocalBlocks(int blockSparseNumLocalBlocks) {
            return set(GptAttentionField.BLOCK_SPARSE_NUM_LOCAL_BLOCKS, blockSparseNumLocalBlocks);
        }

        public Builder blockSparseVerticalStride(int blockSparseVerticalStride) {
            return set(GptAttentionField.BLOCK_SPARSE_VERTICAL_STRIDE, blockSparseVerticalStride);
        }

        public Builder pagedKvCache(boolean pagedKvCache) {
            return set(GptAttentionField.PAGED_KV_CACHE, pagedKvCache);
        }

        public Builder tokensPerBlock(int tokensPerBlock) {
            return set(GptAttentionField.TOKENS_PER_BLOCK, tokensPerBlock);
        }

        public Builder typeId(DataType typeId) {
            return set(GptAttentionField.TYPE_ID, typeId);
        }

        public Builder maxContextLength(int maxContextLength) {
            return set(GptAttentionField.MAX_CONTEXT_LENGTH, maxContextLength);
        }

        public Builder qkvBiasEnabled(boolean qkvBiasEnabled) {
            return set(GptAttentionField.QKV_BIAS_ENABLED, qkvBiasEnabled);
        }

        public Builder doCrossAttention(boolean doCrossAttention) {
            return set(GptAttentionField.DO_CROSS_ATTENTION, doCrossAttention);
        }

        public Builder maxDistance(int maxDistance) {
            return set(GptAttentionField.MAX_DISTANCE, maxDistance);
        }

        public Builder posShiftEnabled(boolean posShiftEnabled) {
            return set(GptAttentionField.POS_SHIFT_ENABLED, posShiftEnabled);
        }

        public Builder denseContextFmha(boolean denseContextFmha) {
            return set(GptAttentionField.DENSE_CONTEXT_FMHA, denseContextFmha);
        }

        public Builder usePagedContextFmha(boolean usePagedContextFmha) {
            return set(GptAttentionField.USE_PAGED_CONTEXT_FMHA, usePagedContextFmha);
        }

        public Builder useFp8ContextFmha(boolean useFp8ContextFmha) {
            return set(GptAttentionField.USE_FP8_CONTEXT_FMHA, useFp8ContextFmha);
        }

        public Builder hasFullAttentionMask(boolean hasFullAttentionMask) {
            return set(GptAttentionField.HAS_FULL_ATTENTION_MASK, hasFullAttentionMask);
        }

        public Builder useCache(boolean useCache) {
            return set(GptAttentionField.USE_CACHE, useCache);
        }

        public Builder isSpecDecodingEnabled(boolean isSpecDecodingEnabled) {
            return set(GptAttentionField.IS_SPEC_DECODING_ENABLED, isSpecDecodingEnabled);
        }

        public Builder specDecodingIsGenerationLengthVariable(boolean specDecodingIsGenerationLengthVariable) {
            return set(GptAttentionField.SPEC_DECODING_IS_GENERATION_LENGTH_VARIABLE, specDecodingIsGenerationLengthVariable);
        }

        public Builder specDecodingMaxGenerationLength(int specDecodingMaxGenerationLength) {
            return set(GptAttentionField.SPEC_DECODING_MAX_GENERATION_LENGTH, specDecodingMaxGenerationLength);
        }

        public Builder isMlaEnabled(boolean isMlaEnabled) {
            return set(GptAttentionField.IS_MLA_ENABLED, isMlaEnabled);
        }

        public Builder qLoraRank(int qLoraRank) {
            return set(GptAttentionField.Q_LORA_RANK, qLoraRank);
        }

        public Builder kvLoraRank(int kvLoraRank) {
            return set(GptAttentionField.KV_LORA_RANK, kvLoraRank);
        }

        public Builder qkNopeHeadDim(int qkNopeHeadDim) {
            return set(GptAttentionField.QK_NOPE_HEAD_DIM, qkNopeHeadDim);
        }

        public Builder qkRopeHeadDim(int qkRopeHeadDim) {
            return set(GptAttentionField.QK_ROPE_HEAD_DIM, qkRopeHeadDim);
        }

        public Builder vHeadDim(int vHeadDim) {
            return set(GptAttentionField.V_HEAD_DIM, vHeadDim);
        }

        public Builder fuseFp4Quant(boolean fuseFp4Quant) {
            return set(GptAttentionField.FUSE_FP4_QUANT, fuseFp4Quant);
        }

        public Builder skipAttn(boolean skipAttn) {
            return set(GptAttentionField.SKIP_ATTN, skipAttn);
        }

        public Builder cpSize(int cpSize) {
            return set(GptAttentionField.CP_SIZE, cpSize);
        }

        public Builder cpRank(int cpRank) {
            return set(GptAttentionField.CP_RANK, cpRank);
        }

        public Builder cpGroup(int... cpGroup) {
            return set(GptAttentionField.CP_GROUP, cpGroup);
        }

        public Builder useLognScaling(boolean useLognScaling) {
            return set(GptAttentionField.USE_LOGN_SCALING, useLognScaling);
        }

        /**
         * Fills TensorRT-LLM's defaults for unset fields and validates.
         *
         * @throws IllegalArgumentException naming the field, its value and the rule it breaks
         */
        public GptAttentionConfig build() {
            Map<GptAttentionField, Object> complete = new EnumMap<>(GptAttentionField.class);
            for (GptAttentionField field : GptAttentionField.values()) {
                Object value = values.containsKey(field) ? values.get(field) : field.defaultValue();
                if (value == null) {
                    throw new IllegalArgumentException(
                            field.fieldName() + " is required: TensorRT-LLM has no default for it");
                }
                complete.put(field, copy(value));
            }
            GptAttentionConfig config = new GptAttentionConfig(complete, rotaryScaling);
            ConfigRules.check(config);
            return config;
        }
    }
}
