package dev.trtllm4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.reference.ReferenceAttention;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.BackendMemory;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.HostTensors;
import dev.trtllm4j.runtime.TrtLlmException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The README's library examples compute what the reference does, and the README shows them as they stand here. */
class ReadmeExampleTest {

    @Test
    void computesWhatTheReferenceDoes() {
        // readme-example {
        GptAttentionConfig config = GptAttentionConfig.builder()
                .numHeads(32).numKvHeads(8).headSize(128)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(128)
                .rotaryEmbeddingBase(500000f)
                .maxContextLength(8192)
                .typeId(DataType.BFLOAT16)
                .build(); // validates: errors name the field, its value and the rule

        int maxSeqLen = 1024;
        float[] projections = projections(513 * (32 + 2 * 8) * 128); // each new token's Q, K and V heads
        float[] output;
        try (Arena arena = Arena.ofConfined();
                GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            // Two sequences: a prompt of 512 tokens, and one token after 733 cached ones.
            MemorySegment qkv = HostTensors.allocate(arena, DataType.BFLOAT16, projections);
            MemorySegment kvCache = HostTensors.zeros(arena, DataType.BFLOAT16, 2L * 2 * 8 * maxSeqLen * 128);
            MemorySegment context = HostTensors.zeros(arena, DataType.BFLOAT16, 513L * 32 * 128);
            plugin.enqueue(AttentionStep.builder()
                    .contextRequest(512, 0)
                    .generationRequest(733)
                    .qkv(qkv)         // [513, (32 + 2 * 8) * 128]
                    .kvCache(kvCache) // [2, 2, 8, maxSeqLen, 128], updated in place
                    .context(context) // [513, 32 * 128], written
                    .build());
            output = HostTensors.read(context, DataType.BFLOAT16);
        }
        // }

        // The second sequence's cache is zeros: its past keys score 0 and its past values add nothing.
        double[] expected = ReferenceAttention.run(config, projections, new float[2 * 2 * 8 * maxSeqLen * 128],
                new int[] {ReferenceAttention.CONTEXT, ReferenceAttention.GENERATION}, new int[] {512, 1},
                new int[] {0, 733}, maxSeqLen, Integer.MAX_VALUE, 0);
        double largest = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i] - output[i]));
        }
        assertThat(output).isNotEqualTo(new float[output.length]);
        assertThat(largest).as("largest difference from the reference").isLessThan(8e-3); // bfloat16 storage
    }

    @Test
    void runsOnTheGpuAsOnTheCpu() {
        try {
            Backend.open("cuda");
        } catch (TrtLlmException e) {
            Assumptions.abort("the cuda backend cannot run here: " + e.getMessage().lines().findFirst().orElse(""));
        }
        GptAttentionConfig config = GptAttentionConfig.builder().numHeads(32).numKvHeads(8).headSize(128)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(128)
                .rotaryEmbeddingBase(500000f).maxContextLength(8192).typeId(DataType.BFLOAT16).build();
        int maxSeqLen = 1024;
        float[] projections = projections(513 * (32 + 2 * 8) * 128);
        float[] output;
        // readme-gpu-example {
        Backend cuda = Backend.open("cuda"); // fails naming what is missing: the driver, a GPU, its compute capability
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = cuda.createPlugin(config)) {
            BackendMemory qkv = cuda.upload(arena, HostTensors.allocate(arena, DataType.BFLOAT16, projections));
            BackendMemory kvCache = cuda.allocate(arena, DataType.BFLOAT16, 2L * 2 * 8 * maxSeqLen * 128);
            BackendMemory context = cuda.allocate(arena, DataType.BFLOAT16, 513L * 32 * 128);
            kvCache.zero();
            plugin.enqueue(AttentionStep.builder().contextRequest(512, 0).generationRequest(733)
                    .qkv(qkv).kvCache(kvCache).context(context).build());
            MemorySegment host = arena.allocate(context.byteSize());
            context.copyTo(host); // waits for the step
            output = HostTensors.read(host, DataType.BFLOAT16);
        }
        // }
        double[] expected = ReferenceAttention.run(config, projections, new float[2 * 2 * 8 * maxSeqLen * 128],
                new int[] {ReferenceAttention.CONTEXT, ReferenceAttention.GENERATION}, new int[] {512, 1},
                new int[] {0, 733}, maxSeqLen, Integer.MAX_VALUE, 0);
        double largest = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i] - output[i]));
        }
        assertThat(largest).as("largest difference from the reference").isLessThan(1.6e-2); // bfloat16, tensor cores
    }

    /** Seeded values in [-1, 1), already bfloat16, standing in for a model's projections. */
    private static float[] projections(int count) {
        Random random = new Random(2);
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = HostTensors.round(random.nextFloat() * 2 - 1, DataType.BFLOAT16);
        }
        return values;
    }

    @Test
    void readmeShowsTheExamplesAsTheyRun() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        for (String marker : List.of("readme-example", "readme-gpu-example")) {
            assertThat(readme).as(marker).contains("```java\n" + example(marker) + "\n```");
        }
    }

    /** The lines between "// MARKER {" and the next "// }" in this file, unindented. */
    private static String example(String marker) throws IOException {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/trtllm4j/ReadmeExampleTest.java"));
        int start = source.indexOf("        // " + marker + " {") + 1;
        int end = source.subList(start, source.size()).indexOf("        // }") + start;
        return String.join("\n", source.subList(start, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip()).toList());
    }
}
