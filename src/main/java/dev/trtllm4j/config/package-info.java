/**
 * Engine configuration files: a Hugging Face {@code config.json} turned into TensorRT-LLM's checkpoint
 * {@code config.json} the way TensorRT-LLM's converters do it, a {@code trtllm-build} build
 * configuration, the plugin-field file of the {@code trtllm4j} tool, and the {@link
 * dev.trtllm4j.attention.GptAttentionConfig} each of them yields for one layer.
 *
 * {@snippet :
 * CheckpointConfig checkpoint = HuggingFaceConfig.read(Path.of("config.json"), null);
 * BuildConfig build = BuildConfig.defaults(checkpoint);
 * GptAttentionConfig layer0 = checkpoint.attentionConfig(build, 0);
 * }
 *
 * <p>Every mistake in a file (a missing key, a value of the wrong type, an unknown architecture or
 * plugin field) is an {@link IllegalArgumentException} whose message names the file and the key.
 */
package dev.trtllm4j.config;
