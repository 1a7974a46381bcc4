package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.attention.RotaryScalingParameters;
import dev.trtllm4j.attention.RotaryScalingType;
import dev.trtllm4j.embedding.RotaryTables;
import dev.trtllm4j.reference.ReferenceAttention;
import java.io.File;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A plugin's lifecycle, its checks before native code, and the step semantics across several steps. */
class GptAttentionPluginTest {

    private static final Backend CPU = Backend.open("cpu");
    private static final int MAX_SEQ_LEN = 48;

    private final GptAttentionConfig config = GptAttentionConfig.builder().numHeads(4).numKvHeads(2).headSize(64)
            .maxContextLength(64).positionEmbeddingType(PositionEmbeddingType.ROPE_GPT_NEOX).rotaryEmbeddingDim(64)
            .typeId(DataType.FLOAT32).build();
    private final int rowWidth = (4 + 2 * 2) * 64;
    private Arena arena;
    private GptAttentionPlugin plugin;

    @BeforeEach
    void open() {
        arena = Arena.ofConfined();
        plugin = CPU.createPlugin(config);
    }

    @AfterEach
    void close() {
        plugin.close();
        arena.close();
    }

    private MemorySegment floats(long count) {
        return arena.allocate(count * 4, 64);
    }

    private AttentionStep.Builder prompt(int tokens) {
        return AttentionStep.builder().contextRequest(tokens, 0).qkv(floats((long) tokens * rowWidth))
                .kvCache(floats(2L * 2 * MAX_SEQ_LEN * 64)).context(floats(tokens * 4L * 64));
    }

    @Test
    void aSecondCloseDoesNothing() {
        plugin.close();
        assertThatCode(plugin::close).doesNotThrowAnyException();
    }

    @Test
    void useAfterCloseThrowsNamingThePlugin() {
        String name = plugin.toString();
        plugin.close();
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(name + " is closed")
                .hasMessageStartingWith("GptAttentionPlugin[cpu, 0x");
    }

    @Test
    void rejectsQkvOfTheWrongSize() {
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).qkv(floats(rowWidth)).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("qkv: 2048 bytes, expected 4096 (1024 float32 elements)");
    }

    @Test
    void rejectsHeapMemory() {
        MemorySegment heap = MemorySegment.ofArray(new float[2 * 4 * 64]);
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).context(heap).build()))
                .hasMessage("context: a heap segment; the cpu backend reads native memory (allocate it from an Arena)");
    }

    @Test
    void rejectsATensorNotAlignedToItsElements() {
        MemorySegment shifted = arena.allocate(2 * 4 * 64 * 4 + 4, 64).asSlice(2, 2 * 4 * 64 * 4);
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).context(shifted).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("context: starts at 0x" + Long.toHexString(shifted.address())
                        + ", which is not aligned to its 4-byte elements");
    }

    @Test
    void rejectsAKvCacheThatIsNoWholeNumberOfPositions() {
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).kvCache(floats(1000)).build()))
                .hasMessage("kvCache: 4000 bytes is not [batch 1, 2, num_kv_heads 2, max_seq_len, head_size 64] of float32");
    }

    @Test
    void rejectsTokensBeyondTheCache() {
        AttentionStep step = AttentionStep.builder().generationRequest(MAX_SEQ_LEN).qkv(floats(rowWidth))
                .kvCache(floats(2L * 2 * MAX_SEQ_LEN * 64)).context(floats(4 * 64)).build();
        assertThatThrownBy(() -> plugin.enqueue(step))
                .hasMessage("sequence 0: pastLength 48 + inputLength 1 exceeds max_seq_len 48 of kvCache");
    }

    @Test
    void rejectsAGenerationRequestOfSeveralTokens() {
        AttentionStep step = AttentionStep.builder().sequence(RequestType.GENERATION, 2, 4).qkv(floats(2L * rowWidth))
                .kvCache(floats(2L * 2 * MAX_SEQ_LEN * 64)).context(floats(2 * 4 * 64)).build();
        assertThatThrownBy(() -> plugin.enqueue(step))
                .hasMessage("sequence 0: a generation request has exactly 1 new token, got inputLength = 2");
    }

    @Test
    void rejectsAWindowFilledBySinks() {
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).attentionWindow(4, 4).build()))
                .hasMessage("maxAttentionWindow = 4, sinkTokenLength = 4: need a window of at least 1 that holds more"
                        + " than its sink tokens");
    }

    @Test
    void rejectsTablesOfAStepForLongRope() {
        GptAttentionConfig longRope = CpuBackendAccuracyTest.longRope();
        try (GptAttentionPlugin longRopePlugin = CPU.createPlugin(longRope)) {
            assertThatThrownBy(() -> longRopePlugin.enqueue(prompt(2).rotaryTables(floats(32), floats(64 * 8)).build()))
                    .hasMessage("rotaryInvFreq, rotaryCosSin: long_rope also needs the long factors' tables, which a step"
                            + " cannot pass; leave both null to use the plugin's");
        }
    }

    @Test
    void rejectsRotaryTablesOfTheWrongShape() {
        assertThatThrownBy(() -> plugin.enqueue(prompt(2).rotaryTables(floats(31), floats(64)).build()))
                .hasMessage("rotaryInvFreq has 124 bytes and rotaryCosSin 256: expected float32 [32] and [positions, 32, 2]");
    }

    @Test
    void backendRejectionsCarryTheNativeMessage() {
        GptAttentionConfig paged = config.toBuilder().pagedKvCache(true).build();
        assertThatThrownBy(() -> CPU.createPlugin(paged))
                .isInstanceOfSatisfying(NativeException.class,
                        e -> assertThat(e.status()).isEqualTo(NativeStatus.UNSUPPORTED))
                .hasMessage("cpu backend, create: UNSUPPORTED: paged_kv_cache = 1: the cpu backend keeps a contiguous KV cache");
    }

    @Test
    void tenThousandCreateEnqueueCloseCyclesDoNotGrowNativeMemory() throws IOException, InterruptedException {
        // The probe needs this project's main and test classes alone; taken from where they were
        // loaded, since java.class.path does not list them under every test launcher.
        String classPath = codeSource(NativeMemoryProbe.class) + File.pathSeparator + codeSource(Backend.class);
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:+UseSerialGC", "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
                NativeMemoryProbe.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes()).strip();
        assertThat(probe.waitFor()).as("probe exit code; output:%n%s", output).isZero();
        long[] growth = Arrays.stream(output.split(" ")).mapToLong(Long::parseLong).sorted().toArray();
        assertThat(growth).hasSize(NativeMemoryProbe.ROUNDS);
        // The JVM's compilers and collector take and give back megabytes now and then, more so on a
        // busy machine, so one round says little; a leak lifts every round. A cycle mallocs about
        // 300 KiB and frees it; leaking the plugin's struct alone (about 230 bytes a cycle) lifts the
        // lower quartile of the rounds by 230 KB (seen, with free() removed from destroy).
        assertThat(growth[growth.length / 4]).as("lower quartile of the bytes the C heap keeps per 1,000 cycles,"
                + " rounds sorted: %s", Arrays.toString(growth)).isLessThan(100_000);
    }

    private static String codeSource(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(type + " was loaded from no file", e);
        }
    }
}
