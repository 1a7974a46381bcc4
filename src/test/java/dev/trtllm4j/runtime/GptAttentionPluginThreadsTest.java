package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One plugin shared by threads: its steps run one after another, and close waits for a running step.
 * Each step here recomputes the same prompt into a context first filled with NaN, so a step that
 * read another thread's tensors, lost its output or ran on a workspace freed or shared under it shows
 * as a context different from the same step run alone.
 */
class GptAttentionPluginThreadsTest {

    private static final Backend CPU = Backend.open("cpu");
    private static final int HEADS = 8, KV_HEADS = 2, HEAD_SIZE = 64;

    private final GptAttentionConfig config = GptAttentionConfig.builder().numHeads(HEADS).numKvHeads(KV_HEADS)
            .headSize(HEAD_SIZE).maxContextLength(512).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX)
            .rotaryEmbeddingDim(HEAD_SIZE).typeId(DataType.FLOAT32).build();
    private final Arena arena = Arena.ofShared();
    private GptAttentionPlugin plugin;

    @BeforeEach
    void open() {
        plugin = CPU.createPlugin(config);
    }

    @AfterEach
    void close() {
        plugin.close();
        arena.close();
    }

    /** A prompt of its own tensors, and the context that the plugin computes for it alone. */
    private final class Prompt {
        final AttentionStep step;
        final MemorySegment context;
        final float[] alone;

        Prompt(int tokens, long seed) {
            float[] qkv = AttentionCase.randomValues(new Random(seed), tokens * (HEADS + 2 * KV_HEADS) * HEAD_SIZE,
                    DataType.FLOAT32);
            context = arena.allocate((long) tokens * HEADS * HEAD_SIZE * Float.BYTES, 64);
            step = AttentionStep.builder().contextRequest(tokens, 0)
                    .qkv(arena.allocateFrom(ValueLayout.JAVA_FLOAT, qkv))
                    .kvCache(arena.allocate(2L * KV_HEADS * tokens * HEAD_SIZE * Float.BYTES, 64))
                    .context(context).build();
            alone = run();
        }

        float[] run() {
            context.fill((byte) 0xff); // NaN in every float
            plugin.enqueue(step);
            return context.toArray(ValueLayout.JAVA_FLOAT);
        }

        /** Runs the prompt until {@code steps} ran or the plugin is closed; returns the steps that differed. */
        int differences(int steps, CountDownLatch firstDone) {
            int differing = 0;
            for (int i = 0; i < steps; i++) {
                float[] result;
                try {
                    result = run();
                } catch (IllegalStateException closed) {
                    assertThat(closed).hasMessage(plugin + " is closed");
                    break;
                }
                if (!Arrays.equals(result, alone)) {
                    differing++;
                }
                firstDone.countDown();
            }
            return differing;
        }
    }

    @Test
    void stepsFromTwoThreadsEqualTheSameStepsRunAlone() throws Exception {
        Prompt first = new Prompt(128, 1), second = new Prompt(128, 2);
        ExecutorService threads = Executors.newFixedThreadPool(2);
        try {
            CountDownLatch unused = new CountDownLatch(2);
            Future<Integer> a = threads.submit(() -> first.differences(200, unused));
            Future<Integer> b = threads.submit(() -> second.differences(200, unused));
            assertThat(a.get(2, TimeUnit.MINUTES)).as("steps of the first thread that differed").isZero();
            assertThat(b.get(2, TimeUnit.MINUTES)).as("steps of the second thread that differed").isZero();
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void closeWaitsForTheRunningStepThenStopsTheNext() throws Exception {
        Prompt prompt = new Prompt(512, 3);
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            CountDownLatch firstDone = new CountDownLatch(1);
            // Steps back to back until the plugin is closed under them.
            Future<Integer> steps = thread.submit(() -> prompt.differences(Integer.MAX_VALUE, firstDone));
            assertThat(firstDone.await(2, TimeUnit.MINUTES)).isTrue();
            assertThatCode(plugin::close).doesNotThrowAnyException();
            assertThat(steps.get(2, TimeUnit.MINUTES)).as("steps that differed").isZero();
        } finally {
            thread.shutdownNow();
        }
    }
}
