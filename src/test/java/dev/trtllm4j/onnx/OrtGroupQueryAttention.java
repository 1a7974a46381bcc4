package dev.trtllm4j.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.util.Map;

/**
 * ONNX Runtime's {@code com.microsoft} {@code GroupQueryAttention} operator on its CPU execution provider,
 * set up to compute what one trtllm4j attention step computes. It runs on batches whose sequences all
 * bring the same number of new tokens (ORT's query is a dense {@code [batch, sequence_length, hidden]}).
 *
 * <p>How the two operators' conventions map onto each other:
 * <ul>
 *   <li><b>qkv</b>: our packed {@code [num_tokens, (num_heads + 2 * num_kv_heads) * head_size]} is ORT's
 *       packed {@code query} {@code [batch, sequence_length, (num_heads + 2 * kv_num_heads) * head_size]}
 *       when every sequence has {@code sequence_length} new tokens; ORT's {@code key} and {@code value}
 *       inputs are then absent. Both order a token's heads Q, then K, then V.
 *   <li><b>KV cache</b>: ours is one tensor {@code [batch, 2, num_kv_heads, max_seq_len, head_size]};
 *       ORT's is two, {@code past_key} and {@code past_value}, each BNSH {@code [batch, kv_num_heads,
 *       max_seq_len, head_size]}, so our {@code cache[b][0]} is {@code past_key[b]} and {@code cache[b][1]}
 *       is {@code past_value[b]}. Binding {@code present_key} and {@code present_value} to the very
 *       tensors given as {@code past_key} and {@code past_value} makes ORT share past and present (its
 *       fastest setting): it writes the new K and V in place, at the positions ours writes them.
 *   <li><b>Lengths</b>: ORT takes {@code seqlens_k[b]} = total length - 1 = {@code past_lengths[b] +
 *       new tokens - 1}, and {@code total_sequence_length} = the longest total length of the batch.
 *       ORT derives each token's RoPE position from them: {@code seqlens_k[b] - sequence_length + 1 + t},
 *       which is our {@code past_lengths[b] + t}.
 *   <li><b>RoPE</b>: our table {@code rotary_cos_sin[position][i][cos, sin]} is ORT's
 *       {@code cos_cache[position][i]} and {@code sin_cache[position][i]}, each
 *       {@code [positions, rotary_dim / 2]}; ORT reads the rotary dimension as twice their width.
 *       {@code rotary_interleaved = 1} is GPT-J's pairs {@code (2i, 2i + 1)}, {@code 0} GPT-NeoX's
 *       {@code (i, i + rotary_dim / 2)}.
 *   <li><b>Scale</b>: ours is {@code 1 / (q_scaling * sqrt(head_size))}; it is passed as ORT's
 *       {@code scale} attribute, so ORT's default {@code 1 / sqrt(head_size)} never applies.
 * </ul>
 */
public final class OrtGroupQueryAttention implements AutoCloseable {

    private static final String DOMAIN = "com.microsoft";

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final int numHeads;
    private final int numKvHeads;
    private final int headSize;
    private final int rotaryDim;

