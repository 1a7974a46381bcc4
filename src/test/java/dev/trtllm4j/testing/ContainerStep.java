package dev.trtllm4j.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.config.PluginFieldFile;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.safetensors.SafeTensor;
import dev.trtllm4j.safetensors.Safetensors;
import dev.trtllm4j.safetensors.SafetensorsDtype;
import dev.trtllm4j.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * One float16 attention step for {@code trtllm4j attention run} in a container: a GQA layer with
 * GPT-NeoX RoPE over the whole head, a batch of one prompt and one generation request, seeded inputs
 * in [-1, 1), written as the command's files; and the same step on the CPU backend in this JVM.
 *
 * @param config the layer
 * @param prompt the context request's tokens
 * @param past the generation request's cached tokens
 * @param maxSeqLen the cache's length per sequence
 * @param seed the inputs' seed
 */
record ContainerStep(GptAttentionConfig config, int prompt, int past, int maxSeqLen, long seed) {

    /** A layer of {@code heads} query and {@code kvHeads} KV heads of {@code headSize}, float16. */
    static ContainerStep of(int heads, int kvHeads, int headSize, int prompt, int past, int maxSeqLen, long seed) {
        GptAttentionConfig config = GptAttentionConfig.builder()
                .numHeads(heads).numKvHeads(kvHeads).headSize(headSize)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(headSize)
                .maxContextLength(maxSeqLen).typeId(DataType.FLOAT16)
                .build();
        return new ContainerStep(config, prompt, past, maxSeqLen, seed);
    }

    int tokens() {
        return prompt + 1;
    }

    /** [tokens, (heads + 2 kvHeads) headSize] */
    SafeTensor qkv() {
        int rowWidth = (config.numHeads() + 2 * config.numKvHeads()) * config.headSize();
        return SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {tokens(), rowWidth},
                uniform(new Random(seed), tokens() * rowWidth));
    }

    /** [batch, K/V, kvHeads, maxSeqLen, headSize] */
    SafeTensor kvCache() {
        long[] shape = {2, 2, config.numKvHeads(), maxSeqLen, config.headSize()};
        return SafeTensor.ofFloats(SafetensorsDtype.F16, shape,
                uniform(new Random(seed + 1), 2 * 2 * config.numKvHeads() * maxSeqLen * config.headSize()));
    }

    /** Runs the step with {@code attention run} in the container, through files in {@code work}; its output. */
    SafetensorsFile runIn(TrtLlmContainer container, Path work) throws IOException, InterruptedException {
        Path fields = work.resolve("fields.json");
        Path input = work.resolve("step.safetensors");
        Path output = work.resolve("out.safetensors");
        write(fields, input);
        container.runAttention(fields, input, output);
        return Safetensors.read(output);
    }

    private void write(Path fields, Path input) throws IOException {
        new ObjectMapper().writeValue(fields.toFile(), PluginFieldFile.toJsonNode(config));
        Map<String, SafeTensor> step = new LinkedHashMap<>();
        step.put("qkv", qkv());
        step.put("kv_cache", kvCache());
        step.put("input_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {prompt, 1}));
        step.put("past_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {0, past}));
        step.put("host_request_types", SafeTensor.ofInts(new long[] {2}, new int[] {0, 1}));
        Safetensors.write(input, new SafetensorsFile(step, Map.of()));
    }

    /** The {@code context} and updated {@code kv_cache} that the CPU backend gives in this JVM. */
    SafetensorsFile onTheCpuBackend() {
        SafeTensor qkv = qkv();
        SafeTensor kvCache = kvCache();
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            MemorySegment cache = arena.allocate(kvCache.byteSize()).copyFrom(MemorySegment.ofArray(kvCache.data()));
            long contextWidth = (long) config.numHeads() * config.headSize();
            MemorySegment context = arena.allocate(tokens() * contextWidth * DataType.FLOAT16.byteSize());
            plugin.enqueue(AttentionStep.builder().contextRequest(prompt, 0).generationRequest(past)
                    .qkv(arena.allocate(qkv.byteSize()).copyFrom(MemorySegment.ofArray(qkv.data())))
                    .kvCache(cache)
                    .context(context)
                    .build());
            Map<String, SafeTensor> out = new LinkedHashMap<>();
            out.put("context", SafeTensor.of(SafetensorsDtype.F16, new long[] {tokens(), contextWidth},
                    context.toArray(ValueLayout.JAVA_BYTE)));
            out.put("kv_cache", SafeTensor.of(SafetensorsDtype.F16, kvCache.shape(), cache.toArray(ValueLayout.JAVA_BYTE)));
            return new SafetensorsFile(out, Map.of());
        }
    }

    private static float[] uniform(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = random.nextFloat() * 2 - 1;
        }
        return values;
    }
}
