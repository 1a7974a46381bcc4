package dev.trtllm4j.attention;

import java.util.List;

/** Turns what users hand a field (numbers, flags, enum constants or names) into the table's value form. */
final class FieldValues {

    private FieldValues() {}

    static Object normalize(GptAttentionField field, Object value) {
        if (value == null) {
            throw new IllegalArgumentException(field.fieldName() + " cannot be null");
        }
        return switch (field.kind()) {
            case INT -> integral(field, value);
            case FLOAT -> floating(field, value);
            case BOOLEAN -> flag(field, value);
            case ENUM -> enumCode(field, value);
            case INT_LIST -> intList(field, value);
        };
    }

    private static Integer integral(GptAttentionField field, Object value) {
        if (value instanceof Number number) {
            double asDouble = number.doubleValue();
            if (asDouble == Math.rint(asDouble) && asDouble >= Integer.MIN_VALUE && asDouble <= Integer.MAX_VALUE) {
                return (int) asDouble;
            }
        }
        throw wrongKind(field, "an integer", value);
    }

    private static Float floating(GptAttentionField field, Object value) {
        if (value instanceof Number number) {
            return number.floatValue();
        }
        throw wrongKind(field, "a number", value);
    }

    private static Integer flag(GptAttentionField field, Object value) {
        if (value instanceof Boolean bool) {
            return bool ? 1 : 0;
        }
        if (value instanceof Number number && (number.doubleValue() == 0 || number.doubleValue() == 1)) {
            return number.intValue();
        }
        throw wrongKind(field, "a boolean (true, false, 0 or 1)", value);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Integer enumCode(GptAttentionField field, Object value) {
        Class enumType = field.enumType();
        try {
            if (enumType.isInstance(value)) {
                return ((TensorRtLlmEnum) value).code();
            }
            if (value instanceof String name) {
                return ((TensorRtLlmEnum) TensorRtLlmEnum.fromName(enumType, name)).code();
            }
            if (value instanceof Number) {
                return ((TensorRtLlmEnum) TensorRtLlmEnum.fromCode(enumType, integral(field, value))).code();
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field.fieldName() + " = " + value + ": " + e.getMessage(), e);
        }
        throw wrongKind(field, "a " + enumType.getSimpleName() + " name or code", value);
    }

    private static int[] intList(GptAttentionField field, Object value) {
        if (value instanceof int[] list) {
            return list.clone();
        }
        if (value instanceof List<?> list) {
            int[] ints = new int[list.size()];
            for (int i = 0; i < ints.length; i++) {
                ints[i] = integral(field, list.get(i));
            }
            return ints;
        }
        throw wrongKind(field, "a list of integers", value);
    }

    private static IllegalArgumentException wrongKind(GptAttentionField field, String expected, Object value) {
        return new IllegalArgumentException(field.fieldName() + " takes " + expected + ", got " + value);
    }
}
