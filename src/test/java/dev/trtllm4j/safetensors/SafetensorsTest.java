package dev.trtllm4j.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {

    @TempDir
    Path dir;

    /** A file assembled by hand the way the format defines it. */
    private static byte[] file(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
        out.writeBytes(json);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static byte[] littleEndianInts(int... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int value : values) {
            bytes.putInt(value);
        }
        return bytes.array();
    }

    @Test
    void readsAHandBuiltFile() {
        byte[] bytes = file("{\"__metadata__\":{\"format\":\"pt\"},\"lengths\":{\"dtype\":\"I32\",\"shape\":[3],"
                + "\"data_offsets\":[0,12]}}", littleEndianInts(5, -1, 7));
        SafetensorsFile read = Safetensors.parse(bytes);
        assertThat(read.tensor("lengths").toIntArray()).containsExactly(5, -1, 7);
        assertThat(read.tensor("lengths").shape()).containsExactly(3);
        assertThat(read.metadata()).containsEntry("format", "pt");
    }

    @Test
    void writesTheHeaderPaddedToEightBytesBeforeTheData() {
        SafetensorsFile contents = new SafetensorsFile(
                Map.of("x", SafeTensor.ofInts(new long[] {1}, new int[] {42})), Map.of());
        byte[] bytes = Safetensors.serialize(contents);
        long headerBytes = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerBytes % 8).isZero();
        String header = new String(bytes, 8, (int) headerBytes, StandardCharsets.UTF_8);
        assertThat(header.strip()).isEqualTo("{\"x\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}");
        assertThat(ByteBuffer.wrap(bytes, 8 + (int) headerBytes, 4).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(42);
    }

    @Test
    void everyDtypeAndTheMetadataSurviveAFile() throws Exception {
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        tensors.put("f32", SafeTensor.ofFloats(SafetensorsDtype.F32, new long[] {2, 2}, new float[] {1.5f, -2, 0, 3}));
        tensors.put("f16", SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {3}, new float[] {0.5f, -1, 2048}));
        tensors.put("bf16", SafeTensor.ofFloats(SafetensorsDtype.BF16, new long[] {2}, new float[] {1, -0.25f}));
        tensors.put("i32", SafeTensor.ofInts(new long[] {}, new int[] {9}));
        SafetensorsFile contents = new SafetensorsFile(tensors, Map.of("producer", "trtllm4j"));
        Path path = dir.resolve("all.safetensors");
        Safetensors.write(path, contents);
        SafetensorsFile read = Safetensors.read(path);
        assertThat(read).isEqualTo(contents);
        assertThat(read.tensors().keySet()).containsExactly("f32", "f16", "bf16", "i32");
        assertThat(read.tensor("f16").toFloatArray()).containsExactly(0.5f, -1f, 2048f);
    }

    @Test
    void f16RoundsToTheNearestHalf() {
        SafeTensor tenth = SafeTensor.ofFloats(SafetensorsDtype.F16, new long[] {1}, new float[] {0.1f});
        assertThat(tenth.toFloatArray()[0]).isEqualTo(0.0999755859375f); // 1638 * 2^-14
    }

    @Test
    void bf16RoundsHalfwayCasesToEven() {
        // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: the even one is 1.
        // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: the even one is 1 + 2^-6.
        SafeTensor t = SafeTensor.ofFloats(SafetensorsDtype.BF16, new long[] {2}, new float[] {1.00390625f, 1.01171875f});
        assertThat(t.toFloatArray()).containsExactly(1f, 1.015625f);
    }

    @Test
    void anUnsupportedDtypeIsNamedWithItsTensor() {
        byte[] bytes = file("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> Safetensors.parse(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor 'ids' has dtype I64: trtllm4j reads F32, F16, BF16 and I32");
    }

    @Test
    void offsetsThatDisagreeWithTheShapeAreNamed() {
        byte[] bytes = file("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", new byte[4]);
        assertThatThrownBy(() -> Safetensors.parse(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("tensor 'x': data_offsets [0, 4) hold 4 bytes, its shape needs 8");
    }

    @Test
    void aGapBetweenTensorsIsRefused() {
        byte[] bytes = file("{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]);
        assertThatThrownBy(() -> Safetensors.parse(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("tensor 'b' starts at byte 8 of the data, expected 4");
    }

    @Test
    void aHeaderLongerThanTheFileIsRefused() {
        byte[] bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(100).array();
        assertThatThrownBy(() -> Safetensors.parse(bytes))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("header length 100 does not fit a file of 12 bytes");
    }

    @Test
    void aMissingTensorIsNamed() {
        SafetensorsFile empty = new SafetensorsFile(Map.of(), Map.of());
        assertThatThrownBy(() -> empty.tensor("qkv"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no tensor 'qkv'; the file holds []");
    }
}
