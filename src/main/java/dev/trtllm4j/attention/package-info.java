/**
 * Layer 1, configuration: TensorRT-LLM's GPT attention plugin fields in pure Java.
 *
 * <p>{@link dev.trtllm4j.attention.GptAttentionField} is the one table of the plugin's fields;
 * {@link dev.trtllm4j.attention.GptAttentionConfig} holds a validated value for each, built with its
 * {@link dev.trtllm4j.attention.GptAttentionConfig.Builder}. The enums carry TensorRT-LLM's integer codes
 * and names. Nothing here touches native code.
 */
package dev.trtllm4j.attention;