    /**
     * A session for one operator configuration.
     *
     * @param rotaryDim the leading features of each head that RoPE rotates
     * @param interleaved GPT-J's RoPE pairs when true, GPT-NeoX's otherwise
     * @param scale the logit scale, {@code 1 / (q_scaling * sqrt(head_size))}
     * @param intraOpThreads threads ORT may use for the operator
     */
    public OrtGroupQueryAttention(int numHeads, int numKvHeads, int headSize, int rotaryDim, boolean interleaved, float scale,
            int intraOpThreads) throws OrtException {
        this.numHeads = numHeads;
        this.numKvHeads = numKvHeads;
        this.headSize = headSize;
        this.rotaryDim = rotaryDim;
        int qkvWidth = (numHeads + 2 * numKvHeads) * headSize;
        byte[] model = new OnnxModelWriter("GroupQueryAttention", DOMAIN)
                .input(new OnnxModelWriter.Tensor("query", OnnxModelWriter.FLOAT, "batch", "sequence_length", qkvWidth))
                .absentInput() // key: packed in query
                .absentInput() // value: packed in query
                .input(cacheTensor("past_key"))
                .input(cacheTensor("past_value"))
                .input(new OnnxModelWriter.Tensor("seqlens_k", OnnxModelWriter.INT32, "batch"))
                .input(new OnnxModelWriter.Tensor("total_sequence_length", OnnxModelWriter.INT32))
                .input(new OnnxModelWriter.Tensor("cos_cache", OnnxModelWriter.FLOAT, "positions", "half_rotary_dim"))
                .input(new OnnxModelWriter.Tensor("sin_cache", OnnxModelWriter.FLOAT, "positions", "half_rotary_dim"))
                .output(new OnnxModelWriter.Tensor("output", OnnxModelWriter.FLOAT, "batch", "sequence_length",
                        numHeads * headSize))
                .output(cacheTensor("present_key"))
                .output(cacheTensor("present_value"))
                .attribute("num_heads", numHeads)
                .attribute("kv_num_heads", numKvHeads)
                .attribute("do_rotary", 1)
                .attribute("rotary_interleaved", interleaved ? 1 : 0)
                .attribute("scale", scale)
                .toBytes();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            this.session = environment.createSession(model, options);
        }
    }

    private OnnxModelWriter.Tensor cacheTensor(String name) {
        return new OnnxModelWriter.Tensor(name, OnnxModelWriter.FLOAT, "batch", numKvHeads, "max_seq_len", headSize);
    }

    /**
     * Binds native tensors to the operator's inputs and outputs, without copying them: ORT reads and
     * writes these segments directly.
     *
     * @param qkv float32 {@code [batch, sequenceLength, (num_heads + 2 * kv_num_heads) * head_size]}
     * @param pastKey float32 {@code [batch, kv_num_heads, max_seq_len, head_size]}, updated in place
     * @param pastValue like {@code pastKey}
     * @param cosCache float32 {@code [positions, rotary_dim / 2]}
     * @param sinCache like {@code cosCache}
     * @param output float32 {@code [batch, sequenceLength, num_heads * head_size]}, written
     */
    public Binding bind(int batch, int sequenceLength, int[] pastLengths, MemorySegment qkv, MemorySegment pastKey,
            MemorySegment pastValue, MemorySegment cosCache, MemorySegment sinCache, MemorySegment output)
            throws OrtException {
        long maxSeqLen = pastKey.byteSize() / ((long) batch * numKvHeads * headSize * Float.BYTES);
        long half = rotaryDim / 2;
        long[] cacheShape = {batch, numKvHeads, maxSeqLen, headSize};
        int[] seqlensK = new int[batch];
        int total = 0;
        for (int b = 0; b < batch; b++) {
            seqlensK[b] = pastLengths[b] + sequenceLength - 1;
            total = Math.max(total, pastLengths[b] + sequenceLength);
        }
        long positions = cosCache.byteSize() / Float.BYTES / half;
        return new Binding(
                floats(qkv, batch, sequenceLength, (long) (numHeads + 2 * numKvHeads) * headSize),
                floats(pastKey, cacheShape), floats(pastValue, cacheShape),
                OnnxTensor.createTensor(environment, IntBuffer.wrap(seqlensK), new long[] {batch}),
                OnnxTensor.createTensor(environment, IntBuffer.wrap(new int[] {total}), new long[0]),
                floats(cosCache, positions, half), floats(sinCache, positions, half),
                floats(output, batch, sequenceLength, (long) numHeads * headSize));
    }

    private OnnxTensor floats(MemorySegment segment, long... shape) throws OrtException {
        return OnnxTensor.createTensor(environment, segment.asByteBuffer().order(ByteOrder.nativeOrder()), shape,
                OnnxJavaType.FLOAT);
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }

    /** The operator's tensors, bound to native memory; {@link #run()} runs the operator on them. */
    public final class Binding implements AutoCloseable {
        private final Map<String, OnnxTensor> inputs;
        private final Map<String, OnnxTensor> outputs;

        private Binding(OnnxTensor query, OnnxTensor pastKey, OnnxTensor pastValue, OnnxTensor seqlensK,
                OnnxTensor totalSequenceLength, OnnxTensor cosCache, OnnxTensor sinCache, OnnxTensor output) {
            this.inputs = Map.of("query", query, "past_key", pastKey, "past_value", pastValue, "seqlens_k", seqlensK,
                    "total_sequence_length", totalSequenceLength, "cos_cache", cosCache, "sin_cache", sinCache);
            this.outputs = Map.of("output", output, "present_key", pastKey, "present_value", pastValue);
        }

        /** Runs the operator: new K and V into the cache tensors, attention into the output tensor. */
        public void run() throws OrtException {
            session.run(inputs, outputs).close();
        }

        @Override
        public void close() {
            inputs.values().forEach(OnnxTensor::close);
            outputs.get("output").close();
        }
    }

    /**
     * Splits our RoPE table {@code [positions, rotary_dim / 2, (cos, sin)]} into ORT's two caches, each
     * {@code [positions, rotary_dim / 2]}, allocated in {@code arena}: element 0 is the cos cache, 1 the sin.
     */
    public static MemorySegment[] splitCosSin(Arena arena, float[] cosSin) {
        int pairs = cosSin.length / 2;
        MemorySegment cos = arena.allocate((long) pairs * Float.BYTES, 64);
        MemorySegment sin = arena.allocate((long) pairs * Float.BYTES, 64);
        for (int i = 0; i < pairs; i++) {
            cos.setAtIndex(ValueLayout.JAVA_FLOAT, i, cosSin[2 * i]);
            sin.setAtIndex(ValueLayout.JAVA_FLOAT, i, cosSin[2 * i + 1]);
        }
        return new MemorySegment[] {cos, sin};
    }
}
