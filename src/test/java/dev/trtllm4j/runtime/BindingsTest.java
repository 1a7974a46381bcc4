package dev.trtllm4j.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trtllm4j.ffi.trtllm4j_attention_step;
import dev.trtllm4j.ffi.trtllm4j_backend_api;
import dev.trtllm4j.ffi.trtllm4j_buffer;
import dev.trtllm4j.ffi.trtllm4j_layout_entry;
import dev.trtllm4j.ffi.trtllm4j_plugin_field;
import dev.trtllm4j.ffi.trtllm4j_plugin_field_collection;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The generated bindings agree with the compiled library and with the header they came from. */
class BindingsTest {

    private static final Map<String, GroupLayout> GENERATED = Map.of(
            "trtllm4j_plugin_field", trtllm4j_plugin_field.layout(),
            "trtllm4j_plugin_field_collection", trtllm4j_plugin_field_collection.layout(),
            "trtllm4j_buffer", trtllm4j_buffer.layout(),
            "trtllm4j_attention_step", trtllm4j_attention_step.layout(),
            "trtllm4j_layout_entry", trtllm4j_layout_entry.layout(),
            "trtllm4j_backend_api", trtllm4j_backend_api.layout());

    @Test
    void generatedLayoutsMatchTheSizesAndOffsetsTheLibraryReports() {
        MemorySegment api = Backend.open("cpu").api();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            int count = trtllm4j_backend_api.layout.invoke(trtllm4j_backend_api.layout(api), out);
            MemorySegment entries = out.get(ValueLayout.ADDRESS, 0)
                    .reinterpret(count * trtllm4j_layout_entry.layout().byteSize());
            int members = 0;
            for (int i = 0; i < count; i++) {
                MemorySegment entry = trtllm4j_layout_entry.asSlice(entries, i);
                String struct = trtllm4j_layout_entry.struct_name(entry).reinterpret(128).getString(0);
                MemorySegment member = trtllm4j_layout_entry.member_name(entry);
                GroupLayout layout = GENERATED.get(struct);
                assertThat(layout).as(struct).isNotNull();
                if (member.equals(MemorySegment.NULL)) {
                    assertThat(layout.byteSize()).as(struct).isEqualTo(trtllm4j_layout_entry.size(entry));
                } else {
                    String name = member.reinterpret(128).getString(0);
                    PathElement path = PathElement.groupElement(name);
                    assertThat(layout.byteOffset(path)).as(struct + "." + name).isEqualTo(trtllm4j_layout_entry.offset(entry));
                    assertThat(layout.select(path).byteSize()).as(struct + "." + name).isEqualTo(trtllm4j_layout_entry.size(entry));
                    members++;
                }
            }
            long generatedMembers = GENERATED.values().stream().mapToLong(l -> l.memberLayouts().stream()
                    .filter(m -> m.name().isPresent()).count()).sum();
            assertThat(members).as("members the library reports").isEqualTo(generatedMembers);
        }
    }

    @Test
    void bindingsWereGeneratedFromTheCurrentHeaderAndOptions() throws IOException, NoSuchAlgorithmException {
        Path config = Path.of("jextract-config");
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        sha256.update(Files.readAllBytes(config.resolve("trtllm4j.h")));
        sha256.update(Files.readAllBytes(config.resolve("jextract.args")));
        String recorded = Files.readString(config.resolve("bindings.sha256")).strip();
        assertThat(HexFormat.of().formatHex(sha256.digest()))
                .as("jextract-config changed since the bindings were generated: run 'make bindings'")
                .isEqualTo(recorded);
    }
}
