package dev.trtllm4j.attention;

/**
 * An enum of TensorRT-LLM whose constants travel as integer codes in plugin fields.
 *
 * <p>{@link #code()} is the integer TensorRT-LLM's C++ side reads; {@link #tensorRtLlmName()} is the
 * spelling of TensorRT-LLM's Python layer and of its configuration files.
 */
public interface TensorRtLlmEnum {

    /** The integer code carried by the plugin field. */
    int code();

    /** The name TensorRT-LLM's Python layer and config files use for this constant. */
    String tensorRtLlmName();

    /**
     * Finds the constant of {@code type} with the given code.
     *
     * @throws IllegalArgumentException naming the enum and the code when none matches
     */
    static <E extends Enum<E> & TensorRtLlmEnum> E fromCode(Class<E> type, int code) {
        for (E constant : type.getEnumConstants()) {
            if (constant.code() == code) {
                return constant;
            }
        }
        throw new IllegalArgumentException(
                type.getSimpleName() + " has no code " + code + "; known: " + describe(type));
    }

    /**
     * Finds the constant of {@code type} by its TensorRT-LLM name, ignoring case.
     *
     * @throws IllegalArgumentException naming the enum and the name when none matches
     */
    static <E extends Enum<E> & TensorRtLlmEnum> E fromName(Class<E> type, String name) {
        for (E constant : type.getEnumConstants()) {
            if (constant.tensorRtLlmName().equalsIgnoreCase(name)) {
                return constant;
            }
        }
        throw new IllegalArgumentException(
                type.getSimpleName() + " has no constant '" + name + "'; known: " + describe(type));
    }

    private static <E extends Enum<E> & TensorRtLlmEnum> String describe(Class<E> type) {
        var names = new StringBuilder();
        for (E constant : type.getEnumConstants()) {
            if (!names.isEmpty()) {
                names.append(", ");
            }
            names.append(constant.tensorRtLlmName()).append('=').append(constant.code());
        }
        return names.toString();
    }
}
