/**
 * Testcontainers support: {@link dev.trtllm4j.testing.TrtLlmContainer} runs the trtllm4j tool inside
 * trtllm4j's container images, on the CPU or, when asked for, with GPUs.
 *
 * <p>Testcontainers ({@code org.testcontainers:testcontainers}) is an optional dependency of trtllm4j:
 * projects that use this package declare it themselves, usually in test scope.
 */
package dev.trtllm4j.testing;
