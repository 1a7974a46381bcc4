/**
 * Layer 2, position tables: the RoPE tables ({@code rotary_inv_freq}, {@code rotary_cos_sin}) and ALiBi
 * slopes that TensorRT-LLM's Python layer hands the plugin, computed from a configuration in pure Java.
 * Backends take these tables as inputs and never re-derive scaling.
 */
package dev.trtllm4j.embedding;
