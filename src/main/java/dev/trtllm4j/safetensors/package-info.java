/**
 * A small reader and writer of Hugging Face's safetensors format, for the dtypes trtllm4j's tensors
 * use: {@code F32}, {@code F16}, {@code BF16} and {@code I32}.
 *
 * <p>A file is an 8-byte little-endian unsigned header length {@code N}, then {@code N} bytes of
 * UTF-8 JSON, then the tensor bytes. The JSON maps each tensor name to its {@code dtype},
 * {@code shape} and {@code data_offsets} ({@code [begin, end)} relative to the first byte after the
 * header); an optional {@code __metadata__} entry maps strings to strings. Tensors are stored
 * row-major and little-endian, and together cover the data area without gaps or overlaps.
 *
 * {@snippet :
 * Map<String, SafeTensor> tensors = new LinkedHashMap<>();
 * tensors.put("input_lengths", SafeTensor.ofInts(new long[] {2}, new int[] {5, 1}));
 * Safetensors.write(path, new SafetensorsFile(tensors, Map.of()));
 * int[] lengths = Safetensors.read(path).tensor("input_lengths").toIntArray();
 * }
 */
package dev.trtllm4j.safetensors;
