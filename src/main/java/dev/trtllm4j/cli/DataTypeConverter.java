package dev.trtllm4j.cli;

import dev.trtllm4j.attention.DataType;
import dev.trtllm4j.attention.TensorRtLlmEnum;
import picocli.CommandLine.ITypeConverter;

/** Reads {@code float32}, {@code float16} or {@code bfloat16}. */
final class DataTypeConverter implements ITypeConverter<DataType> {
    @Override
    public DataType convert(String value) {
        return TensorRtLlmEnum.fromName(DataType.class, value);
    }
}
