/**
 * Layer 2, position tables: the RoPE tables ({@code rotary_inv_freq}, {@code rotary_cos_sin}, and
 * longrope's long-factor pair) and ALiBi slopes that TensorRT-LLM's Python layer hands the plugin,
 * computed from a configuration in pure Java. Backends take these tables as inputs; what depends on a
 * sequence's length (dynamic NTK's grown base, longrope's choice of tables) they decide per step.
 */
package dev.trtllm4j.embedding;
