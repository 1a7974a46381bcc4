package dev.trtllm4j.runtime;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.reference.ReferenceAttention;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

/**
 * One step with seeded random inputs (a cache already holding each sequence's past), run on a
 * backend and on the double-precision reference; reports the largest differences.
 */
final class AttentionCase {

    record Sequence(RequestType type, int inputLength, int pastLength) {}

    record Result(double contextError, double cacheError) {}

    private AttentionCase() {}

    /** What a backend wrote: the output and the whole cache after the step. */
    record Outputs(float[] context, float[] kvCache) {}

    /** The seeded inputs of a case: new tokens, a cache already holding each sequence's past, the step. */
    private record Inputs(float[] qkv, float[] cache, int[] requestTypes, int[] inputLengths, int[] pastLengths,
            AttentionStep.Builder step) {

        static Inputs of(GptAttentionConfig config, int maxSeqLen, long seed, Sequence... sequences) {
            DataType type = config.typeId();
            Random random = new Random(seed);
            int tokens = 0;
            for (Sequence s : sequences) {
                tokens += s.inputLength();
            }
            int rowWidth = (config.numHeads() + 2 * config.numKvHeads()) * config.headSize();
            float[] qkv = randomValues(random, tokens * rowWidth, type);
            float[] cache = randomValues(random,
                    sequences.length * 2 * config.numKvHeads() * maxSeqLen * config.headSize(), type);
            int[] inputLengths = new int[sequences.length];
            int[] pastLengths = new int[sequences.length];
            int[] requestTypes = new int[sequences.length];
            AttentionStep.Builder step = AttentionStep.builder();
            for (int b = 0; b < sequences.length; b++) {
                requestTypes[b] = sequences[b].type().code();
                inputLengths[b] = sequences[b].inputLength();
                pastLengths[b] = sequences[b].pastLength();
                step.sequence(sequences[b].type(), inputLengths[b], pastLengths[b]);
            }
            return new Inputs(qkv, cache, requestTypes, inputLengths, pastLengths, step);
        }
    }

    /** Runs the case on a backend and on the reference; the largest differences. */
    static Result run(Backend backend, GptAttentionConfig config, int maxSeqLen, int window, int sinks, long seed,
            Sequence... sequences) {
        try (GptAttentionPlugin plugin = backend.createPlugin(config)) {
            return run(plugin, maxSeqLen, window, sinks, seed, sequences);
        }
    }

    /** The same on a plugin that may have run other steps before (a cache of another length among them). */
    static Result run(GptAttentionPlugin plugin, int maxSeqLen, int window, int sinks, long seed, Sequence... sequences) {
        GptAttentionConfig config = plugin.config();
        Inputs in = Inputs.of(config, maxSeqLen, seed, sequences);
        float[] expectedCache = in.cache().clone();
        double[] expected = ReferenceAttention.run(config, in.qkv(), expectedCache, in.requestTypes(), in.inputLengths(),
                in.pastLengths(), maxSeqLen, window, sinks);
        Outputs actual = outputs(plugin, in, window, sinks);
        return new Result(maxDifference(expected, actual.context()), maxDifference(expectedCache, actual.kvCache()));
    }

    /** Runs the case on a backend alone. */
    static Outputs outputs(Backend backend, GptAttentionConfig config, int maxSeqLen, int window, int sinks, long seed,
            Sequence... sequences) {
        try (GptAttentionPlugin plugin = backend.createPlugin(config)) {
            return outputs(plugin, Inputs.of(config, maxSeqLen, seed, sequences), window, sinks);
        }
    }

    /** The same on a plugin that may have run other steps before. */
    static Outputs outputs(GptAttentionPlugin plugin, int maxSeqLen, int window, int sinks, long seed,
            Sequence... sequences) {
        return outputs(plugin, Inputs.of(plugin.config(), maxSeqLen, seed, sequences), window, sinks);
    }

    private static Outputs outputs(GptAttentionPlugin plugin, Inputs in, int window, int sinks) {
        GptAttentionConfig config = plugin.config();
        Backend backend = plugin.backend();
        DataType type = config.typeId();
        long outputs = (long) in.qkv().length / ((config.numHeads() + 2 * config.numKvHeads()) * config.headSize())
                * config.numHeads() * config.headSize();
        try (Arena arena = Arena.ofConfined()) {
            BackendMemory kvCache = backend.upload(arena, HostTensors.allocate(arena, type, in.cache()));
            BackendMemory context = poisoned(backend, arena, type, outputs);
            plugin.enqueue(in.step().qkv(backend.upload(arena, HostTensors.allocate(arena, type, in.qkv())))
                    .kvCache(kvCache).context(context).attentionWindow(window, sinks).build());
            return new Outputs(read(arena, context, type), read(arena, kvCache, type));
        }
    }

    /** Backend memory filled with NaN, so that an element the step fails to write shows as an error. */
    static BackendMemory poisoned(Backend backend, Arena arena, DataType type, long elements) {
        float[] nan = new float[Math.toIntExact(elements)];
        java.util.Arrays.fill(nan, Float.NaN);
        return backend.upload(arena, HostTensors.allocate(arena, type, nan));
    }

    /** A tensor's elements, copied back from backend memory. */
    static float[] read(Arena arena, BackendMemory tensor, DataType type) {
        MemorySegment host = arena.allocate(tensor.byteSize(), 64);
        tensor.copyTo(host);
        return HostTensors.read(host, type);
    }

    static float[] randomValues(Random random, int count, DataType type) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = HostTensors.round(random.nextFloat() * 2 - 1, type);
        }
        return values;
    }

    static double maxDifference(double[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, difference(expected[i], actual[i]));
        }
        return max;
    }

    static double maxDifference(float[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, difference(expected[i], actual[i]));
        }
        return max;
    }

    /** |expected - actual|, infinite when actual is NaN or infinite (an unwritten or broken element). */
    private static double difference(double expected, double actual) {
        return Double.isFinite(actual) ? Math.abs(expected - actual) : Double.POSITIVE_INFINITY;
    }
}
