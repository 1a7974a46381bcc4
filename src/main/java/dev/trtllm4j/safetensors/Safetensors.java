package dev.trtllm4j.safetensors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes safetensors files as Hugging Face defines them (see the package description).
 * Reading checks the header the way the reference implementation does: a length that fits the
 * file, valid JSON, known dtypes, offsets that match each shape, and tensors that tile the data area
 * exactly. Every failure is an {@link IllegalArgumentException} naming the tensor or the header key.
 */
public final class Safetensors {

    /** The reference implementation refuses headers above 100 MB; so does this one. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final ObjectMapper JSON = new ObjectMapper();

    private Safetensors() {}

    /**
     * Reads a file.
     *
     * @throws IOException when the file cannot be read
     * @throws IllegalArgumentException when it is not a valid safetensors file of supported dtypes
     */
    public static SafetensorsFile read(Path path) throws IOException {
        return parse(Files.readAllBytes(path));
    }

    /**
     * Parses the bytes of a file.
     *
     * @throws IllegalArgumentException when they are not a valid safetensors file of supported dtypes
     */
    public static SafetensorsFile parse(byte[] file) {
        if (file.length < 8) {
            throw new IllegalArgumentException("too short for a safetensors file: " + file.length
                    + " bytes, the header length alone takes 8");
        }
        long headerBytes = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerBytes < 2 || headerBytes > MAX_HEADER_BYTES || headerBytes > file.length - 8L) {
            throw new IllegalArgumentException("header length " + Long.toUnsignedString(headerBytes)
                    + " does not fit a file of " + file.length + " bytes");
        }
        int dataStart = 8 + (int) headerBytes;
        JsonNode header;
        try {
            header = JSON.readTree(new String(file, 8, (int) headerBytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the header is not valid JSON: " + e.getOriginalMessage());
        }
        if (header == null || !header.isObject()) {
            throw new IllegalArgumentException("the header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : header.properties()) {
            if (field.getKey().equals(SafetensorsFile.METADATA_KEY)) {
                readMetadata(field.getValue(), metadata);
            } else {
                entries.add(entry(field.getKey(), field.getValue()));
            }
        }
        Map<String, SafeTensor> tensors = new LinkedHashMap<>();
        long dataBytes = file.length - (long) dataStart;
        List<Entry> byOffset = new ArrayList<>(entries);
        byOffset.sort(Comparator.comparingLong(Entry::begin));
        long expectedBegin = 0;
        for (Entry e : byOffset) {
            if (e.begin() != expectedBegin) {
                throw new IllegalArgumentException("tensor '" + e.name() + "' starts at byte " + e.begin()
                        + " of the data, expected " + expectedBegin + ": tensors must tile the data without gaps or overlaps");
            }
            expectedBegin = e.end();
        }
        if (expectedBegin != dataBytes) {
            throw new IllegalArgumentException("the tensors cover " + expectedBegin + " bytes of data, the file holds "
                    + dataBytes);
        }
        for (Entry e : entries) {
            byte[] data = new byte[(int) (e.end() - e.begin())];
            System.arraycopy(file, dataStart + (int) e.begin(), data, 0, data.length);
            tensors.put(e.name(), SafeTensor.of(e.dtype(), e.shape(), data));
        }
        return new SafetensorsFile(tensors, metadata);
    }

    /**
     * Writes a file: tensors in the map's order, the header padded with spaces to a multiple of 8
     * bytes so that the data area stays aligned, as the reference implementation does.
     *
     * @throws IOException when the file cannot be written
     */
    public static void write(Path path, SafetensorsFile contents) throws IOException {
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(serialize(contents));
        }
    }

    /** The bytes of a file holding these contents. */
    public static byte[] serialize(SafetensorsFile contents) {
        ObjectNode header = JSON.createObjectNode();
        if (!contents.metadata().isEmpty()) {
            ObjectNode metadata = header.putObject(SafetensorsFile.METADATA_KEY);
            contents.metadata().forEach(metadata::put);
        }
        long offset = 0;
        for (Map.Entry<String, SafeTensor> entry : contents.tensors().entrySet()) {
            SafeTensor tensor = entry.getValue();
            ObjectNode info = header.putObject(entry.getKey());
            info.put("dtype", tensor.dtype().name());
            ArrayNode shape = info.putArray("shape");
            for (long extent : tensor.shape()) {
                shape.add(extent);
            }
            info.putArray("data_offsets").add(offset).add(offset + tensor.byteSize());
            offset += tensor.byteSize();
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer file = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        file.putLong(padded).put(json);
        for (int i = json.length; i < padded; i++) {
            file.put((byte) ' ');
        }
        for (SafeTensor tensor : contents.tensors().values()) {
            file.put(tensor.data());
        }
        return file.array();
    }

    private record Entry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {}

    private static Entry entry(String name, JsonNode info) {
        if (!info.isObject()) {
            throw new IllegalArgumentException("tensor '" + name + "': its header entry is not an object");
        }
        JsonNode dtype = info.get("dtype");
        if (dtype == null || !dtype.isTextual()) {
            throw new IllegalArgumentException("tensor '" + name + "': no dtype string");
        }
        SafetensorsDtype type = SafetensorsDtype.fromHeader(name, dtype.asText());
        long[] shape = longs(name, "shape", info.get("shape"), -1);
        long[] offsets = longs(name, "data_offsets", info.get("data_offsets"), 2);
        long elements;
        try {
            elements = SafeTensor.elementCount(shape);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "': the shape's element count overflows");
        }
        if (offsets[1] < offsets[0] || offsets[1] - offsets[0] != elements * type.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': data_offsets [" + offsets[0] + ", " + offsets[1]
                    + ") hold " + (offsets[1] - offsets[0]) + " bytes, its shape needs " + elements * type.byteSize());
        }
        return new Entry(name, type, shape, offsets[0], offsets[1]);
    }

    private static long[] longs(String tensor, String key, JsonNode node, int expectedLength) {
        if (node == null || !node.isArray() || (expectedLength >= 0 && node.size() != expectedLength)) {
            throw new IllegalArgumentException("tensor '" + tensor + "': " + key + " must be an array"
                    + (expectedLength >= 0 ? " of " + expectedLength + " integers" : " of integers"));
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode value = node.get(i);
            if (!value.isIntegralNumber() || value.asLong() < 0) {
                throw new IllegalArgumentException("tensor '" + tensor + "': " + key + " holds " + value
                        + ", not a non-negative integer");
            }
            values[i] = value.asLong();
        }
        return values;
    }

    private static void readMetadata(JsonNode node, Map<String, String> metadata) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(SafetensorsFile.METADATA_KEY + " must be an object of strings");
        }
        for (Map.Entry<String, JsonNode> entry : node.properties()) {
            if (!entry.getValue().isTextual()) {
                throw new IllegalArgumentException(SafetensorsFile.METADATA_KEY + " entry '" + entry.getKey()
                        + "' must be a string, got " + entry.getValue());
            }
            metadata.put(entry.getKey(), entry.getValue().asText());
        }
    }
}
