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
 * All three hold {@code type_id} elements where the backend reads them ({@link Backend#tensorLocation()}):
 * host {@link MemorySegment}s or {@link BackendMemory} for the CPU backend, {@link BackendMemory} for
 * the GPU backends. A window {@code W} with {@code S} sink tokens lets the query at {@code p} see
 * {@code j <= p} when {@code j < S} or {@code j > p - (W - S)}; {@link #NO_WINDOW} sees all {@code j <= p}.
 *
 * <p>The RoPE tables are optional: without them, the plugin uses the tables it computes from its
 * configuration. Build steps with {@link #builder()}.
 */
public final class AttentionStep {

    /** A window that never hides a position. */
    public static final int NO_WINDOW = Integer.MAX_VALUE;

    private final StepTensor qkv, kvCache, context, rotaryInvFreq, rotaryCosSin;
    private final RequestType[] requestTypes;
    private final int[] inputLengths, pastLengths;
    private final int maxAttentionWindow, sinkTokenLength;

    private AttentionStep(Builder b) {
        this.qkv = Objects.requireNonNull(b.qkv, "qkv");
        this.kvCache = Objects.requireNonNull(b.kvCache, "kvCache");
        this.context = Objects.requireNonNull(b.context, "context");
        this.requestTypes = b.requestTypes.clone();
        this.inputLengths = b.inputLengths.clone();
        this.pastLengths = b.pastLengths.clone();
        this.maxAttentionWindow = b.maxAttentionWindow;
        this.sinkTokenLength = b.sinkTokenLength;
        this.rotaryInvFreq = b.rotaryInvFreq;
        this.rotaryCosSin = b.rotaryCosSin;
        if (requestTypes.length == 0) {
            throw new IllegalArgumentException("a step needs at least one sequence");
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

    /** Per sequence, context or generation. */
    public RequestType[] requestTypes() {
        return requestTypes.clone();
    }

    /** Per sequence, its new tokens. */
    public int[] inputLengths() {
        return inputLengths.clone();
    }

    /** Per sequence, its tokens already in the cache. */
    public int[] pastLengths() {
        return pastLengths.clone();
    }

    /** The attention window {@code W}, or {@link #NO_WINDOW}. */
    public int maxAttentionWindow() {
        return maxAttentionWindow;
    }

    /** The sink tokens {@code S} of the window. */
    public int sinkTokenLength() {
        return sinkTokenLength;
    }

    StepTensor qkv() {
        return qkv;
    }

    StepTensor kvCache() {
        return kvCache;
    }

    StepTensor context() {
        return context;
    }

    StepTensor rotaryInvFreq() {
        return rotaryInvFreq;
    }

    StepTensor rotaryCosSin() {
        return rotaryCosSin;
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
        private StepTensor qkv, kvCache, context, rotaryInvFreq, rotaryCosSin;
        private RequestType[] requestTypes = new RequestType[0];
        private int[] inputLengths = new int[0], pastLengths = new int[0];
        private int maxAttentionWindow = NO_WINDOW, sinkTokenLength;

        private Builder() {}

        /** The packed new tokens, in host memory. */
        public Builder qkv(MemorySegment qkv) {
            this.qkv = StepTensor.of(qkv);
            return this;
        }

        /** The packed new tokens, in backend memory. */
        public Builder qkv(BackendMemory qkv) {
            this.qkv = StepTensor.of(qkv);
            return this;
        }

        /** The contiguous KV cache, in host memory. */
        public Builder kvCache(MemorySegment kvCache) {
            this.kvCache = StepTensor.of(kvCache);
            return this;
        }

        /** The contiguous KV cache, in backend memory. */
        public Builder kvCache(BackendMemory kvCache) {
            this.kvCache = StepTensor.of(kvCache);
            return this;
        }

        /** The output, in host memory. */
        public Builder context(MemorySegment context) {
            this.context = StepTensor.of(context);
            return this;
        }

        /** The output, in backend memory. */
        public Builder context(BackendMemory context) {
            this.context = StepTensor.of(context);
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
            Objects.requireNonNull(type, "requestTypes[" + requestTypes.length + "]");
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

        /**
         * RoPE tables in host memory to use instead of the plugin's own: float32
         * {@code rotary_inv_freq [rotary_dim / 2]} and {@code rotary_cos_sin [positions, rotary_dim / 2, 2]}.
         */
        public Builder rotaryTables(MemorySegment rotaryInvFreq, MemorySegment rotaryCosSin) {
            this.rotaryInvFreq = StepTensor.of(rotaryInvFreq);
            this.rotaryCosSin = StepTensor.of(rotaryCosSin);
            return this;
        }

        /** RoPE tables in backend memory; see {@link #rotaryTables(MemorySegment, MemorySegment)}. */
        public Builder rotaryTables(BackendMemory rotaryInvFreq, BackendMemory rotaryCosSin) {
            this.rotaryInvFreq = StepTensor.of(rotaryInvFreq);
            this.rotaryCosSin = StepTensor.of(rotaryCosSin);
            return this;
        }

        /** The step; throws when a tensor is missing or the tables come alone. */
        public AttentionStep build() {
            return new AttentionStep(this);
        }
    }
}
