/**
 * Layer 8, the {@code trtllm4j} command-line tool (picocli): the demo, engine configuration
 * conversion and explanation, and one attention step on safetensors files. Bad input exits with
 * code 2 and one line on standard error naming the problem.
 */
package dev.trtllm4j.cli;
