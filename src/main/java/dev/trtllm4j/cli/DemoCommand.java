package dev.trtllm4j.cli;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.GptAttentionField;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.reference.ReferenceAttention;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.BackendMemory;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.HostTensors;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The main job: one Llama-3.1-8B attention layer (32 query heads, 8 KV heads, head size 128, GPT-NeoX
 * RoPE over all 128 features, base 500000, llama3 scaling) prefilling a batch of prompts, then
 * generating tokens, checked against the double-precision reference.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Runs a Llama-3.1-8B attention layer: a prefill of --batch prompts of --prompt tokens, then --steps"
                    + " generation steps; prints the plugin fields sent, the time per step and the largest"
                    + " difference from a double-precision reference.",
            "",
            "Example:",
            "  trtllm4j demo",
            "  trtllm4j demo --backend cpu --dtype bfloat16 --prompt 128 --steps 8",
            "  trtllm4j demo --backend cuda --dtype bfloat16"
        })
final class DemoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--backend", defaultValue = "cpu", description = "Backend to run on (default: ${DEFAULT-VALUE}).")
    private String backendName;

    @Option(names = "--dtype", defaultValue = "float32", converter = DataTypeConverter.class,
            description = "Storage type: float32, float16 or bfloat16 (default: ${DEFAULT-VALUE}).")
    private DataType dtype;

    @Option(names = "--batch", defaultValue = "2", description = "Sequences (default: ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--prompt", defaultValue = "512", description = "Prompt tokens per sequence (default: ${DEFAULT-VALUE}).")
    private int prompt;

    @Option(names = "--steps", defaultValue = "32", description = "Generation steps (default: ${DEFAULT-VALUE}).")
    private int steps;

    /** Llama-3.1-8B's attention layer, as TensorRT-LLM's converter configures it. */
    static GptAttentionConfig llama31Attention(DataType dtype) {
        return GptAttentionConfig.builder()
                .numHeads(32).numKvHeads(8).headSize(128)
                .positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
                .rotaryEmbeddingDim(128)
                .rotaryEmbeddingBase(500000f)
                .rotaryEmbeddingScaleType(RotaryScalingType.LLAMA3)
                .rotaryEmbeddingScale(8f)
                .rotaryEmbeddingMaxPositions(131072)
                .rotaryEmbeddingOriginalMaxPositions(8192)
                .rotaryScaling(RotaryScalingParameters.DEFAULTS.withLlama3(1.0, 4.0))
                .maxContextLength(8192)
                .typeId(dtype)
                .build();
    }

    @Override
    public Integer call() {
        if (batch < 1 || prompt < 1 || steps < 0) {
            throw new IllegalArgumentException("--batch and --prompt must be at least 1, --steps at least 0");
        }
        PrintWriter out = spec.commandLine().getOut();
        GptAttentionConfig config = llama31Attention(dtype);
        Backend backend = AttentionRunCommand.open(backendName, null); // one line where it cannot run here
        out.printf("Llama-3.1-8B attention layer on %s%n%n", backend.description());
        out.printf("plugin fields sent to %s (%d):%n", "GPTAttention", GptAttentionField.values().length);
        for (GptAttentionField field : GptAttentionField.values()) {
            out.printf("  %-44s %-9s %s%n", field.fieldName(), field.wireType().tensorRtName(),
                    config.displayValue(field));
        }

        int heads = config.numHeads();
        int d = config.headSize();
        int rowWidth = (heads + 2 * config.numKvHeads()) * d;
        int maxSeqLen = prompt + steps;
        Random random = new Random(42);
        float[] cache = new float[batch * 2 * config.numKvHeads() * maxSeqLen * d];
        double largest = 0;
        long[] stepNanos = new long[steps];
        long prefillNanos;
        // Host arrays in, host arrays out; the tensors live where the backend reads them. Times include
        // waiting for the step (plugin.synchronize()), not the copies around it.
        try (Arena arena = Arena.ofConfined(); GptAttentionPlugin plugin = backend.createPlugin(config)) {
            BackendMemory kvCache = backend.upload(arena, HostTensors.allocate(arena, dtype, cache));

            float[] qkv = randomQkv(random, batch * prompt * rowWidth);
            int[] inputLengths = new int[batch];
            int[] pastLengths = new int[batch];
            Arrays.fill(inputLengths, prompt);
            AttentionStep.Builder prefill = AttentionStep.builder();
            for (int b = 0; b < batch; b++) {
                prefill.contextRequest(prompt, 0);
            }
            BackendMemory context = backend.allocate(arena, dtype, (long) batch * prompt * heads * d);
            AttentionStep step = prefill.qkv(backend.upload(arena, HostTensors.allocate(arena, dtype, qkv)))
                    .kvCache(kvCache).context(context).build();
            long start = System.nanoTime();
            plugin.enqueue(step);
            plugin.synchronize();
            prefillNanos = System.nanoTime() - start;
            double[] expected = ReferenceAttention.run(config, qkv, cache, new int[batch], inputLengths, pastLengths, maxSeqLen,
                    Integer.MAX_VALUE, 0);
            largest = Math.max(largest, maxDifference(expected, read(arena, context)));

            // Generation steps run back to back, their outputs kept; the reference checks them after.
            float[][] tokens = new float[steps][];
            float[][] outputs = new float[steps][];
            MemorySegment hostQkv = HostTensors.zeros(arena, dtype, (long) batch * rowWidth);
            BackendMemory decodeQkv = backend.allocate(arena, dtype, (long) batch * rowWidth);
            BackendMemory decodeContext = backend.allocate(arena, dtype, (long) batch * heads * d);
            for (int s = 0; s < steps; s++) {
                tokens[s] = randomQkv(random, batch * rowWidth);
                HostTensors.write(hostQkv, dtype, tokens[s]);
                decodeQkv.copyFrom(hostQkv);
                AttentionStep.Builder generation = AttentionStep.builder();
                for (int b = 0; b < batch; b++) {
                    generation.generationRequest(prompt + s);
                }
                AttentionStep decode = generation.qkv(decodeQkv).kvCache(kvCache).context(decodeContext).build();
                start = System.nanoTime();
                plugin.enqueue(decode);
                plugin.synchronize();
                stepNanos[s] = System.nanoTime() - start;
                outputs[s] = read(arena, decodeContext);
            }
            Arrays.fill(inputLengths, 1);
            int[] generations = new int[batch];
            Arrays.fill(generations, ReferenceAttention.GENERATION);
            for (int s = 0; s < steps; s++) {
                Arrays.fill(pastLengths, prompt + s);
                expected = ReferenceAttention.run(config, tokens[s], cache, generations, inputLengths, pastLengths, maxSeqLen,
                        Integer.MAX_VALUE, 0);
                largest = Math.max(largest, maxDifference(expected, outputs[s]));
            }
        }

        out.printf("%nprefill: %d sequences x %d tokens: %.2f ms%n", batch, prompt, prefillNanos / 1e6);
        if (steps > 0) {
            long[] sorted = stepNanos.clone();
            Arrays.sort(sorted);
            out.printf("generation: %d steps of batch %d: %.3f ms per step (median), %.3f ms (fastest)%n", steps, batch,
                    sorted[steps / 2] / 1e6, sorted[0] / 1e6);
        }
        out.printf("largest difference from the double-precision reference: %.3g (%s storage)%n", largest,
                dtype.tensorRtLlmName());
        return 0;
    }

    /** Values a real layer's projections produce are O(1); the rounding to dtype happens in the tensor. */
    private float[] randomQkv(Random random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = HostTensors.round(random.nextFloat() * 2 - 1, dtype);
        }
        return values;
    }

    private float[] read(Arena arena, BackendMemory tensor) {
        MemorySegment host = arena.allocate(tensor.byteSize());
        tensor.copyTo(host);
        return HostTensors.read(host, dtype);
    }

    private static double maxDifference(double[] expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i] - actual[i]));
        }
        return max;
    }
}
