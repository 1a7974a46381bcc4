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

    static Result run(Backend backend, GptAttentionConfig config, int maxSeqLen, int window, int sinks, long seed,
            Sequence... sequences) {
        try (GptAttentionPlugin plugin = backend.createPlugin(config)) {
            return run(plugin, maxSeqLen, window, sinks, seed, sequences);
        }
    }

    /** The same on a plugin that may have run other steps before (a cache of another length among them). */
    static Result run(GptAttentionPlugin plugin, int maxSeqLen, int window, int sinks, long seed, Sequence... sequences) {
        GptAttentionConfig config = plugin.config();
        DataType type = config.typeId();
        Random random = new Random(seed);
        int tokens = 0;
        for (Sequence s : sequences) {
            tokens += s.inputLength();
        }
        int rowWidth = (config.numHeads() + 2 * config.numKvHeads()) * config.headSize();
        float[] qkv = randomValues(random, tokens * rowWidth, type);
        float[] cache = randomValues(random, sequences.length * 2 * config.numKvHeads() * maxSeqLen * config.headSize(), type);
        int[] inputLengths = new int[sequences.length];
        int[] pastLengths = new int[sequences.length];
        int[] requestTypes = new int[sequences.length];
        AttentionStep.Builder builder = AttentionStep.builder();
        for (int b = 0; b < sequences.length; b++) {
            inputLengths[b] = sequences[b].inputLength();
            pastLengths[b] = sequences[b].pastLength();
            requestTypes[b] = sequences[b].type().code();
            builder.sequence(sequences[b].type(), inputLengths[b], pastLengths[b]);
        }

        float[] expectedCache = cache.clone();
        double[] expected = ReferenceAttention.run(config, qkv, expectedCache, requestTypes, inputLengths, pastLengths, maxSeqLen,
                window, sinks);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment kvCache = HostTensors.allocate(arena, type, cache);
            MemorySegment context = HostTensors.zeros(arena, type, (long) tokens * config.numHeads() * config.headSize());
            plugin.enqueue(builder.qkv(HostTensors.allocate(arena, type, qkv)).kvCache(kvCache).context(context)
                    .attentionWindow(window, sinks).build());
            return new Result(maxDifference(expected, HostTensors.read(context, type)),
                    maxDifference(expectedCache, HostTensors.read(kvCache, type)));
        }
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
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }

    static double maxDifference(float[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs((double) expected[i] - actual[i]));
        }
        return max;
    }
}
