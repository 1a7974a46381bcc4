package dev.trtllm4j;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.GptAttentionConfig;
import dev.trtllm4j.attention.PositionEmbeddingType;
import dev.trtllm4j.runtime.AttentionStep;
import dev.trtllm4j.runtime.Backend;
import dev.trtllm4j.runtime.GptAttentionPlugin;
import dev.trtllm4j.runtime.HostTensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's library example runs, and the README shows it as it stands here. */
class ReadmeExampleTest {

    @Test
    void runs() {
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
        try (Arena arena = Arena.ofConfined();
                GptAttentionPlugin plugin = Backend.open("cpu").createPlugin(config)) {
            // Two sequences: a prompt of 512 tokens, and one token after 733 cached ones.
            MemorySegment qkv = HostTensors.zeros(arena, DataType.BFLOAT16, 513L * (32 + 2 * 8) * 128);
            MemorySegment kvCache = HostTensors.zeros(arena, DataType.BFLOAT16, 2L * 2 * 8 * maxSeqLen * 128);
            MemorySegment context = HostTensors.zeros(arena, DataType.BFLOAT16, 513L * 32 * 128);
            plugin.enqueue(AttentionStep.builder()
                    .contextRequest(512, 0)
                    .generationRequest(733)
                    .qkv(qkv)         // [513, (32 + 2 * 8) * 128]
                    .kvCache(kvCache) // [2, 2, 8, maxSeqLen, 128], updated in place
                    .context(context) // [513, 32 * 128], written
                    .build());
        }
        // }
    }

    @Test
    void readmeShowsTheExampleAsItRuns() throws IOException {
        List<String> source = Files.readAllLines(Path.of("src/test/java/dev/trtllm4j/ReadmeExampleTest.java"));
        int start = source.indexOf("        // readme-example {") + 1;
        int end = source.indexOf("        // }");
        String example = String.join("\n", source.subList(start, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip()).toList());
        assertThat(Files.readString(Path.of("README.md"))).contains("```java\n" + example + "\n```");
    }
}
