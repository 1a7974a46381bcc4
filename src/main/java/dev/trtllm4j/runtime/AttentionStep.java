package dev.trtllm4j.runtime;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * The tensors and bookkeeping of one attention step over a batch of packed sequences. Sequence
 * {@code b} owns {@code inputLengths[b]} consecutive tokens of {@code qkv}; token {@code t} of it has
 * position {@code pastLengths[b] + t}.
 *
 * <ul>
 *   <li>{@code qkv} {@code [num_tokens, (num_heads + 2 * num_kv_heads) * head_size]}: per token, all Q
 *       heads, then K heads, then V heads;
 *   <li>{@code kvCache} {@code [batch, 2, num_kv_heads, max_seq_len, head_size]}, K then V, updated
 *       in place;
 *   <li>{@code context} {@code [num_tokens, num_heads * head_size]}, written.
 * </ul>
 * All three hold {@code type_id} elements, in host memory for the CPU backend and device memory for
 * the GPU backends. A window {@code W} with {@code S} sink tokens lets the query at {@code p} see
 * {@code j <= p} when {@code j < S} or {@code j > p - (W - S)}; {@link #NO_WINDOW} sees all {@code j <= p}.
 *
 * <p>{@code rotaryInvFreq} and {@code rotaryCosSin} are optional: when null, the plugin uses the tables
 * it computes from its configuration.
 *
 * @param qkv the packed new tokens
 * @param kvCache the contiguous cache
 * @param context the output
 * @param requestTypes per sequence, context or generation
 * @param inputLengths per sequence, its new tokens
 * @param pastLengths per sequence, its tokens already in the cache
 * @param maxAttentionWindow {@code W}, or {@link #NO_WINDOW}
 * @param sinkTokenLength {@code S}
 * @param rotaryInvFreq optional float32 {@code [rotary_dim / 2]}
 * @param rotaryCosSin optional float32 {@code [positions, rotary_dim / 2, 2]}
 */
public record AttentionStep(
        MemorySegment qkv,
        MemorySegment kvCache,
        MemorySegment context,
        RequestType[] requestTypes,
        int[] inputLengths,
        int[] pastLengths,
        int maxAttentionWindow,
        int sinkTokenLength,
        MemorySegment rotaryInvFreq,
        MemorySegment rotaryCosSin) {

    /** A window that never hides a position. */
    public static final int NO_WINDOW = Integer.MAX_VALUE;

    public AttentionStep {
        Objects.requireNonNull(qkv, "qkv");
        Objects.requireNonNull(kvCache, "kvCache");
        Objects.requireNonNull(context, "context");
        requestTypes = requestTypes.clone();
        inputLengths = inputLengths.clone();
        pastLengths = pastLengths.clone();
        if (requestTypes.length == 0 || requestTypes.length != inputLengths.length
                || requestTypes.length != pastLengths.length) {
            throw new IllegalArgumentException("requestTypes, inputLengths and pastLengths need one entry per"
                    + " sequence; got " + requestTypes.length + ", " + inputLengths.length + " and "
                    + pastLengths.length);
        }
        for (int b = 0; b < requestTypes.length; b++) {
            Objects.requireNonNull(requestTypes[b], "requestTypes[" + b + "]");
        }
        if ((rotaryInvFreq == null) != (rotaryCosSin == null)) {
            throw new IllegalArgumentException("rotaryInvFreq and rotaryCosSin come together: give both or neither");
        }
    }

    /** Sequences in the batch. */
    public int batchSize() {
        return inputLengths.length;
    }

    /** New tokens across the batch: the rows of qkv and context. */
    public int numTokens() {
        int tokens = 0;
        for (int length : inputLengths) {
            tokens += length;
        }
        return tokens;
    }

    @Override
    public RequestType[] requestTypes() {
        return requestTypes.clone();
    }

    @Override
    public int[] inputLengths() {
        return inputLengths.clone();
    }

    @Override
    public int[] pastLengths() {
        return pastLengths.clone();
    }

    int inputLength(int b) {
        return inputLengths[b];
    }

    int pastLength(int b) {
        return pastLengths[b];
    }

    RequestType requestType(int b) {
        return requestTypes[b];
    }

    /** A builder; sequences are added one by one. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "AttentionStep[batch=" + batchSize() + ", requestTypes=" + Arrays.toString(requestTypes)
                + ", inputLengths=" + Arrays.toString(inputLengths) + ", pastLengths=" + Arrays.toString(pastLengths)
                + ", maxAttentionWindow=" + maxAttentionWindow + ", sinkTokenLength=" + sinkTokenLength + "]";
    }

    /** Builds an {@link AttentionStep}; every method returns this builder. */
    public static final class Builder {
        private MemorySegment qkv, kvCache, context, rotaryInvFreq, rotaryCosSin;
        private RequestType[] requestTypes = new RequestType[0];
        private int[] inputLengths = new int[0], pastLengths = new int[0];
        private int maxAttentionWindow = NO_WINDOW, sinkTokenLength;

        private Builder() {}

        public Builder qkv(MemorySegment qkv) {
            this.qkv = qkv;
            return this;
        }

        public Builder kvCache(MemorySegment kvCache) {
            this.kvCache = kvCache;
            return this;
        }

        public Builder context(MemorySegment context) {
            this.context = context;
            return this;
        }

        /** Adds a sequence with its prompt (or a chunk of it), {@code pastLength} tokens already cached. */
        public Builder contextRequest(int inputLength, int pastLength) {
            return sequence(RequestType.CONTEXT, inputLength, pastLength);
        }

        /** Adds a sequence generating one token after {@code pastLength} cached ones. */
        public Builder generationRequest(int pastLength) {
            return sequence(RequestType.GENERATION, 1, pastLength);
        }

        /** Adds a sequence. */
        public Builder sequence(RequestType type, int inputLength, int pastLength) {
            int n = requestTypes.length;
            requestTypes = Arrays.copyOf(requestTypes, n + 1);
            inputLengths = Arrays.copyOf(inputLengths, n + 1);
            pastLengths = Arrays.copyOf(pastLengths, n + 1);
            requestTypes[n] = type;
            inputLengths[n] = inputLength;
            pastLengths[n] = pastLength;
            return this;
        }

        /** The attention window {@code W} and its sink tokens {@code S}. */
        public Builder attentionWindow(int maxAttentionWindow, int sinkTokenLength) {
            this.maxAttentionWindow = maxAttentionWindow;
            this.sinkTokenLength = sinkTokenLength;
            return this;
        }

        /** RoPE tables to use instead of the plugin's own. */
        public Builder rotaryTables(MemorySegment rotaryInvFreq, MemorySegment rotaryCosSin) {
            this.rotaryInvFreq = rotaryInvFreq;
            this.rotaryCosSin = rotaryCosSin;
            return this;
        }

        public AttentionStep build() {
            return new AttentionStep(qkv, kvCache, context, requestTypes, inputLengths, pastLengths,
                    maxAttentionWindow, sinkTokenLength, rotaryInvFreq, rotaryCosSin);
        }
    }
}
