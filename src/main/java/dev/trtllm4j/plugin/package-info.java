/**
 * Layer 3, plugin fields: a configuration written into native memory as TensorRT 10's
 * {@code nvinfer1::PluginFieldCollection}, byte for byte, so that any backend (the real TensorRT-LLM
 * plugin included) takes it unchanged.
 */
package dev.trtllm4j.plugin;
